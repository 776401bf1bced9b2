'use strict';
// What tls_self_signed_cert and tls_locally_signed_cert share (terraform-provider-tls v4.1.0
// internal/provider/common_cert.go): the validity/renewal rules, the template from the plan, and the state a new
// certificate writes. See also shared/providers/hashicorp-tls/README.md, "Certificate renewal".
const crypto = require('crypto');
const { UNKNOWN } = require('../plugin-framework/values');
const { requiresReplace, useStateForUnknown } = require('../plugin-framework/modifiers');
const { atLeast, oneOf, valueStringsAre } = require('../plugin-framework/validators');
const { KEY_USAGE_BITS, EXT_KEY_USAGE_OIDS, SUPPORTED_KEY_USAGES } = require('./x509');
const { isEmptyName } = require('./names');
const { subjectKeyId } = require('./subject-key-id');

const HOUR_MS = 3600 * 1000;

/**
 * ReadyForRenewal (internal/provider/attribute_plan_modifier_bool/default_value.go:33-63): true when
 * validity_period_hours is 0 or early_renewal_hours ≥ validity_period_hours. Like Go's ValueInt64(), an unknown
 * validity_period_hours reads as 0.
 */
function readyForRenewalPlanModifier() {
  return ({ plan, planValue }) => {
    const validity = typeof plan.validity_period_hours === 'number' ? plan.validity_period_hours : 0;
    if (validity === 0) return { planValue: true };
    const early = plan.early_renewal_hours;
    if (early === null || early === UNKNOWN) return { planValue };
    return early >= validity ? { planValue: true } : { planValue };
  };
}

/** True when `now` ≥ validity_end_time − early_renewal_hours (common_cert.go:287-295 and :333-341). */
function renewalDue(validityEndTime, earlyRenewalHours, now) {
  const end = Date.parse(validityEndTime);
  if (Number.isNaN(end)) throw new Error(`Failed to parse data from string: ${validityEndTime}`);
  return now.getTime() >= end - (typeof earlyRenewalHours === 'number' ? earlyRenewalHours : 0) * HOUR_MS;
}

/**
 * ModifyPlan → modifyPlanIfCertificateReadyForRenewal (common_cert.go:257-301): once the planned (kept) end time
 * minus early_renewal_hours has passed, ready_for_renewal becomes unknown and forces replacement.
 */
function modifyPlanForRenewal(now = () => new Date()) {
  return ({ plan }) => {
    const end = plan.validity_end_time;
    if (end === null || end === UNKNOWN) return { plan };
    try {
      if (!renewalDue(end, plan.early_renewal_hours, now())) return { plan };
    } catch (error) {
      return { plan, diagnostics: [{ severity: 'error', summary: error.message, detail: 'validity_end_time is not an RFC 3339 time' }] };
    }
    return { plan: { ...plan, ready_for_renewal: UNKNOWN }, requiresReplace: [['ready_for_renewal']] };
  };
}

/** Read → modifyStateIfCertificateReadyForRenewal (common_cert.go:303-346): state ready_for_renewal = true once due. */
function readRenewal(now = () => new Date()) {
  return ({ state }) => {
    if (typeof state.validity_end_time !== 'string') return { state };
    try {
      return renewalDue(state.validity_end_time, state.early_renewal_hours, now()) ? { state: { ...state, ready_for_renewal: true } } : { state };
    } catch (error) {
      return { state, diagnostics: [{ severity: 'error', summary: error.message, detail: 'validity_end_time is not an RFC 3339 time' }] };
    }
  };
}

/** The rules both certificate resources give these attributes (resource_self_signed_cert.go:63-226). */
const certificateRules = {
  validity_period_hours: { planModifiers: [requiresReplace()], validators: [atLeast(0)] }, // :63-72
  allowed_uses: { // :73-90
    planModifiers: [requiresReplace()],
    validators: [valueStringsAre(oneOf(SUPPORTED_KEY_USAGES))],
  },
  early_renewal_hours: { default: 0, validators: [atLeast(0)] }, // :127-141, no replacement: an in-place update
  is_ca_certificate: { default: false, planModifiers: [requiresReplace()] }, // :142-150
  set_subject_key_id: { default: false, planModifiers: [requiresReplace()] }, // :151-160
  cert_pem: { planModifiers: [useStateForUnknown()] }, // :175-186
  ready_for_renewal: { default: false, planModifiers: [readyForRenewalPlanModifier()] }, // :187-195
  validity_start_time: { planModifiers: [useStateForUnknown()] }, // :196-203
  validity_end_time: { planModifiers: [useStateForUnknown()] }, // :204-211
  id: { planModifiers: [useStateForUnknown()] }, // :219-225
};

/** time.Time.MarshalText (RFC 3339 with the fraction's trailing zeros dropped), in UTC. */
function rfc3339(date) {
  return date.toISOString().replace(/\.?0+Z$/, 'Z').replace(/\.Z$/, 'Z');
}

/** A random serial below 2^128 (common_cert.go:128-134). */
function randomSerial() {
  return BigInt(`0x${crypto.randomBytes(16).toString('hex')}`);
}

/**
 * The parts of createCertificate (common_cert.go:114-248) that come from the plan: validity, serial, key usages and
 * CA flag. → { template fields, id, validity_start_time, validity_end_time }.
 */
function templateFromPlan(planned, now = new Date()) {
  const notBefore = now;
  const notAfter = new Date(notBefore.getTime() + planned.validity_period_hours * HOUR_MS);
  if (Number.isNaN(notAfter.getTime())) {
    throw new Error(`validity_period_hours ${planned.validity_period_hours} puts the end of validity beyond what a time can hold`);
  }
  const serialNumber = randomSerial();
  let keyUsage = 0;
  const extKeyUsage = [];
  for (const use of planned.allowed_uses ?? []) {
    if (KEY_USAGE_BITS[use] !== undefined) keyUsage |= KEY_USAGE_BITS[use];
    if (EXT_KEY_USAGE_OIDS[use] !== undefined) extKeyUsage.push(EXT_KEY_USAGE_OIDS[use]);
  }
  return {
    template: { serialNumber, notBefore, notAfter, keyUsage, extKeyUsage, isCA: planned.is_ca_certificate === true },
    state: { id: serialNumber.toString(10), validity_start_time: rfc3339(notBefore), validity_end_time: rfc3339(notAfter) },
  };
}

/**
 * common_cert.go:154-194: a CA needs a subject (RFC 5280 4.1.2.6) and gets a subject key identifier, as does
 * set_subject_key_id. Sets template.subjectKeyId; → the provider's error result, or null.
 */
function setKeyIdentifiers(template, planned, publicKey) {
  if (template.isCA) {
    if (isEmptyName(template.subject)) {
      return { diagnostics: [{ severity: 'error', summary: 'Invalid Certificate Subject', detail: 'Must contain at least one Distinguished Name when creating Certificate Authority (CA)' }] };
    }
    template.subjectKeyId = subjectKeyId(publicKey);
  }
  if (planned.set_subject_key_id === true) template.subjectKeyId = subjectKeyId(publicKey);
  return null;
}

module.exports = { certificateRules, modifyPlanForRenewal, readRenewal, templateFromPlan, setKeyIdentifiers };
