'use strict';
// The configuration validators random 3.7.2 and tls 4.1.0 declare, with the diagnostics of
// terraform-plugin-framework-validators v0.17.0 (helpers/validatordiag/diag.go:25-58 for the summaries and the
// "Attribute <path> <description>, got: <value>" details). Each is (value, { path, config }) → diagnostics; like
// the originals they skip null and unknown values.
const { UNKNOWN, isKnownValue, pathText } = require('./values');

function attributeError(path, summary, detail) {
  return { severity: 'error', summary, detail, attribute: path };
}

function goQuoted(value) {
  return JSON.stringify(value);
}

/** int64validator.AtLeast (int64validator/at_least.go:24-45). */
function atLeast(minimum) {
  return (value, { path }) => (isKnownValue(value) && value < minimum
    ? [attributeError(path, 'Invalid Attribute Value', `Attribute ${pathText(path)} value must be at least ${minimum}, got: ${value}`)]
    : []);
}

/**
 * int64validator.AtLeastSumOf (int64validator/at_least_sum_of.go:43-106): null terms count as nothing, an unknown
 * term skips the check.
 */
function atLeastSumOf(...names) {
  return (value, { path, config }) => {
    if (!isKnownValue(value)) return [];
    const terms = names.map((name) => config[name]);
    if (terms.includes(UNKNOWN)) return [];
    const sum = terms.reduce((total, term) => total + (term ?? 0), 0);
    return value < sum
      ? [attributeError(path, 'Invalid Attribute Value', `Attribute ${pathText(path)} value must be at least sum of ${names.join(' + ')}, got: ${value}`)]
      : [];
  };
}

/** stringvalidator.OneOf (stringvalidator/one_of.go:29-51). */
function oneOf(allowed) {
  return (value, { path }) => (isKnownValue(value) && !allowed.includes(value)
    ? [attributeError(path, 'Invalid Attribute Value Match',
      `Attribute ${pathText(path)} value must be one of: [${allowed.map(goQuoted).join(' ')}], got: ${goQuoted(value)}`)]
    : []);
}

/** stringvalidator.LengthAtLeast (stringvalidator/length_at_least.go). */
function lengthAtLeast(minimum) {
  return (value, { path }) => (isKnownValue(value) && value.length < minimum
    ? [attributeError(path, 'Invalid Attribute Value Length', `Attribute ${pathText(path)} string length must be at least ${minimum}, got: ${value.length}`)]
    : []);
}

/** listvalidator.SizeBetween (listvalidator/size_between.go:25-47). */
function sizeBetween(minimum, maximum) {
  return (value, { path }) => (isKnownValue(value) && (value.length < minimum || value.length > maximum)
    ? [attributeError(path, 'Invalid Attribute Value',
      `Attribute ${pathText(path)} list must contain at least ${minimum} elements and at most ${maximum} elements, got: ${value.length}`)]
    : []);
}

/** listvalidator.ValueStringsAre: the element validators run on each element, at the element's path. */
function valueStringsAre(...elementValidators) {
  return (value, context) => (isKnownValue(value)
    ? value.flatMap((element, index) => elementValidators.flatMap((check) => check(element, { ...context, path: [...context.path, index] })))
    : []);
}

/**
 * An Int64 attribute holds a whole number: the framework's conversion of a cty number to types.Int64 fails on a
 * fraction ("Value Conversion Error").
 */
function wholeNumber() {
  return (value, { path }) => (isKnownValue(value) && !Number.isInteger(value)
    ? [attributeError(path, 'Value Conversion Error', `Attribute ${pathText(path)} must be a whole number (a 64-bit integer), got: ${value}`)]
    : []);
}

module.exports = { attributeError, atLeast, atLeastSumOf, oneOf, lengthAtLeast, sizeBetween, valueStringsAre, wholeNumber };
