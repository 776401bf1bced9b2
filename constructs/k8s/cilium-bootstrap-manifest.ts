import { App, Chart, Yaml } from 'cdk8s';
import { K3S_AUTO_DEPLOY_MANIFESTS_DIR } from '../renderers/k3s';
import { SitePlan } from '../site/plan';
import { CniKind, Distribution } from '../site/spec';
import { CiliumCni } from './cilium-cni';
import { ciliumCniPropsForSite } from './site-chart';

export { K3S_AUTO_DEPLOY_MANIFESTS_DIR };

/** A file for a K3s server's file system. */
export interface K3sManifestFile {
  /** Absolute path on the server. */
  readonly path: string;
  /** YAML text. */
  readonly content: string;
}

/**
 * Renders the Cilium HelmChart of a site for K3s's auto-deploy folder of the first server
 * (`/var/lib/rancher/k3s/server/manifests/cilium.yaml`, AddOn `cilium`). Pure: synthesizes in memory.
 *
 * Without a CNI no pod can start, so GitOps tooling cannot install Cilium itself: K3s applies this file at first
 * start. The HelmChart is the one in the site's GitOps folder ({@link SiteChart}), rendered from the same
 * properties, so both converge. K3s re-applies the file only when it changes. The LB IPAM pool and L2 policy are
 * left out: their CRDs exist only once the Cilium operator runs.
 *
 * @throws Error when the site's CNI is not Cilium
 */
export function renderCiliumBootstrapManifest(plan: SitePlan): K3sManifestFile {
  if (plan.cluster.cni !== CniKind.CILIUM) {
    throw new Error(`site ${plan.name}: cluster.cni: ${JSON.stringify(plan.cluster.cni)} — expected "${CniKind.CILIUM}" for a Cilium bootstrap manifest`);
  }
  // An explicit outdir and metadata flag keep cdk8s from reading its environment variables; nothing is written.
  const app = new App({ outdir: 'unused', recordConstructMetadata: false });
  const chart = new Chart(app, 'cilium-bootstrap', { disableResourceNameHashes: true });
  const cilium = new CiliumCni(chart, 'Cilium', ciliumCniPropsForSite(plan));
  return {
    path: `${K3S_AUTO_DEPLOY_MANIFESTS_DIR}/cilium.yaml`,
    content: `# Cilium for site ${plan.name}, rendered by proxmox-k3s-ha; the same HelmChart is in the site's GitOps folder.\n`
      + Yaml.stringify(cilium.helmChart.toJson()),
  };
}

/**
 * What the first K3s server of a site must install itself, for {@link SiteStackProps.serverManifests}: the Cilium
 * bootstrap HelmChart on K3s sites whose CNI is Cilium (K3s runs with `flannel-backend: none` there, so without it
 * no pod gets a network); nothing otherwise.
 */
export function k3sServerManifests(plan: SitePlan): readonly K3sManifestFile[] {
  return plan.controlPlane.distribution === Distribution.K3S && plan.cluster.cni === CniKind.CILIUM ? [renderCiliumBootstrapManifest(plan)] : [];
}
