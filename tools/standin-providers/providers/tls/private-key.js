'use strict';
// tls_private_key (schema version 1) of terraform-provider-tls v4.1.0 (internal/provider/resource_private_key.go): a
// new RSA, ECDSA or ED25519 key in PEM, PKCS#8 and OpenSSH forms, with its public key and fingerprints.
const crypto = require('crypto');
const { requiresReplace } = require('../plugin-framework/modifiers');
const { oneOf } = require('../plugin-framework/validators');
const { hashForState } = require('./common');
const { generatePrivateKey, privateKeyPem, privateKeyPkcs8Pem, publicKeyDer, CURVES } = require('./keys');
const { publicKeyAttributes, privateKeyOpenssh } = require('./openssh');
const { encodePem } = require('./pem');

// Every argument forces replacement; the computed attributes have no UseStateForUnknown (Update is a no-op).
const rules = {
  algorithm: { planModifiers: [requiresReplace()], validators: [oneOf(['RSA', 'ECDSA', 'ED25519'])] }, // :50-60, types.go:25-31
  rsa_bits: { default: 2048, planModifiers: [requiresReplace()] }, // :63-71, int64default.StaticInt64(2048)
  ecdsa_curve: { default: 'P224', planModifiers: [requiresReplace()], validators: [oneOf(Object.keys(CURVES))] }, // :72-85
};

/** The public-key attributes and id (setPublicKeyAttributes, common_key.go:162-224). */
function publicKeyState(key) {
  const spki = publicKeyDer(key);
  const ssh = publicKeyAttributes(key);
  return {
    id: hashForState(spki),
    public_key_pem: encodePem('PUBLIC KEY', spki),
    public_key_openssh: ssh.publicKeyOpenssh,
    public_key_fingerprint_md5: ssh.fingerprintMd5,
    public_key_fingerprint_sha256: ssh.fingerprintSha256,
  };
}

/** Create (resource_private_key.go:240-343). */
function create({ planned }) {
  let key;
  try {
    key = generatePrivateKey({ algorithm: planned.algorithm, rsaBits: planned.rsa_bits, ecdsaCurve: planned.ecdsa_curve });
  } catch (failure) {
    return { diagnostics: [{ severity: 'error', summary: 'Unable to generate Key from configuration', detail: failure.message }] };
  }
  return {
    state: {
      ...planned,
      private_key_pem: privateKeyPem(key),
      private_key_pem_pkcs8: privateKeyPkcs8Pem(key),
      private_key_openssh: privateKeyOpenssh(key),
      ...publicKeyState(crypto.createPublicKey(key)),
    },
  };
}

const privateKeyDefinition = (schema) => ({
  typeName: 'tls_private_key',
  schema,
  rules,
  upgradeNote: 'terraform-provider-tls v4.1.0 upgrades tls_private_key state from version 0 to 1 (resource_private_key.go:359-429).',
  create,
  // Update is a no-op (:350-352) and the framework starts an update's new state from the prior state
  // (framework internal/fwserver/server_updateresource.go:97-101); every argument replaces, so it changes nothing.
  update: ({ prior }) => ({ state: prior }),
});

module.exports = { privateKeyDefinition };
