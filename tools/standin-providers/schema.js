'use strict';
// Schemas as `terraform providers schema -json` prints them → the protobuf Schema messages of tfplugin5/6, and the
// cty type a block implies (what Terraform encodes config and state with: grpc_provider.go, ImpliedType()).

const NESTING = { single: 'SINGLE', list: 'LIST', set: 'SET', map: 'MAP', group: 'GROUP' };

/** The cty type of an attribute: its `type`, or for a v6 nested attribute the object type its nesting implies. */
function attributeType(attribute) {
  if (attribute.type !== undefined) return attribute.type;
  const nested = attribute.nested_type;
  const object = ['object', Object.fromEntries(Object.entries(nested.attributes ?? {}).map(([name, a]) => [name, attributeType(a)]))];
  switch (nested.nesting_mode) {
    case 'single': return object;
    case 'list': return ['list', object];
    case 'set': return ['set', object];
    case 'map': return ['map', object];
    default: throw new Error(`nested_type nesting_mode ${JSON.stringify(nested.nesting_mode)} is not one of single, list, set, map`);
  }
}

/** The object type of a block: one key per attribute and per nested block type (object-wire-format.md). */
function impliedType(block) {
  const attributes = {};
  for (const [name, attribute] of Object.entries(block?.attributes ?? {})) attributes[name] = attributeType(attribute);
  for (const [name, blockType] of Object.entries(block?.block_types ?? {})) {
    const object = impliedType(blockType.block);
    switch (blockType.nesting_mode) {
      case 'single': case 'group': attributes[name] = object; break;
      case 'list': attributes[name] = ['list', object]; break;
      case 'set': attributes[name] = ['set', object]; break;
      case 'map': attributes[name] = ['map', object]; break;
      default: throw new Error(`block ${name}: nesting_mode ${JSON.stringify(blockType.nesting_mode)} is not one of single, group, list, set, map`);
    }
  }
  return ['object', attributes];
}

function kind(descriptionKind) {
  return descriptionKind === 'markdown' ? 'MARKDOWN' : 'PLAIN';
}

function attributeToProto(name, attribute, protocol) {
  const message = {
    name,
    description: attribute.description ?? '',
    description_kind: kind(attribute.description_kind),
    required: Boolean(attribute.required),
    optional: Boolean(attribute.optional),
    computed: Boolean(attribute.computed),
    sensitive: Boolean(attribute.sensitive),
    deprecated: Boolean(attribute.deprecated),
    write_only: Boolean(attribute.write_only),
  };
  if (attribute.nested_type) {
    // Protocol 5 has no nested attribute types (terraform-plugin-protocol/README.md, "Why 5.8 and 6.8").
    if (protocol < 6) throw new Error(`attribute ${name}: nested_type needs protocol 6, the provider serves ${protocol}`);
    message.nested_type = {
      attributes: Object.entries(attribute.nested_type.attributes ?? {}).map(([n, a]) => attributeToProto(n, a, protocol)),
      nesting: NESTING[attribute.nested_type.nesting_mode],
    };
  } else {
    message.type = Buffer.from(JSON.stringify(attribute.type));
  }
  return message;
}

function blockToProto(block, version, protocol) {
  return {
    version,
    attributes: Object.entries(block?.attributes ?? {}).map(([name, attribute]) => attributeToProto(name, attribute, protocol)),
    block_types: Object.entries(block?.block_types ?? {}).map(([name, blockType]) => ({
      type_name: name,
      block: blockToProto(blockType.block, 0, protocol),
      nesting: NESTING[blockType.nesting_mode],
      min_items: blockType.min_items ?? 0,
      max_items: blockType.max_items ?? 0,
    })),
    description: block?.description ?? '',
    description_kind: kind(block?.description_kind),
    deprecated: Boolean(block?.deprecated),
  };
}

/** One schema (`{ version, block }`) → a protobuf Schema message. */
function schemaToProto(schema, protocol) {
  const version = schema.version ?? 0;
  return { version, block: blockToProto(schema.block, version, protocol) };
}

function mapValues(object, convert) {
  return Object.fromEntries(Object.entries(object ?? {}).map(([key, value]) => [key, convert(value, key)]));
}

/**
 * A provider's whole schema (`provider_schemas[address]`) → the fields of GetProviderSchema.Response. Functions are
 * not served: the stand-in calls none, and a provider whose schema lists some is refused at start.
 */
function providerSchemaToProto(providerSchema, protocol) {
  if (Object.keys(providerSchema.functions ?? {}).length > 0) {
    throw new Error(`the schema lists functions (${Object.keys(providerSchema.functions).join(', ')}); the stand-in does not emulate provider functions`);
  }
  return {
    provider: schemaToProto(providerSchema.provider ?? { version: 0, block: {} }, protocol),
    resource_schemas: mapValues(providerSchema.resource_schemas, (s) => schemaToProto(s, protocol)),
    data_source_schemas: mapValues(providerSchema.data_source_schemas, (s) => schemaToProto(s, protocol)),
    ephemeral_resource_schemas: mapValues(providerSchema.ephemeral_resource_schemas, (s) => schemaToProto(s, protocol)),
  };
}

module.exports = { attributeType, impliedType, schemaToProto, providerSchemaToProto };
