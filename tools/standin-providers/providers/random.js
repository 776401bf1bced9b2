'use strict';
// hashicorp/random 3.7.2, functional: real random values with the provider's plan semantics for the resources the
// generated stacks use (random_password, random_string, random_id); the server refuses every other resource type.
// Facts: shared/providers/hashicorp-random/ (README.md, schema.json, attribute-details.json) and the provider's Go
// source at tag v3.7.2 (commit bc2ddb55), cited file:line beside each rule. Built on terraform-plugin-framework
// v1.14.1, emulated in ./plugin-framework/.
const { loadProviderSchema } = require('../shared');
const { frameworkResource } = require('./plugin-framework/resource');
const { passwordDefinition, stringDefinition } = require('./random/password-string');
const { idDefinition } = require('./random/id');

const ADDRESS = 'registry.terraform.io/hashicorp/random';
const schema = loadProviderSchema('hashicorp-random/schema.json', ADDRESS);

const definitions = {
  random_password: passwordDefinition,
  random_string: stringDefinition,
  random_id: idDefinition,
};

// Only the modelled types: the server refuses every other type of the schema at validate, naming these.
const resources = Object.fromEntries(Object.entries(definitions)
  .map(([typeName, define]) => [typeName, frameworkResource(define(schema.resource_schemas[typeName]))]));

module.exports = {
  address: ADDRESS,
  version: '3.7.2',
  // main.go serves ProtocolVersion 5 (shared/providers/hashicorp-random/README.md, "Wire protocol").
  protocol: 5,
  schema,
  // The provider has no configuration (provider.go: an empty schema).
  configure() {
    return { diagnostics: [] };
  },
  resources,
};
