'use strict';
// The `keepers` plan modifier of terraform-provider-random v3.7.2: mapplanmodifiers.RequiresReplaceIfValuesNotNull
// (internal/planmodifiers/map/mapplanmodifiers.go:18-99). Replace when keepers change, except when the only
// differences are keys whose configured value is null (SDKv2 stored such maps without those keys).
const { UNKNOWN, equal } = require('../plugin-framework/values');

/** The elements of a map value; an unknown map has none to look at (the framework's Elements() of an unknown map). */
function elementsOf(map) {
  return map === null || map === UNKNOWN ? {} : map;
}

function requiresReplaceIfValuesNotNull() {
  const modify = ({ state, plan, configValue, stateValue }) => {
    if (state === null || plan === null) return {}; // :19-29, create and destroy
    if (equal(configValue, stateValue)) return {}; // :33-35
    const configElements = elementsOf(configValue);
    if (stateValue === null) {
      // :37-52 — a null prior map: replace only when some configured value is not null.
      return { requiresReplace: Object.values(configElements).some((value) => value !== null) };
    }
    // :53-96 — a configured key missing from state with a null value is no change; any other difference is.
    const stateElements = elementsOf(stateValue);
    const configDiffers = Object.entries(configElements).some(([key, value]) => {
      if (!(key in stateElements) && value === null) return false;
      return !equal(value, stateElements[key] ?? null) || !(key in stateElements);
    });
    const keyDropped = Object.keys(stateElements).some((key) => !(key in configElements));
    return { requiresReplace: configDiffers || keyDropped };
  };
  modify.kind = 'requiresReplaceIf';
  return modify;
}

module.exports = { requiresReplaceIfValuesNotNull };
