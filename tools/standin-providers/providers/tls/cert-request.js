'use strict';
// tls_cert_request of terraform-provider-tls v4.1.0 (internal/provider/resource_cert_request.go): a PKCS#10 request
// signed with the given key; `id` is the hash of its DER.
const { useStateForUnknown } = require('../plugin-framework/modifiers');
const { hashForState, requireReplaceIfStateContainsPemString } = require('./common');
const { subjectRules, signerAndNames } = require('./subject');
const { createCertificateRequest } = require('./x509');
const { encodePem } = require('./pem');

const rules = {
  ...subjectRules, // :56-89, :122-208
  private_key_pem: { planModifiers: [requireReplaceIfStateContainsPemString()] }, // :43-53
  key_algorithm: { planModifiers: [useStateForUnknown()] }, // :92-98
  cert_request_pem: { planModifiers: [useStateForUnknown()] }, // :99-111
  id: { planModifiers: [useStateForUnknown()] }, // :112-119
};

const error = (summary, detail) => ({ diagnostics: [{ severity: 'error', summary, detail }] });

/** Create (resource_cert_request.go:218-332). */
function create({ planned }) {
  const signer = signerAndNames(planned);
  if (signer.diagnostics) return signer;
  const { parsed, names } = signer;
  let request;
  try {
    request = createCertificateRequest({ template: names, signer: parsed.key });
  } catch (failure) {
    return error('Error creating certificate request', failure.message);
  }
  return {
    state: { ...planned, key_algorithm: parsed.algorithm, cert_request_pem: encodePem('CERTIFICATE REQUEST', request), id: hashForState(request) },
  };
}

const certRequestDefinition = (schema) => ({ typeName: 'tls_cert_request', schema, rules, create });

module.exports = { certRequestDefinition };
