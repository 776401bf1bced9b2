'use strict';
// random_password (schema version 3) and random_string (schema version 2) of terraform-provider-random v3.7.2: the
// same attributes and plan rules (passwordSchemaV3, resource_password.go:558-751; stringSchemaV3,
// resource_string.go:355-537); the password adds a bcrypt hash and the id "none", the string's id is its result.
// Defaults and replacement are also listed in shared/providers/hashicorp-random/attribute-details.json.
const bcrypt = require('bcryptjs');
const { UNKNOWN } = require('../plugin-framework/values');
const { requiresReplace, requiresReplaceIf, useStateForUnknown } = require('../plugin-framework/modifiers');
const { atLeast, atLeastSumOf, attributeError } = require('../plugin-framework/validators');
const { requiresReplaceIfValuesNotNull } = require('./keepers');
const { createString } = require('./string');

// bcrypt.DefaultCost of golang.org/x/crypto/bcrypt, which writes the "$2a$" prefix.
const BCRYPT_COST = 10;
const BCRYPT_MAX_BYTES = 72;

/**
 * NumberNumericAttributePlanModifier (internal/planmodifiers/bool/boolplanmodifiers.go:31-71), on both `number` and
 * `numeric`: an error when both are configured differently, true when both are null, else the configured one.
 * Like Go's ValueBool(), an unknown reads as false in the comparison.
 */
function numberNumericPlanModifier() {
  return ({ config, planValue }) => {
    const number = config.number ?? null;
    const numeric = config.numeric ?? null;
    const asBool = (value) => value === true;
    if (number !== null && numeric !== null && asBool(number) !== asBool(numeric)) {
      return {
        diagnostics: [{ severity: 'error', summary: 'Number and numeric are both configured with different values', detail: 'Number is deprecated, use numeric instead' }],
      };
    }
    if (number === null && numeric === null) return { planValue: true };
    if (number === null) return { planValue: numeric };
    if (numeric === null) return { planValue: number };
    return { planValue };
  };
}

/**
 * RequiresReplaceUnlessEmptyStringToNull (internal/planmodifiers/string/stringplanmodifier.go:21-44): under
 * RequiresReplaceIf, replace on any change except prior "" → config null, and never while the config is unknown.
 */
function requiresReplaceUnlessEmptyStringToNull() {
  return requiresReplaceIf(({ configValue, stateValue }) => {
    if (configValue === UNKNOWN) return false;
    if (configValue !== null || stateValue === null) return true;
    return stateValue !== '';
  });
}

/**
 * validators.AtLeastOneOfTrue(special, upper, lower) on `number`/`numeric` (internal/validators/boolvalidator.go:42-96):
 * a configured false fails only when special, upper and lower are all configured false.
 */
function atLeastOneOfTrue(...names) {
  return (value, { path, config }) => {
    if (value === null || value === UNKNOWN || value === true) return [];
    const others = names.map((name) => config[name] ?? null);
    if (others.some((other) => other === null || other === UNKNOWN || other === true)) return [];
    return [attributeError(path, 'Invalid Attribute Combination',
      `At least one attribute out of [${[...names, path[0]].join(',')}] must be specified as true`)];
  };
}

// Every configurable attribute forces replacement; every computed result keeps its prior value
// (shared/providers/hashicorp-random/README.md, "Defaults, plan behaviour, replacement").
const classRules = (withDefault) => ({ default: withDefault, planModifiers: [requiresReplace()] });
const rules = {
  keepers: { planModifiers: [requiresReplaceIfValuesNotNull()] }, // resource_password.go:571-579
  length: { // resource_password.go:581-597
    planModifiers: [requiresReplace()],
    validators: [atLeast(1), atLeastSumOf('min_upper', 'min_lower', 'min_numeric', 'min_special')],
  },
  special: classRules(true), // resource_password.go:599-607, booldefault.StaticBool(true)
  upper: classRules(true), // :609-616
  lower: classRules(true), // :618-626
  number: { // :628-647, deprecated alias of numeric
    planModifiers: [numberNumericPlanModifier(), requiresReplace()],
    validators: [atLeastOneOfTrue('special', 'upper', 'lower')],
  },
  numeric: { // :649-666
    planModifiers: [numberNumericPlanModifier(), requiresReplace()],
    validators: [atLeastOneOfTrue('special', 'upper', 'lower')],
  },
  min_numeric: classRules(0), // :668-676, int64default.StaticInt64(0)
  min_upper: classRules(0), // :678-686
  min_lower: classRules(0), // :688-696
  min_special: classRules(0), // :698-706
  override_special: { planModifiers: [requiresReplaceUnlessEmptyStringToNull()] }, // :708-720
  result: { planModifiers: [useStateForUnknown()] }, // :722-729
  bcrypt_hash: { planModifiers: [useStateForUnknown()] }, // :731-740 (random_password only)
  id: { planModifiers: [useStateForUnknown()] }, // :742-748
};

/** The string from the planned parameters (Create: resource_password.go:61-78, resource_string.go:59-76). */
function resultFrom(planned) {
  return createString({
    length: planned.length,
    upper: planned.upper,
    minUpper: planned.min_upper,
    lower: planned.lower,
    minLower: planned.min_lower,
    numeric: planned.numeric,
    minNumeric: planned.min_numeric,
    special: planned.special,
    minSpecial: planned.min_special,
    overrideSpecial: planned.override_special ?? '',
  });
}

/** Creates the string or answers the provider's "Random Read Error" (internal/diagnostics/diagnostics.go:14-25). */
function generate(planned) {
  try {
    return { result: resultFrom(planned) };
  } catch (error) {
    return {
      diagnostics: [{
        severity: 'error', summary: 'Random Read Error',
        detail: `While attempting to generate a random value for this resource, a read error was generated.\n\nOriginal Error: ${error.message}`,
      }],
    };
  }
}

/** generateHash (resource_password.go:545-556): bcrypt of at most the first 72 bytes, default cost, "$2a$". */
function bcryptHash(text) {
  const truncated = Buffer.from(text, 'utf8').subarray(0, BCRYPT_MAX_BYTES).toString('utf8');
  const salt = bcrypt.genSaltSync(BCRYPT_COST).replace(/^\$2b\$/, '$2a$');
  return bcrypt.hashSync(truncated, salt);
}

const passwordDefinition = (schema) => ({
  typeName: 'random_password',
  schema,
  rules,
  upgradeNote: 'terraform-provider-random v3.7.2 upgrades random_password state from versions 0, 1 and 2 to 3 (resource_password.go:148-167).',
  create({ planned }) { // resource_password.go:52-90
    const { result, diagnostics } = generate(planned);
    if (diagnostics) return { diagnostics };
    return { state: { ...planned, result, bcrypt_hash: bcryptHash(result), id: 'none' } };
  },
});

const stringDefinition = (schema) => ({
  typeName: 'random_string',
  schema,
  rules: Object.fromEntries(Object.entries(rules).filter(([name]) => name !== 'bcrypt_hash')),
  upgradeNote: 'terraform-provider-random v3.7.2 upgrades random_string state from version 1 to 2 (resource_string.go:133-147).',
  create({ planned }) { // resource_string.go:50-82
    const { result, diagnostics } = generate(planned);
    if (diagnostics) return { diagnostics };
    return { state: { ...planned, result, id: result } };
  },
});

module.exports = { passwordDefinition, stringDefinition };
