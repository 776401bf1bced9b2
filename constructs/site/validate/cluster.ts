import { Ipv4Cidr } from '../../core/ipv4';
import { isDnsName, isIntegerInRange } from '../../core/names';
import { ProblemCollector } from '../../core/problems';
import { CNIS_BY_DISTRIBUTION, DEFAULT_HTTPS_NODE_PORT, DEFAULT_HTTP_NODE_PORT, DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR, defaultCniFor } from '../defaults';
import { CniKind, Distribution } from '../spec';
import { expectObject, reportUnknownKeys } from './shape';

/** Kubernetes' default NodePort range (`--service-node-port-range`). */
const NODE_PORT_MIN = 30000;
const NODE_PORT_MAX = 32767;

/**
 * Checks `cluster`: CIDRs valid and disjoint from each other and from the node network; a CNI the distribution can
 * install (`distribution` is the raw `controlPlane.distribution`, checked by validateControlPlane); CNI options
 * consistent.
 */
export function validateCluster(problems: ProblemCollector, cluster: unknown, nodeNetwork: Ipv4Cidr | undefined, distribution: unknown): void {
  const spec = cluster ?? {};
  if (!expectObject(problems, 'cluster', spec)) {
    return;
  }
  reportUnknownKeys(problems, 'cluster', spec, ['podCidr', 'serviceCidr', 'clusterDomain', 'cni', 'kubeProxyReplacement']);
  const parsed: { path: string; cidr: Ipv4Cidr }[] = [];
  for (const [key, fallback] of [['podCidr', DEFAULT_POD_CIDR], ['serviceCidr', DEFAULT_SERVICE_CIDR]] as const) {
    const value = spec[key] ?? fallback;
    const cidr = Ipv4Cidr.tryParse(value);
    if (problems.check(cidr !== undefined && cidr.isNetworkAddress, `cluster.${key}`, value, 'an IPv4 network in CIDR notation with host bits clear')) {
      parsed.push({ path: `cluster.${key}`, cidr: cidr! });
    }
  }
  for (const { path, cidr } of parsed) {
    if (nodeNetwork) {
      problems.check(!cidr.overlaps(nodeNetwork), path, cidr.toString(), `a range that does not overlap network.cidr ${nodeNetwork.toString()}`);
    }
  }
  if (parsed.length === 2) {
    problems.check(!parsed[0].cidr.overlaps(parsed[1].cidr), 'cluster.serviceCidr', parsed[1].cidr.toString(),
      `a range that does not overlap cluster.podCidr ${parsed[0].cidr.toString()}`);
  }
  if (spec.clusterDomain !== undefined) {
    problems.check(isDnsName(spec.clusterDomain), 'cluster.clusterDomain', spec.clusterDomain, 'a DNS domain such as "cluster.local"');
  }
  // An unknown distribution is reported by validateControlPlane; the CNI is then checked as for K3s.
  const knownDistribution = Object.values(Distribution).includes(distribution as Distribution) ? distribution as Distribution : Distribution.K3S;
  const cni = spec.cni ?? defaultCniFor(knownDistribution);
  if (problems.check(Object.values(CniKind).includes(cni as CniKind), 'cluster.cni', spec.cni, `one of ${Object.values(CniKind).join(', ')}`)) {
    // Cilium comes as a K3s HelmChart (K3s's Helm controller, its node-local API proxy on 127.0.0.1:6444): a
    // kubeadm cluster has neither, so it would fail only once deployed.
    const supported = CNIS_BY_DISTRIBUTION[knownDistribution];
    problems.check(supported.includes(cni as CniKind), 'cluster.cni', spec.cni,
      `${supported.map((kind) => JSON.stringify(kind)).join(' or ')}, the CNI${supported.length > 1 ? 's' : ''} ${knownDistribution} sites support `
      + `(${CniKind.CILIUM} is installed by K3s's Helm controller, which ${knownDistribution} lacks)`);
  }
  if (spec.kubeProxyReplacement !== undefined) {
    problems.check(typeof spec.kubeProxyReplacement === 'boolean', 'cluster.kubeProxyReplacement', spec.kubeProxyReplacement, 'true or false');
    problems.check(!(spec.kubeProxyReplacement === true && cni !== CniKind.CILIUM), 'cluster.kubeProxyReplacement', spec.kubeProxyReplacement,
      `false, since only Cilium replaces kube-proxy (cluster.cni is ${JSON.stringify(cni)})`);
  }
}

/** Checks `ingress`: NodePorts inside Kubernetes' NodePort range and distinct. */
export function validateIngress(problems: ProblemCollector, ingress: unknown): void {
  const spec = ingress ?? {};
  if (!expectObject(problems, 'ingress', spec)) {
    return;
  }
  reportUnknownKeys(problems, 'ingress', spec, ['httpNodePort', 'httpsNodePort']);
  const http = spec.httpNodePort ?? DEFAULT_HTTP_NODE_PORT;
  const https = spec.httpsNodePort ?? DEFAULT_HTTPS_NODE_PORT;
  const inRange = `a NodePort from ${NODE_PORT_MIN} to ${NODE_PORT_MAX} (Kubernetes' service-node-port-range)`;
  const httpOk = problems.check(isIntegerInRange(http, NODE_PORT_MIN, NODE_PORT_MAX), 'ingress.httpNodePort', http, inRange);
  const httpsOk = problems.check(isIntegerInRange(https, NODE_PORT_MIN, NODE_PORT_MAX), 'ingress.httpsNodePort', https, inRange);
  if (httpOk && httpsOk) {
    problems.check(http !== https, 'ingress.httpsNodePort', https, 'a NodePort other than ingress.httpNodePort');
  }
}
