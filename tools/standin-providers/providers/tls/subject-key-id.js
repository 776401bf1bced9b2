'use strict';
// generateSubjectKeyID of terraform-provider-tls v4.1.0 (internal/provider/common_cert.go:77-112): SHA-1 of the
// public key as Go marshals it there — RSA as a PKCS#1 RSAPublicKey, ECDSA as the uncompressed point, ED25519 as an
// ASN.1 OCTET STRING of the 32 key bytes (asn1.Marshal of a []byte).
const crypto = require('crypto');
const der = require('./der');
const { algorithmOf, publicKeyDer } = require('./keys');

/** The subject public key bytes of a SubjectPublicKeyInfo (the BIT STRING's content after its unused-bits byte). */
function subjectPublicKeyBytes(key) {
  const [, bitString] = der.read(publicKeyDer(key)).children();
  return bitString.content.subarray(1);
}

function subjectKeyId(publicKey) {
  let marshalled;
  switch (algorithmOf(publicKey)) {
    case 'RSA': marshalled = publicKey.export({ type: 'pkcs1', format: 'der' }); break;
    case 'ECDSA': marshalled = subjectPublicKeyBytes(publicKey); break;
    default: marshalled = der.octetString(subjectPublicKeyBytes(publicKey));
  }
  return crypto.createHash('sha1').update(marshalled).digest();
}

module.exports = { subjectKeyId };
