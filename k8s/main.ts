import { App, YamlOutputType } from 'cdk8s';
import { SiteChart } from '../constructs';
import { synthGitOpsFolders } from '../constructs/k8s';
import { runMain, selectSites } from '../sites/select-sites';
import { loadSites } from '../sites';

// The cdk8s app: one folder per site under the output (`dist/k8s/<site>/`), one file per object
// (`<Kind>.<name>.k8s.yaml`) and a `kustomization.yaml` listing them, ready to commit into a GitOps repository.
// SITE=a,b limits synthesis to some sites.
runMain(() => {
  const app = new App({ yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
  selectSites(loadSites(), process.env.SITE).forEach((site) => new SiteChart(app, site.name, { site }));
  synthGitOpsFolders(app);
});
