'use strict';
// random_id of terraform-provider-random v3.7.2 (internal/provider/resource_id.go): `byte_length` random bytes shown
// as base64url (also the id, without the prefix), standard base64, hex and decimal, each after `prefix`.
const crypto = require('crypto');
const { requiresReplace, useStateForUnknown } = require('../plugin-framework/modifiers');
const { attributeError } = require('../plugin-framework/validators');
const { requiresReplaceIfValuesNotNull } = require('./keepers');

const rules = {
  keepers: { planModifiers: [requiresReplaceIfValuesNotNull()] }, // resource_id.go:60-68
  byte_length: { // resource_id.go:69-76 (no validator upstream: a negative length panics in make([]byte, n))
    planModifiers: [requiresReplace()],
    validators: [(value, { path }) => (typeof value === 'number' && value < 0
      ? [attributeError(path, 'Invalid Attribute Value', `Attribute byte_length must be a number of bytes (0 or more), got: ${value}`)] : [])],
  },
  prefix: { planModifiers: [requiresReplace()] }, // :77-84
  b64_url: { planModifiers: [useStateForUnknown()] }, // :85-92
  b64_std: { planModifiers: [useStateForUnknown()] }, // :93-99
  hex: { planModifiers: [useStateForUnknown()] }, // :100-107
  dec: { planModifiers: [useStateForUnknown()] }, // :108-114
  id: { planModifiers: [useStateForUnknown()] }, // :115-121
};

/** The encodings Create writes (resource_id.go:135-166): RawURLEncoding (no padding), StdEncoding, hex, big-endian decimal. */
function encodings(bytes, prefix) {
  const id = bytes.toString('base64url');
  const decimal = bytes.length === 0 ? '0' : BigInt(`0x${bytes.toString('hex')}`).toString(10);
  return {
    id,
    b64_url: prefix + id,
    b64_std: prefix + bytes.toString('base64'),
    hex: prefix + bytes.toString('hex'),
    dec: prefix + decimal,
  };
}

const idDefinition = (schema) => ({
  typeName: 'random_id',
  schema,
  rules,
  create({ planned }) {
    const bytes = crypto.randomBytes(planned.byte_length);
    return { state: { ...planned, ...encodings(bytes, planned.prefix ?? '') } };
  },
});

module.exports = { idDefinition, encodings };
