import { DataTerraformRemoteStateConfig, TerraformBackend, TerraformRemoteState, TerraformStack } from 'cdktf';
import { Construct, IConstruct } from 'constructs';
import { posix } from 'path';
import { ProblemCollector } from '../core/problems';

/**
 * Where a stack keeps its Terraform state. Credentials never go into the stack: the `pg` backend reads its
 * connection string from `PG_CONN_STR` (and libpq's `PGPASSWORD`, ...), the `s3` backend its credentials from the
 * AWS environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE`, ...).
 */
export type StateBackendOptions = LocalStateBackendOptions | PgStateBackendOptions | S3StateBackendOptions;

/** A state file on the machine that runs Terraform (Terraform locks it with a lock file beside it; no sharing). */
export interface LocalStateBackendOptions {
  readonly type: 'local';
  /**
   * The state file, relative to the stack's working directory (`cdktf.out/stacks/<stack>/`, where `cdktf deploy`
   * runs Terraform) and outside `cdktf.out/` (both `npm run synth` and `cdktf synth` delete what is in there).
   *
   * @default '../../../terraform.<stack>.tfstate' - beside `cdktf.out/` (the project folder), the file cdktf's own default wrote
   */
  readonly path?: string;
}

/** Terraform's built-in `pg` backend: one schema per stack, locked with PostgreSQL advisory locks. */
export interface PgStateBackendOptions {
  readonly type: 'pg';
  /**
   * The schema that holds this stack's state (Terraform creates it). A lower-case PostgreSQL identifier.
   *
   * @default 'proxmox_k3s_ha_<stack>' - the stack's name with every character but letters and digits as `_`
   */
  readonly schemaName?: string;
}

/** Terraform's built-in `s3` backend with its native lock file (`<key>.tflock`, Terraform 1.10+; no DynamoDB). */
export interface S3StateBackendOptions {
  readonly type: 's3';
  /** The bucket (it must exist). */
  readonly bucket: string;
  /**
   * The object that holds the state.
   *
   * @default 'proxmox-k3s-ha/<stack>/terraform.tfstate'
   */
  readonly key?: string;
  /** The bucket's region (any name an S3-compatible server expects, e.g. `us-east-1`). */
  readonly region: string;
  /**
   * An S3-compatible server's URL (MinIO, Ceph RGW, Garage, ...): `http(s)://host[:port][/path]`.
   *
   * @default - AWS's own endpoint for the region
   */
  readonly endpoint?: string;
  /**
   * Path-style requests (`https://host/bucket/key`), which most S3-compatible servers need.
   *
   * @default false
   */
  readonly usePathStyle?: boolean;
  /**
   * Server-side encryption of the state object. Set false for a server without a key management service (MinIO).
   *
   * @default true
   */
  readonly encrypt?: boolean;
  /** A KMS key (ARN or id) for the encryption, instead of the bucket's default key. */
  readonly kmsKeyId?: string;
  /**
   * Skip what only AWS answers: the credential check with STS, the account id lookup, the region name check, the
   * instance metadata service, and the request checksums some S3-compatible servers reject.
   *
   * @default - true when `endpoint` is set, false for AWS
   */
  readonly skipAwsChecks?: boolean;
}

/** The prefix of the default schema and key: the project's name, so a shared database or bucket shows whose state it is. */
const STATE_NAME_PREFIX = 'proxmox-k3s-ha';
/** cdktf writes a stack to `<outdir>/stacks/<stack>/` (cdktf's Manifest.stacksFolder) and runs Terraform there. */
const STACK_DIR_DEPTH = 3;
/** PostgreSQL cuts identifiers at NAMEDATALEN - 1 = 63 bytes: two longer names could end up as one schema. */
const PG_IDENTIFIER_MAX = 63;
/** S3 object keys are at most 1024 bytes (UTF-8). */
const S3_KEY_MAX_BYTES = 1024;

/** The state's place, as Terraform JSON `terraform.backend.<type>` attributes, and a key that says which state it is. */
interface ResolvedBackend {
  readonly type: 'local' | 'pg' | 's3';
  readonly attributes: Record<string, unknown>;
  /** Two stacks of one app with the same location would share one state. */
  readonly location: string;
}

/**
 * Applies the state backend to `stack` and returns it: `options`, validated (every problem at once, naming
 * `field`), or without options the default local state file beside `cdktf.out/`. Throws when another stack of the
 * same app already keeps its state in the same place.
 *
 * The default yields to a backend added to the stack by other means (e.g. cdktf's `new S3Backend(stack, ...)`), so
 * that idiom keeps working; an explicit option collides with such a backend instead (cdktf: "already a Construct
 * with name 'backend'").
 */
export function applyStateBackend(stack: TerraformStack, options: StateBackendOptions | undefined, field = 'backend'): TerraformBackend {
  const resolved = resolveStateBackend(stack.node.id, options, field, `stack ${JSON.stringify(stack.node.id)}: ${field}`);
  claimLocation(stack, resolved, field);
  return options === undefined
    ? new DefaultLocalBackend(stack, resolved.attributes)
    : new StateBackend(stack, resolved.type, resolved.attributes);
}

/** Validates `options` for the stack named `stackName` and resolves its defaults; throws naming every problem. */
function resolveStateBackend(stackName: string, options: StateBackendOptions | undefined, field: string, subject: string): ResolvedBackend {
  const problems = new ProblemCollector();
  const resolved = resolveChecked(stackName, options ?? { type: 'local' }, field, problems);
  problems.throwIfAny(subject);
  return resolved!;
}

function resolveChecked(stackName: string, options: StateBackendOptions, field: string, problems: ProblemCollector): ResolvedBackend | undefined {
  switch (options?.type) {
    case 'local':
      return resolveLocal(stackName, options, field, problems);
    case 'pg':
      return resolvePg(stackName, options, field, problems);
    case 's3':
      return resolveS3(stackName, options, field, problems);
    default:
      problems.add(`${field}.type`, (options as { type?: unknown } | undefined)?.type, 'one of "local", "pg", "s3"');
      return undefined;
  }
}

/** Option names that carry credentials: those never go into a stack (Terraform reads them from the environment). */
const CREDENTIAL_OPTION = /conn|pass|secret|token|key(id)?$|credential|profile|role/i;

function reportUnknownKeys(options: object, known: readonly string[], field: string, problems: ProblemCollector): void {
  for (const key of Object.keys(options).filter((k) => !known.includes(k))) {
    // The value is not shown: an unknown option may well hold a credential.
    const shown = `<${typeof (options as Record<string, unknown>)[key]}, not shown>`;
    problems.add(`${field}.${key}`, shown, CREDENTIAL_OPTION.test(key)
      ? 'no such option: credentials are read from the environment (PG_CONN_STR and libpq\'s PG* for pg, AWS_* for s3), never written into the stack'
      : `no such option (known: ${known.join(', ')})`);
  }
}

function resolveLocal(stackName: string, options: LocalStateBackendOptions, field: string, problems: ProblemCollector): ResolvedBackend {
  reportUnknownKeys(options, ['type', 'path'], field, problems);
  const path = options.path ?? posix.join(...Array<string>(STACK_DIR_DEPTH).fill('..'), `terraform.${stackName}.tfstate`);
  if (problems.check(typeof path === 'string' && path.length > 0 && !path.includes('\\'), `${field}.path`, path, 'a non-empty path with / as separator')) {
    if (problems.check(!posix.isAbsolute(path), `${field}.path`, path,
      'a path relative to the stack\'s working directory (cdktf.out/stacks/<stack>/): an absolute path works only on the machine that has it')) {
      // Where the path lands, seen from the folder that holds cdktf.out/ (the stack runs three levels below it).
      const fromProject = posix.normalize(posix.join('cdktf.out/stacks', stackName, path));
      problems.check(fromProject !== 'cdktf.out' && !fromProject.startsWith('cdktf.out/') && !path.endsWith('/'), `${field}.path`, path,
        `a file outside cdktf.out/ (npm run synth and cdktf synth replace what is in there), e.g. "../../../terraform.${stackName}.tfstate"`);
      return { type: 'local', attributes: { path }, location: `local:${fromProject}` };
    }
  }
  return { type: 'local', attributes: { path }, location: `local:${String(path)}` };
}

/** The default schema's name part for a stack: lower case, every character but letters and digits as `_`. */
function safeIdentifierPart(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '_');
}

function resolvePg(stackName: string, options: PgStateBackendOptions, field: string, problems: ProblemCollector): ResolvedBackend {
  reportUnknownKeys(options, ['type', 'schemaName'], field, problems);
  const schemaName = options.schemaName ?? `${safeIdentifierPart(STATE_NAME_PREFIX)}_${safeIdentifierPart(stackName)}`;
  const fieldName = options.schemaName === undefined ? `${field}.schemaName (default for stack ${JSON.stringify(stackName)})` : `${field}.schemaName`;
  if (problems.check(typeof schemaName === 'string' && /^[a-z_][a-z0-9_]*$/.test(schemaName) && schemaName.length <= PG_IDENTIFIER_MAX, fieldName, schemaName,
    `a PostgreSQL schema name of 1–${PG_IDENTIFIER_MAX} lower-case letters, digits and _, not starting with a digit`)) {
    problems.check(!schemaName.startsWith('pg_') && !['public', 'information_schema'].includes(schemaName), fieldName, schemaName,
      'a schema of its own: not "public", "information_schema" or a name starting with pg_ (reserved for the system)');
  }
  // conn_str stays out: Terraform reads PG_CONN_STR (pg backend, Terraform 1.5+, hashicorp/terraform pull request 33045).
  return { type: 'pg', attributes: { schema_name: schemaName }, location: `pg:${schemaName}` };
}

/** S3's bucket naming rules for general purpose buckets, which S3-compatible servers follow. */
function bucketNameProblem(bucket: unknown): string | undefined {
  if (typeof bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    return 'an S3 bucket name: 3–63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit';
  }
  if (bucket.includes('..')) {
    return 'an S3 bucket name without two dots in a row';
  }
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
    return 'an S3 bucket name that is not an IP address';
  }
  const prefix = ['xn--', 'sthree-', 'amzn-s3-demo-'].find((p) => bucket.startsWith(p));
  const suffix = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'].find((s) => bucket.endsWith(s));
  if (prefix || suffix) {
    return `an S3 bucket name without the reserved ${prefix ? `prefix "${prefix}"` : `suffix "${suffix}"`}`;
  }
  return undefined;
}

function resolveS3(stackName: string, options: S3StateBackendOptions, field: string, problems: ProblemCollector): ResolvedBackend {
  reportUnknownKeys(options, ['type', 'bucket', 'key', 'region', 'endpoint', 'usePathStyle', 'encrypt', 'kmsKeyId', 'skipAwsChecks'], field, problems);
  const bucketProblem = bucketNameProblem(options.bucket);
  if (bucketProblem) {
    problems.add(`${field}.bucket`, options.bucket, bucketProblem);
  }
  const key = options.key ?? `${STATE_NAME_PREFIX}/${stackName}/terraform.tfstate`;
  // Terraform rejects a key with a leading or trailing "/" (s3 backend, validateStringS3Path in validate.go).
  problems.check(typeof key === 'string' && key.length > 0 && !key.startsWith('/') && !key.endsWith('/') && Buffer.byteLength(key) <= S3_KEY_MAX_BYTES,
    `${field}.key`, key, `an S3 object key of 1–${S3_KEY_MAX_BYTES} bytes that neither starts nor ends with "/"`);
  problems.check(typeof options.region === 'string' && /^[a-z0-9][a-z0-9-]*$/.test(options.region), `${field}.region`, options.region,
    'a region name of lower-case letters, digits and hyphens, e.g. "eu-central-1" (an S3-compatible server accepts what it is configured with, often "us-east-1")');
  if (options.endpoint !== undefined) {
    problems.check(isHttpUrl(options.endpoint), `${field}.endpoint`, options.endpoint, 'an http:// or https:// URL without user, password, query or fragment, e.g. "https://s3.example.internal:9000"');
  }
  for (const flag of ['usePathStyle', 'encrypt', 'skipAwsChecks'] as const) {
    problems.check(options[flag] === undefined || typeof options[flag] === 'boolean', `${field}.${flag}`, options[flag], 'true or false');
  }
  if (options.kmsKeyId !== undefined) {
    problems.check(typeof options.kmsKeyId === 'string' && /^\S+$/.test(options.kmsKeyId), `${field}.kmsKeyId`, options.kmsKeyId, 'a KMS key ARN or id');
  }
  const skipAwsChecks = options.skipAwsChecks ?? options.endpoint !== undefined;
  const attributes: Record<string, unknown> = {
    bucket: options.bucket,
    key,
    region: options.region,
    // Terraform 1.10+ locks with a `<key>.tflock` object written with a conditional PUT; no DynamoDB table.
    use_lockfile: true,
    encrypt: options.encrypt ?? true,
    ...(options.kmsKeyId !== undefined ? { kms_key_id: options.kmsKeyId } : {}),
    // `endpoints.s3`: the top-level `endpoint` is deprecated since Terraform 1.6.
    ...(options.endpoint !== undefined ? { endpoints: { s3: options.endpoint } } : {}),
    ...(options.usePathStyle ? { use_path_style: true } : {}),
    ...(skipAwsChecks ? {
      skip_credentials_validation: true,
      skip_requesting_account_id: true,
      skip_region_validation: true,
      skip_metadata_api_check: true,
      skip_s3_checksum: true,
    } : {}),
  };
  return { type: 's3', attributes, location: `s3:${options.endpoint ?? 'aws'}/${String(options.bucket)}/${String(key)}` };
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') {
    return false;
  }
  try {
    const url = new URL(value);
    return ['http:', 'https:'].includes(url.protocol) && url.username === '' && url.password === '' && url.search === '' && url.hash === '' && !/\s/.test(value);
  } catch {
    return false;
  }
}

/** Each app's state locations, to catch two stacks sharing one state (they would destroy each other's resources). */
const CLAIMED_LOCATIONS = new WeakMap<IConstruct, Map<string, string>>();

function claimLocation(stack: TerraformStack, resolved: ResolvedBackend, field: string): void {
  const app = stack.node.root;
  const claimed = CLAIMED_LOCATIONS.get(app) ?? new Map<string, string>();
  CLAIMED_LOCATIONS.set(app, claimed);
  const other = claimed.get(resolved.location);
  if (other !== undefined && other !== stack.node.path) {
    throw new Error(`stack ${JSON.stringify(stack.node.id)}: ${field}: ${JSON.stringify(resolved.attributes)} — a state of its own; stack ${JSON.stringify(other)} `
      + 'keeps its state there already (two stacks on one state would remove each other\'s resources)');
  }
  claimed.set(resolved.location, stack.node.path);
}

/** A remote state data source for any backend type (cross-stack references). */
class BackendRemoteState extends TerraformRemoteState {
  constructor(scope: Construct, id: string, type: string, config: DataTerraformRemoteStateConfig & Record<string, unknown>) {
    super(scope, id, type, config);
  }
}

/** A backend of Terraform's built-in `type` with exactly `attributes` (cdktf's PgBackend would require conn_str). */
class StateBackend extends TerraformBackend {
  constructor(scope: Construct, type: string, private readonly attributes: Record<string, unknown>, id = 'backend') {
    super(scope, id, type);
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    return { ...this.attributes };
  }

  protected synthesizeHclAttributes(): Record<string, unknown> {
    return { ...this.attributes };
  }

  public getRemoteStateDataSource(scope: Construct, name: string, _fromStack: string): TerraformRemoteState {
    return new BackendRemoteState(scope, name, this.name, { ...this.attributes, workspace: '${terraform.workspace}' });
  }
}

/**
 * The default local state file. It stands aside when the stack has another backend: cdktf adds its own default
 * only to a stack without any backend, and then with an absolute path of the synthesizing machine.
 */
class DefaultLocalBackend extends StateBackend {
  constructor(scope: TerraformStack, attributes: Record<string, unknown>) {
    super(scope, 'local', attributes, 'DefaultStateBackend');
  }

  /** Another backend of the stack, which then holds the state instead. */
  private get replacement(): TerraformBackend | undefined {
    return TerraformStack.of(this).node.findAll().find((c): c is TerraformBackend => TerraformBackend.isBackend(c) && c !== this);
  }

  public toTerraform(): Record<string, unknown> {
    return this.replacement ? {} : super.toTerraform();
  }

  public toHclTerraform(): Record<string, unknown> {
    return this.replacement ? {} : super.toHclTerraform();
  }

  public toMetadata(): Record<string, unknown> {
    return this.replacement ? {} : super.toMetadata();
  }

  public getRemoteStateDataSource(scope: Construct, name: string, fromStack: string): TerraformRemoteState {
    return this.replacement?.getRemoteStateDataSource(scope, name, fromStack) ?? super.getRemoteStateDataSource(scope, name, fromStack);
  }
}
