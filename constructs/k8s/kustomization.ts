import { Chart } from 'cdk8s';
import { stringify } from 'yaml';

/** The extension cdk8s gives synthesized manifest files by default. */
export const MANIFEST_FILE_EXTENSION = '.k8s.yaml';

/** The parts of a manifest that name its file. */
export interface ManifestIdentity {
  /** The object's kind, e.g. `Deployment`. */
  readonly kind: string;
  /** The object's name and, for namespaced objects, its namespace. */
  readonly metadata: { readonly name?: string; readonly namespace?: string };
}

/**
 * The file cdk8s writes a manifest to with `YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE`:
 * `<Kind>.<name>.k8s.yaml`, without characters other than letters, digits, `-`, `_` and `.`.
 */
export function manifestFileName(manifest: ManifestIdentity): string {
  return `${manifest.kind}.${manifest.metadata.name ?? ''}`.replace(/[^0-9a-zA-Z-_.]/g, '') + MANIFEST_FILE_EXTENSION;
}

/**
 * The sorted file names of a chart's manifests in a folder-per-chart output. cdk8s names files by kind and name
 * only, so two objects that differ only in namespace would overwrite each other: that is an error here.
 *
 * @throws Error naming the objects that would share a file
 */
export function chartManifestFileNames(chart: Chart): string[] {
  const owners = new Map<string, string[]>();
  for (const manifest of chart.toJson() as ManifestIdentity[]) {
    const fileName = manifestFileName(manifest);
    const { name, namespace } = manifest.metadata;
    owners.set(fileName, [...(owners.get(fileName) ?? []), `${manifest.kind} ${namespace ? `${namespace}/` : ''}${name}`]);
  }
  const clashes = [...owners].filter(([, objects]) => objects.length > 1);
  if (clashes.length > 0) {
    throw new Error(`chart ${chart.node.path}: ${clashes.map(([file, objects]) => `${file} — written by ${objects.join(' and ')}`).join('; ')} — expected one object per file name`);
  }
  return [...owners.keys()].sort();
}

/** A `kustomization.yaml` listing `resources` (sorted), so `kubectl apply -k` and GitOps tools take the folder. */
export function renderKustomization(resources: readonly string[]): string {
  return stringify({
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [...resources].sort(),
  });
}
