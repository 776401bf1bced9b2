// Offline schema checks for synthesized Kubernetes manifests (see shared/reference/kubernetes/VALIDATION.md):
// - built-in kinds: Ajv on the Kubernetes 1.36 swagger definitions (section A), strict: unknown fields are rejected
//   as with `kubectl apply --validate=strict`;
// - custom resources: Ajv on the CRD's openAPIV3Schema (section C), also with unknown fields rejected;
// - Cilium's Helm values: Ajv on the chart's values.schema.json (section D).
// Nothing here checks what only the API server knows (CEL rules, immutability, admission).
import { readFileSync } from 'fs';
import { resolve } from 'path';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

/** The shared reference folder next to the repository. */
export const REFERENCE_DIR = process.env.SHARED_REFERENCE_DIR ?? resolve(__dirname, '../../../shared/reference');

type Schema = { [key: string]: unknown };
/** A manifest as synthesized (loosely typed: tests read deep paths). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Manifest = Record<string, any>;

/** CRDs the library creates instances of, by `apiVersion/kind`. */
const CRD_FILES: { readonly [gvk: string]: string } = {
  'helm.cattle.io/v1/HelmChart': 'k3s/helm-controller-crds-v0.17.7/helm.cattle.io_helmcharts.yaml',
  'cilium.io/v2/CiliumLoadBalancerIPPool': 'cilium/crds-v1.20.0-pre.4/v2/ciliumloadbalancerippools.yaml',
  'cilium.io/v2alpha1/CiliumL2AnnouncementPolicy': 'cilium/crds-v1.20.0-pre.4/v2alpha1/ciliuml2announcementpolicies.yaml',
  'monitoring.coreos.com/v1/PrometheusRule': 'prometheus/operator-crds-v0.93.0/prometheusrules.yaml',
  'monitoring.coreos.com/v1alpha1/ScrapeConfig': 'prometheus/operator-crds-v0.93.0/scrapeconfigs.yaml',
  'monitoring.coreos.com/v1/ServiceMonitor': 'prometheus/operator-crds-v0.93.0/servicemonitors.yaml',
};

/** cert-manager's kinds: no schema in the reference folder, so tests check their required fields by hand. */
export const CERT_MANAGER_SCOPES: { readonly [kind: string]: 'Namespaced' | 'Cluster' } = {
  Issuer: 'Namespaced',
  ClusterIssuer: 'Cluster',
  Certificate: 'Namespaced',
};

function gvkOf(manifest: Manifest): string {
  return `${manifest.apiVersion}/${manifest.kind}`;
}

function formatErrors(errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((error) => {
    const extra = error.keyword === 'additionalProperties' ? ` (${(error.params as { additionalProperty: string }).additionalProperty})` : '';
    return `${error.instancePath || '/'} ${error.message}${extra}`;
  });
}

/** Walks every subschema and lets `visit` rewrite it in place. */
function walkSchema(schema: unknown, visit: (node: Schema) => void): void {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    return;
  }
  const node = schema as Schema;
  visit(node);
  for (const key of ['properties', 'patternProperties', 'definitions']) {
    Object.values((node[key] as Schema | undefined) ?? {}).forEach((child) => walkSchema(child, visit));
  }
  for (const key of ['items', 'additionalProperties', 'not']) {
    walkSchema(node[key], visit);
  }
  for (const key of ['allOf', 'anyOf', 'oneOf']) {
    ((node[key] as unknown[] | undefined) ?? []).forEach((child) => walkSchema(child, visit));
  }
}

/** Rejects unknown fields: `additionalProperties: false` wherever properties are listed and nothing else is allowed. */
function rejectUnknownFields(node: Schema): void {
  if (node.properties !== undefined && node.additionalProperties === undefined && node['x-kubernetes-preserve-unknown-fields'] !== true) {
    node.additionalProperties = false;
  }
}

// ---- built-in kinds -------------------------------------------------------------------------------------------

let builtIn: { ajv: Ajv; gvkIndex: { [gvk: string]: string }; namespacedGvks: Set<string> } | undefined;
const builtInValidators = new Map<string, ValidateFunction>();

function loadBuiltIn(): NonNullable<typeof builtIn> {
  if (builtIn) {
    return builtIn;
  }
  const swagger = JSON.parse(readFileSync(resolve(REFERENCE_DIR, 'kubernetes/swagger.json'), 'utf8'));
  const definitions = swagger.definitions as { [name: string]: Schema };
  // The v2 spec declares both as plain strings; the API server accepts numbers for them.
  definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'] = { oneOf: [{ type: 'string' }, { type: 'integer' }] };
  definitions['io.k8s.apimachinery.pkg.api.resource.Quantity'] = { oneOf: [{ type: 'string' }, { type: 'number' }] };
  Object.values(definitions).forEach((definition) => walkSchema(definition, rejectUnknownFields));

  const keywords = new Set<string>();
  walkSchema({ definitions }, (node) => Object.keys(node).filter((key) => key.startsWith('x-kubernetes-')).forEach((key) => keywords.add(key)));
  // Strict mode stays on (unknown keywords are schema mistakes); the vendor keywords are annotations.
  const ajv = new Ajv({ allErrors: true, strictTypes: false, strictTuples: false });
  ajv.addVocabulary([...keywords]);
  addFormats(ajv);
  for (const format of ['int32', 'int64', 'double', 'float', 'byte', 'int-or-string']) {
    ajv.addFormat(format, true);
  }
  ajv.addSchema({ $id: 'k8s.json', definitions });

  const gvkIndex = JSON.parse(readFileSync(resolve(REFERENCE_DIR, 'kubernetes/gvk-index.json'), 'utf8'));
  // A kind is namespaced when the API serves it under /namespaces/{namespace}/.
  const namespacedGvks = new Set<string>();
  for (const [path, operations] of Object.entries(swagger.paths as { [path: string]: { [method: string]: Schema } })) {
    if (!path.includes('/namespaces/{namespace}/')) {
      continue;
    }
    for (const operation of Object.values(operations)) {
      const gvk = operation?.['x-kubernetes-group-version-kind'] as { group: string; version: string; kind: string } | undefined;
      if (gvk) {
        namespacedGvks.add(`${gvk.group ? `${gvk.group}/` : ''}${gvk.version}/${gvk.kind}`);
      }
    }
  }
  builtIn = { ajv, gvkIndex, namespacedGvks };
  return builtIn;
}

/** True when `manifest` is of a kind the Kubernetes 1.36 API serves. */
export function isBuiltInKind(manifest: Manifest): boolean {
  return loadBuiltIn().gvkIndex[gvkOf(manifest)] !== undefined;
}

/**
 * Validates a manifest of a built-in kind against the Kubernetes 1.36 schema, unknown fields rejected.
 *
 * @returns the problems, `<instance path> <message>`; empty when valid
 */
export function k8sSchemaErrors(manifest: Manifest): string[] {
  const { ajv, gvkIndex } = loadBuiltIn();
  const definition = gvkIndex[gvkOf(manifest)];
  if (definition === undefined) {
    throw new Error(`no Kubernetes 1.36 definition for ${gvkOf(manifest)}`);
  }
  let validate = builtInValidators.get(definition);
  if (!validate) {
    validate = ajv.getSchema(`k8s.json#/definitions/${definition}`)!;
    builtInValidators.set(definition, validate);
  }
  return validate(manifest) ? [] : formatErrors(validate.errors);
}

// ---- custom resources ------------------------------------------------------------------------------------------

let crdAjv: Ajv | undefined;
const crdValidators = new Map<string, { validate: ValidateFunction; namespaced: boolean }>();

/** Ajv for schemas written for Go: lenient keywords, RE2's brace-less `\pL` classes rewritten for JavaScript. */
function lenientAjv(): Ajv {
  if (!crdAjv) {
    // RE2's inline (?i) (the operator's CRDs) is JavaScript's i flag.
    const regExp = (pattern: string, flags: string): RegExp => new RegExp(pattern.replace(/\\([pP])([A-Za-z])/g, '\\$1{$2}').replace('(?i)', ''),
      pattern.includes('(?i)') ? `${flags}i` : flags);
    regExp.code = 'new RegExp';
    crdAjv = new Ajv({ allErrors: true, strict: false, code: { regExp } });
    addFormats(crdAjv);
    for (const format of ['int32', 'int64', 'double', 'float', 'byte', 'int-or-string', 'cidr', 'idn-hostname']) {
      crdAjv.addFormat(format, true);
    }
  }
  return crdAjv;
}

function crdValidator(manifest: Manifest): { validate: ValidateFunction; namespaced: boolean } | undefined {
  const gvk = gvkOf(manifest);
  const file = CRD_FILES[gvk];
  if (file === undefined) {
    return undefined;
  }
  let entry = crdValidators.get(gvk);
  if (!entry) {
    const crd = parse(readFileSync(resolve(REFERENCE_DIR, file), 'utf8'));
    const version = (crd.spec.versions as { name: string; schema: { openAPIV3Schema: Schema } }[]).find((v) => `${crd.spec.group}/${v.name}` === manifest.apiVersion)!;
    const schema = structuredClone(version.schema.openAPIV3Schema);
    walkSchema(schema, (node) => {
      // Structural schemas leave int-or-string nodes untyped.
      if (node['x-kubernetes-int-or-string'] === true && node.anyOf === undefined) {
        node.anyOf = [{ type: 'integer' }, { type: 'string' }];
      }
      rejectUnknownFields(node);
    });
    entry = { validate: lenientAjv().compile(schema), namespaced: crd.spec.scope === 'Namespaced' };
    crdValidators.set(gvk, entry);
  }
  return entry;
}

/** True when `manifest` is an instance of one of the CRDs in {@link CRD_FILES}. */
export function isKnownCustomResource(manifest: Manifest): boolean {
  return CRD_FILES[gvkOf(manifest)] !== undefined;
}

/** Validates a custom resource against its CRD's openAPIV3Schema, unknown fields rejected. */
export function crdSchemaErrors(manifest: Manifest): string[] {
  const entry = crdValidator(manifest);
  if (!entry) {
    throw new Error(`no CRD schema for ${gvkOf(manifest)}`);
  }
  return entry.validate(manifest) ? [] : formatErrors(entry.validate.errors);
}

/** Validates any manifest this library emits: built-in kinds and known CRDs. Throws for other kinds. */
export function schemaErrors(manifest: Manifest): string[] {
  return isKnownCustomResource(manifest) ? crdSchemaErrors(manifest) : k8sSchemaErrors(manifest);
}

/** True when the kind lives in a namespace (built-in kinds from the API paths, CRDs from their scope, cert-manager). */
export function isNamespacedKind(manifest: Manifest): boolean {
  if (isKnownCustomResource(manifest)) {
    return crdValidator(manifest)!.namespaced;
  }
  if (String(manifest.apiVersion).startsWith('cert-manager.io/')) {
    const scope = CERT_MANAGER_SCOPES[manifest.kind];
    if (!scope) {
      throw new Error(`unknown cert-manager kind ${manifest.kind}`);
    }
    return scope === 'Namespaced';
  }
  if (!isBuiltInKind(manifest)) {
    throw new Error(`unknown kind ${gvkOf(manifest)}`);
  }
  return loadBuiltIn().namespacedGvks.has(gvkOf(manifest));
}

// ---- Cilium Helm values ----------------------------------------------------------------------------------------

let ciliumValuesValidator: ValidateFunction | undefined;

/** Validates Helm values against Cilium 1.20.0's values.schema.json (which accepts unknown keys). */
export function ciliumValuesErrors(values: unknown): string[] {
  if (!ciliumValuesValidator) {
    const schema = JSON.parse(readFileSync(resolve(REFERENCE_DIR, 'cilium/chart-v1.20.0/values.schema.json'), 'utf8'));
    delete schema.$schema;
    ciliumValuesValidator = lenientAjv().compile(schema);
  }
  return ciliumValuesValidator(values) ? [] : formatErrors(ciliumValuesValidator.errors);
}

/** Cilium 1.20.0's default values.yaml, parsed. */
export function ciliumDefaultValues(): Manifest {
  return parse(readFileSync(resolve(REFERENCE_DIR, 'cilium/chart-v1.20.0/values.yaml'), 'utf8'));
}

/**
 * The key paths of `values` (`a.b.c`) that the chart's default values.yaml does not have: typos the values schema
 * lets through, since it never sets `additionalProperties: false`.
 */
export function unknownCiliumValueKeys(values: Manifest, defaults: Manifest = ciliumDefaultValues(), prefix = ''): string[] {
  return Object.entries(values).flatMap(([key, value]) => {
    const path = `${prefix}${key}`;
    if (!(key in defaults)) {
      return [path];
    }
    const fallback = defaults[key];
    const isMap = (v: unknown): v is Manifest => typeof v === 'object' && v !== null && !Array.isArray(v);
    return isMap(value) && isMap(fallback) ? unknownCiliumValueKeys(value, fallback, `${path}.`) : [];
  });
}
