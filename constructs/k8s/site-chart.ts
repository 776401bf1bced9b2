import { ApiObject, Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { SitePlan } from '../site/plan';

/** Properties of a {@link SiteChart}. */
export interface SiteChartProps extends ChartProps {
  /** The validated site, from `defineSite()`. */
  readonly site: SitePlan;
}

/**
 * The in-cluster manifests of one site, written to one folder of the GitOps output.
 *
 * Holds a `proxmox-k3s-ha-site` ConfigMap in `kube-system` with the site's public facts (API endpoint, zone), so
 * in-cluster tooling reads them from the same plan as the machines. The CNI, ingress controller and apps attach
 * here.
 */
export class SiteChart extends Chart {
  public readonly site: SitePlan;

  constructor(scope: Construct, id: string, props: SiteChartProps) {
    super(scope, id, { ...props, disableResourceNameHashes: true });
    this.site = props.site;
    new ApiObject(this, 'SiteInfo', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'proxmox-k3s-ha-site', namespace: 'kube-system', labels: { 'app.kubernetes.io/managed-by': 'proxmox-k3s-ha' } },
      data: {
        site: props.site.name,
        apiEndpoint: props.site.apiEndpoint.url,
        apiAddress: `${props.site.apiEndpoint.address}:${props.site.apiEndpoint.port}`,
        searchDomain: props.site.network.searchDomain,
      },
    });
  }
}
