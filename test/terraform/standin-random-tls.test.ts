// The functional stand-ins of hashicorp/random 3.7.2 and hashicorp/tls 4.1.0 (tools/standin-providers/providers/
// random.js, tls.js). First their hooks called directly, the way Terraform core drives a provider (proposed new state,
// replace decided from requires_replace, re-plan with a null prior on replace); the values they make are checked by
// real tools (bcryptjs, node crypto, openssl, ssh-keygen). Then the same resources through the real terraform CLI.
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import * as bcrypt from 'bcryptjs';
import { changesByAddress, createStandinHome, StandinHome, TerraformJson, TerraformWorkdir } from '../support/terraform-cli';
import { describeWithTools } from '../support/tools';

// ---------------------------------------------------------------------------------------------------------------
// The model interface (tools/standin-providers/README.md, "The model interface").

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;
type Path = (string | number)[];
interface Diagnostic { severity: 'error' | 'warning'; summary: string; detail?: string; attribute?: Path }
interface PlanResult { planned: Obj | null; requiresReplace: Path[]; plannedPrivate: unknown; diagnostics: Diagnostic[] }
interface ApplyResult { state: Obj | null; private: unknown; diagnostics: Diagnostic[] }
interface Rule { default?: unknown; planModifiers?: { kind?: string }[]; validators?: unknown[] }
interface ResourceModel {
  plan(request: { prior: Obj | null; proposed: Obj | null; config: Obj | null; priorPrivate: unknown }): PlanResult;
  apply(request: { prior: Obj | null; planned: Obj | null; config: Obj | null; plannedPrivate: unknown }): ApplyResult;
  read(request: { state: Obj | null; private: unknown }): ApplyResult;
  upgrade(request: { version: number; state: Obj }): { state: Obj | null; diagnostics: Diagnostic[] };
  rules: Record<string, Rule>;
  hasModifyPlan: boolean;
}
interface SchemaAttribute { type: unknown; optional?: boolean; computed?: boolean; required?: boolean }
interface SchemaBlock { attributes?: Record<string, SchemaAttribute>; block_types?: Record<string, { nesting_mode: string; block: SchemaBlock }> }
interface ProviderModel {
  address: string;
  version: string;
  protocol: number;
  schema: { resource_schemas: Record<string, { version?: number; block: SchemaBlock }> };
  resources: Record<string, ResourceModel>;
  configure(config: Obj): { diagnostics: Diagnostic[] };
}

const ROOT = resolve(__dirname, '../..');
/* eslint-disable @typescript-eslint/no-require-imports */
const random: ProviderModel = require(join(ROOT, 'tools/standin-providers/providers/random'));
const tls: ProviderModel = require(join(ROOT, 'tools/standin-providers/providers/tls'));
/* eslint-enable @typescript-eslint/no-require-imports */
const SHARED = process.env.STANDIN_SHARED_DIR ?? resolve(ROOT, '../shared');
const UNKNOWN = Symbol.for('tf-standin.unknown');

// ---------------------------------------------------------------------------------------------------------------
// Terraform core's side, as far as these tests need it.

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((element, i) => equal(element, b[i]));
  if (isObject(a) && isObject(b)) return Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((key) => key in b && equal(a[key], b[key]));
  return false;
}

function valueAt(value: unknown, path: Path): unknown {
  return path.reduce<unknown>((current, step) => (current === null || current === undefined || current === UNKNOWN ? undefined : (current as Obj)[step]), value);
}

function blockOf(model: ProviderModel, type: string): SchemaBlock {
  return model.schema.resource_schemas[type].block;
}

/** A full configuration object: every attribute null and every block empty unless given (nested blocks too). */
function configOf(block: SchemaBlock, values: Obj): Obj {
  const config: Obj = {};
  for (const name of Object.keys(block.attributes ?? {})) config[name] = values[name] ?? null;
  for (const [name, nested] of Object.entries(block.block_types ?? {})) config[name] = (values[name] ?? []).map((element: Obj) => configOf(nested.block, element));
  return config;
}

/** objchange.ProposedNew: a computed attribute left null in the configuration proposes its prior value. */
function proposedNew(block: SchemaBlock, prior: Obj | null, config: Obj): Obj {
  const proposed: Obj = {};
  for (const [name, attribute] of Object.entries(block.attributes ?? {})) {
    proposed[name] = attribute.computed && config[name] === null ? (prior?.[name] ?? null) : config[name];
  }
  for (const [name, nested] of Object.entries(block.block_types ?? {})) {
    proposed[name] = (config[name] as Obj[]).map((element, i) => proposedNew(nested.block, prior?.[name]?.[i] ?? null, element));
  }
  return proposed;
}

/** AssertPlanValid's core rule: a non-computed attribute (and any configured one) is planned as configured. */
function expectPlanKeepsConfig(block: SchemaBlock, planned: Obj, config: Obj, path = ''): void {
  for (const [name, attribute] of Object.entries(block.attributes ?? {})) {
    if (!attribute.computed || config[name] !== null) expect({ [`${path}${name}`]: planned[name] }).toEqual({ [`${path}${name}`]: config[name] });
  }
  for (const [name, nested] of Object.entries(block.block_types ?? {})) {
    expect((planned[name] as Obj[]).length).toBe((config[name] as Obj[]).length);
    (config[name] as Obj[]).forEach((element, i) => expectPlanKeepsConfig(nested.block, planned[name][i], element, `${path}${name}[${i}].`));
  }
}

type Action = 'create' | 'update' | 'replace' | 'no-op';

interface Planned {
  readonly action: Action;
  /** The requires_replace paths whose value changes (Terraform's reqRep). */
  readonly replacePaths: Path[];
  /** The plan Terraform applies: for a replace, the re-plan with a null prior. */
  readonly result: PlanResult;
  readonly first: PlanResult;
  readonly config: Obj;
}

function errors(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.filter((d) => d.severity === 'error');
}

/** What terraform plan does with one resource instance: plan, decide the action, re-plan a replacement. */
function plan(model: ProviderModel, type: string, prior: Obj | null, values: Obj): Planned {
  const block = blockOf(model, type);
  const resource = model.resources[type];
  const config = configOf(block, values);
  const first = resource.plan({ prior, proposed: proposedNew(block, prior, config), config, priorPrivate: null });
  if (errors(first.diagnostics).length > 0) return { action: 'no-op', replacePaths: [], result: first, first, config };
  expectPlanKeepsConfig(block, first.planned!, config);
  if (prior === null) return { action: 'create', replacePaths: [], result: first, first, config };
  const replacePaths = first.requiresReplace.filter((path) => {
    const before = valueAt(prior, path);
    const after = valueAt(first.planned, path);
    return after === UNKNOWN || !equal(before, after);
  });
  if (replacePaths.length > 0) {
    const replan = resource.plan({ prior: null, proposed: proposedNew(block, null, config), config, priorPrivate: null });
    return { action: 'replace', replacePaths, result: replan, first, config };
  }
  return { action: equal(first.planned, prior) ? 'no-op' : 'update', replacePaths, result: first, first, config };
}

/** terraform apply of one planned change → the new state (expects no error diagnostics). */
function apply(model: ProviderModel, type: string, prior: Obj | null, planned: Planned): ApplyResult {
  expect(errors(planned.result.diagnostics)).toEqual([]);
  const result = model.resources[type].apply({
    prior: planned.action === 'replace' ? null : prior, planned: planned.result.planned, config: planned.config, plannedPrivate: null,
  });
  expect(errors(result.diagnostics)).toEqual([]);
  return result;
}

function create(model: ProviderModel, type: string, values: Obj): Obj {
  return apply(model, type, null, plan(model, type, null, values)).state!;
}

function subject(values: Obj): Obj[] {
  return [values];
}

// ---------------------------------------------------------------------------------------------------------------
// Real tools

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'standin-random-tls-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Writes `content` to a scratch file (0600: some are private keys) and returns its path. */
function scratchFile(name: string, content: string): string {
  const file = join(scratch, name);
  writeFileSync(file, content, { mode: 0o600 });
  return file;
}

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function opensslExtension(certificateFile: string, extension: string): string {
  return openssl(['x509', '-in', certificateFile, '-noout', '-ext', extension]);
}

function sshKeygen(args: string[]): string {
  return execFileSync('ssh-keygen', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

// ---------------------------------------------------------------------------------------------------------------
// The models against the providers' facts

describe('stand-in models: interface and facts', () => {
  it('serves the address, version and protocol of the real providers, and models exactly the resources the stacks use', () => {
    expect([random.address, random.version, random.protocol]).toEqual(['registry.terraform.io/hashicorp/random', '3.7.2', 5]);
    expect([tls.address, tls.version, tls.protocol]).toEqual(['registry.terraform.io/hashicorp/tls', '4.1.0', 5]);
    expect(Object.keys(random.resources).sort()).toEqual(['random_id', 'random_password', 'random_string']);
    expect(Object.keys(tls.resources).sort()).toEqual(['tls_cert_request', 'tls_locally_signed_cert', 'tls_private_key', 'tls_self_signed_cert']);
    // The schema stays whole: the server refuses the other types of it by name.
    expect(Object.keys(random.schema.resource_schemas)).toEqual(expect.arrayContaining(['random_bytes', 'random_integer', 'random_pet', 'random_shuffle', 'random_uuid']));
    expect(random.schema).toEqual(JSON.parse(readFileSync(join(SHARED, 'providers/hashicorp-random/schema.json'), 'utf8')).provider_schemas[random.address]);
    expect(tls.schema).toEqual(JSON.parse(readFileSync(join(SHARED, 'providers/hashicorp-tls/schema.json'), 'utf8')).provider_schemas[tls.address]);
  });

  // attribute-details.json: `default` is Go source text, e.g. booldefault.StaticBool(true).
  function goDefault(text: string): unknown {
    const match = /^\w+default\.Static\w+\((.*)\)$/.exec(text);
    if (!match) throw new Error(`default ${text}: not a Static* default`);
    if (match[1] === 'P224.String()') return 'P224';
    return JSON.parse(match[1]);
  }

  for (const [model, dir] of [[random, 'hashicorp-random'], [tls, 'hashicorp-tls']] as const) {
    const details = JSON.parse(readFileSync(join(SHARED, 'providers', dir, 'attribute-details.json'), 'utf8')).resource_schemas as Record<string, { attributes: Record<string, Obj> }>;
    const requiresReplace = JSON.parse(readFileSync(join(SHARED, 'providers', dir, 'requires-replace.json'), 'utf8')) as Record<string, string[]>;
    for (const type of Object.keys(model.resources)) {
      it(`${type}: defaults, replacement and UseStateForUnknown match attribute-details.json and requires-replace.json`, () => {
        const { rules, hasModifyPlan } = model.resources[type];
        const kinds = (name: string) => (rules[name]?.planModifiers ?? []).map((modifier) => modifier.kind);
        const facts = details[type].attributes;
        const names = [...new Set([...Object.keys(facts), ...Object.keys(rules)])].sort();
        const observed = names.map((name) => ({
          name,
          default: rules[name] && 'default' in rules[name] ? rules[name].default : undefined,
          replace: kinds(name).includes('requiresReplace') ? 'always'
            : kinds(name).includes('requiresReplaceIf') || (name === 'ready_for_renewal' && hasModifyPlan) ? 'conditional' : undefined,
          useStateForUnknown: kinds(name).includes('useStateForUnknown') || undefined,
        }));
        const expected = names.map((name) => ({
          name,
          default: facts[name]?.default === undefined ? undefined : goDefault(facts[name].default),
          replace: facts[name]?.requires_replace,
          useStateForUnknown: facts[name]?.use_state_for_unknown,
        }));
        expect(observed).toEqual(expected);
        expect(observed.filter((o) => o.replace).map((o) => o.name).sort()).toEqual([...requiresReplace[type]].sort());
      });
    }
  }

  it('upgrades state of the current schema version as is and refuses the versions only the real provider upgrades', () => {
    const password = create(random, 'random_password', { length: 12 });
    const upgraded = random.resources.random_password.upgrade({ version: 3, state: { ...password, written_by_a_newer_provider: 'x' } });
    expect(upgraded).toEqual({ state: password, diagnostics: [] });
    for (const [model, type, version] of [[random, 'random_password', 2], [random, 'random_string', 1], [tls, 'tls_private_key', 0]] as const) {
      const refused = model.resources[type].upgrade({ version, state: {} });
      expect(refused.state).toBeNull();
      expect(refused.diagnostics).toEqual([expect.objectContaining({
        severity: 'error', summary: `the stand-in does not emulate the state upgrade of ${type} from schema version ${version}`,
      })]);
    }
  });

  it('configures both providers without diagnostics (random has no settings; tls proxy only matters to a refused data source)', () => {
    expect(random.configure({})).toEqual({ diagnostics: [] });
    expect(tls.configure({ proxy: [] })).toEqual({ diagnostics: [] });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// random

const SPECIAL = '!@#$%&*()-_=+[]{}<>:?';
const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;

describe('random_password', () => {
  it('plans defaults and unknown results on create, then makes a password of the asked length and classes with a bcrypt hash that verifies', () => {
    const planned = plan(random, 'random_password', null, { length: 32, special: false });
    expect(planned.action).toBe('create');
    expect(planned.result.planned).toEqual({
      length: 32, special: false, upper: true, lower: true, number: true, numeric: true,
      min_lower: 0, min_numeric: 0, min_special: 0, min_upper: 0, keepers: null, override_special: null,
      result: UNKNOWN, bcrypt_hash: UNKNOWN, id: UNKNOWN,
    });
    const state = apply(random, 'random_password', null, planned).state!;
    expect(state.id).toBe('none');
    expect(state.result).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(state.bcrypt_hash).toMatch(/^\$2a\$10\$/); // Go's bcrypt: version 2a, DefaultCost 10
    expect(bcrypt.compareSync(state.result, state.bcrypt_hash)).toBe(true);
    expect(bcrypt.compareSync(`${state.result}x`, state.bcrypt_hash)).toBe(false);
  });

  it('honours the minimum counts and override_special', () => {
    const state = create(random, 'random_password', { length: 20, min_upper: 5, min_lower: 5, min_numeric: 5, min_special: 5, override_special: '#%' });
    expect(state.result).toHaveLength(20);
    expect(count(state.result, /[A-Z]/g)).toBeGreaterThanOrEqual(5);
    expect(count(state.result, /[a-z]/g)).toBeGreaterThanOrEqual(5);
    expect(count(state.result, /[0-9]/g)).toBeGreaterThanOrEqual(5);
    expect(count(state.result, /[#%]/g)).toBeGreaterThanOrEqual(5);
    expect(state.result).toMatch(/^[A-Za-z0-9#%]+$/);
  });

  it('hashes only the first 72 bytes of a longer password, as the provider does', () => {
    const state = create(random, 'random_password', { length: 80 });
    expect(state.result).toHaveLength(80);
    expect([...state.result].every((c) => SPECIAL.includes(c) || /[A-Za-z0-9]/.test(c))).toBe(true);
    expect(bcrypt.compareSync(state.result.slice(0, 72), state.bcrypt_hash)).toBe(true);
  });

  it('plans no change for the same configuration, replaces on a length change and keeps the old result until then', () => {
    const state = create(random, 'random_password', { length: 24, special: false });
    expect(plan(random, 'random_password', state, { length: 24, special: false }).action).toBe('no-op');
    // Leaving a defaulted attribute out is the same as its default.
    expect(plan(random, 'random_password', state, { length: 24, special: false, upper: true }).action).toBe('no-op');
    const changed = plan(random, 'random_password', state, { length: 30, special: false });
    expect(changed.action).toBe('replace');
    expect(changed.replacePaths).toEqual([['length']]);
    expect(changed.first.planned!.result).toBe(state.result); // UseStateForUnknown before Terraform re-plans the replacement
    expect(changed.result.planned!.result).toBe(UNKNOWN);
    const replaced = apply(random, 'random_password', state, changed).state!;
    expect(replaced.result).toHaveLength(30);
    expect(plan(random, 'random_password', state, { length: 24, special: true }).replacePaths).toEqual([['special']]);
  });

  it('keepers: a changed or removed value replaces, a key only added with a null value does not (RequiresReplaceIfValuesNotNull)', () => {
    const state = create(random, 'random_password', { length: 8, keepers: { image: 'a' } });
    expect(plan(random, 'random_password', state, { length: 8, keepers: { image: 'a' } }).action).toBe('no-op');
    expect(plan(random, 'random_password', state, { length: 8, keepers: { image: 'b' } }).replacePaths).toEqual([['keepers']]);
    expect(plan(random, 'random_password', state, { length: 8, keepers: {} }).action).toBe('replace');
    const nullAdded = plan(random, 'random_password', state, { length: 8, keepers: { image: 'a', later: null } });
    expect(nullAdded.action).toBe('update');
    expect(nullAdded.result.planned!.result).toBe(state.result);
    expect(apply(random, 'random_password', state, nullAdded).state!.keepers).toEqual({ image: 'a', later: null });
  });

  it('override_special: "" → null is an update in place, any other change replaces (RequiresReplaceUnlessEmptyStringToNull)', () => {
    const state = create(random, 'random_password', { length: 8, override_special: '' });
    const toNull = plan(random, 'random_password', state, { length: 8 });
    expect(toNull.action).toBe('update');
    expect(toNull.result.planned!.result).toBe(state.result);
    expect(plan(random, 'random_password', state, { length: 8, override_special: '!' }).replacePaths).toEqual([['override_special']]);
  });

  it('number/numeric follow each other; both set differently is the provider\'s error', () => {
    expect(plan(random, 'random_password', null, { length: 8, number: false }).result.planned).toMatchObject({ number: false, numeric: false });
    expect(plan(random, 'random_password', null, { length: 8, numeric: false }).result.planned).toMatchObject({ number: false, numeric: false });
    expect(errors(plan(random, 'random_password', null, { length: 8, number: true, numeric: false }).result.diagnostics))
      .toEqual(expect.arrayContaining([expect.objectContaining({ summary: 'Number and numeric are both configured with different values' })]));
  });

  it('rejects a configuration the provider rejects, naming the attribute, the value and what is expected', () => {
    const diagnosticsOf = (values: Obj) => errors(plan(random, 'random_password', null, values).result.diagnostics);
    expect(diagnosticsOf({ length: 0 })).toEqual([expect.objectContaining({
      summary: 'Invalid Attribute Value', detail: 'Attribute length value must be at least 1, got: 0', attribute: ['length'],
    })]);
    expect(diagnosticsOf({ length: 3, min_upper: 2, min_lower: 2 })).toEqual([expect.objectContaining({
      detail: 'Attribute length value must be at least sum of min_upper + min_lower + min_numeric + min_special, got: 3',
    })]);
    expect(diagnosticsOf({ length: 8, numeric: false, special: false, upper: false, lower: false })).toEqual([expect.objectContaining({
      summary: 'Invalid Attribute Combination', detail: 'At least one attribute out of [special,upper,lower,numeric] must be specified as true', attribute: ['numeric'],
    })]);
    expect(diagnosticsOf({ length: 8, result: 'chosen' })).toEqual([expect.objectContaining({ summary: 'Invalid Configuration for Read-Only Attribute', attribute: ['result'] })]);
    expect(diagnosticsOf({ length: 8.5 })).toEqual([expect.objectContaining({ attribute: ['length'], detail: expect.stringContaining('whole number') })]);
  });

  it('plans an unknown length as such and validates nothing it cannot know yet', () => {
    const planned = plan(random, 'random_password', null, { length: UNKNOWN, min_upper: 3 });
    expect(errors(planned.result.diagnostics)).toEqual([]);
    expect(planned.result.planned).toMatchObject({ length: UNKNOWN, result: UNKNOWN });
  });
});

describe('random_string', () => {
  it('makes a string of the asked classes whose id is the result (the kubeadm bootstrap token shape)', () => {
    const state = create(random, 'random_string', { length: 16, upper: false, special: false });
    expect(state.result).toMatch(/^[a-z0-9]{16}$/);
    expect(state.id).toBe(state.result);
    expect(state).not.toHaveProperty('bcrypt_hash');
    expect(plan(random, 'random_string', state, { length: 16, upper: false, special: false }).action).toBe('no-op');
    expect(plan(random, 'random_string', state, { length: 16, upper: true, special: false }).replacePaths).toEqual([['upper']]);
  });

  it('rejects a configuration that switches every character class off (AtLeastOneOfTrue on number and numeric)', () => {
    const planned = plan(random, 'random_string', null, { length: 4, upper: false, lower: false, numeric: false, special: false });
    expect(errors(planned.result.diagnostics)).toEqual([expect.objectContaining({ summary: 'Invalid Attribute Combination', attribute: ['numeric'] })]);
  });
});

describe('random_id', () => {
  it('encodes byte_length random bytes consistently as base64url, base64, hex and decimal, each after the prefix', () => {
    const state = create(random, 'random_id', { byte_length: 32, prefix: 'k-' });
    const bytes = Buffer.from(state.hex.slice(2), 'hex');
    expect(bytes).toHaveLength(32);
    expect(state.id).toBe(bytes.toString('base64url'));
    expect(state.b64_url).toBe(`k-${bytes.toString('base64url')}`);
    expect(state.b64_std).toBe(`k-${bytes.toString('base64')}`);
    expect(state.dec).toBe(`k-${BigInt(`0x${bytes.toString('hex')}`).toString(10)}`);
    expect(state.hex).toMatch(/^k-[0-9a-f]{64}$/);
  });

  it('keeps its value without change, replaces on byte_length or prefix, and rejects a computed attribute set in configuration', () => {
    const state = create(random, 'random_id', { byte_length: 8 });
    expect(state.b64_url).not.toMatch(/=/); // RawURLEncoding: no padding
    expect(plan(random, 'random_id', state, { byte_length: 8 }).action).toBe('no-op');
    expect(plan(random, 'random_id', state, { byte_length: 9 }).replacePaths).toEqual([['byte_length']]);
    expect(plan(random, 'random_id', state, { byte_length: 8, prefix: 'x' }).replacePaths).toEqual([['prefix']]);
    expect(errors(plan(random, 'random_id', null, { byte_length: 8, hex: 'ff' }).result.diagnostics)).toEqual([
      expect.objectContaining({ summary: 'Invalid Configuration for Read-Only Attribute', attribute: ['hex'] }),
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// tls

const CA_USES = ['cert_signing', 'crl_signing', 'digital_signature'];
const SERVER_USES = ['digital_signature', 'key_encipherment', 'server_auth', 'client_auth'];

/** A Buffer as the plain Uint8Array the crypto typings of this TypeScript/@types/node pair accept. */
function bytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer);
}

function sha1Hex(data: Buffer): string {
  return crypto.createHash('sha1').update(bytes(data)).digest('hex');
}

/** The DER inside a one-block PEM. */
function derOf(pem: string): Buffer {
  return Buffer.from(pem.split('\n').filter((line) => line !== '' && !line.startsWith('-----')).join(''), 'base64');
}

/**
 * The provider's id hash (common.go hashForState: SHA-1 after strings.TrimSpace), with ASCII white space trimmed
 * at the end: a DER that ends in a multi-byte Unicode space (about 1 in 30 000) is the TrimSpace test's business.
 */
function idHash(der: Buffer): string {
  let end = der.length;
  while (end > 0 && [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20].includes(der[end - 1])) end -= 1;
  return sha1Hex(der.subarray(0, end));
}

describe('tls_private_key: plan', () => {
  it('plans the defaults (rsa_bits 2048, ecdsa_curve P224) and unknown key material on create', () => {
    expect(plan(tls, 'tls_private_key', null, { algorithm: 'ED25519' }).result.planned).toEqual({
      algorithm: 'ED25519', rsa_bits: 2048, ecdsa_curve: 'P224',
      private_key_pem: UNKNOWN, private_key_openssh: UNKNOWN, private_key_pem_pkcs8: UNKNOWN, public_key_pem: UNKNOWN,
      public_key_openssh: UNKNOWN, public_key_fingerprint_md5: UNKNOWN, public_key_fingerprint_sha256: UNKNOWN, id: UNKNOWN,
    });
  });

  it('keeps a key without change and replaces it on any argument change', () => {
    const key = create(tls, 'tls_private_key', { algorithm: 'ECDSA', ecdsa_curve: 'P256' });
    expect(plan(tls, 'tls_private_key', key, { algorithm: 'ECDSA', ecdsa_curve: 'P256' }).action).toBe('no-op');
    expect(plan(tls, 'tls_private_key', key, { algorithm: 'ECDSA', ecdsa_curve: 'P384' }).replacePaths).toEqual([['ecdsa_curve']]);
    // ecdsa_curve left out goes back to its default P224, itself a change.
    expect(plan(tls, 'tls_private_key', key, { algorithm: 'RSA' }).replacePaths).toEqual([['algorithm'], ['ecdsa_curve']]);
    expect(plan(tls, 'tls_private_key', key, { algorithm: 'RSA', ecdsa_curve: 'P256' }).replacePaths).toEqual([['algorithm']]);
  });

  it('rejects an algorithm or curve outside the provider\'s lists', () => {
    expect(errors(plan(tls, 'tls_private_key', null, { algorithm: 'DSA' }).result.diagnostics)).toEqual([expect.objectContaining({
      summary: 'Invalid Attribute Value Match', detail: 'Attribute algorithm value must be one of: ["RSA" "ECDSA" "ED25519"], got: "DSA"',
    })]);
    expect(errors(plan(tls, 'tls_private_key', null, { algorithm: 'ECDSA', ecdsa_curve: 'P192' }).result.diagnostics)[0].attribute).toEqual(['ecdsa_curve']);
  });
});

describeWithTools(['ssh-keygen'], 'tls_private_key: keys checked with node crypto and ssh-keygen', () => {
  const cases: [string, Obj, Obj][] = [
    ['RSA 2048', { algorithm: 'RSA' }, { asymmetricKeyType: 'rsa', details: { modulusLength: 2048 }, pem: 'RSA PRIVATE KEY', ssh: 'ssh-rsa' }],
    ['RSA 3072', { algorithm: 'RSA', rsa_bits: 3072 }, { asymmetricKeyType: 'rsa', details: { modulusLength: 3072 }, pem: 'RSA PRIVATE KEY', ssh: 'ssh-rsa' }],
    ['ECDSA P256', { algorithm: 'ECDSA', ecdsa_curve: 'P256' }, { asymmetricKeyType: 'ec', details: { namedCurve: 'prime256v1' }, pem: 'EC PRIVATE KEY', ssh: 'ecdsa-sha2-nistp256' }],
    ['ECDSA P384', { algorithm: 'ECDSA', ecdsa_curve: 'P384' }, { asymmetricKeyType: 'ec', details: { namedCurve: 'secp384r1' }, pem: 'EC PRIVATE KEY', ssh: 'ecdsa-sha2-nistp384' }],
    ['ECDSA P521', { algorithm: 'ECDSA', ecdsa_curve: 'P521' }, { asymmetricKeyType: 'ec', details: { namedCurve: 'secp521r1' }, pem: 'EC PRIVATE KEY', ssh: 'ecdsa-sha2-nistp521' }],
    ['ED25519', { algorithm: 'ED25519' }, { asymmetricKeyType: 'ed25519', details: {}, pem: 'PRIVATE KEY', ssh: 'ssh-ed25519' }],
  ];
  it.each(cases)('%s: every form holds the same key; OpenSSH forms and fingerprints agree with ssh-keygen', (name, values, expected) => {
    const key = create(tls, 'tls_private_key', values);
    expect(key.private_key_pem).toMatch(new RegExp(`^-----BEGIN ${expected.pem}-----\\n([A-Za-z0-9+/=]{64}\\n)*[A-Za-z0-9+/=]{1,64}\\n-----END ${expected.pem}-----\\n$`));
    const privateKey = crypto.createPrivateKey(key.private_key_pem);
    expect(privateKey.asymmetricKeyType).toBe(expected.asymmetricKeyType);
    expect(privateKey.asymmetricKeyDetails).toMatchObject(expected.details);
    const spki = crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    expect(crypto.createPublicKey(key.private_key_pem_pkcs8).export({ type: 'spki', format: 'der' })).toEqual(spki);
    expect(key.private_key_pem_pkcs8).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(crypto.createPublicKey(key.public_key_pem).export({ type: 'spki', format: 'der' })).toEqual(spki);
    expect(key.id).toBe(idHash(spki));
    // A signature made with the PEM key verifies with the public key PEM.
    const message = new TextEncoder().encode('stand-in');
    const signature = crypto.sign(expected.asymmetricKeyType === 'ed25519' ? null : 'sha256', message, privateKey);
    expect(crypto.verify(expected.asymmetricKeyType === 'ed25519' ? null : 'sha256', message, key.public_key_pem, bytes(signature))).toBe(true);

    expect(key.public_key_openssh).toMatch(new RegExp(`^${expected.ssh} [A-Za-z0-9+/]+=*\\n$`));
    const privateFile = scratchFile(`${name.replace(/\W/g, '')}-id`, key.private_key_openssh);
    const publicFile = scratchFile(`${name.replace(/\W/g, '')}-id.pub`, key.public_key_openssh);
    expect(`${sshKeygen(['-y', '-f', privateFile]).trim()}\n`).toBe(key.public_key_openssh);
    expect(sshKeygen(['-l', '-E', 'sha256', '-f', publicFile]).split(' ')[1]).toBe(key.public_key_fingerprint_sha256);
    expect(sshKeygen(['-l', '-E', 'md5', '-f', publicFile]).split(' ')[1]).toBe(`MD5:${key.public_key_fingerprint_md5}`);
  });

  it('ECDSA P224 (the default curve): PEM forms, but no OpenSSH forms or fingerprints, as x/crypto/ssh has no P-224', () => {
    const key = create(tls, 'tls_private_key', { algorithm: 'ECDSA' });
    expect(crypto.createPrivateKey(key.private_key_pem).asymmetricKeyDetails).toEqual({ namedCurve: 'secp224r1' });
    expect([key.private_key_openssh, key.public_key_openssh, key.public_key_fingerprint_md5, key.public_key_fingerprint_sha256]).toEqual(['', '', '', '']);
  });
});

describe('tls: the id hash trims white space at the ends like Go\'s strings.TrimSpace', () => {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { hashForState } = require(join(ROOT, 'tools/standin-providers/providers/tls/common')) as { hashForState: (data: Uint8Array) => string };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const hex = (text: string) => Buffer.from(text, 'hex');
  it('drops trailing ASCII and multi-byte spaces but not lone high bytes', () => {
    const body = '30030102';
    expect(hashForState(bytes(hex(`${body}200a`)))).toBe(sha1Hex(hex(body)));
    expect(hashForState(bytes(hex(`${body}c2a0`)))).toBe(sha1Hex(hex(body))); // U+00A0 in UTF-8
    expect(hashForState(bytes(hex(`${body}a0`)))).toBe(sha1Hex(hex(`${body}a0`))); // not UTF-8: kept
    expect(hashForState(bytes(hex(`${body}e38080`)))).toBe(sha1Hex(hex(body))); // U+3000
    expect(hashForState(new Uint8Array(0))).toBe('');
  });
});

describe('tls certificates: plan rules', () => {
  const caKey = () => create(tls, 'tls_private_key', { algorithm: 'ECDSA', ecdsa_curve: 'P256' });
  const caValues = (key: Obj, extra: Obj = {}) => ({
    private_key_pem: key.private_key_pem, subject: subject({ common_name: 'plan rules CA' }), is_ca_certificate: true,
    validity_period_hours: 24, allowed_uses: CA_USES, ...extra,
  });

  it('plans defaults and unknown computed values on create; the same configuration later plans nothing', () => {
    const key = caKey();
    const planned = plan(tls, 'tls_self_signed_cert', null, caValues(key));
    expect(planned.result.planned).toMatchObject({
      early_renewal_hours: 0, set_subject_key_id: false, set_authority_key_id: false, ready_for_renewal: false,
      cert_pem: UNKNOWN, id: UNKNOWN, key_algorithm: UNKNOWN, validity_start_time: UNKNOWN, validity_end_time: UNKNOWN,
    });
    const ca = apply(tls, 'tls_self_signed_cert', null, planned).state!;
    expect(plan(tls, 'tls_self_signed_cert', ca, caValues(key)).action).toBe('no-op');
  });

  it('early_renewal_hours changes in place; validity, uses and subject replace', () => {
    const key = caKey();
    const ca = create(tls, 'tls_self_signed_cert', caValues(key));
    const earlier = plan(tls, 'tls_self_signed_cert', ca, caValues(key, { early_renewal_hours: 2 }));
    expect(earlier.action).toBe('update');
    expect(earlier.result.planned).toMatchObject({ cert_pem: ca.cert_pem, id: ca.id, validity_end_time: ca.validity_end_time, early_renewal_hours: 2 });
    expect(apply(tls, 'tls_self_signed_cert', ca, earlier).state).toEqual({ ...ca, early_renewal_hours: 2 });
    expect(plan(tls, 'tls_self_signed_cert', ca, caValues(key, { validity_period_hours: 48 })).replacePaths).toEqual([['validity_period_hours']]);
    expect(plan(tls, 'tls_self_signed_cert', ca, caValues(key, { allowed_uses: ['cert_signing'] })).replacePaths).toEqual([['allowed_uses']]);
    expect(plan(tls, 'tls_self_signed_cert', ca, caValues(key, { subject: subject({ common_name: 'other' }) })).replacePaths)
      .toEqual([['subject'], ['subject', 0, 'common_name']]);
  });

  it('a new private key replaces the certificate (the prior value is a PEM); a prior non-PEM value changes in place', () => {
    const key = caKey();
    const ca = create(tls, 'tls_self_signed_cert', caValues(key));
    const rekeyed = plan(tls, 'tls_self_signed_cert', ca, caValues(key, { private_key_pem: UNKNOWN }));
    expect(rekeyed.replacePaths).toEqual([['private_key_pem']]);
    const legacy = { ...ca, private_key_pem: 'not a PEM' };
    const fromLegacy = plan(tls, 'tls_self_signed_cert', legacy, caValues(key));
    expect(fromLegacy.action).toBe('update');
    expect(fromLegacy.first.requiresReplace).toEqual([]);
  });

  it('ready_for_renewal: refresh marks a due certificate, and the next plan replaces it (ModifyPlan)', () => {
    const key = caKey();
    const ca = create(tls, 'tls_self_signed_cert', caValues(key));
    const model = tls.resources.tls_self_signed_cert;
    expect(model.read({ state: ca, private: null }).state).toEqual(ca); // not due: a day of validity, no early renewal
    const expired = { ...ca, validity_end_time: new Date(Date.now() - 60_000).toISOString() };
    const refreshed = model.read({ state: expired, private: null }).state!;
    expect(refreshed.ready_for_renewal).toBe(true);
    const renewal = plan(tls, 'tls_self_signed_cert', refreshed, caValues(key));
    expect(renewal.first.planned!.ready_for_renewal).toBe(UNKNOWN);
    expect(renewal.replacePaths).toEqual([['ready_for_renewal']]);
    const renewed = apply(tls, 'tls_self_signed_cert', refreshed, renewal).state!;
    expect(renewed.ready_for_renewal).toBe(false);
    expect(renewed.id).not.toBe(ca.id);
  });

  it('early_renewal_hours: due once now ≥ end − early_renewal_hours, not before', () => {
    const key = caKey();
    const ca = create(tls, 'tls_self_signed_cert', caValues(key, { early_renewal_hours: 1 }));
    const endingIn = (minutes: number) => ({ ...ca, validity_end_time: new Date(Date.now() + minutes * 60_000).toISOString() });
    expect(plan(tls, 'tls_self_signed_cert', endingIn(90), caValues(key, { early_renewal_hours: 1 })).action).toBe('no-op');
    expect(plan(tls, 'tls_self_signed_cert', endingIn(30), caValues(key, { early_renewal_hours: 1 })).replacePaths).toEqual([['ready_for_renewal']]);
    expect(tls.resources.tls_self_signed_cert.read({ state: endingIn(30), private: null }).state!.ready_for_renewal).toBe(true);
  });

  it('ready_for_renewal is planned true when validity_period_hours is 0 or early_renewal_hours ≥ validity_period_hours', () => {
    const key = caKey();
    expect(plan(tls, 'tls_self_signed_cert', null, caValues(key, { validity_period_hours: 0 })).result.planned!.ready_for_renewal).toBe(true);
    expect(plan(tls, 'tls_self_signed_cert', null, caValues(key, { validity_period_hours: 5, early_renewal_hours: 5 })).result.planned!.ready_for_renewal).toBe(true);
    expect(plan(tls, 'tls_self_signed_cert', null, caValues(key, { validity_period_hours: 5, early_renewal_hours: 4 })).result.planned!.ready_for_renewal).toBe(false);
    const alwaysDue = create(tls, 'tls_self_signed_cert', caValues(key, { validity_period_hours: 5, early_renewal_hours: 5 }));
    expect(alwaysDue.ready_for_renewal).toBe(true);
    expect(plan(tls, 'tls_self_signed_cert', alwaysDue, caValues(key, { validity_period_hours: 5, early_renewal_hours: 5 })).action).toBe('replace');
  });

  it('rejects what the provider rejects: two subject blocks, unknown key usages, negative hours, an empty IP address', () => {
    const key = caKey();
    const diagnosticsOf = (extra: Obj) => errors(plan(tls, 'tls_self_signed_cert', null, caValues(key, extra)).result.diagnostics);
    expect(diagnosticsOf({ subject: [{ common_name: 'a' }, { common_name: 'b' }] })).toEqual([expect.objectContaining({
      detail: 'Attribute subject list must contain at least 0 elements and at most 1 elements, got: 2', attribute: ['subject'],
    })]);
    expect(diagnosticsOf({ allowed_uses: ['cert_signing', 'world_domination'] })).toEqual([expect.objectContaining({
      summary: 'Invalid Attribute Value Match', attribute: ['allowed_uses', 1], detail: expect.stringContaining('got: "world_domination"'),
    })]);
    expect(diagnosticsOf({ validity_period_hours: -1 })[0]).toMatchObject({ detail: 'Attribute validity_period_hours value must be at least 0, got: -1' });
    expect(diagnosticsOf({ ip_addresses: [''] })[0]).toMatchObject({ summary: 'Invalid Attribute Value Length', attribute: ['ip_addresses', 0] });
  });
});

describeWithTools(['openssl'], 'tls certificates checked with openssl', () => {
  const dayMs = 24 * 3600_000;

  interface Pki { caKey: Obj; ca: Obj; serverKey: Obj; request: Obj; certificate: Obj; caFile: string; certificateFile: string }

  function pki(algorithm: Obj, caExtra: Obj = {}): Pki {
    const caKey = create(tls, 'tls_private_key', algorithm);
    const ca = create(tls, 'tls_self_signed_cert', {
      private_key_pem: caKey.private_key_pem, subject: subject({ common_name: 'lab k3s datastore CA', organization: 'Lab & Co' }),
      is_ca_certificate: true, set_subject_key_id: true, validity_period_hours: 87_600, allowed_uses: CA_USES, ...caExtra,
    });
    const serverKey = create(tls, 'tls_private_key', { algorithm: 'ECDSA', ecdsa_curve: 'P256' });
    const request = create(tls, 'tls_cert_request', {
      private_key_pem: serverKey.private_key_pem, subject: subject({ common_name: 'db1.lab.example', email_address: 'ops@lab.example' }),
      dns_names: ['db1.lab.example', 'db.lab.example'], ip_addresses: ['192.0.2.11', '::ffff:192.0.2.12', '2001:db8::1'],
    });
    const certificate = create(tls, 'tls_locally_signed_cert', {
      cert_request_pem: request.cert_request_pem, ca_private_key_pem: caKey.private_key_pem, ca_cert_pem: ca.cert_pem,
      validity_period_hours: 8760, allowed_uses: SERVER_USES,
    });
    const tag = `${algorithm.algorithm}${algorithm.ecdsa_curve ?? ''}${Object.keys(caExtra).join('')}`;
    return { caKey, ca, serverKey, request, certificate, caFile: scratchFile(`${tag}-ca.pem`, ca.cert_pem), certificateFile: scratchFile(`${tag}-server.pem`, certificate.cert_pem) };
  }

  const algorithms: Obj[] = [
    { algorithm: 'RSA' }, { algorithm: 'ECDSA', ecdsa_curve: 'P224' }, { algorithm: 'ECDSA', ecdsa_curve: 'P256' },
    { algorithm: 'ECDSA', ecdsa_curve: 'P384' }, { algorithm: 'ECDSA', ecdsa_curve: 'P521' }, { algorithm: 'ED25519' },
  ];

  it.each(algorithms.map((a) => [`${a.algorithm} ${a.ecdsa_curve ?? ''}`.trim(), a]))('%s CA: the self-signed CA and the locally signed certificate verify with openssl', (_, algorithm) => {
    const { ca, certificate, caFile, certificateFile, caKey } = pki(algorithm as Obj);
    expect(openssl(['verify', '-CAfile', caFile, caFile]).trim()).toBe(`${caFile}: OK`);
    expect(openssl(['verify', '-CAfile', caFile, '-purpose', 'sslserver', certificateFile]).trim()).toBe(`${certificateFile}: OK`);
    expect(openssl(['verify', '-CAfile', caFile, '-purpose', 'sslclient', certificateFile]).trim()).toBe(`${certificateFile}: OK`);
    expect(ca.key_algorithm).toBe((algorithm as Obj).algorithm);
    expect(certificate.ca_key_algorithm).toBe((algorithm as Obj).algorithm);
    // The CA's key is the certificate's key.
    const caCertificate = new crypto.X509Certificate(ca.cert_pem);
    expect(caCertificate.publicKey.export({ type: 'spki', format: 'der' })).toEqual(crypto.createPublicKey(caKey.private_key_pem).export({ type: 'spki', format: 'der' }));
  });

  it('the CA certificate has the requested subject, key usages, CA flag, key identifier and validity', () => {
    const { ca, caFile } = pki({ algorithm: 'RSA' });
    const certificate = new crypto.X509Certificate(ca.cert_pem);
    expect(certificate.subject.split('\n')).toEqual(['O=Lab & Co', 'CN=lab k3s datastore CA']); // Go's pkix order: O before CN
    expect(certificate.issuer).toBe(certificate.subject);
    expect(certificate.ca).toBe(true);
    expect(opensslExtension(caFile, 'keyUsage')).toMatch(/Key Usage: critical\n\s+Digital Signature, Certificate Sign, CRL Sign\n/);
    expect(opensslExtension(caFile, 'basicConstraints')).toMatch(/Basic Constraints: critical\n\s+CA:TRUE\n/);
    // set_subject_key_id: SHA-1 of the PKCS#1 public key (common_cert.go generateSubjectKeyID).
    const pkcs1 = certificate.publicKey.export({ type: 'pkcs1', format: 'der' });
    expect(opensslExtension(caFile, 'subjectKeyIdentifier')).toContain(sha1Hex(pkcs1).toUpperCase().match(/../g)!.join(':'));
    expect(BigInt(`0x${certificate.serialNumber}`).toString(10)).toBe(ca.id);
    const start = Date.parse(ca.validity_start_time);
    expect(Date.parse(ca.validity_end_time) - start).toBe(87_600 * 3600_000);
    expect(Math.abs(Date.now() - start)).toBeLessThan(60_000);
    expect(Date.parse(certificate.validFrom)).toBe(Math.floor(start / 1000) * 1000);
    expect(Date.parse(certificate.validTo)).toBe(Math.floor(Date.parse(ca.validity_end_time) / 1000) * 1000);
    expect(ca.validity_start_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/); // RFC 3339 as Go's MarshalText
  });

  it('the certificate request verifies and carries the subject and alternative names; the locally signed certificate takes them', () => {
    const { request, certificate, certificateFile, ca, serverKey } = pki({ algorithm: 'ECDSA', ecdsa_curve: 'P256' });
    const requestFile = scratchFile('server.csr', request.cert_request_pem);
    expect(openssl(['req', '-in', requestFile, '-noout', '-verify'])).toBe('');
    const requestText = openssl(['req', '-in', requestFile, '-noout', '-text']);
    expect(requestText).toMatch(/Subject: CN = db1.lab.example, emailAddress = ops@lab.example\n/);
    expect(requestText).toContain('DNS:db1.lab.example, DNS:db.lab.example, IP Address:192.0.2.11, IP Address:192.0.2.12, IP Address:2001:DB8:0:0:0:0:0:1');
    expect(request.key_algorithm).toBe('ECDSA');
    expect(request.id).toBe(idHash(derOf(request.cert_request_pem)));

    const x509 = new crypto.X509Certificate(certificate.cert_pem);
    // The request's email address is not kept: Go's pkix.Name only re-encodes the attributes it knows.
    expect(x509.subject).toBe('CN=db1.lab.example');
    expect(x509.subjectAltName).toBe('DNS:db1.lab.example, DNS:db.lab.example, IP Address:192.0.2.11, IP Address:192.0.2.12, IP Address:2001:DB8:0:0:0:0:0:1');
    expect(x509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']); // server_auth, client_auth in order
    expect(x509.ca).toBe(false);
    expect(x509.checkIssued(new crypto.X509Certificate(ca.cert_pem))).toBe(true);
    expect(x509.publicKey.export({ type: 'spki', format: 'der' })).toEqual(crypto.createPublicKey(serverKey.private_key_pem).export({ type: 'spki', format: 'der' }));
    expect(opensslExtension(certificateFile, 'keyUsage')).toMatch(/critical\n\s+Digital Signature, Key Encipherment\n/);
    // The authority key identifier is the CA's subject key identifier.
    const caKeyId = opensslExtension(scratchFile('p256-ca.pem', ca.cert_pem), 'subjectKeyIdentifier').split('\n')[1].trim();
    expect(opensslExtension(certificateFile, 'authorityKeyIdentifier')).toContain(caKeyId);
    expect(Date.parse(certificate.validity_end_time) - Date.parse(certificate.validity_start_time)).toBe(8760 * 3600_000);
    expect(Date.parse(certificate.validity_end_time)).toBeGreaterThan(Date.now() + 364 * dayMs);
  });

  it('set_authority_key_id on a self-signed certificate copies its own key identifier; without one it is the provider\'s error', () => {
    const key = create(tls, 'tls_private_key', { algorithm: 'ED25519' });
    const values = { private_key_pem: key.private_key_pem, subject: subject({ common_name: 'self' }), validity_period_hours: 1, allowed_uses: ['digital_signature'], set_authority_key_id: true };
    const withKeyId = create(tls, 'tls_self_signed_cert', { ...values, set_subject_key_id: true });
    const file = scratchFile('ed-self.pem', withKeyId.cert_pem);
    const keyId = opensslExtension(file, 'subjectKeyIdentifier').split('\n')[1].trim();
    expect(opensslExtension(file, 'authorityKeyIdentifier')).toContain(keyId);
    const planned = plan(tls, 'tls_self_signed_cert', null, values);
    const failed = tls.resources.tls_self_signed_cert.apply({ prior: null, planned: planned.result.planned, config: planned.config, plannedPrivate: null });
    expect(failed.state).toBeNull();
    expect(failed.diagnostics).toEqual([expect.objectContaining({ summary: 'Invalid Certificate Authority', detail: 'Could not determine Authority Key Identifier' })]);
  });

  it('a server certificate without a subject gets DNS names and a critical SAN; a CA without a subject is refused', () => {
    const key = create(tls, 'tls_private_key', { algorithm: 'ECDSA', ecdsa_curve: 'P256' });
    const bare = create(tls, 'tls_self_signed_cert', { private_key_pem: key.private_key_pem, dns_names: ['only.example'], validity_period_hours: 1, allowed_uses: ['server_auth'] });
    expect(opensslExtension(scratchFile('bare.pem', bare.cert_pem), 'subjectAltName')).toMatch(/Subject Alternative Name: critical\n\s+DNS:only.example\n/);
    const planned = plan(tls, 'tls_self_signed_cert', null, { private_key_pem: key.private_key_pem, is_ca_certificate: true, validity_period_hours: 1, allowed_uses: CA_USES });
    const refused = tls.resources.tls_self_signed_cert.apply({ prior: null, planned: planned.result.planned, config: planned.config, plannedPrivate: null });
    expect(refused.diagnostics).toEqual([expect.objectContaining({ summary: 'Invalid Certificate Subject' })]);
  });

  it('a CA key that does not match the CA certificate fails like Go\'s x509; a non-CA issuer certificate only warns', () => {
    const { ca, request } = pki({ algorithm: 'ECDSA', ecdsa_curve: 'P256' });
    const strangerKey = create(tls, 'tls_private_key', { algorithm: 'ECDSA', ecdsa_curve: 'P256' });
    const values = { cert_request_pem: request.cert_request_pem, ca_private_key_pem: strangerKey.private_key_pem, ca_cert_pem: ca.cert_pem, validity_period_hours: 1, allowed_uses: SERVER_USES };
    const planned = plan(tls, 'tls_locally_signed_cert', null, values);
    const failed = tls.resources.tls_locally_signed_cert.apply({ prior: null, planned: planned.result.planned, config: planned.config, plannedPrivate: null });
    expect(failed.diagnostics).toEqual([expect.objectContaining({ summary: 'Failed to create certificate', detail: "x509: provided PrivateKey doesn't match parent's PublicKey" })]);

    const leafKey = create(tls, 'tls_private_key', { algorithm: 'ECDSA', ecdsa_curve: 'P256' });
    const leaf = create(tls, 'tls_self_signed_cert', { private_key_pem: leafKey.private_key_pem, subject: subject({ common_name: 'not a CA' }), validity_period_hours: 1, allowed_uses: ['server_auth'] });
    const underLeaf = plan(tls, 'tls_locally_signed_cert', null, { ...values, ca_private_key_pem: leafKey.private_key_pem, ca_cert_pem: leaf.cert_pem });
    const warned = tls.resources.tls_locally_signed_cert.apply({ prior: null, planned: underLeaf.result.planned, config: underLeaf.config, plannedPrivate: null });
    expect(warned.diagnostics).toEqual([expect.objectContaining({ severity: 'warning', summary: 'Potentially Invalid Certificate Authority' })]);
    expect(warned.state!.cert_pem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
  });

  it('the locally signed certificate is replaced when the request changes, and updated in place for early_renewal_hours', () => {
    const { certificate, request, ca, caKey } = pki({ algorithm: 'ECDSA', ecdsa_curve: 'P256' });
    const values = { cert_request_pem: request.cert_request_pem, ca_private_key_pem: caKey.private_key_pem, ca_cert_pem: ca.cert_pem, validity_period_hours: 8760, allowed_uses: SERVER_USES };
    expect(plan(tls, 'tls_locally_signed_cert', certificate, values).action).toBe('no-op');
    expect(plan(tls, 'tls_locally_signed_cert', certificate, { ...values, cert_request_pem: UNKNOWN }).replacePaths).toEqual([['cert_request_pem']]);
    expect(plan(tls, 'tls_locally_signed_cert', certificate, { ...values, ca_cert_pem: UNKNOWN }).replacePaths).toEqual([['ca_cert_pem']]);
    expect(plan(tls, 'tls_locally_signed_cert', certificate, { ...values, early_renewal_hours: 720 }).action).toBe('update');
  });

  it('refuses unparsable inputs with the provider\'s messages, never echoing key material', () => {
    const planned = plan(tls, 'tls_cert_request', null, { private_key_pem: 'no PEM here', subject: subject({ common_name: 'x' }) });
    const failed = tls.resources.tls_cert_request.apply({ prior: null, planned: planned.result.planned, config: planned.config, plannedPrivate: null });
    expect(failed.diagnostics).toEqual([{ severity: 'error', summary: 'Failed to parse private key PEM', detail: 'failed to decode PEM block: decoded bytes 0, undecoded 11' }]);
    const key = create(tls, 'tls_private_key', { algorithm: 'ECDSA', ecdsa_curve: 'P256' });
    const badIp = plan(tls, 'tls_cert_request', null, { private_key_pem: key.private_key_pem, ip_addresses: ['10.0.0.300'] });
    const badIpResult = tls.resources.tls_cert_request.apply({ prior: null, planned: badIp.result.planned, config: badIp.config, plannedPrivate: null });
    expect(badIpResult.diagnostics).toEqual([{ severity: 'error', summary: 'Invalid IP address', detail: 'Failed to parse "10.0.0.300"' }]);
    const publicAsPrivate = plan(tls, 'tls_cert_request', null, { private_key_pem: key.public_key_pem });
    const publicResult = tls.resources.tls_cert_request.apply({ prior: null, planned: publicAsPrivate.result.planned, config: publicAsPrivate.config, plannedPrivate: null });
    expect(publicResult.diagnostics[0].detail).toBe('unable to determine parser for PEM preamble: PUBLIC KEY');
    for (const d of [...failed.diagnostics, ...badIpResult.diagnostics, ...publicResult.diagnostics]) expect(`${d.summary} ${d.detail}`).not.toContain('PRIVATE KEY-----');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Through the real terraform CLI (tools/standin-providers/main.js behind test/support/terraform-cli.ts)

const TERRAFORM_MS = 180_000;

/** A small configuration with each modelled resource, shaped like the stacks' use of them. */
function cliConfig(change: { passwordLength?: number; caEarlyRenewal?: number; serverRsaBits?: number; keepers?: Obj } = {}): TerraformJson {
  return {
    terraform: { required_providers: { random: { source: 'hashicorp/random', version: '3.7.2' }, tls: { source: 'hashicorp/tls', version: '4.1.0' } } },
    provider: { random: [{}], tls: [{}] },
    resource: {
      random_password: { token: { length: change.passwordLength ?? 48, special: false, keepers: change.keepers ?? { site: 'lab' } } },
      random_string: { token_id: { length: 6, upper: false, special: false } },
      random_id: { certificate_key: { byte_length: 32 } },
      tls_private_key: { ca: { algorithm: 'ECDSA', ecdsa_curve: 'P256' }, server: { algorithm: 'RSA', rsa_bits: change.serverRsaBits ?? 2048 }, admin: { algorithm: 'ED25519' } },
      tls_self_signed_cert: {
        ca: {
          private_key_pem: '${tls_private_key.ca.private_key_pem}', subject: [{ common_name: 'lab datastore CA' }], is_ca_certificate: true,
          set_subject_key_id: true, validity_period_hours: 87_600, early_renewal_hours: change.caEarlyRenewal ?? 0, allowed_uses: CA_USES,
        },
      },
      tls_cert_request: {
        server: { private_key_pem: '${tls_private_key.server.private_key_pem}', subject: [{ common_name: 'db1.lab.example' }], dns_names: ['db1.lab.example'], ip_addresses: ['192.0.2.11'] },
      },
      tls_locally_signed_cert: {
        server: {
          cert_request_pem: '${tls_cert_request.server.cert_request_pem}', ca_private_key_pem: '${tls_private_key.ca.private_key_pem}',
          ca_cert_pem: '${tls_self_signed_cert.ca.cert_pem}', validity_period_hours: 8760, allowed_uses: SERVER_USES,
        },
      },
    },
    output: {
      token: { value: '${random_password.token.result}', sensitive: true },
      token_id: { value: '${random_string.token_id.result}' },
      certificate_key: { value: '${random_id.certificate_key.hex}' },
      admin_ssh_key: { value: '${tls_private_key.admin.public_key_openssh}' },
      ca_certificate: { value: '${tls_self_signed_cert.ca.cert_pem}' },
      server_certificate: { value: '${tls_locally_signed_cert.server.cert_pem}' },
    },
  };
}

const actionsOf = (plan: TerraformJson) => Object.fromEntries(Object.entries(changesByAddress(plan)).map(([address, change]) => [address, change.change.actions.join(',')]));

describeWithTools(['terraform', 'openssl'], 'random and tls stand-ins through the terraform CLI', () => {
  let home: StandinHome;
  let workdir: TerraformWorkdir;
  let firstOutputs: Obj;

  async function outputs(): Promise<Obj> {
    const json = JSON.parse((await workdir.run(['output', '-json'])).stdout) as Record<string, { value: unknown }>;
    return Object.fromEntries(Object.entries(json).map(([name, output]) => [name, output.value]));
  }

  beforeAll(async () => {
    home = createStandinHome();
    workdir = await TerraformWorkdir.create(cliConfig(), { home, timeoutMs: TERRAFORM_MS });
  }, TERRAFORM_MS);
  afterAll(() => {
    workdir?.dispose();
    home?.dispose();
  });

  it('validates and applies every modelled resource; the next plan has no changes', async () => {
    await workdir.validate();
    await workdir.apply();
    const plan = await workdir.planJson();
    expect(actionsOf(plan)).toEqual({
      'random_password.token': 'no-op', 'random_string.token_id': 'no-op', 'random_id.certificate_key': 'no-op',
      'tls_private_key.ca': 'no-op', 'tls_private_key.server': 'no-op', 'tls_private_key.admin': 'no-op',
      'tls_self_signed_cert.ca': 'no-op', 'tls_cert_request.server': 'no-op', 'tls_locally_signed_cert.server': 'no-op',
    });
  }, TERRAFORM_MS);

  it('terraform output shows real values: a password whose bcrypt hash verifies, a token id, a key, an SSH key, certificates that verify', async () => {
    firstOutputs = await outputs();
    expect(firstOutputs.token).toMatch(/^[A-Za-z0-9]{48}$/);
    expect(firstOutputs.token_id).toMatch(/^[a-z0-9]{6}$/);
    expect(firstOutputs.certificate_key).toMatch(/^[0-9a-f]{64}$/);
    expect(firstOutputs.admin_ssh_key).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/]+=*\n$/);
    const state = await workdir.stateJson();
    const password = (state.values.root_module.resources as Obj[]).find((r) => r.address === 'random_password.token')!.values;
    expect(bcrypt.compareSync(firstOutputs.token, password.bcrypt_hash)).toBe(true);
    const caFile = scratchFile('cli-ca.pem', firstOutputs.ca_certificate);
    const serverFile = scratchFile('cli-server.pem', firstOutputs.server_certificate);
    expect(openssl(['verify', '-CAfile', caFile, '-purpose', 'sslserver', serverFile]).trim()).toBe(`${serverFile}: OK`);
    expect(new crypto.X509Certificate(firstOutputs.server_certificate).subjectAltName).toBe('DNS:db1.lab.example, IP Address:192.0.2.11');
  }, TERRAFORM_MS);

  it('a changed attribute plans the provider\'s action: replace, in-place update, replacement through references', async () => {
    workdir.setConfig(cliConfig({ passwordLength: 40, caEarlyRenewal: 720, serverRsaBits: 3072, keepers: { site: 'lab', later: null } }));
    const changes = changesByAddress(await workdir.planJson());
    const summary = Object.fromEntries(Object.entries(changes).map(([address, change]) => [address, [change.change.actions.join(','), change.change.replace_paths ?? null]]));
    expect(summary).toEqual({
      'random_password.token': ['delete,create', [['length']]],
      'random_string.token_id': ['no-op', null],
      'random_id.certificate_key': ['no-op', null],
      'tls_private_key.ca': ['no-op', null],
      'tls_private_key.server': ['delete,create', [['rsa_bits']]],
      'tls_private_key.admin': ['no-op', null],
      'tls_self_signed_cert.ca': ['update', null],
      // A new key is unknown at plan time: the PEM rule replaces what is built from it.
      'tls_cert_request.server': ['delete,create', [['private_key_pem']]],
      'tls_locally_signed_cert.server': ['delete,create', [['cert_request_pem']]],
    });
    await workdir.apply();
    expect(Object.values(actionsOf(await workdir.planJson())).every((action) => action === 'no-op')).toBe(true);
    const after = await outputs();
    expect(after.token).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(after.token_id).toBe(firstOutputs.token_id);
    expect(after.ca_certificate).toBe(firstOutputs.ca_certificate); // updated in place: the same certificate
    expect(after.server_certificate).not.toBe(firstOutputs.server_certificate);
    expect(new crypto.X509Certificate(after.server_certificate).publicKey.asymmetricKeyDetails).toMatchObject({ modulusLength: 3072 });
    // Only a keeper with a null value added: an update in place, the password stays.
    workdir.setConfig(cliConfig({ passwordLength: 40, caEarlyRenewal: 720, serverRsaBits: 3072, keepers: { site: 'lab', later: null, another: null } }));
    expect(actionsOf(await workdir.planJson())['random_password.token']).toBe('update');
  }, TERRAFORM_MS);
});

describeWithTools(['terraform'], 'random and tls stand-ins through the terraform CLI: renewal and refusal', () => {
  let home: StandinHome;
  beforeAll(() => {
    home = createStandinHome();
  });
  afterAll(() => home?.dispose());

  it('a certificate whose early_renewal_hours reaches past its validity is due at once: every plan replaces it', async () => {
    const config: TerraformJson = {
      terraform: { required_providers: { tls: { source: 'hashicorp/tls', version: '4.1.0' } } },
      resource: {
        tls_private_key: { key: { algorithm: 'ED25519' } },
        tls_self_signed_cert: { due: { private_key_pem: '${tls_private_key.key.private_key_pem}', subject: [{ common_name: 'due' }], validity_period_hours: 1, early_renewal_hours: 2, allowed_uses: ['server_auth'] } },
      },
    };
    const workdir = await TerraformWorkdir.create(config, { home, timeoutMs: TERRAFORM_MS });
    try {
      await workdir.apply();
      const changes = changesByAddress(await workdir.planJson());
      expect(changes['tls_self_signed_cert.due'].change.actions).toEqual(['delete', 'create']);
      expect(changes['tls_self_signed_cert.due'].change.replace_paths).toEqual([['ready_for_renewal']]);
      expect(changes['tls_private_key.key'].change.actions).toEqual(['no-op']);
    } finally {
      workdir.dispose();
    }
  }, TERRAFORM_MS);

  it('a resource type the stand-in does not model fails validation, naming it and the modelled ones', async () => {
    const config: TerraformJson = {
      terraform: { required_providers: { random: { source: 'hashicorp/random', version: '3.7.2' } } },
      resource: { random_pet: { name: { length: 2 } } },
    };
    const workdir = await TerraformWorkdir.create(config, { home, timeoutMs: TERRAFORM_MS });
    try {
      const run = await workdir.run(['validate'], { allowFailure: true });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('the stand-in does not emulate resource type random_pet of registry.terraform.io/hashicorp/random');
    } finally {
      workdir.dispose();
    }
  }, TERRAFORM_MS);
});
