'use strict';
// tls_self_signed_cert of terraform-provider-tls v4.1.0 (internal/provider/resource_self_signed_cert.go).
const crypto = require('crypto');
const { requiresReplace, useStateForUnknown } = require('../plugin-framework/modifiers');
const { requireReplaceIfStateContainsPemString } = require('./common');
const { certificateRules, modifyPlanForRenewal, readRenewal, templateFromPlan, setKeyIdentifiers } = require('./certificate-common');
const { subjectRules, signerAndNames } = require('./subject');
const { createCertificate } = require('./x509');
const { encodePem } = require('./pem');

const rules = {
  ...certificateRules,
  ...subjectRules,
  private_key_pem: { planModifiers: [requireReplaceIfStateContainsPemString()] }, // :52-62
  set_authority_key_id: { default: false, planModifiers: [requiresReplace()] }, // :161-172
  key_algorithm: { planModifiers: [useStateForUnknown()] }, // :212-218
};

const error = (summary, detail) => ({ diagnostics: [{ severity: 'error', summary, detail }] });

/** Create (resource_self_signed_cert.go:321-443) with createCertificate (common_cert.go:114-248). */
function create({ planned }) {
  const signer = signerAndNames(planned);
  if (signer.diagnostics) return signer;
  const { parsed, names } = signer;
  const publicKey = crypto.createPublicKey(parsed.key);
  const { template: fromPlan, state } = templateFromPlan(planned);
  const template = { ...names, ...fromPlan, subjectKeyId: null, authorityKeyId: null };
  const refusal = setKeyIdentifiers(template, planned, publicKey);
  if (refusal) return refusal;
  if (planned.set_authority_key_id === true) { // common_cert.go:196-216, the parent is the certificate itself
    if (!template.subjectKeyId) return error('Invalid Certificate Authority', 'Could not determine Authority Key Identifier');
    template.authorityKeyId = template.subjectKeyId;
  }
  let certificate;
  try {
    certificate = createCertificate({ template, parent: 'self', publicKey, signer: parsed.key });
  } catch (failure) {
    return error('Failed to create certificate', failure.message);
  }
  return { state: { ...planned, ...state, key_algorithm: parsed.algorithm, cert_pem: encodePem('CERTIFICATE', certificate) } };
}

const selfSignedCertDefinition = (schema, now) => ({
  typeName: 'tls_self_signed_cert',
  schema,
  rules,
  modifyPlan: modifyPlanForRenewal(now), // :462-464
  create,
  read: readRenewal(now), // :445-449
});

module.exports = { selfSignedCertDefinition };
