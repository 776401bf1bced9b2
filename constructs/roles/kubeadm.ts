import { CloudConfig, EtcHostsEntry, Protocol } from '../cloud-init/cloud-config';
import { ETCD_METRICS_PORT } from '../monitoring/ports';
import {
  KUBEADM_API_SERVER_PORT, KUBEADM_CA_CERT_BASE64_PATH, KUBEADM_CA_KEY_BASE64_PATH, KUBEADM_DISCOVERY_KUBECONFIG_PATH, KUBEADM_INIT_CONFIG_PATH,
  KUBEADM_INIT_SCRIPT_PATH, KUBEADM_JOIN_CONFIG_PATH, KUBEADM_JOIN_SCRIPT_PATH, KUBEADM_NODE_PREP_SCRIPT_PATH, kubeadmClusterConfiguration,
  kubeadmInitConfiguration, kubeadmJoinConfiguration, renderKubeadmConfig, renderKubeadmDiscoveryKubeconfig, renderKubeadmInitScript,
  renderKubeadmJoinScript, renderKubeadmNodePrepScript,
} from '../renderers/kubeadm';
import { SitePlan, hostsWithRole } from '../site/plan';
import { HostRole } from '../site/spec';

const NODE_ROLE = 'kubeadm-node';
const CONTROL_PLANE_ROLE = 'kubeadm-control-plane';
const WORKER_ROLE = 'kubeadm-worker';
const ETC_HOSTS_ROLE = 'etc-hosts';

/** What every joining node needs, as Terraform references (never literal values). */
export interface KubeadmJoinSecrets {
  /** The bootstrap token `<id>.<secret>` (TLS bootstrap of the kubelet). */
  readonly bootstrapToken: string;
  /** Base64 of the cluster CA certificate's PEM: the discovery kubeconfig's `certificate-authority-data`. */
  readonly caCertificateBase64: string;
}

/** What the control planes need, as Terraform references (never literal values). */
export interface KubeadmControlPlaneSecrets extends KubeadmJoinSecrets {
  /** Hex AES-256 key of the certificates `kubeadm init --upload-certs` shares with joining control planes. */
  readonly certificateKey: string;
  /** Base64 of the cluster CA private key's PEM; written on the first control plane only. */
  readonly caPrivateKeyBase64: string;
}

/** Swap off, the pinned packages and CRI-O: the same file and command on every kubeadm node. */
function prepareNode(config: CloudConfig, plan: SitePlan): void {
  config.addPackages(NODE_ROLE, 'ca-certificates', 'curl', 'gpg');
  config.addFile(NODE_ROLE, { path: KUBEADM_NODE_PREP_SCRIPT_PATH, content: renderKubeadmNodePrepScript(plan), mode: '0755' });
  config.addCommand(NODE_ROLE, KUBEADM_NODE_PREP_SCRIPT_PATH);
  config.claimPort(NODE_ROLE, { port: 10250, protocol: Protocol.TCP, description: 'kubelet' });
}

/** The join files of a joining node: discovery kubeconfig (the CA) and `JoinConfiguration`, both 0600. */
function addJoin(config: CloudConfig, role: string, plan: SitePlan, hostName: string, secrets: KubeadmJoinSecrets, certificateKey?: string): void {
  config.addFile(role, { path: KUBEADM_DISCOVERY_KUBECONFIG_PATH, content: renderKubeadmDiscoveryKubeconfig(plan, secrets.caCertificateBase64), mode: '0600' });
  config.addFile(role, {
    path: KUBEADM_JOIN_CONFIG_PATH,
    content: renderKubeadmConfig([kubeadmJoinConfiguration(plan, hostName, { bootstrapToken: secrets.bootstrapToken, certificateKey })]),
    mode: '0600',
  });
  config.addFile(role, { path: KUBEADM_JOIN_SCRIPT_PATH, content: renderKubeadmJoinScript(plan, hostName), mode: '0755' });
  config.addCommand(role, KUBEADM_JOIN_SCRIPT_PATH);
}

/**
 * Attaches a kubeadm control plane (stacked etcd member) to a host. The first control plane gets the cluster CA
 * (base64, decoded into `/etc/kubernetes/pki` by its init script), the `InitConfiguration` +
 * `ClusterConfiguration` and runs `kubeadm init`; the others wait for the endpoint and join as control planes with
 * the certificate key. Every file holding a secret is mode 0600.
 *
 * @param secrets Terraform references, from {@link KubeadmControlPlane}
 */
export function applyKubeadmControlPlaneRole(config: CloudConfig, plan: SitePlan, hostName: string, secrets: KubeadmControlPlaneSecrets): void {
  const controlPlanes = hostsWithRole(plan, HostRole.CONTROL_PLANE);
  const index = controlPlanes.findIndex((h) => h.name === hostName);
  if (index < 0) {
    throw new Error(`site ${plan.name}: host ${JSON.stringify(hostName)} — expected a host with role ${HostRole.CONTROL_PLANE} (${controlPlanes.map((h) => h.name).join(', ')})`);
  }
  config.claimPort(CONTROL_PLANE_ROLE, { port: KUBEADM_API_SERVER_PORT, protocol: Protocol.TCP, description: 'kube-apiserver' });
  config.claimPort(CONTROL_PLANE_ROLE, { port: 2379, protocol: Protocol.TCP, description: 'etcd client' });
  config.claimPort(CONTROL_PLANE_ROLE, { port: 2380, protocol: Protocol.TCP, description: 'etcd peer' });
  config.claimPort(CONTROL_PLANE_ROLE, { port: ETCD_METRICS_PORT, protocol: Protocol.TCP, description: 'etcd metrics (listen-metrics-urls)' });
  config.claimPort(CONTROL_PLANE_ROLE, { port: 10257, protocol: Protocol.TCP, address: '127.0.0.1', description: 'kube-controller-manager' });
  config.claimPort(CONTROL_PLANE_ROLE, { port: 10259, protocol: Protocol.TCP, address: '127.0.0.1', description: 'kube-scheduler' });
  prepareNode(config, plan);
  if (index > 0) {
    addJoin(config, CONTROL_PLANE_ROLE, plan, hostName, secrets, secrets.certificateKey);
    return;
  }
  config.addFile(CONTROL_PLANE_ROLE, { path: KUBEADM_CA_CERT_BASE64_PATH, content: `${secrets.caCertificateBase64}\n`, mode: '0600' });
  config.addFile(CONTROL_PLANE_ROLE, { path: KUBEADM_CA_KEY_BASE64_PATH, content: `${secrets.caPrivateKeyBase64}\n`, mode: '0600' });
  config.addFile(CONTROL_PLANE_ROLE, {
    path: KUBEADM_INIT_CONFIG_PATH,
    content: renderKubeadmConfig([
      kubeadmInitConfiguration(plan, hostName, { bootstrapToken: secrets.bootstrapToken, certificateKey: secrets.certificateKey }),
      kubeadmClusterConfiguration(plan),
    ]),
    mode: '0600',
  });
  config.addFile(CONTROL_PLANE_ROLE, { path: KUBEADM_INIT_SCRIPT_PATH, content: renderKubeadmInitScript(plan), mode: '0755' });
  config.addCommand(CONTROL_PLANE_ROLE, KUBEADM_INIT_SCRIPT_PATH);
}

/** Attaches a kubeadm worker: it waits for the endpoint, then joins with the bootstrap token, verifying the CA. */
export function applyKubeadmWorkerRole(config: CloudConfig, plan: SitePlan, hostName: string, secrets: KubeadmJoinSecrets): void {
  if (!hostsWithRole(plan, HostRole.WORKER).some((h) => h.name === hostName)) {
    throw new Error(`site ${plan.name}: host ${JSON.stringify(hostName)} — expected a host with role ${HostRole.WORKER}`);
  }
  prepareNode(config, plan);
  addJoin(config, WORKER_ROLE, plan, hostName, secrets);
}

/**
 * The `/etc/hosts` lines of a site: every host as `ip fqdn name` in site order, then the API endpoint's DNS name
 * on its address (the load balancer's own or the VIP).
 */
export function siteEtcHostsEntries(plan: SitePlan): EtcHostsEntry[] {
  return [
    ...plan.hosts.map((host) => ({ address: host.ip, names: [host.fqdn, host.name] })),
    { address: plan.apiEndpoint.address, names: [plan.apiEndpoint.dnsName] },
  ];
}

/**
 * Writes every host of the site (and the API endpoint's name) into `/etc/hosts`, for sites without DNS records for
 * their hosts (`network.etcHosts`); cloud-init and Proxmox then leave the file alone.
 */
export function applyEtcHostsRole(config: CloudConfig, plan: SitePlan): void {
  config.writeEtcHosts(ETC_HOSTS_ROLE, siteEtcHostsEntries(plan));
}
