import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import { App, Names, YamlOutputType } from 'cdk8s';
import { SiteChart } from '../constructs';
import { chartManifestFileNames, renderKustomization } from '../constructs/k8s';
import { runMain, selectSites } from '../sites/select-sites';
import { loadSites } from '../sites';

// The cdk8s app: one folder per site under the output (`dist/k8s/<site>/`), one file per object
// (`<Kind>.<name>.k8s.yaml`) and a `kustomization.yaml` listing them, ready to commit into a GitOps repository.
// SITE=a,b limits synthesis to some sites.
runMain(() => {
  const app = new App({ yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
  const charts = selectSites(loadSites(), process.env.SITE).map((site) => new SiteChart(app, site.name, { site }));
  // Computed before anything is written, so a file-name clash fails the run without output.
  const folders = charts.map((chart) => ({ dir: join(app.outdir, Names.toDnsLabel(chart)), files: chartManifestFileNames(chart) }));
  // A folder holds exactly the current objects: files of objects removed since the last run must not linger.
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
});
