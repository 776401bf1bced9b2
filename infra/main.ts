import { App } from 'cdktf';
import { SiteStack, k3sServerManifests } from '../constructs';
import { loadSites } from '../sites';
import { runMain, selectSites } from '../sites/select-sites';

// The cdktf app: one TerraformStack per site (`cdktf deploy <site>`), with the CNI's bootstrap manifest (rendered by
// cdk8s, here, so the Terraform constructs stay free of it) on the first K3s server; SITE=a,b limits synthesis.
runMain(() => {
  const app = new App();
  for (const site of selectSites(loadSites(), process.env.SITE)) {
    new SiteStack(app, site.name, { site, serverManifests: k3sServerManifests(site) });
  }
  app.synth();
});
