'use strict';
// tls_locally_signed_cert of terraform-provider-tls v4.1.0 (internal/provider/resource_locally_signed_cert.go): the
// request's subject and alternative names, signed by the CA key under the CA certificate.
const { useStateForUnknown } = require('../plugin-framework/modifiers');
const { requireReplaceIfStateContainsPemString } = require('./common');
const { certificateRules, modifyPlanForRenewal, readRenewal, templateFromPlan, setKeyIdentifiers } = require('./certificate-common');
const { parsePrivateKeyPem } = require('./keys');
const { createCertificate, parseCertificate, parseCertificateRequest } = require('./x509');
const { encodePem, decodePem } = require('./pem');

const rules = {
  ...certificateRules, // :76-139, :142-192 (no set_authority_key_id here)
  ca_cert_pem: { planModifiers: [requireReplaceIfStateContainsPemString()] }, // :51-58
  ca_private_key_pem: { planModifiers: [requireReplaceIfStateContainsPemString()] }, // :59-67
  cert_request_pem: { planModifiers: [requireReplaceIfStateContainsPemString()] }, // :68-75
  ca_key_algorithm: { planModifiers: [useStateForUnknown()] }, // :179-185
};

const error = (summary, detail) => ({ diagnostics: [{ severity: 'error', summary, detail }] });

/** decodePEM (resource_locally_signed_cert.go:328-339): the first block, of the expected type. */
function decodeExpected(text, type) {
  const block = decodePem(text);
  if (!block) throw new Error(`failed to decode PEM of expected type "${type}" from bytes`);
  if (block.type !== type) throw new Error(`invalid PEM type - expected "${type}", got "${block.type}"`);
  return block.bytes;
}

function parseWith(parse, text, type, what) {
  try {
    return parse(decodeExpected(text, type));
  } catch (failure) {
    const fromPem = failure.message.startsWith('failed to decode') || failure.message.startsWith('invalid PEM');
    throw new Error(fromPem ? failure.message : `failed to parse ${what}: ${failure.message}`);
  }
}

/** Create (resource_locally_signed_cert.go:200-271). */
function create({ planned }) {
  let request;
  try {
    request = parseWith(parseCertificateRequest, planned.cert_request_pem, 'CERTIFICATE REQUEST', 'certificate request');
  } catch (failure) {
    return error('Failed to parse certificate request PEM', failure.message);
  }
  let caKey;
  try {
    caKey = parsePrivateKeyPem(planned.ca_private_key_pem);
  } catch (failure) {
    return error('Failed to parse CA private key PEM', failure.message);
  }
  let ca;
  try {
    ca = parseWith(parseCertificate, planned.ca_cert_pem, 'CERTIFICATE', 'certificate');
  } catch (failure) {
    return error('Failed to parse CA certificate PEM', failure.message);
  }
  const diagnostics = ca.isCA ? [] : [{ // :242-248
    severity: 'warning',
    summary: 'Potentially Invalid Certificate Authority',
    detail: 'Certificate provided as Authority does not appear to be a valid Certificate Authority. '
      + 'The resulting certificate might fail certificate validation.',
  }];
  const { template: fromPlan, state } = templateFromPlan(planned);
  // :251-257 — only the subject and the DNS/IP/URI names of the request are taken.
  const template = {
    subject: request.subject, dnsNames: request.dnsNames, ipAddresses: request.ipAddresses, uris: request.uris,
    ...fromPlan, subjectKeyId: null, authorityKeyId: null,
  };
  const refusal = setKeyIdentifiers(template, planned, request.publicKey);
  if (refusal) return refusal;
  let certificate;
  try {
    certificate = createCertificate({ template, parent: ca, publicKey: request.publicKey, signer: caKey.key });
  } catch (failure) {
    return error('Failed to create certificate', failure.message);
  }
  return {
    state: { ...planned, ...state, ca_key_algorithm: caKey.algorithm, cert_pem: encodePem('CERTIFICATE', certificate) },
    diagnostics,
  };
}

const locallySignedCertDefinition = (schema, now) => ({
  typeName: 'tls_locally_signed_cert',
  schema,
  rules,
  modifyPlan: modifyPlanForRenewal(now), // :290-292
  create,
  read: readRenewal(now), // :273-277
});

module.exports = { locallySignedCertDefinition };
