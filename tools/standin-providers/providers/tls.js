'use strict';
// hashicorp/tls 4.1.0, functional: real keys, requests and certificates with the provider's plan semantics for the
// resources the generated stacks use (tls_private_key, tls_self_signed_cert, tls_cert_request,
// tls_locally_signed_cert); the server refuses the data sources and ephemeral resources. Facts:
// shared/providers/hashicorp-tls/ (README.md, schema.json, attribute-details.json) and the provider's Go source at
// tag v4.1.0 (commit eefba144), cited file:line beside each rule. Built on terraform-plugin-framework v1.14.1,
// emulated in ./plugin-framework/.
const { loadProviderSchema } = require('../shared');
const { frameworkResource } = require('./plugin-framework/resource');
const { privateKeyDefinition } = require('./tls/private-key');
const { selfSignedCertDefinition } = require('./tls/self-signed-cert');
const { certRequestDefinition } = require('./tls/cert-request');
const { locallySignedCertDefinition } = require('./tls/locally-signed-cert');

const ADDRESS = 'registry.terraform.io/hashicorp/tls';
const schema = loadProviderSchema('hashicorp-tls/schema.json', ADDRESS);

const definitions = {
  tls_private_key: privateKeyDefinition,
  tls_self_signed_cert: selfSignedCertDefinition,
  tls_cert_request: certRequestDefinition,
  tls_locally_signed_cert: locallySignedCertDefinition,
};

// Only the modelled types: the server refuses every other type of the schema at validate, naming these.
const resources = Object.fromEntries(Object.entries(definitions)
  .map(([typeName, define]) => [typeName, frameworkResource(define(schema.resource_schemas[typeName]))]));

module.exports = {
  address: ADDRESS,
  version: '4.1.0',
  // main.go serves ProtocolVersion 5 (shared/providers/hashicorp-tls/README.md, "Wire protocol").
  protocol: 5,
  schema,
  // The `proxy` block only matters to the tls_certificate data source, which the stand-in refuses.
  configure() {
    return { diagnostics: [] };
  },
  resources,
};
