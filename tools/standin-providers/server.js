'use strict';
// The tfplugin5 / tfplugin6 Provider service over a provider model (the interface is in README.md). Generic: it
// knows nothing of any provider; it decodes requests with the schema's implied types, calls the model's hooks and
// turns their results (and anything they throw) into responses with diagnostics.
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { UNKNOWN, decodeDynamicValue, encodeDynamicValue, decodeJson, pathText } = require('./codec');
const { impliedType, providerSchemaToProto } = require('./schema');
const { sharedPath } = require('./shared');

/** The gRPC package of tfplugin5 or tfplugin6, loaded from the protos Terraform 1.11.4 is built from. */
function loadProtocol(protocol) {
  if (protocol !== 5 && protocol !== 6) throw new Error(`protocol ${protocol}: expected 5 or 6`);
  const file = sharedPath('providers', 'terraform-plugin-protocol', `tfplugin${protocol}.8.proto`);
  const definition = protoLoader.loadSync(file, { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true, bytes: Buffer });
  return grpc.loadPackageDefinition(definition)[`tfplugin${protocol}`];
}

/** A model path (names, indexes, map keys) → AttributePath steps; the type tells a map key from an attribute name. */
function attributePath(path, type) {
  const steps = [];
  let current = type;
  for (const step of path ?? []) {
    const kind = typeof current === 'string' ? current : current?.[0];
    if (typeof step === 'number') {
      steps.push({ element_key_int: step });
      current = kind === 'tuple' ? current[1][step] : current?.[1];
    } else if (kind === 'map') {
      steps.push({ element_key_string: step });
      current = current[1];
    } else {
      steps.push({ attribute_name: step });
      current = kind === 'object' ? current[1][step] : undefined;
    }
  }
  return { steps };
}

function diagnostic(d, type) {
  const message = { severity: d.severity === 'warning' ? 'WARNING' : 'ERROR', summary: String(d.summary ?? ''), detail: String(d.detail ?? '') };
  if (d.attribute) message.attribute = attributePath(d.attribute, type);
  return message;
}

function errorDiagnostic(error) {
  return { severity: 'error', summary: error.message, detail: '', attribute: error.attributePath };
}

function refusal(what) {
  return [{ severity: 'error', summary: `the stand-in does not emulate ${what}`, detail: 'Stand-in providers emulate only what the generated stacks use (tools/standin-providers/README.md).' }];
}

/** Paths where a value is still unknown: Terraform rejects a new state after apply that has any. */
function unknownPaths(value, path = []) {
  if (value === UNKNOWN) return [path];
  if (Array.isArray(value)) return value.flatMap((element, index) => unknownPaths(element, [...path, index]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([key, element]) => unknownPaths(element, [...path, key]));
  return [];
}

function decodePrivate(bytes) {
  return bytes && bytes.length > 0 ? JSON.parse(Buffer.from(bytes).toString('utf8')) : null;
}

function encodePrivate(value) {
  return value === null || value === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(value));
}

/**
 * The Provider service implementation for `model`. Each handler answers every failure with an error diagnostic
 * (never a gRPC error), so Terraform prints the stand-in's message.
 */
function createProviderService(model) {
  const protocol = model.protocol;
  const schemaProto = providerSchemaToProto(model.schema, protocol);
  const providerType = impliedType(model.schema.provider?.block);
  const resourceSchemas = model.schema.resource_schemas ?? {};
  const types = new Map(Object.entries(resourceSchemas).map(([name, s]) => [name, impliedType(s.block)]));
  const name = model.address.split('/').slice(-1)[0];
  const capabilities = { plan_destroy: true, get_provider_schema_optional: false, move_resource_state: false };

  /** The model of a resource type, or an error naming it and what is modelled. */
  function resourceModel(typeName) {
    if (!types.has(typeName)) throw new Error(`${model.address} ${model.version} has no resource type ${typeName}`);
    const resource = model.resources?.[typeName];
    if (!resource) {
      throw new Error(`the stand-in does not emulate resource type ${typeName} of ${model.address}; it emulates ${Object.keys(model.resources ?? {}).join(', ') || 'none'}`);
    }
    return { resource, type: types.get(typeName) };
  }

  /** Runs one handler: its result's diagnostics are converted; a throw becomes one error diagnostic. */
  function unary(handler, typeOf = () => undefined) {
    return (call, callback) => {
      let response;
      try {
        response = handler(call.request);
      } catch (error) {
        response = { diagnostics: [errorDiagnostic(error)] };
      }
      const type = typeOf(call.request);
      response.diagnostics = (response.diagnostics ?? []).map((d) => diagnostic(d, type));
      callback(null, response);
    };
  }
  const resourceTypeOf = (request) => types.get(request.type_name);

  const getSchema = unary(() => ({ ...schemaProto, server_capabilities: capabilities, functions: {} }));
  const validateProvider = unary((request) => {
    decodeDynamicValue(request.config, providerType); // a config that does not match the schema is an error
    return protocol === 5 ? { prepared_config: request.config } : {};
  }, () => providerType);
  // A model with a `validate` hook reports configuration errors here, at `terraform validate`, as its provider does.
  const validateResource = unary((request) => {
    const { resource, type } = resourceModel(request.type_name);
    const config = decodeDynamicValue(request.config, type);
    return { diagnostics: resource.validate?.({ config })?.diagnostics ?? [] };
  }, resourceTypeOf);
  const configure = unary((request) => {
    const result = model.configure?.(decodeDynamicValue(request.config, providerType));
    return { diagnostics: result?.diagnostics ?? [] };
  }, () => providerType);
  const stop = (call, callback) => callback(null, { Error: '' }); // nothing runs long enough to interrupt

  const implementation = {
    GetMetadata: unary(() => ({
      server_capabilities: capabilities,
      resources: Object.keys(resourceSchemas).map((type_name) => ({ type_name })),
      data_sources: Object.keys(model.schema.data_source_schemas ?? {}).map((type_name) => ({ type_name })),
      ephemeral_resources: Object.keys(model.schema.ephemeral_resource_schemas ?? {}).map((type_name) => ({ type_name })),
      functions: [],
    })),

    UpgradeResourceState: unary((request) => {
      const { resource, type } = resourceModel(request.type_name);
      const raw = request.raw_state ?? {};
      if (!raw.json || raw.json.length === 0) throw new Error(`${request.type_name}: the stand-in reads only JSON state, not the legacy flatmap format`);
      const current = resourceSchemas[request.type_name].version ?? 0;
      let upgraded;
      if (resource.upgrade) {
        upgraded = resource.upgrade({ version: Number(request.version), state: JSON.parse(raw.json.toString('utf8')) });
      } else if (Number(request.version) === current) {
        upgraded = { state: JSON.parse(raw.json.toString('utf8')) };
      } else {
        throw new Error(`${request.type_name}: the state has schema version ${request.version}; the stand-in knows only version ${current} and does not upgrade others`);
      }
      if ((upgraded.diagnostics ?? []).some((d) => d.severity !== 'warning')) return { diagnostics: upgraded.diagnostics };
      const state = decodeJson(Buffer.from(JSON.stringify(upgraded.state)), type);
      return { upgraded_state: encodeDynamicValue(state, type), diagnostics: upgraded.diagnostics };
    }, resourceTypeOf),

    ReadResource: unary((request) => {
      const { resource, type } = resourceModel(request.type_name);
      const state = decodeDynamicValue(request.current_state, type);
      const privateValue = decodePrivate(request.private);
      const result = resource.read ? resource.read({ state, private: privateValue }) : { state, private: privateValue };
      return { new_state: encodeDynamicValue(result.state ?? null, type), private: encodePrivate(result.private), diagnostics: result.diagnostics };
    }, resourceTypeOf),

    PlanResourceChange: unary((request) => {
      const { resource, type } = resourceModel(request.type_name);
      const prior = decodeDynamicValue(request.prior_state, type);
      const proposed = decodeDynamicValue(request.proposed_new_state, type);
      const config = decodeDynamicValue(request.config, type);
      const priorPrivate = decodePrivate(request.prior_private);
      if (proposed === null && !resource.planDestroy) return { planned_state: encodeDynamicValue(null, type) };
      const hook = proposed === null ? resource.planDestroy : resource.plan;
      const result = hook({ prior, proposed, config, priorPrivate });
      return {
        planned_state: encodeDynamicValue(result.planned === undefined ? proposed : result.planned, type),
        requires_replace: (result.requiresReplace ?? []).map((path) => attributePath(path, type)),
        planned_private: encodePrivate(result.plannedPrivate),
        diagnostics: result.diagnostics,
        // Only for models of SDKv2 resources that, like the real ones, plan a value other than config's.
        legacy_type_system: Boolean(result.legacyTypeSystem),
      };
    }, resourceTypeOf),

    ApplyResourceChange: unary((request) => {
      const { resource, type } = resourceModel(request.type_name);
      const prior = decodeDynamicValue(request.prior_state, type);
      const planned = decodeDynamicValue(request.planned_state, type);
      const config = decodeDynamicValue(request.config, type);
      const plannedPrivate = decodePrivate(request.planned_private);
      if (planned === null && !resource.destroy) return { new_state: encodeDynamicValue(null, type) };
      const result = (planned === null ? resource.destroy : resource.apply)({ prior, planned, config, plannedPrivate });
      const state = result.state ?? null;
      const unknown = unknownPaths(state);
      if (unknown.length > 0) throw new Error(`${request.type_name}: the model left ${unknown.map(pathText).join(', ')} unknown after apply`);
      return { new_state: encodeDynamicValue(state, type), private: encodePrivate(result.private), diagnostics: result.diagnostics, legacy_type_system: Boolean(result.legacyTypeSystem) };
    }, resourceTypeOf),

    ImportResourceState: unary((request) => ({ diagnostics: refusal(`import (terraform import / import blocks) of ${request.type_name} "${request.id}"`) })),
    MoveResourceState: unary((request) => ({ diagnostics: refusal(`moving state from ${request.source_type_name} to ${request.target_type_name}`) })),
    ReadDataSource: unary((request) => ({ diagnostics: refusal(`data source ${request.type_name}`) })),
    ValidateEphemeralResourceConfig: unary((request) => ({ diagnostics: refusal(`ephemeral resource ${request.type_name}`) })),
    OpenEphemeralResource: unary((request) => ({ diagnostics: refusal(`ephemeral resource ${request.type_name}`) })),
    RenewEphemeralResource: unary(() => ({ diagnostics: refusal('ephemeral resources') })),
    CloseEphemeralResource: unary(() => ({ diagnostics: refusal('ephemeral resources') })),
    GetFunctions: unary(() => ({ functions: {} })),
    CallFunction: (call, callback) => callback(null, { error: { text: `the stand-in does not emulate provider function ${call.request.name} of ${name}` } }),
  };
  const validateData = unary((request) => ({ diagnostics: refusal(`data source ${request.type_name}`) }));
  if (protocol === 5) {
    Object.assign(implementation, { GetSchema: getSchema, PrepareProviderConfig: validateProvider, ValidateResourceTypeConfig: validateResource, ValidateDataSourceConfig: validateData, Configure: configure, Stop: stop });
  } else {
    Object.assign(implementation, { GetProviderSchema: getSchema, ValidateProviderConfig: validateProvider, ValidateResourceConfig: validateResource, ValidateDataResourceConfig: validateData, ConfigureProvider: configure, StopProvider: stop });
  }
  return { service: loadProtocol(protocol).Provider.service, implementation };
}

module.exports = { createProviderService, attributePath, loadProtocol };
