// Structural checker: validates synthesized Terraform JSON (cdktf's cdk.tf.json) against a provider schema in
// the format of `terraform providers schema -json`. It exists so tests can catch what the generated bindings
// cannot: unknown keys, missing required arguments, computed-only or deprecated arguments being set, wrong
// primitive types and incomplete object values (e.g. the VM's `network_device`, an attribute of type
// list(object) where every key must be present in JSON syntax).
import * as fs from 'fs';

export interface SchemaProblem {
  readonly path: string;
  readonly message: string;
}

/** A cty type as Terraform serializes it: "string", ["list", T], ["object", {k: T}, [optionalKeys]?], ... */
export type SchemaType =
  | 'string'
  | 'number'
  | 'bool'
  | 'dynamic'
  | readonly ['list' | 'set' | 'map', SchemaType]
  | readonly ['object', { readonly [key: string]: SchemaType }, (readonly string[])?]
  | readonly ['tuple', readonly SchemaType[]];

/** Protocol-6 nested attribute type (framework providers); not used by bpg/proxmox 0.111.1 but cheap to support. */
export interface SchemaNestedType {
  readonly nesting_mode: 'single' | 'list' | 'set' | 'map';
  readonly attributes: { readonly [name: string]: SchemaAttribute };
  readonly min_items?: number;
  readonly max_items?: number;
}

export interface SchemaAttribute {
  readonly type?: SchemaType;
  readonly nested_type?: SchemaNestedType;
  readonly description?: string;
  readonly description_kind?: string;
  readonly required?: boolean;
  readonly optional?: boolean;
  readonly computed?: boolean;
  readonly sensitive?: boolean;
  readonly deprecated?: boolean;
}

export interface SchemaBlockType {
  readonly nesting_mode: 'single' | 'list' | 'set' | 'map' | 'group';
  readonly block: SchemaBlock;
  readonly min_items?: number;
  readonly max_items?: number;
}

export interface SchemaBlock {
  readonly attributes?: { readonly [name: string]: SchemaAttribute };
  readonly block_types?: { readonly [name: string]: SchemaBlockType };
  readonly description?: string;
  readonly description_kind?: string;
  readonly deprecated?: boolean;
}

export interface SchemaEntry {
  readonly version: number;
  readonly block: SchemaBlock;
}

export interface ProviderSchema {
  readonly provider: SchemaEntry;
  readonly resource_schemas?: { readonly [type: string]: SchemaEntry };
  readonly data_source_schemas?: { readonly [type: string]: SchemaEntry };
}

export interface ProviderSchemaFile {
  readonly format_version: string;
  readonly provider_schemas: { readonly [fqn: string]: ProviderSchema };
}

type JsonObject = { readonly [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function loadProviderSchema(schemaPath: string): ProviderSchemaFile {
  const parsed: unknown = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));
  // Only the envelope is checked; the rest is trusted to be `terraform providers schema -json` output.
  if (!isObject(parsed) || typeof parsed.format_version !== 'string' || !isObject(parsed.provider_schemas)) {
    throw new Error(`${schemaPath}: not a "terraform providers schema -json" document`);
  }
  return parsed as unknown as ProviderSchemaFile;
}

// Meta-arguments Terraform itself handles; `//` is cdktf's metadata key.
const RESOURCE_META = new Set(['count', 'for_each', 'depends_on', 'provider', 'lifecycle', 'provisioner', 'connection', '//']);
const DATA_META = new Set(['count', 'for_each', 'depends_on', 'provider', 'lifecycle', '//']);
const PROVIDER_META = new Set(['alias', '//']);
const NO_META: ReadonlySet<string> = new Set();

/** A string with `${` is a Terraform expression: its type is only known at plan time, so accept it anywhere. */
function isExpression(value: unknown): boolean {
  return typeof value === 'string' && value.includes('${');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}

function typeName(type: SchemaType): string {
  if (typeof type === 'string') return type;
  switch (type[0]) {
    case 'object':
      return `object({${Object.keys(type[1]).join(', ')}})`;
    case 'tuple':
      return `tuple([${type[1].map(typeName).join(', ')}])`;
    default:
      return `${type[0]}(${typeName(type[1])})`;
  }
}

class Checker {
  readonly problems: SchemaProblem[] = [];

  add(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  /** A block body: a resource/provider config or one instance of a nested block. */
  body(value: unknown, block: SchemaBlock, path: string, meta: ReadonlySet<string>): void {
    if (!isObject(value)) {
      this.add(path, `found ${describe(value)}, expected an object (block body)`);
      return;
    }
    if (block.deprecated) this.add(path, 'is deprecated in the provider schema');
    const attributes = block.attributes ?? {};
    const blockTypes = block.block_types ?? {};
    const dynamicBlocks = new Set<string>();
    for (const [key, child] of Object.entries(value)) {
      const childPath = `${path}.${key}`;
      if (Object.hasOwn(attributes, key)) this.attribute(child, attributes[key], childPath);
      else if (Object.hasOwn(blockTypes, key)) this.blockType(child, blockTypes[key], childPath);
      else if (key === 'dynamic' && isObject(child)) this.dynamic(child, blockTypes, childPath, dynamicBlocks);
      else if (!meta.has(key)) this.add(childPath, `unknown key "${key}": not an attribute or block at this level`);
    }
    for (const [name, attr] of Object.entries(attributes)) {
      if (attr.required && !Object.hasOwn(value, name)) this.add(`${path}.${name}`, 'missing required attribute');
    }
    for (const [name, bt] of Object.entries(blockTypes)) {
      const min = bt.min_items ?? 0;
      const present = value[name] !== undefined && value[name] !== null;
      if (min > 0 && !present && !dynamicBlocks.has(name)) {
        this.add(`${path}.${name}`, `missing required block (min_items ${min})`);
      }
    }
  }

  /** cdktf iterators emit `"dynamic": {<block>: {for_each, iterator?, content}}`; the instance count is unknown. */
  dynamic(value: JsonObject, blockTypes: NonNullable<SchemaBlock['block_types']>, path: string, seen: Set<string>): void {
    for (const [name, spec] of Object.entries(value)) {
      const specPath = `${path}.${name}`;
      if (!Object.hasOwn(blockTypes, name)) {
        this.add(specPath, `unknown dynamic block "${name}": not a block at this level`);
        continue;
      }
      seen.add(name);
      if (!isObject(spec) || !Object.hasOwn(spec, 'for_each') || !Object.hasOwn(spec, 'content')) {
        this.add(specPath, `found ${describe(spec)}, expected {for_each, content}`);
        continue;
      }
      this.body(spec.content, blockTypes[name].block, `${specPath}.content`, NO_META);
    }
  }

  attribute(value: unknown, attr: SchemaAttribute, path: string): void {
    // null means "not set" to Terraform: fine unless the attribute is required.
    if (value === null) {
      if (attr.required) this.add(path, 'found null, expected a value (required attribute)');
      return;
    }
    if (attr.computed && !attr.optional) {
      this.add(path, `found ${describe(value)}, expected nothing: computed-only attribute cannot be set`);
      return;
    }
    if (attr.deprecated) this.add(path, 'deprecated attribute is set');
    if (attr.type !== undefined) this.value(value, attr.type, path);
    else if (attr.nested_type !== undefined) this.nested(value, attr.nested_type, path);
  }

  nested(value: unknown, nt: SchemaNestedType, path: string): void {
    if (isExpression(value)) return;
    const one = (v: unknown, p: string): void => this.body(v, { attributes: nt.attributes }, p, NO_META);
    if (nt.nesting_mode === 'single') return one(value, path);
    if (nt.nesting_mode === 'map') {
      if (!isObject(value)) return this.add(path, `found ${describe(value)}, expected a map of objects`);
      for (const [k, v] of Object.entries(value)) one(v, `${path}.${k}`);
      return;
    }
    if (!Array.isArray(value)) return this.add(path, `found ${describe(value)}, expected a ${nt.nesting_mode} of objects`);
    this.count(value.length, nt.min_items, nt.max_items, path);
    value.forEach((v, i) => one(v, `${path}[${i}]`));
  }

  blockType(value: unknown, bt: SchemaBlockType, path: string): void {
    if (value === null) return; // treated as absent; body() reports a missing required block
    switch (bt.nesting_mode) {
      case 'single':
      case 'group':
        return this.body(value, bt.block, path, NO_META);
      case 'map':
        if (!isObject(value)) return this.add(path, `found ${describe(value)}, expected a map of block bodies`);
        for (const [k, v] of Object.entries(value)) this.body(v, bt.block, `${path}.${k}`, NO_META);
        return;
      case 'list':
      case 'set':
        // cdktf writes max_items=1 blocks as a single object; Terraform reads that as one block.
        if (isObject(value)) {
          this.count(1, bt.min_items, bt.max_items, path);
          return this.body(value, bt.block, path, NO_META);
        }
        if (!Array.isArray(value)) {
          return this.add(path, `found ${describe(value)}, expected a ${bt.nesting_mode} block (array of objects or one object)`);
        }
        this.count(value.length, bt.min_items, bt.max_items, path);
        value.forEach((v, i) => this.body(v, bt.block, `${path}[${i}]`, NO_META));
    }
  }

  count(n: number, min: number | undefined, max: number | undefined, path: string): void {
    if (min !== undefined && n < min) this.add(path, `found ${n} item(s), expected at least ${min} (min_items)`);
    if (max !== undefined && max > 0 && n > max) this.add(path, `found ${n} item(s), expected at most ${max} (max_items)`);
  }

  /** Checks a value against a cty type; null is allowed at any depth (it means unset). */
  value(value: unknown, type: SchemaType, path: string): void {
    if (value === null || isExpression(value) || type === 'dynamic') return;
    const mismatch = (): void => this.add(path, `found ${describe(value)}, expected ${typeName(type)}`);
    // No implicit conversions (Terraform would turn 5 into "5"): cdktf renders values with their real types.
    if (typeof type === 'string') {
      const ok =
        (type === 'string' && typeof value === 'string') ||
        (type === 'number' && typeof value === 'number' && Number.isFinite(value)) ||
        (type === 'bool' && typeof value === 'boolean');
      if (!ok) mismatch();
      return;
    }
    switch (type[0]) {
      case 'list':
      case 'set': {
        const elem = type[1];
        if (!Array.isArray(value)) return mismatch();
        value.forEach((v, i) => this.value(v, elem, `${path}[${i}]`));
        return;
      }
      case 'map': {
        const elem = type[1];
        if (!isObject(value)) return mismatch();
        for (const [k, v] of Object.entries(value)) this.value(v, elem, `${path}.${k}`);
        return;
      }
      case 'tuple': {
        const elems = type[1];
        if (!Array.isArray(value) || value.length !== elems.length) return mismatch();
        value.forEach((v, i) => this.value(v, elems[i], `${path}[${i}]`));
        return;
      }
      case 'object': {
        const [, fields, optionalKeys = []] = type;
        if (!isObject(value)) return mismatch();
        // In JSON syntax Terraform converts the value as-is, so every non-optional key must be present (null is fine).
        const missing = Object.keys(fields).filter((k) => !Object.hasOwn(value, k) && !optionalKeys.includes(k));
        if (missing.length > 0) this.add(path, `missing object key(s) ${missing.join(', ')}: every key of ${typeName(type)} must be present (null allowed)`);
        for (const [k, v] of Object.entries(value)) {
          if (Object.hasOwn(fields, k)) this.value(v, fields[k], `${path}.${k}`);
          else this.add(`${path}.${k}`, `unknown object key "${k}": expected only keys of ${typeName(type)}`);
        }
      }
    }
  }
}

/**
 * Checks every resource (and data source, if the schema has data_source_schemas) whose type is in the schema,
 * and every provider config block for the provider, found in the tf JSON. Resource types with the provider's
 * prefix that the schema does not know are reported too (most likely a typo).
 */
export function checkTerraformJson(
  tfJson: unknown,
  schema: ProviderSchemaFile,
  providerFqn: string,
  providerLocalName: string,
): SchemaProblem[] {
  const provider = schema.provider_schemas[providerFqn];
  if (provider === undefined) throw new Error(`provider ${providerFqn} is not in the schema file`);
  const checker = new Checker();
  if (!isObject(tfJson)) {
    checker.add('<root>', `found ${describe(tfJson)}, expected an object (Terraform JSON)`);
    return checker.problems;
  }
  const sections: ReadonlyArray<readonly [string, ProviderSchema['resource_schemas'], ReadonlySet<string>]> = [
    ['resource', provider.resource_schemas, RESOURCE_META],
    ['data', provider.data_source_schemas, DATA_META],
  ];
  for (const [section, entries, meta] of sections) {
    const byType = tfJson[section];
    if (entries === undefined || !isObject(byType)) continue; // no schema for this section: nothing to judge
    for (const [type, byName] of Object.entries(byType)) {
      const entry = Object.hasOwn(entries, type) ? entries[type] : undefined;
      if (entry === undefined) {
        if (type.startsWith(`${providerLocalName}_`)) checker.add(`${section}.${type}`, `unknown ${section} type for provider ${providerFqn}`);
        continue;
      }
      if (!isObject(byName)) {
        checker.add(`${section}.${type}`, `found ${describe(byName)}, expected an object of named ${section}s`);
        continue;
      }
      for (const [name, config] of Object.entries(byName)) checker.body(config, entry.block, `${section}.${type}.${name}`, meta);
    }
  }
  // cdktf writes provider configs as an array (one element per alias); a lone object is valid JSON syntax too.
  const providers = isObject(tfJson.provider) ? tfJson.provider[providerLocalName] : undefined;
  if (providers !== undefined) {
    const path = `provider.${providerLocalName}`;
    if (Array.isArray(providers)) providers.forEach((c, i) => checker.body(c, provider.provider.block, `${path}[${i}]`, PROVIDER_META));
    else checker.body(providers, provider.provider.block, path, PROVIDER_META);
  }
  return checker.problems;
}

export function formatProblems(problems: readonly SchemaProblem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join('\n');
}
