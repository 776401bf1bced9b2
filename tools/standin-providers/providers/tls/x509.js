'use strict';
// Certificates and certificate requests the way Go 1.24's crypto/x509 CreateCertificate / CreateCertificateRequest
// write them for terraform-provider-tls v4.1.0 (its binary is built with toolchain go1.24.1, go.mod), and the parts of
// a request or CA certificate the locally signed certificate reads back. Signing is node's crypto.
const crypto = require('crypto');
const net = require('net');
const ipaddr = require('ipaddr.js');
const der = require('./der');
const { encodeName, parseName } = require('./names');
const { algorithmOf, curveOf, publicKeyDer } = require('./keys');

// The key usage names of the schema and their bits / OIDs (common_cert.go:33-60).
const KEY_USAGE_BITS = {
  digital_signature: 1 << 0, content_commitment: 1 << 1, key_encipherment: 1 << 2, data_encipherment: 1 << 3,
  key_agreement: 1 << 4, cert_signing: 1 << 5, crl_signing: 1 << 6, encipher_only: 1 << 7, decipher_only: 1 << 8,
};
const EXT_KEY_USAGE_OIDS = {
  any_extended: '2.5.29.37.0',
  server_auth: '1.3.6.1.5.5.7.3.1',
  client_auth: '1.3.6.1.5.5.7.3.2',
  code_signing: '1.3.6.1.5.5.7.3.3',
  email_protection: '1.3.6.1.5.5.7.3.4',
  ipsec_end_system: '1.3.6.1.5.5.7.3.5',
  ipsec_tunnel: '1.3.6.1.5.5.7.3.6',
  ipsec_user: '1.3.6.1.5.5.7.3.7',
  timestamping: '1.3.6.1.5.5.7.3.8',
  ocsp_signing: '1.3.6.1.5.5.7.3.9',
  microsoft_server_gated_crypto: '1.3.6.1.4.1.311.10.3.3',
  netscape_server_gated_crypto: '2.16.840.1.113730.4.1',
  microsoft_commercial_code_signing: '1.3.6.1.4.1.311.2.1.22',
  microsoft_kernel_code_signing: '1.3.6.1.4.1.311.61.1.1',
};
// supportedKeyUsagesStr (common_cert.go:63-75): all names, sorted.
const SUPPORTED_KEY_USAGES = [...Object.keys(KEY_USAGE_BITS), ...Object.keys(EXT_KEY_USAGE_OIDS)].sort();

const OID = {
  keyUsage: '2.5.29.15', extKeyUsage: '2.5.29.37', basicConstraints: '2.5.29.19', subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35', subjectAltName: '2.5.29.17', extensionRequest: '1.2.840.113549.1.9.14',
};
const EMPTY_NAME = Buffer.from([0x30, 0x00]);

/** signingParamsForKey: the hash and AlgorithmIdentifier for the signer's key type. */
function signingParams(privateKey) {
  switch (algorithmOf(privateKey)) {
    case 'RSA': return { hash: 'sha256', identifier: der.sequence(der.oid('1.2.840.113549.1.1.11'), der.nullValue()) };
    case 'ECDSA': {
      const byCurve = {
        P224: ['sha256', '1.2.840.10045.4.3.2'], P256: ['sha256', '1.2.840.10045.4.3.2'],
        P384: ['sha384', '1.2.840.10045.4.3.3'], P521: ['sha512', '1.2.840.10045.4.3.4'],
      };
      const [hash, oid] = byCurve[curveOf(privateKey)];
      return { hash, identifier: der.sequence(der.oid(oid)) };
    }
    default: return { hash: null, identifier: der.sequence(der.oid('1.3.101.112')) };
  }
}

function signed(tbs, privateKey) {
  const { hash, identifier } = signingParams(privateKey);
  const signature = crypto.sign(hash, tbs, privateKey);
  return der.sequence(tbs, identifier, der.bitString(signature));
}

function extension(oid, critical, valueDer) {
  return der.sequence(der.oid(oid), ...(critical ? [der.boolean(true)] : []), der.octetString(valueDer));
}

/** marshalKeyUsage: the bits reversed per byte into a BIT STRING without trailing zero bits; critical. */
function keyUsageExtension(bits) {
  const reverse = (byte) => parseInt(byte.toString(2).padStart(8, '0').split('').reverse().join(''), 2);
  const bytes = [reverse(bits & 0xff), reverse((bits >> 8) & 0xff)];
  const used = bytes[1] !== 0 ? bytes : bytes.slice(0, 1);
  let bitLength = used.length * 8;
  while (bitLength > 0 && ((used[Math.floor((bitLength - 1) / 8)] >> (7 - ((bitLength - 1) % 8))) & 1) === 0) bitLength -= 1;
  return extension(OID.keyUsage, true, der.bitString(Buffer.from(used), (8 - (bitLength % 8)) % 8));
}

function checkIa5(text) {
  if (!/^[\x00-\x7f]*$/.test(text)) throw new Error(`x509: ${JSON.stringify(text)} cannot be encoded as an IA5String`);
}

/** marshalSANs: DNS names, then IP addresses (4 bytes for IPv4), then URIs. */
function subjectAltNames({ dnsNames, ipAddresses, uris }) {
  dnsNames.forEach(checkIa5);
  uris.forEach(checkIa5);
  return der.sequence(
    ...dnsNames.map((name) => der.implicit(2, Buffer.from(name, 'latin1'))),
    ...ipAddresses.map((bytes) => der.implicit(7, bytes)),
    ...uris.map((uri) => der.implicit(6, Buffer.from(uri, 'latin1'))),
  );
}

const hasAltNames = (names) => names.dnsNames.length > 0 || names.ipAddresses.length > 0 || names.uris.length > 0;

/**
 * net.ParseIP and IP.To4: the SAN bytes of an address, or null when Go would not parse it (no zones, no leading
 * zeros in IPv4).
 */
function ipBytes(text) {
  if (typeof text !== 'string' || text.includes('%') || net.isIP(text) === 0) return null;
  const address = ipaddr.parse(text);
  if (address.kind() === 'ipv6' && address.isIPv4MappedAddress()) return Buffer.from(address.toIPv4Address().toByteArray());
  return Buffer.from(address.toByteArray());
}

/**
 * CreateCertificate. `template`: { serialNumber (bigint), subject (a names.js name), notBefore, notAfter (Dates),
 * keyUsage (bits), extKeyUsage (OIDs), isCA, subjectKeyId, authorityKeyId (Buffers or null), dnsNames,
 * ipAddresses (Buffers), uris }. `parent`: { rawSubject, subjectKeyId, publicKey } of the issuer, or 'self'.
 * `publicKey`: the subject's KeyObject; `signer`: the issuer's private KeyObject. → DER.
 */
function createCertificate({ template, parent, publicKey, signer }) {
  const subjectDer = encodeName(template.subject);
  const issuer = parent === 'self' ? { rawSubject: subjectDer, subjectKeyId: template.subjectKeyId, publicKey: null } : parent;
  // The issuer's key identifier becomes the authority key identifier unless the certificate is self-issued.
  const authorityKeyId = !issuer.rawSubject.equals(subjectDer) && issuer.subjectKeyId?.length > 0 ? issuer.subjectKeyId : template.authorityKeyId;
  if (issuer.publicKey && !publicKeyDer(signer).equals(publicKeyDer(issuer.publicKey))) {
    throw new Error("x509: provided PrivateKey doesn't match parent's PublicKey");
  }
  const extensions = [];
  if (template.keyUsage !== 0) extensions.push(keyUsageExtension(template.keyUsage));
  if (template.extKeyUsage.length > 0) extensions.push(extension(OID.extKeyUsage, false, der.sequence(...template.extKeyUsage.map(der.oid))));
  // BasicConstraintsValid is always set by the tls resources; IsCA false is left out (asn1 "optional").
  extensions.push(extension(OID.basicConstraints, true, der.sequence(...(template.isCA ? [der.boolean(true)] : []))));
  if (template.subjectKeyId?.length > 0) extensions.push(extension(OID.subjectKeyId, false, der.octetString(template.subjectKeyId)));
  if (authorityKeyId?.length > 0) extensions.push(extension(OID.authorityKeyId, false, der.sequence(der.implicit(0, authorityKeyId))));
  if (hasAltNames(template)) extensions.push(extension(OID.subjectAltName, subjectDer.equals(EMPTY_NAME), subjectAltNames(template)));

  const tbs = der.sequence(
    der.explicit(0, der.integer(2)),
    der.integer(template.serialNumber),
    signingParams(signer).identifier,
    issuer.rawSubject,
    der.sequence(der.time(template.notBefore), der.time(template.notAfter)),
    subjectDer,
    publicKeyDer(publicKey),
    der.explicit(3, der.sequence(...extensions)),
  );
  return signed(tbs, signer);
}

/**
 * CreateCertificateRequest: subject, key, and an extensionRequest attribute holding the (non-critical) SAN when
 * there are alternative names. `template`: { subject, dnsNames, ipAddresses, uris }. → DER.
 */
function createCertificateRequest({ template, signer }) {
  const attributes = hasAltNames(template)
    ? [der.sequence(der.oid(OID.extensionRequest), der.setOf(der.sequence(extension(OID.subjectAltName, false, subjectAltNames(template)))))]
    : [];
  const tbs = der.sequence(der.integer(0), encodeName(template.subject), publicKeyDer(signer), der.implicit(0, Buffer.concat(attributes), true));
  return signed(tbs, signer);
}

/** The extensions of a certificate's [3] or of a request's extensionRequest: Map oid → { critical, value }. */
function readExtensions(sequenceNode) {
  const extensions = new Map();
  for (const node of sequenceNode.children()) {
    const parts = node.children();
    const critical = parts.length === 3 && parts[1].content[0] !== 0;
    extensions.set(der.oidText(parts[0].content), { critical, value: parts[parts.length - 1].content });
  }
  return extensions;
}

/** parseSANExtension: the DNS names, IP addresses (bytes) and URIs of a SubjectAltName value. */
function readAltNames(value) {
  const names = { dnsNames: [], ipAddresses: [], uris: [] };
  if (!value) return names;
  for (const node of der.read(value).children()) {
    const kind = node.tag & 0x1f;
    if (kind === 2) names.dnsNames.push(node.content.toString('latin1'));
    else if (kind === 6) names.uris.push(node.content.toString('latin1'));
    else if (kind === 7) {
      if (node.content.length !== 4 && node.content.length !== 16) throw new Error(`x509: cannot parse IP address of length ${node.content.length}`);
      names.ipAddresses.push(Buffer.from(node.content));
    }
  }
  return names;
}

function publicKeyFrom(spkiDer) {
  return crypto.createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
}

/** x509.ParseCertificateRequest, what a locally signed certificate takes: { subject, publicKey, dnsNames, ipAddresses, uris }. */
function parseCertificateRequest(requestDer) {
  const [tbs] = der.read(requestDer).children();
  const [, subject, spki, attributes] = tbs.children();
  let altNames = readAltNames(null);
  for (const attribute of attributes ? attributes.children() : []) {
    const [type, values] = attribute.children();
    if (der.oidText(type.content) !== OID.extensionRequest) continue;
    for (const extensionsNode of values.children()) {
      const san = readExtensions(extensionsNode).get(OID.subjectAltName);
      if (san) altNames = readAltNames(san.value);
    }
  }
  return { subject: parseName(subject.raw), publicKey: publicKeyFrom(spki.raw), ...altNames };
}

/** x509.ParseCertificate, what an issuer needs: { rawSubject, subjectKeyId, isCA, publicKey }. */
function parseCertificate(certificateDer) {
  const [tbs] = der.read(certificateDer).children();
  const fields = tbs.children();
  const offset = fields[0].tag === 0xa0 ? 1 : 0; // [0] version is absent in a v1 certificate
  const subject = fields[offset + 4];
  const spki = fields[offset + 5];
  const extensionsWrapper = fields.slice(offset + 6).find((node) => node.tag === 0xa3);
  const extensions = extensionsWrapper ? readExtensions(extensionsWrapper.children()[0]) : new Map();
  const basicConstraints = extensions.get(OID.basicConstraints);
  const isCA = basicConstraints ? der.read(basicConstraints.value).children().some((node) => node.tag === der.TAG.BOOLEAN && node.content[0] !== 0) : false;
  const subjectKeyId = extensions.get(OID.subjectKeyId);
  return {
    rawSubject: Buffer.from(subject.raw),
    subjectKeyId: subjectKeyId ? Buffer.from(der.read(subjectKeyId.value).content) : null,
    isCA,
    publicKey: publicKeyFrom(spki.raw),
  };
}

module.exports = {
  createCertificate, createCertificateRequest, parseCertificateRequest, parseCertificate, ipBytes,
  KEY_USAGE_BITS, EXT_KEY_USAGE_OIDS, SUPPORTED_KEY_USAGES,
};
