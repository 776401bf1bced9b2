// Typed CRD classes under ./imports were generated from the local CRD files, from the repository root, with:
//   npx --yes cdk8s-cli@2.207.60 import ../shared/reference/k3s/helm-controller-crds-v0.17.7/helm.cattle.io_helmcharts.yaml \
//     --output constructs/k8s/imports --language typescript --no-check-upgrade
//   npx --yes cdk8s-cli@2.207.60 import ../shared/reference/cilium/crds-v1.20.0-pre.4/v2/ciliumloadbalancerippools.yaml \
//     --output constructs/k8s/imports --language typescript --no-check-upgrade
//   npx --yes cdk8s-cli@2.207.60 import cilium-l2:=../shared/reference/cilium/crds-v1.20.0-pre.4/v2alpha1/ciliuml2announcementpolicies.yaml \
//     --output constructs/k8s/imports --language typescript --no-check-upgrade
// (the same list is in cdk8s.yaml, so `cdk8s import --output constructs/k8s/imports` regenerates all of them).
import { k8s } from 'cdk8s-plus-29';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { Ipv4Cidr, isIpv4 } from '../core/ipv4';
import { isDnsName, isIntegerInRange, isPort } from '../core/names';
import { ProblemCollector } from '../core/problems';
import { CiliumL2AnnouncementPolicy } from './imports/cilium-l2-cilium.io';
import { CiliumLoadBalancerIpPool } from './imports/cilium.io';
import { HelmChart } from './imports/helm.cattle.io';

/** Cilium release this library pins (chart `cilium` from https://helm.cilium.io/). */
export const DEFAULT_CILIUM_CHART_VERSION = '1.20.0';
/** K3s's node-local API endpoint: the API server on servers, K3s's client load balancer on agents. */
export const K3S_NODE_LOCAL_API_HOST = '127.0.0.1';
/** Port of {@link K3S_NODE_LOCAL_API_HOST}: K3s's HTTPS port (6443) plus one. */
export const K3S_NODE_LOCAL_API_PORT = 6444;

/** Cilium's metrics ports: the chart's defaults (values.yaml `prometheus.port`, `operator.prometheus.port`, `hubble.metrics.port`). */
export const CILIUM_AGENT_METRICS_PORT = 9962;
export const CILIUM_OPERATOR_METRICS_PORT = 9963;
export const HUBBLE_METRICS_PORT = 9965;
/**
 * The Hubble metrics the agents serve (values.yaml's example list): DNS queries (AAAA ignored), drops, TCP flags,
 * flows, ICMP and HTTP (the last two need L7 visibility to have data).
 */
export const HUBBLE_METRICS = ['dns:query;ignoreAAAA', 'drop', 'tcp', 'flow', 'icmp', 'http'];
/** The label of the metrics Services this library adds (the monitoring stack's ServiceMonitors select on it). */
export const CILIUM_METRICS_SERVICE_LABEL = 'proxmox-k3s-ha/cilium-metrics';

/** The Cilium values this library sets; everything else keeps the chart's defaults. */
export interface CiliumValuesOptions {
  /** The pod network, K3s's `cluster-cidr` (e.g. `10.42.0.0/16`): Cilium's cluster-pool IPAM allocates from it. */
  readonly podCidr: string;
  /**
   * Replace kube-proxy with Cilium's eBPF service handling. K3s must then run with `disable-kube-proxy` on every
   * server, or both program services.
   *
   * @default true
   */
  readonly kubeProxyReplacement?: boolean;
  /**
   * Address Cilium reaches the API server at. Needed because with kube-proxy replacement nothing serves the
   * `kubernetes` Service before Cilium runs.
   *
   * @default '127.0.0.1' (K3s's node-local endpoint, no dependency on the load balancers)
   */
  readonly k8sServiceHost?: string;
  /**
   * Port of `k8sServiceHost`.
   *
   * @default 6444 (K3s's node-local API port)
   */
  readonly k8sServicePort?: number;
  /**
   * Run Hubble, Cilium's flow observability, in every agent.
   *
   * @default true
   */
  readonly hubble?: boolean;
  /**
   * Serve Prometheus metrics: the agents (`prometheus.enabled`), the operator (`operator.prometheus.enabled`) and,
   * with `hubble`, Hubble's flow metrics ({@link HUBBLE_METRICS}, `hubble.metrics.enabled`). The chart's own
   * ServiceMonitors stay off: Cilium installs before the monitoring stack's CRDs exist, and with them the chart fails.
   *
   * @default true
   */
  readonly metrics?: boolean;
  /**
   * Run Hubble Relay, the cluster-wide flow API (needs `hubble`).
   *
   * @default - the value of `hubble`
   */
  readonly hubbleRelay?: boolean;
  /**
   * Run the Hubble UI (needs `hubbleRelay`).
   *
   * @default - the value of `hubbleRelay`
   */
  readonly hubbleUi?: boolean;
  /**
   * Replicas of the Cilium operator. The chart's pod anti-affinity is required per node, so use 1 on a single-node
   * cluster or the second replica stays Pending.
   *
   * @default 2
   */
  readonly operatorReplicas?: number;
  /**
   * Answer ARP for LoadBalancer addresses from a node (Cilium L2 announcements), and create a
   * `CiliumL2AnnouncementPolicy`. Needs `kubeProxyReplacement`. Each announced Service holds a Lease; with many of
   * them raise `k8sClientRateLimit` through a `HelmChartConfig`.
   *
   * @default false
   */
  readonly l2Announcements?: boolean;
}

/** Properties of a {@link CiliumCni}. */
export interface CiliumCniProps extends CiliumValuesOptions {
  /**
   * Version of the `cilium` chart, pinned.
   *
   * @default '1.20.0'
   */
  readonly chartVersion?: string;
  /**
   * Helm repository the K3s helm-controller installs the chart from (a mirror, for air-gapped sites).
   *
   * @default 'https://helm.cilium.io/'
   */
  readonly chartRepository?: string;
  /**
   * Address blocks (CIDRs) Cilium's LB IPAM hands to `LoadBalancer` Services: creates a
   * `CiliumLoadBalancerIPPool`.
   *
   * @default - no pool
   */
  readonly loadBalancerIpBlocks?: readonly string[];
  /**
   * Interfaces (regular expressions, e.g. `^eth[0-9]+`) the L2 announcement policy answers on. Only with
   * `l2Announcements`.
   *
   * @default - every interface
   */
  readonly l2AnnouncementInterfaces?: readonly string[];
}

/** Cilium's values file as this library writes it (a subset of the chart's values). */
interface CiliumValues {
  kubeProxyReplacement: boolean;
  k8sServiceHost: string;
  k8sServicePort: number;
  ipam: { mode: 'cluster-pool'; operator: { clusterPoolIPv4PodCIDRList: string[] } };
  operator: { replicas: number; prometheus: { enabled: boolean } };
  prometheus: { enabled: boolean };
  hubble: { enabled: boolean; relay: { enabled: boolean }; ui: { enabled: boolean }; metrics?: { enabled: string[] } };
  l2announcements: { enabled: boolean };
}

/**
 * Renders Cilium's Helm values (the HelmChart's `valuesContent`) from typed options. Pure.
 *
 * IPAM is `cluster-pool` over `podCidr`, so pod addresses come from K3s's `cluster-cidr` instead of the chart's
 * default `10.0.0.0/8`, which overlaps many LANs.
 *
 * @throws ValidationError naming every bad option
 */
export function renderCiliumValues(options: CiliumValuesOptions): string {
  validateValuesOptions(options);
  const hubble = options.hubble ?? true;
  const relay = options.hubbleRelay ?? hubble;
  const metrics = options.metrics ?? true;
  const values: CiliumValues = {
    kubeProxyReplacement: options.kubeProxyReplacement ?? true,
    k8sServiceHost: options.k8sServiceHost ?? K3S_NODE_LOCAL_API_HOST,
    k8sServicePort: options.k8sServicePort ?? K3S_NODE_LOCAL_API_PORT,
    ipam: { mode: 'cluster-pool', operator: { clusterPoolIPv4PodCIDRList: [options.podCidr] } },
    operator: { replicas: options.operatorReplicas ?? 2, prometheus: { enabled: metrics } },
    prometheus: { enabled: metrics },
    hubble: { enabled: hubble, relay: { enabled: relay }, ui: { enabled: options.hubbleUi ?? relay }, ...(hubble && metrics ? { metrics: { enabled: [...HUBBLE_METRICS] } } : {}) },
    l2announcements: { enabled: options.l2Announcements ?? false },
  };
  return stringify(values);
}

function validateValuesOptions(options: CiliumValuesOptions, problems = new ProblemCollector(), subject = 'cilium values'): void {
  problems.check(Ipv4Cidr.tryParse(options.podCidr)?.isNetworkAddress === true, 'podCidr', options.podCidr, 'an IPv4 network in CIDR notation with host bits clear, e.g. 10.42.0.0/16');
  if (options.k8sServiceHost !== undefined) {
    problems.check(isIpv4(options.k8sServiceHost) || isDnsName(options.k8sServiceHost), 'k8sServiceHost', options.k8sServiceHost, 'an IPv4 address or a DNS name');
  }
  if (options.k8sServicePort !== undefined) {
    problems.check(isPort(options.k8sServicePort), 'k8sServicePort', options.k8sServicePort, 'a port from 1 to 65535');
  }
  if (options.operatorReplicas !== undefined) {
    problems.check(isIntegerInRange(options.operatorReplicas, 1, 10), 'operatorReplicas', options.operatorReplicas, 'an integer from 1 to 10');
  }
  const hubble = options.hubble ?? true;
  const relay = options.hubbleRelay ?? hubble;
  if (options.hubbleRelay === true && !hubble) {
    problems.add('hubbleRelay', options.hubbleRelay, 'false, or hubble: true (Hubble Relay reads the agents\' Hubble servers)');
  }
  if (options.hubbleUi === true && !relay) {
    problems.add('hubbleUi', options.hubbleUi, 'false, or hubbleRelay: true (the UI reads flows through Hubble Relay)');
  }
  if (options.l2Announcements === true && options.kubeProxyReplacement === false) {
    problems.add('l2Announcements', options.l2Announcements, 'false, or kubeProxyReplacement: true (Cilium\'s L2 announcements need it)');
  }
  problems.throwIfAny(subject);
}

/**
 * Cilium as the cluster's CNI, installed by K3s's embedded helm-controller from a `HelmChart`
 * (`helm.cattle.io/v1`) in `kube-system`.
 *
 * The HelmChart has `spec.bootstrap: true`: the install Job then runs on the host network of a server, tolerates
 * the not-ready taints and talks to the API server at `127.0.0.1`, so it works before any pod network exists.
 * Its `valuesContent` comes from {@link renderCiliumValues}.
 *
 * With `loadBalancerIpBlocks` it also creates a `CiliumLoadBalancerIPPool`, and with `l2Announcements` a
 * `CiliumL2AnnouncementPolicy`. Their CRDs are installed by the Cilium operator once it runs, so an apply that
 * includes them fails until then; GitOps tools retry. They are therefore not part of the bootstrap manifest
 * ({@link renderCiliumBootstrapManifest}).
 *
 * K3s must run with `flannel-backend: none`, `disable-network-policy` and, with kube-proxy replacement,
 * `disable-kube-proxy`. Escape hatch: `cilium.helmChart.addJsonPatch(...)`, or a `HelmChartConfig` named
 * `cilium` in `kube-system` for values.
 *
 * @see https://docs.k3s.io/add-ons/helm
 * @see https://docs.cilium.io/en/stable/installation/k3s/
 */
export class CiliumCni extends Construct {
  /** The HelmChart K3s installs Cilium from. */
  public readonly helmChart: HelmChart;
  /** The LB IPAM pool, when `loadBalancerIpBlocks` is set. */
  public readonly loadBalancerIpPool?: CiliumLoadBalancerIpPool;
  /** The L2 announcement policy, when `l2Announcements` is true. */
  public readonly l2AnnouncementPolicy?: CiliumL2AnnouncementPolicy;
  /** The rendered Helm values. */
  public readonly valuesContent: string;
  /**
   * Headless Services over the agents', the operator's and (with Hubble) Hubble's metrics ports, labelled
   * {@link CILIUM_METRICS_SERVICE_LABEL} for the monitoring stack's ServiceMonitors; none when `metrics` is false.
   */
  public readonly metricsServices: readonly k8s.KubeService[];

  constructor(scope: Construct, id: string, props: CiliumCniProps) {
    super(scope, id);
    validateCniProps(props, `CiliumCni ${this.node.path}`);
    this.valuesContent = renderCiliumValues(props);

    this.helmChart = new HelmChart(this, 'Resource', {
      metadata: { name: 'cilium', namespace: 'kube-system' },
      spec: {
        bootstrap: true,
        chart: 'cilium',
        repo: props.chartRepository ?? 'https://helm.cilium.io/',
        version: props.chartVersion ?? DEFAULT_CILIUM_CHART_VERSION,
        targetNamespace: 'kube-system',
        valuesContent: this.valuesContent,
      },
    });
    this.metricsServices = (props.metrics ?? true) ? ciliumMetricsServices(this, props.hubble ?? true) : [];

    if (props.loadBalancerIpBlocks !== undefined) {
      this.loadBalancerIpPool = new CiliumLoadBalancerIpPool(this, 'LoadBalancerIpPool', {
        metadata: { name: 'cilium-lb-ipam' },
        spec: { blocks: props.loadBalancerIpBlocks.map((cidr) => ({ cidr })) },
      });
    }
    if (props.l2Announcements === true) {
      this.l2AnnouncementPolicy = new CiliumL2AnnouncementPolicy(this, 'L2AnnouncementPolicy', {
        metadata: { name: 'cilium-l2-announcements' },
        spec: {
          loadBalancerIPs: true,
          ...(props.l2AnnouncementInterfaces !== undefined ? { interfaces: [...props.l2AnnouncementInterfaces] } : {}),
        },
      });
    }
  }
}

/**
 * The metrics Services: the pods' own labels select them (the agent DaemonSet's `k8s-app: cilium`, the operator
 * Deployment's `io.cilium/app: operator`), and numeric target ports, so nothing depends on the chart's port names.
 */
function ciliumMetricsServices(scope: Construct, hubble: boolean): k8s.KubeService[] {
  const targets: { component: string; selector: Record<string, string>; port: number }[] = [
    { component: 'agent', selector: { 'k8s-app': 'cilium' }, port: CILIUM_AGENT_METRICS_PORT },
    { component: 'operator', selector: { 'io.cilium/app': 'operator' }, port: CILIUM_OPERATOR_METRICS_PORT },
    ...(hubble ? [{ component: 'hubble', selector: { 'k8s-app': 'cilium' }, port: HUBBLE_METRICS_PORT }] : []),
  ];
  return targets.map(({ component, selector, port }) => new k8s.KubeService(scope, `MetricsService-${component}`, {
    metadata: { name: `pkh-cilium-${component}-metrics`, namespace: 'kube-system', labels: { [CILIUM_METRICS_SERVICE_LABEL]: component } },
    spec: {
      clusterIp: 'None',
      selector,
      ports: [{ name: 'metrics', port, targetPort: k8s.IntOrString.fromNumber(port), protocol: 'TCP' }],
    },
  }));
}

function validateCniProps(props: CiliumCniProps, subject: string): void {
  const problems = new ProblemCollector();
  if (props.chartVersion !== undefined) {
    problems.check(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(props.chartVersion), 'chartVersion', props.chartVersion, 'a pinned chart version such as 1.20.0');
  }
  if (props.chartRepository !== undefined) {
    problems.check(/^(https?|oci):\/\/\S+$/.test(props.chartRepository), 'chartRepository', props.chartRepository, 'an http(s):// or oci:// repository URL');
  }
  if (props.loadBalancerIpBlocks !== undefined) {
    problems.check(props.loadBalancerIpBlocks.length > 0, 'loadBalancerIpBlocks', props.loadBalancerIpBlocks, 'at least one CIDR, or no loadBalancerIpBlocks for no pool');
    props.loadBalancerIpBlocks.forEach((block, i) => {
      problems.check(Ipv4Cidr.tryParse(block)?.isNetworkAddress === true, `loadBalancerIpBlocks[${i}]`, block, 'an IPv4 network in CIDR notation with host bits clear');
    });
  }
  if (props.l2AnnouncementInterfaces !== undefined) {
    problems.check(props.l2Announcements === true, 'l2AnnouncementInterfaces', props.l2AnnouncementInterfaces, 'no interfaces, or l2Announcements: true');
    props.l2AnnouncementInterfaces.forEach((pattern, i) => {
      problems.check(isRegExp(pattern), `l2AnnouncementInterfaces[${i}]`, pattern, 'a regular expression such as ^eth[0-9]+');
    });
  }
  validateValuesOptions(props, problems, subject);
}

function isRegExp(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return pattern.length > 0;
  } catch {
    return false;
  }
}
