import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import { App, Names, YamlOutputType } from 'cdk8s';
import { SitePlan } from '../site/plan';
import { chartManifestFileNames, renderKustomization } from './kustomization';
import { SiteChart, SiteChartProps } from './site-chart';

/** Where {@link writeGitOpsFolder} writes when neither its `outdir` nor `CDK8S_OUTDIR` says otherwise. */
export const DEFAULT_GITOPS_OUTDIR = 'dist/k8s';

/** One folder of the GitOps output, as written. */
export interface GitOpsFolder {
  /** The folder: `<outdir>/<chart name>`. */
  readonly dir: string;
  /** The manifest files in it (`<Kind>.<name>.k8s.yaml`, sorted), every one listed in its `kustomization.yaml`. */
  readonly files: readonly string[];
}

/**
 * Synthesizes every chart of a cdk8s `app` into a folder of its own, ready to commit into a GitOps repository:
 * `<app.outdir>/<chart name>/` with one file per object (file names stay the same from run to run) and a
 * `kustomization.yaml` listing them, so `kubectl apply -k` and GitOps tools (Flux, Argo CD) take the folder.
 *
 * Each folder holds exactly the chart's current objects: it is emptied first, so the file of an object removed from
 * the site does not linger. The file names are checked before anything is written (two objects that would share
 * a file fail the run without output).
 *
 * @param app a cdk8s `App` created with `yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE`
 * @returns the folders written, in the app's chart order
 * @throws Error when the app has another output type, or when cdk8s wrote other files than the charts' objects
 */
export function synthGitOpsFolders(app: App): GitOpsFolder[] {
  if (app.yamlOutputType !== YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE) {
    throw new Error(`App.yamlOutputType: ${YamlOutputType[app.yamlOutputType]} — expected FOLDER_PER_CHART_FILE_PER_RESOURCE (one folder per chart, one file per object)`);
  }
  const folders = app.charts.map((chart) => ({ dir: join(app.outdir, Names.toDnsLabel(chart)), files: chartManifestFileNames(chart) }));
  folders.forEach(({ dir }) => rmSync(dir, { recursive: true, force: true }));
  app.synth();
  for (const { dir, files } of folders) {
    mkdirSync(dir, { recursive: true });
    const written = readdirSync(dir).sort();
    if (JSON.stringify(written) !== JSON.stringify(files)) {
      throw new Error(`${dir}: cdk8s wrote ${written.join(', ')} — expected ${files.join(', ')}`);
    }
    writeFileSync(join(dir, 'kustomization.yaml'), renderKustomization(files));
  }
  return folders;
}

/** Options of {@link writeGitOpsFolder}. */
export interface GitOpsFolderOptions {
  /**
   * The GitOps output folder; the site's folder is `<outdir>/<site name>`.
   *
   * @default - `CDK8S_OUTDIR` when set (the `plan` command points it at a temporary folder), else `dist/k8s`
   */
  readonly outdir?: string;
  /**
   * The {@link SiteChart}'s other properties (the TLS demo app, where its certificate comes from, labels).
   *
   * @default - SiteChart's defaults
   */
  readonly chart?: Omit<SiteChartProps, 'site'>;
}

/**
 * Writes the GitOps folder of one site: its {@link SiteChart} (Cilium, the NGINX ingress controller, the TLS demo
 * app) as `<outdir>/<site name>/<Kind>.<name>.k8s.yaml`, one file per object, and a `kustomization.yaml` listing
 * them. Call it from the same `main.ts` as the cdktf app, after `app.synth()`, so a site that fails validation or
 * the unsafe-change check writes no manifests either.
 *
 * @example
 * writeGitOpsFolder(site);                           // dist/k8s/<site>/
 * writeGitOpsFolder(site, { outdir: '../gitops/clusters', chart: { includeTlsDemoApp: false } });
 */
export function writeGitOpsFolder(site: SitePlan, options: GitOpsFolderOptions = {}): GitOpsFolder {
  const app = new App({
    outdir: options.outdir ?? process.env.CDK8S_OUTDIR ?? DEFAULT_GITOPS_OUTDIR,
    yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE,
  });
  new SiteChart(app, site.name, { ...options.chart, site });
  return synthGitOpsFolders(app)[0];
}
