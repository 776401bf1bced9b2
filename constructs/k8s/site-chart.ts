import { ApiObject, Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { SitePlan, applicationDomain, controlPlaneHosts, workerHosts } from '../site/plan';
import { CniKind } from '../site/spec';
import { CiliumCni, CiliumCniProps } from './cilium-cni';
import { MonitoringStack } from './monitoring-stack';
import { NginxIngressDaemonSet } from './nginx-ingress-daemon-set';
import { TlsCertificateSource, TlsDemoApp } from './tls-demo-app';

/** Properties of a {@link SiteChart}. */
export interface SiteChartProps extends ChartProps {
  /** The validated site, from `defineSite()`. */
  readonly site: SitePlan;
  /**
   * Include the TLS demo app ({@link TlsDemoApp}) at `nginx.<zone>`: the site's DNS zone (`dns.zone`) when a host
   * serves DNS, else `network.searchDomain`.
   *
   * @default true
   */
  readonly includeTlsDemoApp?: boolean;
  /**
   * Where the demo app's TLS certificate comes from. The default, {@link TlsCertificateSource.SELF_SIGNED_CA},
   * puts cert-manager `Issuer` and `Certificate` objects into the folder, so cert-manager must be installed before
   * it is applied; {@link TlsCertificateSource.EXISTING_SECRET} leaves them out, and the operator creates the
   * Secret `nginx-demo-tls` in the namespace `tls-demo` instead.
   *
   * @default TlsCertificateSource.SELF_SIGNED_CA
   */
  readonly tlsCertificateSource?: TlsCertificateSource;
}

/**
 * The in-cluster manifests of one site, written to one folder of the GitOps output.
 *
 * Holds a `proxmox-k3s-ha-site` ConfigMap in `kube-system` with the site's public facts (API endpoint, zone), so
 * in-cluster tooling reads them from the same plan as the machines; Cilium ({@link CiliumCni}, only when the site's
 * CNI is Cilium); the NGINX ingress controller ({@link NginxIngressDaemonSet}) on the NodePorts the load balancers
 * forward to, tolerating every taint the site puts on the control-plane nodes they forward to; and the TLS demo app
 * ({@link TlsDemoApp}) unless turned off.
 *
 * Applying the folder (`kubectl apply -k`) needs cert-manager in the cluster first, unless the demo app is left
 * out or takes an existing Secret (`tlsCertificateSource`).
 */
export class SiteChart extends Chart {
  /** The site the chart was built from. */
  public readonly site: SitePlan;
  /** Cilium, when the site's CNI is Cilium. */
  public readonly cilium?: CiliumCni;
  /** The NGINX ingress controller the load balancers forward HTTP(S) to. */
  public readonly ingressController: NginxIngressDaemonSet;
  /** The TLS demo app, unless `includeTlsDemoApp` is false. */
  public readonly tlsDemoApp?: TlsDemoApp;
  /** kube-prometheus-stack, the site's alert rules and scrape targets, unless `monitoring.enabled` is false. */
  public readonly monitoring?: MonitoringStack;

  constructor(scope: Construct, id: string, props: SiteChartProps) {
    super(scope, id, { ...props, disableResourceNameHashes: true });
    const site = props.site;
    this.site = site;
    new ApiObject(this, 'SiteInfo', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'proxmox-k3s-ha-site', namespace: 'kube-system', labels: { 'app.kubernetes.io/managed-by': 'proxmox-k3s-ha' } },
      data: {
        site: site.name,
        apiEndpoint: site.apiEndpoint.url,
        apiAddress: `${site.apiEndpoint.address}:${site.apiEndpoint.port}`,
        searchDomain: site.network.searchDomain,
      },
    });

    if (site.cluster.cni === CniKind.CILIUM) {
      this.cilium = new CiliumCni(this, 'Cilium', ciliumCniPropsForSite(site));
    }
    this.ingressController = new NginxIngressDaemonSet(this, 'IngressController', {
      httpNodePort: site.ingress.httpNodePort,
      httpsNodePort: site.ingress.httpsNodePort,
      // The load balancers send ingress traffic to every control-plane node: a controller must run on each.
      toleratedTaints: [...new Set(controlPlaneHosts(site).flatMap((host) => host.nodeTaints))],
      // The load balancers' HTTP(S) frontends listen on the API endpoint's address (the VIP when there is one).
      externalStatusAddress: site.loadBalancer?.ingressFrontends ? site.apiEndpoint.address : undefined,
    });
    this.monitoring = site.monitoring.enabled ? new MonitoringStack(this, 'Monitoring', { site }) : undefined;
    if (props.includeTlsDemoApp ?? true) {
      this.tlsDemoApp = new TlsDemoApp(this, 'TlsDemoApp', {
        host: `nginx.${applicationDomain(site)}`,
        ingressClassName: this.ingressController.ingressClassName,
        certificateSource: props.tlsCertificateSource,
      });
    }
  }
}

/**
 * The {@link CiliumCni} properties of a site: its pod CIDR and kube-proxy replacement, K3s's node-local API
 * endpoint, and one operator replica per node up to two (the operator's anti-affinity is required per node).
 * Both the GitOps folder and the first server's bootstrap manifest use these, so they render the same HelmChart.
 */
export function ciliumCniPropsForSite(site: SitePlan): CiliumCniProps {
  const nodes = new Set([...controlPlaneHosts(site), ...workerHosts(site)]).size;
  return {
    podCidr: site.cluster.podCidr,
    kubeProxyReplacement: site.cluster.kubeProxyReplacement,
    operatorReplicas: Math.max(1, Math.min(2, nodes)),
  };
}
