import { Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { parse } from 'yaml';
import { Manifest } from '../support/k8s-schema';

export type { Manifest } from '../support/k8s-schema';

/** A chart to put one construct under test in (names unhashed, as in SiteChart). */
export function testChart(): Chart {
  return new Chart(Testing.app(), 'test', { disableResourceNameHashes: true });
}

/** Synthesizes a chart (or the chart around a construct). */
export function synth(scope: Construct): Manifest[] {
  return Testing.synth(Chart.of(scope));
}

export function ofKind(manifests: readonly Manifest[], kind: string): Manifest[] {
  return manifests.filter((manifest) => manifest.kind === kind);
}

/** The one manifest of `kind` (and `name`, when given); fails the test when there is not exactly one. */
export function one(manifests: readonly Manifest[], kind: string, name?: string): Manifest {
  const found = ofKind(manifests, kind).filter((manifest) => name === undefined || manifest.metadata.name === name);
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  }
  return found[0];
}

/** The Helm values of a HelmChart, parsed from `valuesContent`. */
export function helmValues(helmChart: Manifest): Manifest {
  return parse(helmChart.spec.valuesContent);
}

/** cert-manager v1's required fields, checked by hand (no cert-manager schema in the reference folder). */
export function certManagerProblems(manifest: Manifest): string[] {
  const problems: string[] = [];
  const need = (ok: unknown, what: string): void => {
    if (!ok) {
      problems.push(`${manifest.kind} ${manifest.metadata?.name}: ${what}`);
    }
  };
  need(manifest.apiVersion === 'cert-manager.io/v1', 'apiVersion cert-manager.io/v1');
  need(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(manifest.metadata?.name ?? ''), 'metadata.name');
  if (manifest.kind === 'Certificate') {
    need(typeof manifest.spec?.secretName === 'string', 'spec.secretName');
    need(typeof manifest.spec?.issuerRef?.name === 'string', 'spec.issuerRef.name');
    need(['Issuer', 'ClusterIssuer'].includes(manifest.spec?.issuerRef?.kind), 'spec.issuerRef.kind Issuer or ClusterIssuer');
    need(manifest.spec?.isCA === true ? typeof manifest.spec?.commonName === 'string' : manifest.spec?.dnsNames?.length > 0, 'a commonName (CA) or dnsNames');
  } else if (manifest.kind === 'Issuer' || manifest.kind === 'ClusterIssuer') {
    const types = ['selfSigned', 'ca', 'acme', 'vault', 'venafi'].filter((type) => manifest.spec?.[type] !== undefined);
    need(types.length === 1, 'exactly one issuer type');
    need(manifest.spec?.ca === undefined || typeof manifest.spec.ca.secretName === 'string', 'spec.ca.secretName');
  } else {
    problems.push(`unknown cert-manager kind ${manifest.kind}`);
  }
  return problems;
}

/** A node taint (core/v1 Taint); a taint without a value has the value "". */
export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: string;
}

/** A taint in K3s's `node-taint` / the site's `nodeTaints` form, `key[=value]:Effect` (keys hold no ':' or '='). */
export function taintOf(text: string): Taint {
  const [keyValue, effect] = text.split(':');
  const [key, value] = keyValue.split('=');
  return { key, value: value ?? '', effect };
}

/** Whether a pod toleration tolerates a taint, as the scheduler decides (core/v1 `Toleration.ToleratesTaint`). */
export function tolerates(toleration: Manifest, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) {
    return false;
  }
  if (toleration.key && toleration.key !== taint.key) {
    return false;
  }
  return toleration.operator === 'Exists' || (toleration.value ?? '') === (taint.value ?? '');
}

/** The taints of `taints` that none of `tolerations` tolerates. */
export function untolerated(tolerations: readonly Manifest[], taints: readonly Taint[]): Taint[] {
  return taints.filter((taint) => !tolerations.some((toleration) => tolerates(toleration, taint)));
}
