'use strict';
// The `subject` block, DNS names, IP addresses and URIs of tls_self_signed_cert and tls_cert_request
// (resource_self_signed_cert.go:93-126 and :228-314, resource_cert_request.go:56-89 and :122-208): their rules and
// their reading into certificate template fields (resource_self_signed_cert.go:350-422).
const { requiresReplace } = require('../plugin-framework/modifiers');
const { lengthAtLeast, sizeBetween, valueStringsAre } = require('../plugin-framework/validators');
const { nameFromSubject } = require('./names');
const { ipBytes } = require('./x509');
const { parsePrivateKeyPem } = require('./keys');

const SUBJECT_FIELDS = ['common_name', 'country', 'email_address', 'locality', 'organization', 'organizational_unit',
  'postal_code', 'province', 'serial_number', 'street_address'];

// Every one of these forces replacement; the block is a list of at most one (listvalidator.SizeBetween(0, 1)).
const subjectRules = {
  dns_names: { planModifiers: [requiresReplace()] },
  ip_addresses: { planModifiers: [requiresReplace()], validators: [valueStringsAre(lengthAtLeast(1))] },
  uris: { planModifiers: [requiresReplace()], validators: [valueStringsAre(lengthAtLeast(1))] },
  subject: { planModifiers: [requiresReplace()], validators: [sizeBetween(0, 1)] },
  ...Object.fromEntries(SUBJECT_FIELDS.map((field) => [`subject.${field}`, { planModifiers: [requiresReplace()] }])),
};

/** Go's url.Parse accepts nearly any string; what it rejects (control characters, white space) is refused here. */
function checkUri(text) {
  if (/[\x00-\x20\x7f]/.test(text)) throw new Error(`Failed to parse ${JSON.stringify(text)}: invalid character in URL`);
  return text;
}

/**
 * The name and alternative names of the plan → { subject, dnsNames, ipAddresses, uris }, or throws
 * { summary, detail } as the resources' Create does for an address or URI it cannot parse.
 */
function namesFromPlan(planned) {
  const subjects = Array.isArray(planned.subject) ? planned.subject : [];
  const ipAddresses = (planned.ip_addresses ?? []).map((text) => {
    const bytes = ipBytes(text);
    if (!bytes) throw Object.assign(new Error('Invalid IP address'), { detail: `Failed to parse ${JSON.stringify(text)}` });
    return bytes;
  });
  const uris = (planned.uris ?? []).map((text) => {
    try {
      return checkUri(text);
    } catch (error) {
      throw Object.assign(new Error('Invalid URI'), { detail: error.message });
    }
  });
  return { subject: nameFromSubject(subjects[0] ?? null), dnsNames: planned.dns_names ?? [], ipAddresses, uris };
}

/**
 * The signing key and the subject / SAN names of a planned request or self-signed certificate, or the error
 * diagnostics the provider's create reports for either (resource_cert_request.go, resource_self_signed_cert.go).
 */
function signerAndNames(planned) {
  const fail = (summary, detail) => ({ diagnostics: [{ severity: 'error', summary, detail }] });
  let parsed;
  try {
    parsed = parsePrivateKeyPem(planned.private_key_pem);
  } catch (failure) {
    return fail('Failed to parse private key PEM', failure.message);
  }
  try {
    return { parsed, names: namesFromPlan(planned) };
  } catch (failure) {
    return fail(failure.message, failure.detail);
  }
}

module.exports = { subjectRules, namesFromPlan, signerAndNames };
