'use strict';
// Decoded Terraform values as the server hands them to a model: plain objects, arrays, strings, numbers, booleans,
// null, and UNKNOWN (Terraform's "known after apply"). Helpers the framework emulation and both models share.
const { UNKNOWN } = require('../../codec');

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep equality as terraform-plugin-go's tftypes.Value.Equal sees it: UNKNOWN equals only UNKNOWN. */
function equal(a, b) {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((element, i) => equal(element, b[i]));
  if (isObject(a) && isObject(b)) {
    // Same keys: a map with an extra key holding null is another map (objects always carry every attribute).
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && equal(a[key], b[key]));
  }
  return false;
}

/** A deep copy (UNKNOWN stays the same symbol). */
function clone(value) {
  if (Array.isArray(value)) return value.map(clone);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([key, element]) => [key, clone(element)]));
  return value;
}

/** Every path (names and indexes) at which `value` holds UNKNOWN. */
function unknownPaths(value, path = []) {
  if (value === UNKNOWN) return [path];
  if (Array.isArray(value)) return value.flatMap((element, i) => unknownPaths(element, [...path, i]));
  if (isObject(value)) return Object.entries(value).flatMap(([key, element]) => unknownPaths(element, [...path, key]));
  return [];
}

/** True when the value is neither null nor UNKNOWN (the framework's `!IsNull() && !IsUnknown()`). */
function isKnownValue(value) {
  return value !== null && value !== undefined && value !== UNKNOWN;
}

/** `a.b[0].c` for diagnostics. */
function pathText(path) {
  return path.map((step) => (typeof step === 'number' ? `[${step}]` : `.${step}`)).join('').replace(/^\./, '');
}

module.exports = { UNKNOWN, isObject, equal, clone, unknownPaths, isKnownValue, pathText };
