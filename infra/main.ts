import { App } from 'cdktf';
import { SiteStack } from '../constructs';
import { loadSites } from '../sites';
import { runMain, selectSites } from './select-sites';

// The cdktf app: one TerraformStack per site (`cdktf deploy <site>`; SiteStack puts the CNI's bootstrap manifest
// on the first K3s server); SITE=a,b limits synthesis to some sites.
runMain(() => {
  const app = new App();
  for (const site of selectSites(loadSites(), process.env.SITE)) {
    new SiteStack(app, site.name, { site });
  }
  app.synth();
});
