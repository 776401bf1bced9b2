'use strict';
// The plugin's throwaway server certificate for go-plugin's AutoMTLS. The client loads it as its only root and
// dials with ServerName "localhost" (terraform-plugin-protocol/README.md, "AutoMTLS via PLUGIN_CLIENT_CERT"), so it
// is self-signed for localhost, shaped like go-plugin's own (mtls.go generateCert: CA, server and client auth).
// Built with node's crypto and a few lines of DER: @peculiar/x509 needs a reflect-metadata polyfill the project
// does not install, and loading it would slow every provider start.
const crypto = require('crypto');

function length(n) {
  if (n < 0x80) return Buffer.from([n]);
  const bytes = [];
  for (let rest = n; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag, ...content) => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};
const sequence = (...parts) => tlv(0x30, ...parts);
const set = (...parts) => tlv(0x31, ...parts);
const explicit = (n, ...parts) => tlv(0xa0 + n, ...parts);
const octets = (buffer) => tlv(0x04, buffer);
const bits = (buffer, unused = 0) => tlv(0x03, Buffer.from([unused]), buffer);
const utf8 = (text) => tlv(0x0c, Buffer.from(text, 'utf8'));
const TRUE = tlv(0x01, Buffer.from([0xff]));

function integer(buffer) {
  const positive = buffer[0] & 0x80 ? Buffer.concat([Buffer.from([0]), buffer]) : buffer;
  return tlv(0x02, positive);
}

function oid(dotted) {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * a + b];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let value = arc >> 7; value > 0; value >>= 7) chunk.unshift(0x80 | (value & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function utcTime(date) {
  const text = date.toISOString().replace(/[-:T]/g, '').slice(2, 14);
  return tlv(0x17, Buffer.from(`${text}Z`, 'ascii'));
}

function extension(id, critical, value) {
  return sequence(oid(id), ...(critical ? [TRUE] : []), octets(value));
}

const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));
const LOCALHOST = sequence(set(sequence(oid('2.5.4.3'), utf8('localhost'))));

/** → { certPem, keyPem, certDer } of a new self-signed ECDSA P-256 certificate for localhost, valid for a day. */
function createLocalhostCertificate() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(Buffer.concat([Buffer.from([0x01]), crypto.randomBytes(15)])),
    ECDSA_WITH_SHA256,
    LOCALHOST,
    sequence(utcTime(new Date(now - 60_000)), utcTime(new Date(now + 86_400_000))),
    LOCALHOST,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(
      extension('2.5.29.19', true, sequence(TRUE)), // basicConstraints: CA
      extension('2.5.29.15', true, bits(Buffer.from([0xa4]), 2)), // keyUsage: digitalSignature, keyEncipherment, keyCertSign
      extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'))), // serverAuth, clientAuth
      extension('2.5.29.17', false, sequence(tlv(0x82, Buffer.from('localhost', 'ascii')))), // SAN dNSName
    )),
  );
  const certDer = sequence(tbs, ECDSA_WITH_SHA256, bits(crypto.sign('sha256', tbs, privateKey)));
  const certPem = `-----BEGIN CERTIFICATE-----\n${certDer.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  return { certPem, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }), certDer };
}

module.exports = { createLocalhostCertificate };
