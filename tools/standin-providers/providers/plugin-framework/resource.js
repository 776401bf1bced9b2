'use strict';
// A resource of the stand-in's model interface (tools/standin-providers/README.md) from a framework resource
// definition: { typeName, schema: { version, block }, rules, validateConfig?, modifyPlan?, create, update?, read? }.
// `create`/`update`/`read` return { state, diagnostics? }; delete is a no-op for every resource modelled here.
const { unknownPaths, equal, pathText, UNKNOWN } = require('./values');
const { planResourceChange, validateResourceConfig, hasErrors } = require('./plan');

function errorDiagnostic(summary, detail, attribute) {
  return { severity: 'error', summary, detail, ...(attribute ? { attribute } : {}) };
}

/** Paths where `state` differs from a known part of `planned` (Terraform: "inconsistent result after apply"). */
function inconsistentPaths(planned, state, path = []) {
  if (planned === UNKNOWN) return [];
  if (Array.isArray(planned) && Array.isArray(state) && planned.length === state.length) {
    return planned.flatMap((element, i) => inconsistentPaths(element, state[i], [...path, i]));
  }
  if (planned && typeof planned === 'object' && !Array.isArray(planned) && state && typeof state === 'object' && !Array.isArray(state)
    && Object.keys(planned).length === Object.keys(state).length && Object.keys(planned).every((key) => key in state)) {
    return Object.keys(planned).flatMap((key) => inconsistentPaths(planned[key], state[key], [...path, key]));
  }
  return equal(planned, state) ? [] : [path];
}

/**
 * A state as the current schema reads it, as the framework's UpgradeResourceState passthrough does for the current
 * version (internal/fwserver/server_upgraderesourcestate.go:59-110, IgnoreUndefinedAttributes): attributes the schema
 * lacks are dropped, missing ones are null, missing list blocks empty.
 */
function conformToSchema(block, value) {
  const result = {};
  for (const name of Object.keys(block.attributes ?? {})) result[name] = value?.[name] ?? null;
  for (const [name, blockType] of Object.entries(block.block_types ?? {})) {
    result[name] = (Array.isArray(value?.[name]) ? value[name] : []).map((element) => conformToSchema(blockType.block, element));
  }
  return result;
}

/** The copy-the-plan Update of the random resources and the tls certificates (random resource_password.go:96-107, tls common.go:35-48). */
function copyPlan({ planned }) {
  return { state: planned };
}

function frameworkResource(definition) {
  const { typeName } = definition;
  return {
    // The plan rules, for tests that compare them with the provider's facts (attribute-details.json).
    rules: definition.rules,
    hasModifyPlan: typeof definition.modifyPlan === 'function',

    validate({ config }) {
      return { diagnostics: validateResourceConfig(definition, config) };
    },

    plan(request) {
      return planResourceChange(definition, request);
    },

    apply({ prior, planned, config, plannedPrivate }) {
      const privateData = plannedPrivate ?? null;
      if (planned === null) return { state: null, private: null, diagnostics: [] };
      const operation = prior === null ? definition.create : (definition.update ?? copyPlan);
      const result = operation({ prior, planned, config });
      const diagnostics = [...(result.diagnostics ?? [])];
      if (hasErrors(diagnostics)) return { state: prior, private: privateData, diagnostics };
      const unknown = unknownPaths(result.state);
      const inconsistent = inconsistentPaths(planned, result.state);
      if (unknown.length > 0 || inconsistent.length > 0) {
        // A model bug, reported the way Terraform would reject it, naming the paths but never the (maybe secret) values.
        diagnostics.push(errorDiagnostic(`the stand-in's ${typeName} produced an invalid result after apply`,
          [unknown.length > 0 ? `still unknown: ${unknown.map(pathText).join(', ')}` : '',
            inconsistent.length > 0 ? `differs from the plan: ${inconsistent.map(pathText).join(', ')}` : ''].filter(Boolean).join('; ')));
        return { state: prior, private: privateData, diagnostics };
      }
      return { state: result.state, private: privateData, diagnostics };
    },

    read({ state, private: privateData }) {
      if (state === null || !definition.read) return { state, private: privateData ?? null, diagnostics: [] };
      const result = definition.read({ state });
      return { state: result.state, private: privateData ?? null, diagnostics: result.diagnostics ?? [] };
    },

    upgrade({ version, state }) {
      const current = definition.schema.version ?? 0;
      if (version !== current) {
        return {
          state: null,
          diagnostics: [errorDiagnostic(`the stand-in does not emulate the state upgrade of ${typeName} from schema version ${version}`,
            `${definition.upgradeNote ?? `${typeName} is at schema version ${current}.`} The stand-in reads state of version ${current} only; `
            + 'apply this configuration once with the real provider to upgrade the state, or recreate the resource.')],
        };
      }
      return { state: conformToSchema(definition.schema.block, state), diagnostics: [] };
    },
  };
}

module.exports = { frameworkResource };
