// Every string field of a site, given Terraform template text, is either refused by defineSite or reaches the
// Terraform JSON as literal text: checked with the real terraform CLI (stand-in providers) on the synthesized stack.
// `terraform show -json` of a plan names, for every expression of the configuration, the variables it references:
// the API token variable may be referenced by the provider's api_token and the VMs' restart steps alone. And every planned value that carries
// a field's text carries it literally, template sequences included.
import { Testing } from 'cdktf';
import { SiteSpec, SiteStack, ValidationError, defineSite, k3sServerManifests } from '../../constructs';
import { SITE_SPECS } from '../../sites';
import { StandinHome, TerraformJson, TerraformWorkdir, createStandinHome } from '../support/terraform-cli';
import { describeWithTools } from '../support/tools';

/** The two sequences Terraform evaluates, each with and without a reference to a secret. */
const PAYLOADS = ['${var.proxmox_api_token}', '%{if true}x%{endif}', '%{if var.proxmox_api_token != ""}x%{endif}'] as const;

const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

type Json = Record<string, unknown>;

/** A seed with every optional string field set to a valid value, so that each one is tried. */
function withEveryTextField(seed: string): Json {
  const spec = structuredClone(SITE_SPECS.find((s) => s.name === seed)!) as unknown as Json & { hosts: Json[] };
  const access = { adminUser: 'ops', sshAuthorizedKeys: [`${SSH_KEY} ops@example`], timezone: 'Europe/Berlin', ntpServers: ['pool.ntp.org'] };
  Object.assign(spec, { description: 'a site', access, rollout: { bastion: 'ops@jump.example.net:2222' } });
  spec.hosts[0] = { ...spec.hosts[0], sshHostKey: `${SSH_KEY} root@host`, nodeLabels: { tier: 'front' }, nodeTaints: ['dedicated=edge:NoSchedule'] };
  return spec;
}

/** Every string leaf of `value`, with its path as a list of keys. */
function textFields(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === 'string') {
    return [path];
  }
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => textFields(item, [...path, i]));
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => textFields(item, [...path, key]));
  }
  return [];
}

function setAt(spec: Json, path: readonly (string | number)[], text: string): Json {
  const copy = structuredClone(spec);
  const parent = path.slice(0, -1).reduce<Record<string | number, unknown>>((object, key) => object[key] as Record<string | number, unknown>, copy);
  parent[path[path.length - 1]] = text;
  return copy;
}

function getAt(spec: Json, path: readonly (string | number)[]): string {
  return path.reduce<unknown>((object, key) => (object as Record<string | number, unknown>)[key], spec) as string;
}

/** The payload on its own, and after the field's valid value (a URL's path, a key's comment, a name's suffix). */
const variants = (valid: string, payload: string) => [payload, `${valid}${payload}`, `${valid} ${payload}`];

interface Tried {
  readonly field: string;
  readonly text: string;
  readonly outcome: 'refused' | 'accepted';
}

/** Tries every variant of `payload` in every text field of `spec` on its own; returns what happened to each. */
function tryEveryField(spec: Json, payload: string): { tried: Tried[]; accepted: { path: (string | number)[]; text: string }[] } {
  const tried: Tried[] = [];
  const accepted: { path: (string | number)[]; text: string }[] = [];
  for (const path of textFields(spec)) {
    const field = path.join('.');
    for (const text of variants(getAt(spec, path), payload)) {
      try {
        defineSite(setAt(spec, path, text) as unknown as SiteSpec);
        tried.push({ field, text, outcome: 'accepted' });
        accepted.push({ path, text });
      } catch (error) {
        if (!(error instanceof ValidationError)) {
          throw error;
        }
        tried.push({ field, text, outcome: 'refused' });
      }
    }
  }
  return { tried, accepted };
}

/** Text as escapeTerraformTemplate writes it when no token follows (the payloads end in a brace). */
const escapedForTerraform = (text: string) => text.replace(/[$%]\{/g, (sequence) => `${sequence[0]}${sequence}`);

/** Every string of a stack's JSON but cdktf's metadata (`//`). */
function jsonStrings(value: unknown): string[] {
  if (typeof value === 'string') {
    return [value];
  }
  if (Array.isArray(value)) {
    return value.flatMap(jsonStrings);
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).filter(([key]) => key !== '//').flatMap(([, item]) => jsonStrings(item));
  }
  return [];
}

/** Every expression of a plan's configuration that references `variable`, by its place. */
function referencesTo(value: unknown, variable: string, path = ''): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => referencesTo(item, variable, `${path}[${i}]`));
  }
  if (typeof value !== 'object' || value === null) {
    return [];
  }
  const own = Array.isArray((value as Json).references) && ((value as Json).references as string[]).includes(variable) ? [path] : [];
  return [...own, ...Object.entries(value).filter(([key]) => key !== 'references').flatMap(([key, item]) => referencesTo(item, variable, `${path}.${key}`))];
}

describeWithTools(['terraform'], 'site text reaches Terraform as literal text, never as a template', () => {
  let home: StandinHome;
  beforeAll(() => {
    home = createStandinHome();
  });
  afterAll(() => home?.dispose());

  // lab: VMs, load balancers on the servers, DNS; prod: LXC load balancers, an LXC template.
  describe.each(['lab', 'prod'])('%s', (seed) => {
    const spec = withEveryTextField(seed);

    test.each(PAYLOADS)('%s in every text field: refused, or literal in the plan', async (payload) => {
      const { tried, accepted } = tryEveryField(spec, payload);
      // Some fields take such text (URLs, SSH key comments, the description), most refuse it.
      expect(tried.filter((t) => t.outcome === 'refused').length).toBeGreaterThan(10);
      expect([...new Set(accepted.map((a) => a.path.join('.')))]).toEqual(expect.arrayContaining([
        'proxmox.endpoint', 'proxmox.cloudImage.url', 'access.sshAuthorizedKeys.0', 'hosts.0.sshHostKey', 'description',
        ...(seed === 'prod' ? ['proxmox.lxcTemplate.url'] : []),
      ]));

      // One site with every accepted field set at once (each variant of a field in turn, the last one wins, so
      // every field carries a payload), synthesized with secrets from variables: every value is known at plan.
      const combined = accepted.reduce((site, { path, text }) => setAt(site, path, text), spec);
      const site = defineSite(combined as unknown as SiteSpec);
      const stack = new SiteStack(Testing.app(), site.name, { site, serverManifests: k3sServerManifests(site), secrets: 'variables' });
      const json = JSON.parse(Testing.synth(stack, true)) as TerraformJson;
      const texts = [...new Set(accepted.map(({ path }) => getAt(combined, path)))];
      // Every string of the stack that carries a field's text (escaped) is evaluated once more as an output: a plan
      // shows outputs' values, not those of provider configurations, connections or provisioners.
      const carriers = jsonStrings(json).filter((text) => texts.some((t) => text.includes(escapedForTerraform(t))));
      const probe = {
        ...json,
        output: { ...json.output, ...Object.fromEntries(carriers.map((value, i) => [`site_text_${i}`, { value, sensitive: true }])) },
      };
      const work = await TerraformWorkdir.create(probe, { home });
      try {
        await work.validate();
        const plan = await work.planJson();
        // Only the provider and the VMs' restart steps (their first provisioner's environment) read the API token: no
        // text of the site reached Terraform as an interpolation.
        const tokenReaders = referencesTo(plan.configuration, 'var.proxmox_api_token');
        const restartSteps = tokenReaders.map((path) => /^\.root_module\.resources\[(\d+)\]\.provisioners\[0\]\.expressions\.environment$/.exec(path))
          .filter((match): match is RegExpExecArray => match !== null)
          .map((match) => (plan.configuration.root_module.resources[Number(match[1])] as { address: string }).address);
        expect(tokenReaders.length - restartSteps.length).toBe(1);
        expect(tokenReaders).toContain('.provider_config.proxmox.expressions.api_token');
        expect(restartSteps.filter((address) => !/^terraform_data\..+_Converge_[0-9A-F]+$/.test(address))).toEqual([]);
        // Each carrier evaluates to the texts it carries, as the site wrote them.
        expect(carriers.length).toBeGreaterThan(3);
        carriers.forEach((carrier, i) => {
          const value = plan.planned_values.outputs[`site_text_${i}`].value as string;
          for (const text of texts.filter((t) => carrier.includes(escapedForTerraform(t)))) {
            expect({ text, literal: value.includes(text) }).toEqual({ text, literal: true });
          }
        });
        // The fields that reach Terraform at all: the endpoint, downloads, key lines.
        const reaching = [...new Set(accepted.filter(({ path }) => carriers.some((c) => c.includes(escapedForTerraform(getAt(combined, path))))).map(({ path }) => path.join('.')))];
        expect(reaching).toEqual(expect.arrayContaining(['proxmox.endpoint', 'proxmox.cloudImage.url', 'access.sshAuthorizedKeys.0', 'hosts.0.sshHostKey']));
      } finally {
        work.dispose();
      }
    }, 240_000);
  });
});
