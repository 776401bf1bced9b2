import { App, LocalBackend, S3Backend, Testing } from 'cdktf';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { isAbsolute, join, resolve } from 'path';
import { SiteStack, ValidationError, defineSite, k3sServerManifests } from '../../constructs';
import { StateBackendOptions } from '../../constructs/tf';
import { loadSites } from '../../sites';
import { TfJson } from '../support/synth';
import { seedSpec } from './state-stacks';

const ROOT = resolve(__dirname, '../..');

/** Synthesizes every seed site as infra/main.ts does, with `cwd` as working directory, into `<projectDir>/cdktf.out`; stack name → JSON text. */
function synthSeeds(projectDir: string, cwd: string): Map<string, string> {
  const previous = process.cwd();
  process.chdir(cwd);
  try {
    const outdir = join(projectDir, 'cdktf.out');
    mkdirSync(outdir, { recursive: true });
    const app = new App({ outdir });
    for (const site of loadSites()) {
      new SiteStack(app, site.name, { site, serverManifests: k3sServerManifests(site) });
    }
    app.synth();
    const stacks = readdirSync(join(outdir, 'stacks')).sort();
    return new Map(stacks.map((name) => [name, readFileSync(join(outdir, 'stacks', name, 'cdk.tf.json'), 'utf8')]));
  } finally {
    process.chdir(previous);
  }
}

/** The lab seed's stack with `backend`, synthesized in a test app; its `terraform.backend`. */
function backendOf(backend: StateBackendOptions | undefined, name = 'lab'): TfJson {
  const site = defineSite(seedSpec(name));
  const stack = new SiteStack(Testing.app(), site.name, { site, serverManifests: k3sServerManifests(site), ...(backend ? { backend } : {}) });
  return JSON.parse(Testing.synth(stack)).terraform.backend;
}

/** The error a stack with `backend` throws (failing when it throws none). */
function errorOf(backend: unknown): Error {
  const site = defineSite(seedSpec('lab'));
  let thrown: unknown;
  try {
    new SiteStack(Testing.app(), site.name, { site, serverManifests: [], backend: backend as StateBackendOptions });
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(Error);
  return thrown as Error;
}

describe('the default state: a local file beside cdktf.out, by a relative path', () => {
  let work: string;
  let first: Map<string, string>;
  let second: Map<string, string>;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'state-default-'));
    // Two machines, so to speak: another working directory and another output folder.
    first = synthSeeds(join(work, 'checkout-a'), ROOT);
    second = synthSeeds(join(work, 'checkout-b', 'deeper'), work);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('every seed stack keeps its state in terraform.<site>.tfstate beside cdktf.out, with no absolute path', () => {
    expect([...first.keys()]).toEqual(['homelab', 'kubeadm-multi', 'kubeadm-stacked', 'lab', 'prod']);
    for (const [name, text] of first) {
      const backend = JSON.parse(text).terraform.backend;
      expect({ name, backend }).toEqual({ name, backend: { local: { path: `../../../terraform.${name}.tfstate` } } });
      // Terraform resolves it against the stack's directory, where cdktf runs it: outside cdktf.out, one file per site.
      const stackDir = join(work, 'checkout-a', 'cdktf.out', 'stacks', name);
      expect(resolve(stackDir, backend.local.path)).toBe(join(work, 'checkout-a', `terraform.${name}.tfstate`));
      expect(isAbsolute(backend.local.path)).toBe(false);
    }
  });

  test('the stacks do not depend on where they were synthesized: same JSON, no path of either machine in it', () => {
    expect([...second.keys()]).toEqual([...first.keys()]);
    for (const [name, text] of first) {
      expect({ name, same: second.get(name) === text }).toEqual({ name, same: true });
      for (const machinePath of [ROOT, work, tmpdir()]) {
        expect({ name, machinePath, found: text.includes(machinePath) }).toEqual({ name, machinePath, found: false });
      }
    }
  });

  test('the default stands aside for a backend added the cdktf way (the rolling labs keep theirs)', () => {
    const site = defineSite(seedSpec('lab'));
    const app = Testing.app();
    const withLocal = new SiteStack(app, 'with-local', { site, serverManifests: [] });
    new LocalBackend(withLocal, { path: '/lab/terraform.tfstate' });
    const local = JSON.parse(Testing.synth(withLocal));
    expect(local.terraform.backend).toEqual({ local: { path: '/lab/terraform.tfstate' } });
    const withS3 = new SiteStack(app, 'with-s3', { site, serverManifests: [] });
    new S3Backend(withS3, { bucket: 'team-state', key: 'lab.tfstate', region: 'eu-central-1' });
    expect(Object.keys(JSON.parse(Testing.synth(withS3)).terraform.backend)).toEqual(['s3']);
    // An explicit option does not stand aside: two backends are an error, not a silent choice.
    const explicit = new SiteStack(app, 'explicit', { site, serverManifests: [], backend: { type: 'pg' } });
    expect(() => new LocalBackend(explicit, {})).toThrow(/backend/);
  });
});

describe('backend options', () => {
  test('local with a path: kept as given, relative to the stack directory', () => {
    expect(backendOf({ type: 'local', path: '../../../state/lab.tfstate' })).toEqual({ local: { path: '../../../state/lab.tfstate' } });
    expect(backendOf({ type: 'local' })).toEqual({ local: { path: '../../../terraform.lab.tfstate' } });
  });

  test('pg: one schema per site by default (name made safe), no connection string in the stack', () => {
    expect(backendOf({ type: 'pg' })).toEqual({ pg: { schema_name: 'proxmox_k3s_ha_lab' } });
    expect(backendOf({ type: 'pg' }, 'kubeadm-multi')).toEqual({ pg: { schema_name: 'proxmox_k3s_ha_kubeadm_multi' } });
    expect(backendOf({ type: 'pg', schemaName: 'tf_lab' })).toEqual({ pg: { schema_name: 'tf_lab' } });
  });

  test('s3 on AWS: the native lock file, encrypted, one key per site, no credential', () => {
    expect(backendOf({ type: 's3', bucket: 'team-tf-state', region: 'eu-central-1' })).toEqual({
      s3: { bucket: 'team-tf-state', key: 'proxmox-k3s-ha/lab/terraform.tfstate', region: 'eu-central-1', use_lockfile: true, encrypt: true },
    });
    expect(backendOf({ type: 's3', bucket: 'team-tf-state', region: 'eu-central-1' }, 'prod').s3.key).toBe('proxmox-k3s-ha/prod/terraform.tfstate');
  });

  test('s3-compatible server: endpoint, path style, no AWS-only checks; encryption can be turned off', () => {
    expect(backendOf({ type: 's3', bucket: 'tf-state', key: 'sites/lab.tfstate', region: 'us-east-1', endpoint: 'https://minio.lab.internal:9000', usePathStyle: true, encrypt: false }))
      .toEqual({
        s3: {
          bucket: 'tf-state', key: 'sites/lab.tfstate', region: 'us-east-1', use_lockfile: true, encrypt: false,
          endpoints: { s3: 'https://minio.lab.internal:9000' }, use_path_style: true,
          skip_credentials_validation: true, skip_requesting_account_id: true, skip_region_validation: true, skip_metadata_api_check: true, skip_s3_checksum: true,
        },
      });
  });

  test.each<[string, unknown, string]>([
    ['an unknown type', { type: 'gcs' }, 'SiteStackProps.backend.type: "gcs" — one of "local", "pg", "s3"'],
    ['an absolute local path', { type: 'local', path: '/var/lib/terraform/lab.tfstate' }, 'SiteStackProps.backend.path: "/var/lib/terraform/lab.tfstate" — a path relative to the stack\'s working directory'],
    ['a local path inside cdktf.out', { type: 'local', path: 'terraform.tfstate' }, 'SiteStackProps.backend.path: "terraform.tfstate" — a file outside cdktf.out/'],
    ['an upper-case schema', { type: 'pg', schemaName: 'Lab' }, 'SiteStackProps.backend.schemaName: "Lab" — a PostgreSQL schema name of 1–63 lower-case letters, digits and _'],
    ['a schema that is SQL', { type: 'pg', schemaName: 'lab; DROP SCHEMA public' }, 'SiteStackProps.backend.schemaName: "lab; DROP SCHEMA public" — a PostgreSQL schema name'],
    ['a schema longer than PostgreSQL keeps', { type: 'pg', schemaName: 's'.repeat(64) }, `SiteStackProps.backend.schemaName: "${'s'.repeat(64)}" — a PostgreSQL schema name of 1–63`],
    ['a system schema', { type: 'pg', schemaName: 'pg_state' }, 'SiteStackProps.backend.schemaName: "pg_state" — a schema of its own'],
    ['the public schema', { type: 'pg', schemaName: 'public' }, 'SiteStackProps.backend.schemaName: "public" — a schema of its own'],
    ['a bucket with capitals', { type: 's3', bucket: 'Team_State', region: 'eu-central-1' }, 'SiteStackProps.backend.bucket: "Team_State" — an S3 bucket name: 3–63 lower-case letters'],
    ['a bucket like an address', { type: 's3', bucket: '192.168.1.10', region: 'eu-central-1' }, 'SiteStackProps.backend.bucket: "192.168.1.10" — an S3 bucket name that is not an IP address'],
    ['a bucket with two dots', { type: 's3', bucket: 'team..state', region: 'eu-central-1' }, 'SiteStackProps.backend.bucket: "team..state" — an S3 bucket name without two dots in a row'],
    ['a reserved bucket suffix', { type: 's3', bucket: 'team-s3alias', region: 'eu-central-1' }, 'SiteStackProps.backend.bucket: "team-s3alias" — an S3 bucket name without the reserved suffix "-s3alias"'],
    ['a key with a leading slash', { type: 's3', bucket: 'team-state', key: '/lab.tfstate', region: 'eu-central-1' }, 'SiteStackProps.backend.key: "/lab.tfstate" — an S3 object key'],
    ['no region', { type: 's3', bucket: 'team-state' }, 'SiteStackProps.backend.region: (missing) — a region name'],
    ['an endpoint that is not http', { type: 's3', bucket: 'team-state', region: 'us-east-1', endpoint: 'ftp://files.lab' }, 'SiteStackProps.backend.endpoint: "ftp://files.lab" — an http:// or https:// URL'],
    ['a flag that is not boolean', { type: 's3', bucket: 'team-state', region: 'us-east-1', usePathStyle: 'yes' }, 'SiteStackProps.backend.usePathStyle: "yes" — true or false'],
  ])('%s is refused, naming the field, the value and what is expected', (_, backend, message) => {
    const error = errorOf(backend);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain('stack "lab": SiteStackProps.backend has 1 problem:');
    expect(error.message).toContain(message);
  });

  test('every problem at once; a credential in the options is refused without showing it', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const error = errorOf({ type: 's3', bucket: 'x', region: 'EU', secretKey: secret, endpoint: `https://user:${secret}@s3.lab` });
    expect(error.message).toContain('has 4 problems');
    expect(error.message).toContain('SiteStackProps.backend.secretKey: "<string, not shown>" — no such option: credentials are read from the environment');
    expect(error.message).toContain('SiteStackProps.backend.region: "EU"');
    expect(errorOf({ type: 'pg', connStr: `postgres://tf:${secret}@db/state` }).message).toContain('SiteStackProps.backend.connStr: "<string, not shown>"');
    expect(errorOf({ type: 'pg', connStr: `postgres://tf:${secret}@db/state` }).message).not.toContain(secret);
  });

  test('two sites of one app never share a state', () => {
    const app = Testing.app();
    const lab = defineSite(seedSpec('lab'));
    const prod = defineSite(seedSpec('prod'));
    new SiteStack(app, 'lab', { site: lab, serverManifests: [], backend: { type: 'pg', schemaName: 'tf_state' } });
    expect(() => new SiteStack(app, 'prod', { site: prod, serverManifests: [], backend: { type: 'pg', schemaName: 'tf_state' } }))
      .toThrow('stack "prod": SiteStackProps.backend: {"schema_name":"tf_state"} — a state of its own; stack "lab" keeps its state there already');
    const s3 = { type: 's3', bucket: 'team-state', key: 'k3s.tfstate', region: 'eu-central-1' } as const;
    new SiteStack(app, 'lab-s3', { site: lab, serverManifests: [], backend: s3 });
    expect(() => new SiteStack(app, 'prod-s3', { site: prod, serverManifests: [], backend: s3 })).toThrow('stack "lab-s3" keeps its state there already');
    // A path that lands on another stack's default file, written differently.
    new SiteStack(app, 'homelab', { site: defineSite(seedSpec('homelab')), serverManifests: [] });
    expect(() => new SiteStack(app, 'prod-local', { site: prod, serverManifests: [], backend: { type: 'local', path: '../.././../terraform.homelab.tfstate' } }))
      .toThrow('stack "homelab" keeps its state there already');
  });
});
