import { App, YamlOutputType } from 'cdk8s';
import { SiteChart } from '../constructs';
import { runMain, selectSites } from '../infra/select-sites';
import { loadSites } from '../sites';

// The cdk8s app: one folder per site under the output (`dist/k8s/<site>/`), one file per object, ready to commit
// into a GitOps repository. SITE=a,b limits synthesis to some sites.
runMain(() => {
  const app = new App({ yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
  for (const site of selectSites(loadSites(), process.env.SITE)) {
    new SiteChart(app, site.name, { site });
  }
  app.synth();
});
