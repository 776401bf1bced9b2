import { Testing as Cdk8sTesting } from 'cdk8s';
import { HostKind, SiteChart, SitePlan, SiteSpec, ValidationError, defineSite } from '../../constructs';
import { formatValue } from '../../constructs/core';
import { renderSiteDocument } from '../../constructs/renderers';
import { TfJson, resourcesByPath, synthSite } from '../support/synth';
import { convergeScriptOf } from '../support/user-data';
import { machineText, templateSequences } from './terraform-text';

/**
 * What must hold for every site description, valid or not: `defineSite` either returns a plan or throws a
 * `ValidationError` whose every problem names a path, a value and what was expected; and a site that validated
 * synthesizes (Terraform stack, Kubernetes chart, site document) without an error, into Terraform JSON that holds no
 * interpolation its text brought in. {@link checkSite} throws a {@link SiteCheckFailure} naming the first property
 * broken.
 */

/** A broken property: the message says which, for the printed regression test. */
export class SiteCheckFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SiteCheckFailure';
  }
}

/** The text a host receives: a VM's user data or an LXC container's converge script, as synthesized and as received. */
export interface HostDelivery {
  readonly host: string;
  readonly kind: HostKind;
  readonly synthesized: string;
  /** With Terraform's template evaluated (escapes undone, references replaced by sample values). */
  readonly received: string;
}

/** How a site description ended. */
export type SiteOutcome =
  | { readonly kind: 'rejected'; readonly error: ValidationError }
  | { readonly kind: 'accepted'; readonly site: SitePlan; readonly json: TfJson; readonly hosts: readonly HostDelivery[] };

/** Text in a path or an expectation that says a value leaked into a message unformatted. */
const UNFORMATTED = /\bundefined\b|\[object [A-Z]\w*\]|\bNaN\b/;

/** Runs one site description through validation and, when valid, through every synthesis; throws on a broken property. */
export function checkSite(spec: SiteSpec): SiteOutcome {
  let site: SitePlan;
  try {
    site = defineSite(spec);
  } catch (error) {
    if (!(error instanceof ValidationError)) {
      throw new SiteCheckFailure(`defineSite threw ${describeError(error)} instead of a ValidationError`);
    }
    checkProblems(error);
    return { kind: 'rejected', error };
  }
  const json = synthesizeAll(site);
  checkInterpolations(json);
  return { kind: 'accepted', site, json, hosts: deliveries(site, json) };
}

function checkProblems(error: ValidationError): void {
  if (error.problems.length === 0) {
    throw new SiteCheckFailure('a ValidationError without problems');
  }
  const seen = new Set<string>();
  for (const problem of error.problems) {
    const where = `problem ${JSON.stringify(problem.path)}`;
    if (typeof problem.path !== 'string' || problem.path.trim() === '' || UNFORMATTED.test(problem.path)) {
      throw new SiteCheckFailure(`${where}: the path is no readable path`);
    }
    if (typeof problem.expected !== 'string' || problem.expected.trim() === '' || UNFORMATTED.test(problem.expected)) {
      throw new SiteCheckFailure(`${where}: the expectation ${JSON.stringify(problem.expected)} is no readable text`);
    }
    let value: string;
    try {
      value = formatValue(problem.value);
    } catch (thrown) {
      throw new SiteCheckFailure(`${where}: its value cannot be rendered (${describeError(thrown)})`);
    }
    if (typeof value !== 'string' || value === '') {
      throw new SiteCheckFailure(`${where}: its value renders as nothing`);
    }
    const key = `${problem.path}\u0000${problem.expected}`;
    if (seen.has(key)) {
      throw new SiteCheckFailure(`${where}: reported twice with the same expectation (a cascade reported more than once)`);
    }
    seen.add(key);
    if (!error.message.includes(`  - ${problem.path}: `)) {
      throw new SiteCheckFailure(`${where}: missing from the error message`);
    }
  }
}

/** The Terraform stack (as infra/main.ts builds it), the cdk8s chart and the site document. */
function synthesizeAll(site: SitePlan): TfJson {
  let json: TfJson;
  try {
    json = synthSite(site).json;
  } catch (error) {
    throw new SiteCheckFailure(`SiteStack failed for a site that validated: ${describeError(error)}`);
  }
  try {
    Cdk8sTesting.synth(new SiteChart(Cdk8sTesting.app(), site.name, { site }));
  } catch (error) {
    throw new SiteCheckFailure(`SiteChart failed for a site that validated: ${describeError(error)}`);
  }
  try {
    renderSiteDocument(site);
  } catch (error) {
    throw new SiteCheckFailure(`renderSiteDocument failed for a site that validated: ${describeError(error)}`);
  }
  return json;
}

/**
 * The synthesized JSON holds no directive, no interpolation of the fuzz's canary text, and the two credentials only
 * where the library puts them: the API token in the provider's `api_token` and the VMs' restart steps, the SSH
 * private key in connections and the rebuild drains' stored connections.
 */
function checkInterpolations(json: TfJson): void {
  for (const { path, part } of templateSequences(json)) {
    const text = part.kind === 'directive' ? part.body : part.expression;
    if (part.kind === 'directive') {
      throw new SiteCheckFailure(`${path}: a template directive %{${text}} (site text read as a template)`);
    }
    if (text.includes('fuzzcanary')) {
      throw new SiteCheckFailure(`${path}: the interpolation \${${text}} comes from site text`);
    }
    // The provider's, and a VM's restart step, which passes it to curl as a header through its environment.
    if (text.includes('proxmox_api_token') && path !== 'provider.proxmox[0].api_token'
      && !/^resource\.terraform_data\.[^.]+_Converge_[0-9A-F]+\.provisioner\[0\]\.local-exec\.environment\.PKH_PVE_API_TOKEN$/.test(path)) {
      throw new SiteCheckFailure(`${path}: the Proxmox API token is interpolated outside the provider (\${${text}})`);
    }
    // Connections; and a node's rebuild drain, whose destroy-time connection can read only its own resource, so the
    // connection is stored in its `triggers_replace` (node-lifecycle.ts NodeRebuildDrain).
    if (text.includes('ssh_private_key') && !/\.(private_key|bastion_private_key)$/.test(path)
      && !/^resource\.terraform_data\.[^.]+-RebuildDrain_[0-9A-F]+\.triggers_replace\.(privateKey|bastionPrivateKey)$/.test(path)) {
      throw new SiteCheckFailure(`${path}: the SSH private key is interpolated outside a connection (\${${text}})`);
    }
  }
}

function deliveries(site: SitePlan, json: TfJson): HostDelivery[] {
  const snippets = resourcesByPath(json, 'proxmox_virtual_environment_file');
  const converges = resourcesByPath(json, 'terraform_data');
  return site.hosts.flatMap((host) => {
    const synthesized: string | undefined = host.kind === HostKind.LXC
      ? convergeScriptOf(converges[`${site.name}/${host.name}/Converge/Resource`])
      : snippets[`${site.name}/${host.name}/UserData`]?.source_raw.data;
    if (synthesized === undefined) {
      // A decommissioned container has no converge step.
      return [];
    }
    let received: string;
    try {
      received = machineText(synthesized);
    } catch (error) {
      throw new SiteCheckFailure(`${host.name}: its ${host.kind === HostKind.LXC ? 'script' : 'user data'} cannot be read as Terraform reads it: ${describeError(error)}`);
    }
    return [{ host: host.name, kind: host.kind, synthesized, received }];
  });
}

/** `TypeError: message` (first line), without trusting the thrown value. */
export function describeError(error: unknown): string {
  try {
    if (error instanceof Error) {
      return `${error.name}: ${error.message.split('\n').slice(0, 3).join(' / ').slice(0, 400)}`;
    }
    return String(error).slice(0, 400);
  } catch {
    return `a thrown ${typeof error}`;
  }
}
