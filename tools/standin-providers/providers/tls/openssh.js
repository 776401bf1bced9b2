'use strict';
// OpenSSH encodings of a key as golang.org/x/crypto/ssh makes them for terraform-provider-tls v4.1.0
// (common_key.go:196-206, resource_private_key.go:320-331): the authorized_keys line, the MD5 and SHA256
// fingerprints, and the unencrypted "openssh-key-v1" private key (ssh.MarshalPrivateKey with an empty comment).
// x/crypto/ssh has no ECDSA P-224 (common_key.go:196-197, resource_private_key.go:443-454): no encodings then.
const crypto = require('crypto');
const { encodePem } = require('./pem');
const { algorithmOf, curveOf } = require('./keys');

const SSH_CURVES = { P256: 'nistp256', P384: 'nistp384', P521: 'nistp521' };

const uint32 = (n) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(n >>> 0);
  return bytes;
};
const sshString = (value) => {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
  return Buffer.concat([uint32(bytes.length), bytes]);
};

/** An SSH mpint of an unsigned big-endian number (RFC 4251 §5): minimal, a 0x00 before a high bit, empty for zero. */
function mpint(unsigned) {
  let start = 0;
  while (start < unsigned.length && unsigned[start] === 0) start += 1;
  let bytes = unsigned.subarray(start);
  if (bytes.length > 0 && bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return sshString(bytes);
}

const jwkBytes = (value) => Buffer.from(value, 'base64url');

/** The key's SSH description, or null when x/crypto/ssh cannot represent it (ECDSA P-224). */
function sshKey(key) {
  const publicKey = key.type === 'private' ? crypto.createPublicKey(key) : key;
  const algorithm = algorithmOf(publicKey);
  if (algorithm === 'ECDSA' && !SSH_CURVES[curveOf(publicKey)]) return null;
  const jwk = publicKey.export({ format: 'jwk' });
  switch (algorithm) {
    case 'RSA':
      return { type: 'ssh-rsa', wire: Buffer.concat([sshString('ssh-rsa'), mpint(jwkBytes(jwk.e)), mpint(jwkBytes(jwk.n))]) };
    case 'ECDSA': {
      const curve = SSH_CURVES[curveOf(publicKey)];
      const point = Buffer.concat([Buffer.from([4]), jwkBytes(jwk.x), jwkBytes(jwk.y)]);
      const type = `ecdsa-sha2-${curve}`;
      return { type, curve, point, wire: Buffer.concat([sshString(type), sshString(curve), sshString(point)]) };
    }
    default:
      return { type: 'ssh-ed25519', wire: Buffer.concat([sshString('ssh-ed25519'), sshString(jwkBytes(jwk.x))]) };
  }
}

/**
 * { publicKeyOpenssh, fingerprintMd5, fingerprintSha256 } (ssh.MarshalAuthorizedKey, FingerprintLegacyMD5,
 * FingerprintSHA256); all empty strings for a key SSH cannot hold, as the provider writes them.
 */
function publicKeyAttributes(key) {
  const ssh = sshKey(key);
  if (!ssh) return { publicKeyOpenssh: '', fingerprintMd5: '', fingerprintSha256: '' };
  const md5 = crypto.createHash('md5').update(ssh.wire).digest('hex').match(/../g).join(':');
  const sha256 = crypto.createHash('sha256').update(ssh.wire).digest('base64').replace(/=+$/, '');
  return { publicKeyOpenssh: `${ssh.type} ${ssh.wire.toString('base64')}\n`, fingerprintMd5: md5, fingerprintSha256: `SHA256:${sha256}` };
}

/** The key-specific part of the private section (x/crypto/ssh keys.go marshalOpenSSHPrivateKey). */
function privateSection(key, ssh) {
  const jwk = key.export({ format: 'jwk' });
  const comment = sshString('');
  switch (ssh.type) {
    case 'ssh-rsa':
      return Buffer.concat([mpint(jwkBytes(jwk.n)), mpint(jwkBytes(jwk.e)), mpint(jwkBytes(jwk.d)), mpint(jwkBytes(jwk.qi)),
        mpint(jwkBytes(jwk.p)), mpint(jwkBytes(jwk.q)), comment]);
    case 'ssh-ed25519': {
      const publicBytes = jwkBytes(jwk.x);
      return Buffer.concat([sshString(publicBytes), sshString(Buffer.concat([jwkBytes(jwk.d), publicBytes])), comment]);
    }
    default:
      return Buffer.concat([sshString(ssh.curve), sshString(ssh.point), mpint(jwkBytes(jwk.d)), comment]);
  }
}

/** private_key_openssh: "OPENSSH PRIVATE KEY" PEM, cipher and KDF "none", padded to 8 bytes; '' when unsupported. */
function privateKeyOpenssh(key) {
  const ssh = sshKey(key);
  if (!ssh) return '';
  const check = crypto.randomBytes(4).readUInt32BE(0);
  let block = Buffer.concat([uint32(check), uint32(check), sshString(ssh.type), privateSection(key, ssh)]);
  const padding = [];
  for (let i = 0; (block.length + i) % 8 !== 0; i += 1) padding.push(i + 1);
  block = Buffer.concat([block, Buffer.from(padding)]);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'), sshString('none'), sshString(''), uint32(1), sshString(ssh.wire), sshString(block),
  ]);
  return encodePem('OPENSSH PRIVATE KEY', body);
}

module.exports = { publicKeyAttributes, privateKeyOpenssh };
