// The stand-in server's generic parts without Terraform: the msgpack codec against the bytes go-cty writes
// (object-wire-format.md) and the server's own refusals.
import { encode } from '@msgpack/msgpack';

/* eslint-disable @typescript-eslint/no-require-imports */
const codec = require('../../tools/standin-providers/codec');
const { attributePath, createProviderService } = require('../../tools/standin-providers/server');
const { impliedType } = require('../../tools/standin-providers/schema');
/* eslint-enable @typescript-eslint/no-require-imports */

const UNKNOWN = Symbol.for('tf-standin.unknown');
const BLOCK = {
  attributes: {
    name: { type: 'string', optional: true },
    size: { type: 'number', optional: true },
    tags: { type: ['set', 'string'], optional: true },
    env: { type: ['map', 'string'], optional: true },
    any: { type: 'dynamic', optional: true },
  },
  block_types: { disk: { nesting_mode: 'list', block: { attributes: { size: { type: 'number', optional: true } } } } },
};
const TYPE = impliedType(BLOCK);

describe('stand-in codec', () => {
  test('exports exactly the shared UNKNOWN symbol', () => {
    expect(codec.UNKNOWN).toBe(UNKNOWN);
  });

  test('an unrefined unknown (ext 0) and a refined one (ext 12) both decode as UNKNOWN', () => {
    expect(codec.decodeMsgpack(Buffer.from('d40000', 'hex'), 'string')).toBe(UNKNOWN);
    // ext 12 with the refinement map {1: false} ("definitely not null")
    expect(codec.decodeMsgpack(Buffer.from('c7030c8101c2', 'hex'), 'string')).toBe(UNKNOWN);
  });

  test('UNKNOWN is written as go-cty writes it: fixext1 d4 00 00', () => {
    expect(Buffer.from(codec.encodeDynamicValue(UNKNOWN, 'string').msgpack).toString('hex')).toBe('d40000');
  });

  test('a block decodes with every attribute present, numbers from strings, and unknown nested values', () => {
    const bytes = encode({ name: 'vm1', size: '42', tags: ['a'], disk: [{ size: 8 }], env: { A: 'b' } });
    expect(codec.decodeMsgpack(bytes, TYPE)).toEqual({ name: 'vm1', size: 42, tags: ['a'], env: { A: 'b' }, any: null, disk: [{ size: 8 }] });
    const value = { name: UNKNOWN, size: null, tags: null, env: null, any: null, disk: [{ size: UNKNOWN }] };
    expect(codec.decodeDynamicValue(codec.encodeDynamicValue(value, TYPE), TYPE)).toEqual(value);
  });

  test('a dynamic value carries its type: [type JSON, value]', () => {
    const encoded = codec.encodeDynamicValue({ any: { a: 1 } }, ['object', { any: 'dynamic' }]);
    const decoded = codec.decodeDynamicValue(encoded, ['object', { any: 'dynamic' }]);
    expect(decoded.any).toBeInstanceOf(codec.Dynamic);
    expect(decoded.any).toMatchObject({ type: ['object', { a: 'number' }], value: { a: 1 } });
  });

  test('a value that does not fit the type fails with its path, what it got and what was expected', () => {
    expect(() => codec.encodeDynamicValue({ disk: [{ size: 'big' }] }, TYPE)).toThrow('disk[0].size: expected a finite number, got string "big"');
    expect(() => codec.encodeDynamicValue({ nmae: 'x' }, TYPE)).toThrow('(root): has nmae, which the schema does not define');
  });

  test('model paths become AttributePath steps: map keys as element keys, indexes as ints', () => {
    expect(attributePath(['env', 'A'], TYPE).steps).toEqual([{ attribute_name: 'env' }, { element_key_string: 'A' }]);
    expect(attributePath(['disk', 0, 'size'], TYPE).steps).toEqual([{ attribute_name: 'disk' }, { element_key_int: 0 }, { attribute_name: 'size' }]);
  });
});

describe('stand-in server refusals (generic)', () => {
  const model = {
    address: 'registry.terraform.io/example/test', version: '1.0.0', protocol: 6,
    schema: { provider: { version: 0, block: {} }, resource_schemas: { test_thing: { version: 2, block: BLOCK }, test_other: { version: 0, block: BLOCK } } },
    configure() {},
    resources: { test_thing: { plan: () => ({}), apply: () => ({}) } },
  };
  const { implementation } = createProviderService(model);
  const call = (method: string, request: object) => new Promise<{ diagnostics: { summary: string }[] }>((resolve, reject) => {
    implementation[method]({ request }, (error: Error | null, response: { diagnostics: { summary: string }[] }) => (error ? reject(error) : resolve(response)));
  });

  test('state of a schema version the model does not upgrade is refused', async () => {
    const response = await call('UpgradeResourceState', { type_name: 'test_thing', version: 1, raw_state: { json: Buffer.from('{}') } });
    expect(response.diagnostics.map((d) => d.summary)).toEqual(['test_thing: the state has schema version 1; the stand-in knows only version 2 and does not upgrade others']);
  });

  test('a resource type without a model is an error naming it and what is modelled', async () => {
    const response = await call('ValidateResourceConfig', { type_name: 'test_other', config: codec.encodeDynamicValue(null, TYPE) });
    expect(response.diagnostics.map((d) => d.summary)).toEqual(['the stand-in does not emulate resource type test_other of registry.terraform.io/example/test; it emulates test_thing']);
  });

  test('data sources, ephemeral resources and moves are refused', async () => {
    const summaries = await Promise.all([
      call('ReadDataSource', { type_name: 'test_data' }),
      call('OpenEphemeralResource', { type_name: 'test_eph' }),
      call('MoveResourceState', { source_type_name: 'a', target_type_name: 'test_thing' }),
    ]);
    expect(summaries.map((r) => r.diagnostics[0].summary)).toEqual([
      'the stand-in does not emulate data source test_data',
      'the stand-in does not emulate ephemeral resource test_eph',
      'the stand-in does not emulate moving state from a to test_thing',
    ]);
  });
});
