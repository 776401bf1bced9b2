'use strict';
// Helpers over decoded values (plain objects, arrays, UNKNOWN) that any model can use: what changed between two
// states, computed attributes made unknown on create, unknowns filled after apply.
const { UNKNOWN } = require('./codec');
const { attributeType } = require('./schema');

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep equality of decoded values; UNKNOWN equals only UNKNOWN. */
function equal(a, b) {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((element, i) => equal(element, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((key) => equal(a[key] ?? null, b[key] ?? null));
  }
  return false;
}

/**
 * The paths where `before` and `after` differ, as deep as both sides have the same shape: a list whose length
 * changed is one path (the list), otherwise the differing elements and attributes.
 */
function changedPaths(before, after, path = []) {
  if (equal(before, after)) return [];
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((element, i) => changedPaths(element, after[i], [...path, i]));
  }
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((key) => changedPaths(before[key] ?? null, after[key] ?? null, [...path, key]));
  }
  return [path];
}

/** The value at a path, or undefined when the path does not exist. */
function getAt(value, path) {
  return path.reduce((current, step) => (current === null || current === undefined || current === UNKNOWN ? undefined : current[step]), value);
}

/** A copy of `value` with `replacement` at `path` (which must exist). */
function setAt(value, path, replacement) {
  if (path.length === 0) return replacement;
  const [step, ...rest] = path;
  const copy = Array.isArray(value) ? [...value] : { ...value };
  copy[step] = setAt(value[step], rest, replacement);
  return copy;
}

/** The attribute names of a path (indexes and map keys of blocks left out): the form behaviour rules use. */
function namesOf(path) {
  return path.filter((step) => typeof step === 'string');
}

function blockElements(value, nesting) {
  if (value === null || value === UNKNOWN) return [];
  if (nesting === 'single' || nesting === 'group') return [[[], value]];
  if (nesting === 'map') return Object.entries(value).map(([key, element]) => [[key], element]);
  return value.map((element, i) => [[i], element]);
}

/**
 * Create-time planning as the plugin SDKs do it: every computed attribute the configuration leaves null becomes
 * unknown, in nested blocks too. Returns a new value.
 */
function unknownComputed(block, value) {
  if (value === null || value === UNKNOWN) return value;
  const result = { ...value };
  for (const [name, attribute] of Object.entries(block.attributes ?? {})) {
    if (attribute.computed && result[name] === null) result[name] = UNKNOWN;
  }
  for (const [name, blockType] of Object.entries(block.block_types ?? {})) {
    const elements = blockElements(result[name], blockType.nesting_mode);
    if (elements.length === 0) continue;
    const mapped = elements.map(([, element]) => unknownComputed(blockType.block, element));
    if (blockType.nesting_mode === 'single' || blockType.nesting_mode === 'group') result[name] = mapped[0];
    else if (blockType.nesting_mode === 'map') result[name] = Object.fromEntries(elements.map(([[key]], i) => [key, mapped[i]]));
    else result[name] = mapped;
  }
  return result;
}

/** An empty value of a type: what a fake API reports for a computed attribute nothing else decides. */
function emptyOf(type) {
  const kind = typeof type === 'string' ? type : type[0];
  switch (kind) {
    case 'string': return '';
    case 'number': return 0;
    case 'bool': return false;
    case 'list': case 'set': case 'tuple': return [];
    case 'map': return {};
    default: return null;
  }
}

/**
 * Replaces every UNKNOWN in a block's value. `fillers` maps a dotted attribute path (`disk.path_in_datastore`) to
 * `({ root, path }) => value`; an attribute without a filler gets the empty value of its type.
 */
function fillUnknowns(block, value, fillers, root = value, path = []) {
  if (value === null) return value;
  const result = { ...value };
  for (const [name, attribute] of Object.entries(block.attributes ?? {})) {
    if (result[name] !== UNKNOWN) continue;
    const here = [...path, name];
    const filler = fillers[namesOf(here).join('.')];
    result[name] = filler ? filler({ root, path: here }) : emptyOf(attributeType(attribute));
  }
  for (const [name, blockType] of Object.entries(block.block_types ?? {})) {
    const nesting = blockType.nesting_mode;
    const elements = blockElements(result[name], nesting);
    const mapped = elements.map(([key, element]) => fillUnknowns(blockType.block, element, fillers, root, [...path, name, ...key]));
    if (result[name] === null || result[name] === UNKNOWN) continue;
    if (nesting === 'single' || nesting === 'group') result[name] = mapped[0];
    else if (nesting === 'map') result[name] = Object.fromEntries(elements.map(([[key]], i) => [key, mapped[i]]));
    else result[name] = mapped;
  }
  return result;
}

module.exports = { equal, changedPaths, getAt, setAt, namesOf, unknownComputed, fillUnknowns, emptyOf };
