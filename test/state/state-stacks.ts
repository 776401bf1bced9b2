import { App } from 'cdktf';
import { mkdirSync, readFileSync, rmSync } from 'fs';
import { join } from 'path';
import { SiteSpec, SiteStack, defineSite } from '../../constructs';
import { StateBackendOptions } from '../../constructs/tf';
import { SITE_SPECS } from '../../sites';
import { TfJson } from '../support/synth';

/**
 * Site stacks Terraform can apply on this machine: a seed site whose hosts are all left unmanaged (no machine, no
 * SSH), so what remains is the site's secrets and outputs. With `secrets: 'generated'` those are `random_password`
 * resources (served by the stand-in random provider); with `variables` the stack has no provider at all.
 */
export interface StateStack {
  /** The seed site's spec (or a variation of it). */
  readonly spec: SiteSpec;
  readonly secrets: 'generated' | 'variables';
  readonly backend?: StateBackendOptions;
}

/** The seed site called `name`. */
export function seedSpec(name: string): SiteSpec {
  const spec = SITE_SPECS.find((s) => s.name === name);
  if (!spec) {
    throw new Error(`no seed site ${name} (seeds: ${SITE_SPECS.map((s) => s.name).join(', ')})`);
  }
  return spec;
}

/** A synthesized stack: its working directory (where cdktf runs Terraform) and its JSON. */
export interface SynthesizedStack {
  readonly dir: string;
  readonly json: TfJson;
}

/**
 * Synthesizes `stacks` into `<projectDir>/cdktf.out/` as cdktf lays it out (`stacks/<site>/cdk.tf.json`); returns
 * each stack by site name. `replace`: the folder is replaced wholesale, as `npm run synth` does; otherwise the
 * files are rewritten in place and Terraform's working data (`.terraform/`) stays, as with `cdktf synth`.
 */
export function synthStateStacks(projectDir: string, stacks: readonly StateStack[], { replace = true } = {}): Map<string, SynthesizedStack> {
  const outdir = join(projectDir, 'cdktf.out');
  if (replace) {
    rmSync(outdir, { recursive: true, force: true });
  }
  mkdirSync(outdir, { recursive: true });
  const app = new App({ outdir });
  for (const { spec, secrets, backend } of stacks) {
    const site = defineSite(spec);
    new SiteStack(app, site.name, {
      site, existingHosts: true, unmanagedHosts: site.hosts.map((host) => host.name), secrets, serverManifests: [], ...(backend ? { backend } : {}),
    });
  }
  app.synth();
  return new Map(stacks.map(({ spec }) => {
    const dir = join(outdir, 'stacks', spec.name);
    return [spec.name, { dir, json: JSON.parse(readFileSync(join(dir, 'cdk.tf.json'), 'utf8')) as TfJson }];
  }));
}

/** `TF_VAR_*` values for every variable of `json` (letters and digits, as the secret variables require). */
export function variableValues(json: TfJson): Record<string, string> {
  return Object.fromEntries(Object.keys(json.variable ?? {}).map((name) => [`TF_VAR_${name}`, `StateTest0nly${name.replace(/[^a-zA-Z0-9]/g, '')}`]));
}
