'use strict';
// The attribute plan modifiers of terraform-plugin-framework v1.14.1 that random 3.7.2 and tls 4.1.0 use, as
// functions of one request: { configValue, planValue, stateValue, config, plan, state, path } → { planValue?,
// requiresReplace?, diagnostics? }. `plan`/`state` are the whole planned / prior objects (null on create / destroy).
const { UNKNOWN, equal } = require('./values');

/**
 * RequiresReplaceIf: framework resource/schema/stringplanmodifier/requires_replace_if.go:51-73 (the int64, bool,
 * list and map variants are the same code): never on create (state null) or destroy (plan null), never when the
 * planned value equals the prior one; otherwise the condition decides.
 */
function requiresReplaceIf(condition, kind = 'requiresReplaceIf') {
  const modify = (request) => {
    if (request.state === null || request.plan === null) return {};
    if (equal(request.planValue, request.stateValue)) return {};
    return { requiresReplace: condition(request) === true };
  };
  // `kind` names the framework modifier, so a test can compare the rules with attribute-details.json.
  modify.kind = kind;
  return modify;
}

/** RequiresReplace: framework stringplanmodifier/requires_replace.go:22-30, RequiresReplaceIf with an always-true condition. */
function requiresReplace() {
  return requiresReplaceIf(() => true, 'requiresReplace');
}

/**
 * UseStateForUnknown: framework stringplanmodifier/use_state_for_unknown.go:38-55: a planned unknown takes the prior
 * value when there is one and the configuration is not itself unknown.
 */
function useStateForUnknown() {
  const modify = (request) => {
    if (request.stateValue === null || request.stateValue === undefined) return {};
    if (request.planValue !== UNKNOWN) return {};
    if (request.configValue === UNKNOWN) return {};
    return { planValue: request.stateValue };
  };
  modify.kind = 'useStateForUnknown';
  return modify;
}

module.exports = { requiresReplace, requiresReplaceIf, useStateForUnknown };
