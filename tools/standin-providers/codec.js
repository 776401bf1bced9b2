'use strict';
// DynamicValue codec: msgpack (and JSON, for raw state) ⇄ plain JS values, driven by a cty type in its JSON form
// ("string", ["list", T], ["object", {…}], "dynamic", …). The rules are those of object-wire-format.md
// (../shared/providers/terraform-plugin-protocol/, "MessagePack Serialization Rules").
const { Decoder, Encoder, ExtData } = require('@msgpack/msgpack');

/** The unknown value (Terraform's "known after apply"). Shared with every model: exactly this symbol. */
const UNKNOWN = Symbol.for('tf-standin.unknown');

/** A value of type "dynamic": its concrete type travels with it (object-wire-format.md, the `"dynamic"` row). */
class Dynamic {
  constructor(type, value) {
    this.type = type;
    this.value = value;
  }
}

// go-cty writes an unrefined unknown as fixext1 `d4 00 00` (cty/msgpack/unknown.go, unknownValBytes).
const UNKNOWN_EXT = new ExtData(0, new Uint8Array([0]));
// Integers stay integers on the wire; beyond 2^53 a JS number would lose digits, so such input is refused.
const decoder = new Decoder({ useBigInt64: true });
const encoder = new Encoder({ ignoreUndefined: false });

function pathText(path) {
  return path.length === 0 ? '(root)' : path.map((step) => (typeof step === 'number' ? `[${step}]` : `.${step}`)).join('').replace(/^\./, '');
}

function fail(path, message) {
  const error = new Error(`${pathText(path)}: ${message}`);
  error.attributePath = path;
  throw error;
}

function kindOf(type) {
  return typeof type === 'string' ? type : type[0];
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding: the msgpack library gives ExtData for every extension and bigint for 64-bit integers; this walk turns
// them into UNKNOWN / numbers and checks the shape against the type.

function fromWire(raw, type, path) {
  // object-wire-format.md: "treat any MessagePack extension code as representing an unknown value" (0 or 12).
  if (raw instanceof ExtData) return UNKNOWN;
  if (raw === null || raw === undefined) return null;
  const kind = kindOf(type);
  switch (kind) {
    case 'string':
      if (typeof raw !== 'string') fail(path, `expected a string, got ${typeof raw}`);
      return raw;
    case 'bool':
      if (typeof raw !== 'boolean') fail(path, `expected a bool, got ${typeof raw}`);
      return raw;
    case 'number':
      return numberFromWire(raw, path);
    case 'list':
    case 'set':
      if (!Array.isArray(raw)) fail(path, `expected an array for ${kind}, got ${typeof raw}`);
      return raw.map((element, index) => fromWire(element, type[1], [...path, index]));
    case 'tuple':
      if (!Array.isArray(raw) || raw.length !== type[1].length) fail(path, `expected a tuple of ${type[1].length}`);
      return raw.map((element, index) => fromWire(element, type[1][index], [...path, index]));
    case 'map':
      return mapFromWire(raw, path, (value, key) => fromWire(value, type[1], [...path, key]));
    case 'object': {
      const attributes = type[1];
      const object = mapFromWire(raw, path, (value, key) => {
        if (!(key in attributes)) fail([...path, key], 'is not an attribute of the object type');
        return fromWire(value, attributes[key], [...path, key]);
      });
      for (const name of Object.keys(attributes)) if (!(name in object)) object[name] = null;
      return object;
    }
    case 'dynamic': {
      if (!Array.isArray(raw) || raw.length !== 2) fail(path, 'expected [type JSON, value] for a dynamic value');
      const concrete = JSON.parse(Buffer.from(raw[0]).toString('utf8'));
      return new Dynamic(concrete, fromWire(raw[1], concrete, path));
    }
    default:
      return fail(path, `unsupported type ${JSON.stringify(type)}`);
  }
}

function numberFromWire(raw, path) {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'bigint') {
    if (raw > BigInt(Number.MAX_SAFE_INTEGER) || raw < BigInt(Number.MIN_SAFE_INTEGER)) fail(path, `number ${raw} is beyond what the stand-in represents exactly`);
    return Number(raw);
  }
  // A number may come as its decimal string (object-wire-format.md, the `"number"` row).
  if (typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
  return fail(path, `expected a number, got ${JSON.stringify(raw)}`);
}

function mapFromWire(raw, path, convert) {
  const entries = raw instanceof Map ? [...raw.entries()] : (typeof raw === 'object' && !Array.isArray(raw) ? Object.entries(raw) : fail(path, 'expected a map'));
  const result = {};
  for (const [key, value] of entries) {
    if (typeof key !== 'string') fail(path, `expected string keys, got ${typeof key}`);
    result[key] = convert(value, key);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding: the JS value is checked against the type, so a model's mistake names the attribute instead of
// surfacing as Terraform's "produced an invalid plan" with no detail.

function toWire(value, type, path) {
  if (value === UNKNOWN) return UNKNOWN_EXT;
  if (value === null || value === undefined) return null;
  const kind = kindOf(type);
  switch (kind) {
    case 'string':
      if (typeof value !== 'string') fail(path, `expected a string, got ${describe(value)}`);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') fail(path, `expected a bool, got ${describe(value)}`);
      return value;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, `expected a finite number, got ${describe(value)}`);
      return value;
    case 'list':
    case 'set':
      if (!Array.isArray(value)) fail(path, `expected an array for ${kind}, got ${describe(value)}`);
      return value.map((element, index) => toWire(element, type[1], [...path, index]));
    case 'tuple':
      if (!Array.isArray(value) || value.length !== type[1].length) fail(path, `expected an array of ${type[1].length} for the tuple`);
      return value.map((element, index) => toWire(element, type[1][index], [...path, index]));
    case 'map':
      if (!isPlainObject(value)) fail(path, `expected an object for the map, got ${describe(value)}`);
      return Object.fromEntries(Object.entries(value).map(([key, element]) => [key, toWire(element, type[1], [...path, key])]));
    case 'object': {
      if (!isPlainObject(value)) fail(path, `expected an object, got ${describe(value)}`);
      const attributes = type[1];
      const extra = Object.keys(value).filter((key) => !(key in attributes));
      if (extra.length > 0) fail(path, `has ${extra.join(', ')}, which the schema does not define`);
      return Object.fromEntries(Object.entries(attributes).map(([name, attributeType]) => [name, toWire(value[name], attributeType, [...path, name])]));
    }
    case 'dynamic': {
      const dynamic = value instanceof Dynamic ? value : new Dynamic(inferType(value, path), value);
      return [Buffer.from(JSON.stringify(dynamic.type)), toWire(dynamic.value, dynamic.type, path)];
    }
    default:
      return fail(path, `unsupported type ${JSON.stringify(type)}`);
  }
}

function isPlainObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Dynamic);
}

function describe(value) {
  return value === UNKNOWN ? 'unknown' : `${Array.isArray(value) ? 'array' : typeof value} ${JSON.stringify(value)}`.slice(0, 80);
}

/** The type of a plain JS value put into a "dynamic" attribute without a {@link Dynamic} wrapper. */
function inferType(value, path) {
  if (value === null || value === UNKNOWN) return 'dynamic';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return typeof value === 'boolean' ? 'bool' : typeof value;
  if (Array.isArray(value)) return ['tuple', value.map((element, index) => inferType(element, [...path, index]))];
  if (isPlainObject(value)) return ['object', Object.fromEntries(Object.entries(value).map(([key, v]) => [key, inferType(v, [...path, key])]))];
  return fail(path, `cannot infer a type for ${describe(value)}`);
}

/** msgpack bytes (a DynamicValue's `msgpack`) → JS value of `type`. Empty bytes are the null value. */
function decodeMsgpack(bytes, type) {
  if (!bytes || bytes.length === 0) return null;
  return fromWire(decoder.decode(bytes), type, []);
}

/** JSON bytes (a DynamicValue's `json`, or raw state) → JS value of `type`. JSON cannot carry unknowns. */
function decodeJson(bytes, type) {
  if (!bytes || bytes.length === 0) return null;
  return fromWire(JSON.parse(Buffer.from(bytes).toString('utf8')), type, []);
}

/** A DynamicValue message → JS value: msgpack when present, otherwise JSON (grpc_provider.go, decodeDynamicValue). */
function decodeDynamicValue(message, type) {
  if (!message) return null;
  if (message.msgpack && message.msgpack.length > 0) return decodeMsgpack(message.msgpack, type);
  return decodeJson(message.json, type);
}

/** JS value → DynamicValue message (always msgpack, as object-wire-format.md recommends for responses). */
function encodeDynamicValue(value, type) {
  return { msgpack: Buffer.from(encoder.encode(toWire(value, type, []))) };
}

module.exports = { UNKNOWN, Dynamic, decodeMsgpack, decodeJson, decodeDynamicValue, encodeDynamicValue, pathText };
