'use strict';
// Private keys as terraform-provider-tls v4.1.0 makes and reads them (internal/provider/common_key.go,
// resource_private_key.go), with node's crypto (OpenSSL) doing the arithmetic: RSA keys in PKCS#1, ECDSA keys in
// SEC 1, ED25519 keys in PKCS#8, and every key also in PKCS#8.
const crypto = require('crypto');
const { encodePem, decodePem } = require('./pem');

// types.go:46-51 and the node (OpenSSL) names of the curves Go's crypto/x509 supports.
const CURVES = { P224: 'secp224r1', P256: 'prime256v1', P384: 'secp384r1', P521: 'secp521r1' };
const CURVE_NAMES = Object.fromEntries(Object.entries(CURVES).map(([name, openssl]) => [openssl, name]));

/** keyGenerators (common_key.go:33-67): a new private KeyObject for the algorithm. Throws the provider's errors. */
function generatePrivateKey({ algorithm, rsaBits, ecdsaCurve }) {
  switch (algorithm) {
    case 'RSA':
      if (typeof rsaBits !== 'number') throw new Error('RSA bits curve not provided');
      return crypto.generateKeyPairSync('rsa', { modulusLength: rsaBits, publicExponent: 65537 }).privateKey;
    case 'ECDSA':
      if (!CURVES[ecdsaCurve]) throw new Error(`invalid ECDSA curve; supported values are: [${Object.keys(CURVES).join(' ')}]`);
      return crypto.generateKeyPairSync('ec', { namedCurve: CURVES[ecdsaCurve] }).privateKey;
    case 'ED25519':
      return crypto.generateKeyPairSync('ed25519').privateKey;
    default:
      throw new Error(`Key Algorithm "${algorithm}" is not supported`);
  }
}

/** privateKeyToAlgorithm (common_key.go:147-158), limited to the curves Go's x509 parses. */
function algorithmOf(key) {
  switch (key.asymmetricKeyType) {
    case 'rsa': return 'RSA';
    case 'ec':
      if (!CURVE_NAMES[key.asymmetricKeyDetails.namedCurve]) throw new Error(`x509: unsupported elliptic curve ${key.asymmetricKeyDetails.namedCurve}`);
      return 'ECDSA';
    case 'ed25519': return 'ED25519';
    default: throw new Error(`unsupported private key type: ${key.asymmetricKeyType}`);
  }
}

/** The "Go" curve name (P256, …) of an ECDSA key. */
function curveOf(key) {
  return CURVE_NAMES[key.asymmetricKeyDetails.namedCurve];
}

/** private_key_pem as Create writes it (resource_private_key.go:273-307). */
function privateKeyPem(key) {
  switch (algorithmOf(key)) {
    case 'RSA': return encodePem('RSA PRIVATE KEY', key.export({ type: 'pkcs1', format: 'der' }));
    case 'ECDSA': return encodePem('EC PRIVATE KEY', key.export({ type: 'sec1', format: 'der' }));
    default: return encodePem('PRIVATE KEY', key.export({ type: 'pkcs8', format: 'der' }));
  }
}

/** private_key_pem_pkcs8 (resource_private_key.go:309-318, prvKeyToPKCS8PEMBlock :431-441). */
function privateKeyPkcs8Pem(key) {
  return encodePem('PRIVATE KEY', key.export({ type: 'pkcs8', format: 'der' }));
}

/** The SubjectPublicKeyInfo DER (x509.MarshalPKIXPublicKey) of a private or public KeyObject. */
function publicKeyDer(key) {
  const publicKey = key.type === 'private' ? crypto.createPublicKey(key) : key;
  return publicKey.export({ type: 'spki', format: 'der' });
}

// keyParsers (common_key.go:70-80): the PEM types parsePrivateKeyPEM reads, and how node reads their DER.
const PARSERS = { 'RSA PRIVATE KEY': 'pkcs1', 'EC PRIVATE KEY': 'sec1', 'PRIVATE KEY': 'pkcs8' };
// pemBlockToPEMPreamble (types.go:100-117): types it knows but has no key parser for.
const KNOWN_TYPES = ['PUBLIC KEY', 'CERTIFICATE', 'CERTIFICATE REQUEST'];

/**
 * parsePrivateKeyPEM (common_key.go:85-116) → { key, algorithm }; throws with the provider's messages (never the
 * key material).
 */
function parsePrivateKeyPem(text) {
  const block = decodePem(text);
  if (!block) throw new Error(`failed to decode PEM block: decoded bytes 0, undecoded ${Buffer.byteLength(text ?? '')}`);
  if (!PARSERS[block.type]) {
    if (KNOWN_TYPES.includes(block.type)) throw new Error(`unable to determine parser for PEM preamble: ${block.type}`);
    throw new Error(`unsupported PEM preamble/type: ${block.type}`);
  }
  let key;
  try {
    key = crypto.createPrivateKey({ key: block.bytes, format: 'der', type: PARSERS[block.type] });
  } catch (error) {
    throw new Error(`failed to parse private key given PEM preamble '${block.type}': ${error.message}`);
  }
  try {
    return { key, algorithm: algorithmOf(key) };
  } catch (error) {
    throw new Error(`failed to determine key algorithm for private key of type ${key.asymmetricKeyType}: ${error.message}`);
  }
}

module.exports = { generatePrivateKey, algorithmOf, curveOf, privateKeyPem, privateKeyPkcs8Pem, publicKeyDer, parsePrivateKeyPem, CURVES };
