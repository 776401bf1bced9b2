import { readFileSync } from 'fs';
import { resolve } from 'path';
import { parse } from 'yaml';
import { Manifest, REFERENCE_DIR } from '../../support/k8s-schema';

/** kube-prometheus-stack 88.5.3's values.yaml, parsed: the chart ships no values schema, so its keys are the list it reads. */
export function chartDefaultValues(): Manifest {
  return parse(readFileSync(resolve(REFERENCE_DIR, 'prometheus/kube-prometheus-stack-88.5.3/values.yaml'), 'utf8'));
}

const isMap = (value: unknown): value is Manifest => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The key paths of `values` (`a.b.c`) the chart's values.yaml does not have. An empty map in the chart
 * (`defaultRules.disabled: {}`) is keyed by the user, so anything below it is accepted.
 */
export function unknownValueKeys(values: Manifest, defaults: Manifest, prefix = ''): string[] {
  return Object.entries(values).flatMap(([key, value]) => {
    const path = `${prefix}${key}`;
    if (!(key in defaults)) {
      return [path];
    }
    const fallback = defaults[key];
    if (!isMap(value) || !isMap(fallback) || Object.keys(fallback).length === 0) {
      return [];
    }
    return unknownValueKeys(value, fallback, `${path}.`);
  });
}
