'use strict';
// ValidateResourceConfig and PlanResourceChange as terraform-plugin-framework v1.14.1 runs them for a resource, driven
// by the resource's schema block (schema.json) and its rules: { '<attr>' | '<block>.<attr>': { default, planModifiers,
// validators } }. Both providers are built on this framework (shared/providers/hashicorp-*/README.md, "Libraries").
const { UNKNOWN, equal, clone, pathText } = require('./values');
const { attributeError, wholeNumber } = require('./validators');

const hasErrors = (diagnostics) => diagnostics.some((d) => d.severity === 'error');

/** [name, nestedBlock] for each nested block type; the two providers use list blocks only. */
function listBlocks(block) {
  return Object.entries(block.block_types ?? {}).map(([name, blockType]) => {
    if (blockType.nesting_mode !== 'list') {
      throw new Error(`block ${name}: nesting_mode ${blockType.nesting_mode} — the framework emulation handles list blocks only`);
    }
    return [name, blockType.block];
  });
}

const elementsOf = (value) => (Array.isArray(value) ? value : []);

/**
 * ValidateResourceConfig: the read-only check (framework internal/fwserver/attribute_validation.go:127-134), whole
 * numbers for Int64 attributes, then each attribute's validators and the resource's own `validateConfig`.
 */
function validateResourceConfig(definition, config) {
  const diagnostics = [];
  const visit = (block, value, path, prefix) => {
    for (const [name, attribute] of Object.entries(block.attributes ?? {})) {
      const here = [...path, name];
      const attributeValue = value[name] ?? null;
      if (attribute.computed && !attribute.optional && attributeValue !== null) {
        diagnostics.push(attributeError(here, 'Invalid Configuration for Read-Only Attribute',
          `Cannot set value for this attribute (${pathText(here)}) as the provider has marked it as read-only. `
          + 'Remove the configuration line setting the value.'));
      }
      if (attribute.type === 'number') diagnostics.push(...wholeNumber()(attributeValue, { path: here, config }));
      for (const check of definition.rules[prefix + name]?.validators ?? []) diagnostics.push(...check(attributeValue, { path: here, config }));
    }
    for (const [name, nested] of listBlocks(block)) {
      for (const check of definition.rules[prefix + name]?.validators ?? []) {
        diagnostics.push(...check(value[name] ?? null, { path: [...path, name], config }));
      }
      elementsOf(value[name]).forEach((element, index) => {
        if (element !== null && element !== UNKNOWN) visit(nested, element, [...path, name, index], `${prefix}${name}.`);
      });
    }
  };
  visit(definition.schema.block, config, [], '');
  if (definition.validateConfig) diagnostics.push(...definition.validateConfig(config));
  return diagnostics;
}

/** TransformDefaults (internal/fwschemadata/data_default.go:21-100): a default fills each attribute whose config is null. */
function transformDefaults(definition, block, planned, config, prefix = '') {
  const result = { ...planned };
  for (const name of Object.keys(block.attributes ?? {})) {
    const rule = definition.rules[prefix + name];
    if (rule && 'default' in rule && (config?.[name] ?? null) === null) result[name] = clone(rule.default);
  }
  for (const [name, nested] of listBlocks(block)) {
    if (!Array.isArray(result[name])) continue;
    result[name] = result[name].map((element, index) => (element === null || element === UNKNOWN
      ? element : transformDefaults(definition, nested, element, config?.[name]?.[index] ?? null, `${prefix}${name}.`)));
  }
  return result;
}

/**
 * MarkComputedNilsAsUnknown (internal/fwserver/server_planresourcechange.go:356-483): a computed attribute without a
 * default whose config is null becomes unknown, so the provider may set it.
 */
function markComputedNilsAsUnknown(definition, block, planned, config, prefix = '') {
  const result = { ...planned };
  for (const [name, attribute] of Object.entries(block.attributes ?? {})) {
    const rule = definition.rules[prefix + name];
    if (attribute.computed && (config?.[name] ?? null) === null && !(rule && 'default' in rule)) result[name] = UNKNOWN;
  }
  for (const [name, nested] of listBlocks(block)) {
    if (!Array.isArray(result[name])) continue;
    result[name] = result[name].map((element, index) => (element === null || element === UNKNOWN
      ? element : markComputedNilsAsUnknown(definition, nested, element, config?.[name]?.[index] ?? null, `${prefix}${name}.`)));
  }
  return result;
}

/**
 * One attribute's plan modifiers, in their declared order, each seeing the value the one before planned
 * (internal/fwserver/attribute_plan_modification.go:2289-2446, the String variant; the others are the same).
 */
function modifyAttribute(modifiers, request, requiresReplace, diagnostics) {
  let planValue = request.planValue;
  for (const modify of modifiers) {
    const response = modify({ ...request, planValue });
    if ('planValue' in response) planValue = response.planValue;
    if (response.requiresReplace) requiresReplace.push(request.path);
    diagnostics.push(...(response.diagnostics ?? []));
    if (hasErrors(response.diagnostics ?? [])) break;
  }
  return planValue;
}

/**
 * SchemaModifyPlan (internal/fwserver/schema_plan_modification.go:63-197): every attribute's modifiers see the plan
 * as it was before this pass; a list block's own modifiers run first, then its elements' attributes
 * (block_plan_modification.go:52-130), each element matched with the prior element at the same index.
 */
function schemaModifyPlan(definition, { config, plan, state }) {
  const requiresReplace = [];
  const diagnostics = [];
  const modifyBlock = (block, values, path, prefix) => {
    const result = { ...values.plan };
    for (const name of Object.keys(block.attributes ?? {})) {
      const modifiers = definition.rules[prefix + name]?.planModifiers;
      if (!modifiers) continue;
      result[name] = modifyAttribute(modifiers, {
        config, plan, state, path: [...path, name],
        configValue: values.config?.[name] ?? null, planValue: values.plan[name] ?? null, stateValue: values.state?.[name] ?? null,
      }, requiresReplace, diagnostics);
    }
    for (const [name, nested] of listBlocks(block)) {
      const modifiers = definition.rules[prefix + name]?.planModifiers ?? [];
      result[name] = modifyAttribute(modifiers, {
        config, plan, state, path: [...path, name],
        configValue: values.config?.[name] ?? null, planValue: values.plan[name] ?? null, stateValue: values.state?.[name] ?? null,
      }, requiresReplace, diagnostics);
      if (!Array.isArray(result[name])) continue;
      result[name] = result[name].map((element, index) => (element === null || element === UNKNOWN ? element : modifyBlock(nested, {
        config: values.config?.[name]?.[index] ?? null, plan: element, state: elementsOf(values.state?.[name])[index] ?? null,
      }, [...path, name, index], `${prefix}${name}.`)));
    }
    return result;
  };
  const modified = modifyBlock(definition.schema.block, { config, plan, state }, [], '');
  return { plan: modified, requiresReplace, diagnostics };
}

/** NormaliseRequiresReplace (server_planresourcechange.go:486-514): sorted by the path's text, without duplicates. */
function normaliseRequiresReplace(paths) {
  const byText = new Map(paths.map((path) => [pathText(path), path]));
  return [...byText.keys()].sort().map((text) => byText.get(text));
}

/**
 * PlanResourceChange (internal/fwserver/server_planresourcechange.go:51-354): defaults (132-156), unknown computed
 * attributes when anything changed (170-247), attribute plan modifiers (249-282), the resource's ModifyPlan (284-339).
 * A destroy (proposed null) plans null.
 */
function planResourceChange(definition, { prior, proposed, config, priorPrivate }) {
  const plannedPrivate = priorPrivate ?? null;
  if (proposed === null) return { planned: null, requiresReplace: [], plannedPrivate, diagnostics: [] };
  const diagnostics = validateResourceConfig(definition, config);
  if (hasErrors(diagnostics)) return { planned: proposed, requiresReplace: [], plannedPrivate, diagnostics };

  const block = definition.schema.block;
  let planned = transformDefaults(definition, block, proposed, config);
  if (!equal(planned, prior)) planned = markComputedNilsAsUnknown(definition, block, planned, config);
  const modified = schemaModifyPlan(definition, { config, plan: planned, state: prior });
  diagnostics.push(...modified.diagnostics);
  planned = modified.plan;
  const requiresReplace = [...modified.requiresReplace];
  if (!hasErrors(diagnostics) && definition.modifyPlan) {
    const resourceLevel = definition.modifyPlan({ config, plan: planned, state: prior });
    planned = resourceLevel.plan;
    requiresReplace.push(...(resourceLevel.requiresReplace ?? []));
    diagnostics.push(...(resourceLevel.diagnostics ?? []));
  }
  return { planned, requiresReplace: normaliseRequiresReplace(requiresReplace), plannedPrivate, diagnostics };
}

module.exports = { planResourceChange, validateResourceConfig, hasErrors };
