import { App } from 'cdktf';
import { CniKind, SiteStack, renderCiliumBootstrapManifest } from '../constructs';
import { loadSites } from '../sites';
import { runMain, selectSites } from './select-sites';

// The cdktf app: one TerraformStack per site (`cdktf deploy <site>`), the first K3s server carrying the CNI's
// bootstrap manifest; SITE=a,b limits synthesis to some sites.
runMain(() => {
  const app = new App();
  for (const site of selectSites(loadSites(), process.env.SITE)) {
    const serverManifests = site.cluster.cni === CniKind.CILIUM ? [renderCiliumBootstrapManifest(site)] : [];
    new SiteStack(app, site.name, { site, serverManifests });
  }
  app.synth();
});
