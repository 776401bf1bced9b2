import { stringify } from 'yaml';
import { K3S_DEDICATED_SERVER_TAINT } from '../site/defaults';
import { HostPlan, SitePlan, hostsWithRole } from '../site/plan';
import { ApiHealthCheck, CniKind, DatastoreKind, HostRole } from '../site/spec';
import { renderWaitLoop } from './shell-wait';
import { k3sEtcdS3Config } from './etcd-backup';

/** Where the pinned K3s binary is installed. */
export const K3S_BINARY_PATH = '/usr/local/bin/k3s';
/** kubectl with the server's admin credentials, on a K3s server. */
export const K3S_KUBECTL = `${K3S_BINARY_PATH} kubectl`;

/** A K3s server's data directory: present once K3s has run there as a server. */
export const K3S_SERVER_DATA_DIR = '/var/lib/rancher/k3s/server';
/** K3s's configuration file (server or agent), read at every start. */
export const K3S_CONFIG_PATH = '/etc/rancher/k3s/config.yaml';
/** K3s's auto-deploy folder on servers: every manifest in it is applied at start and whenever the file changes. */
export const K3S_AUTO_DEPLOY_MANIFESTS_DIR = `${K3S_SERVER_DATA_DIR}/manifests`;
/** The cluster token (0600), which `config.yaml` names as `token-file` so it never appears in the config itself. */
export const K3S_TOKEN_PATH = '/etc/rancher/k3s/token';
/** The unit's environment file (0600): the datastore's environment, e.g. credentials, kept off the command line. */
export const K3S_ENV_PATH = '/etc/rancher/k3s/k3s.env';
/** The API server's authentication config ({@link K3S_AUTHENTICATION_CONFIG}), written when the load balancers check `/readyz`. */
export const K3S_AUTH_CONFIG_PATH = '/etc/rancher/k3s/authentication-config.yaml';
/** The install script ({@link renderK3sInstallScript}) of the pinned K3s release. */
export const K3S_INSTALL_SCRIPT_PATH = '/usr/local/lib/proxmox-k3s-ha/install-k3s.sh';
/** The script that waits for the API endpoint ({@link renderWaitForApiScript}) before a node joins. */
export const K3S_WAIT_SCRIPT_PATH = '/usr/local/lib/proxmox-k3s-ha/wait-for-api.sh';
/** Where the first server's first boot decides between bootstrapping the cluster and joining the one that runs. */
export const K3S_JOIN_EXISTING_SCRIPT_PATH = '/usr/local/lib/proxmox-k3s-ha/k3s-join-existing-cluster.sh';
/** A K3s server's embedded etcd member data: present once the server has bootstrapped or joined. */
export const K3S_ETCD_DATA_DIR = `${K3S_SERVER_DATA_DIR}/db/etcd`;

/** A value of K3s's `config.yaml` (its keys are the CLI flags without the dashes). */
export type K3sConfigValue = string | boolean | number | readonly string[];
/** The contents of K3s's `config.yaml`: flag name (without dashes) to value. */
export type K3sConfig = Readonly<Record<string, K3sConfigValue>>;

/**
 * The flags K3s requires to be identical on every server (K3s docs, "critical configuration values"), from one
 * place so the servers cannot disagree.
 */
export function criticalServerConfig(plan: SitePlan): K3sConfig {
  const cilium = plan.cluster.cni === CniKind.CILIUM;
  return {
    'cluster-cidr': plan.cluster.podCidr,
    'service-cidr': plan.cluster.serviceCidr,
    'cluster-domain': plan.cluster.clusterDomain,
    // The load balancers and the ingress controller replace these two.
    disable: ['servicelb', 'traefik'],
    'flannel-backend': cilium ? 'none' : 'vxlan',
    ...(cilium ? { 'disable-network-policy': true } : {}),
    ...(plan.cluster.kubeProxyReplacement ? { 'disable-kube-proxy': true } : {}),
    ...(plan.controlPlane.secretsEncryption ? { 'secrets-encryption': true } : {}),
  };
}

/** Every name and address the API serves under: the endpoint (VIP and DNS name) and each server. */
export function tlsSans(plan: SitePlan): string[] {
  const servers = hostsWithRole(plan, HostRole.K3S_SERVER);
  return [...new Set([plan.apiEndpoint.address, plan.apiEndpoint.dnsName, ...servers.flatMap((s) => [s.ip, s.fqdn, s.name])])];
}

/** The fixed registration address joining servers and agents use. */
export function registrationUrl(plan: SitePlan): string {
  return `https://${plan.apiEndpoint.address}:${plan.apiEndpoint.port}`;
}

function nodeConfig(host: HostPlan, extraTaints: readonly string[]): Record<string, K3sConfigValue> {
  const labels = Object.entries(host.nodeLabels).map(([k, v]) => `${k}=${v}`).sort();
  const taints = [...extraTaints, ...host.nodeTaints];
  return {
    'node-name': host.name,
    'node-ip': host.ip,
    ...(labels.length > 0 ? { 'node-label': labels } : {}),
    ...(taints.length > 0 ? { 'node-taint': taints } : {}),
  };
}

/**
 * True for the one server whose config bootstraps the embedded etcd cluster (`cluster-init`): the first server of
 * the site as first built. A rebuilt first server (`generation` raised) joins the running cluster through the API
 * endpoint like the others: K3s's first server is special only until other members exist, and a second
 * `cluster-init` would start a second, empty cluster behind the same endpoint.
 */
export function bootstrapsCluster(plan: SitePlan, serverName: string): boolean {
  const { host, index } = serverHost(plan, serverName);
  return plan.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD && index === 0 && host.generation === 0;
}

function serverHost(plan: SitePlan, serverName: string): { host: HostPlan; index: number } {
  const servers = hostsWithRole(plan, HostRole.K3S_SERVER);
  const index = servers.findIndex((s) => s.name === serverName);
  if (index < 0) {
    throw new Error(`site ${plan.name}: host ${JSON.stringify(serverName)} is not a K3s server (servers: ${servers.map((s) => s.name).join(', ')})`);
  }
  return { host: servers[index], index };
}

/**
 * The `config.yaml` of one K3s server. With embedded etcd the first server runs `cluster-init` (see
 * {@link bootstrapsCluster}) and the others join through the API endpoint; an external datastore contributes its own entries (`datastoreConfig`). The token
 * is read from a file, and the kubeconfig is readable by root only.
 */
export function k3sServerConfig(plan: SitePlan, serverName: string, datastoreConfig: K3sConfig = {}): K3sConfig {
  const { host } = serverHost(plan, serverName);
  const embedded = plan.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD;
  return {
    ...nodeConfig(host, plan.controlPlane.dedicatedServers ? [K3S_DEDICATED_SERVER_TAINT] : []),
    'token-file': K3S_TOKEN_PATH,
    'write-kubeconfig-mode': '0600',
    'tls-san': tlsSans(plan),
    ...criticalServerConfig(plan),
    ...(embedded && bootstrapsCluster(plan, serverName) ? { 'cluster-init': true } : {}),
    ...(embedded && !bootstrapsCluster(plan, serverName) ? { server: registrationUrl(plan) } : {}),
    ...(embedded ? {
      'etcd-snapshot-schedule-cron': plan.controlPlane.etcdSnapshotScheduleCron,
      'etcd-snapshot-retention': plan.controlPlane.etcdSnapshotRetention,
      // etcd's metrics on the node's address too, port 2381, plain HTTP ("Expose etcd metrics to client interface",
      // ../shared/reference/k3s/cli-flags.md line 62): the scrape target of the cluster-etcd job.
      'etcd-expose-metrics': true,
    } : {}),
    ...k3sEtcdS3Config(plan),
    ...(plan.loadBalancer?.apiHealthCheck === ApiHealthCheck.READYZ ? { 'kube-apiserver-arg': [`authentication-config=${K3S_AUTH_CONFIG_PATH}`] } : {}),
    ...datastoreConfig,
  };
}

/** The `config.yaml` of one K3s agent: it registers through the API endpoint with the cluster token. */
export function k3sAgentConfig(plan: SitePlan, agentName: string): K3sConfig {
  const agent = hostsWithRole(plan, HostRole.K3S_AGENT).find((a) => a.name === agentName);
  if (!agent) {
    throw new Error(`site ${plan.name}: host ${JSON.stringify(agentName)} is not a K3s agent`);
  }
  return { ...nodeConfig(agent, []), server: registrationUrl(plan), 'token-file': K3S_TOKEN_PATH };
}

/** Renders a K3s `config.yaml` ({@link K3S_CONFIG_PATH}) as YAML with a do-not-edit header. */
export function renderK3sConfig(config: K3sConfig): string {
  return `# Rendered by proxmox-k3s-ha; do not edit by hand.\n${stringify(config, { lineWidth: 0 })}`;
}

/**
 * Lets anonymous requests reach only the health endpoints, so HAProxy's `GET /readyz` check gets 200 instead of
 * 401 (K3s otherwise runs the API server with anonymous auth off); every other path still needs credentials.
 */
export const K3S_AUTHENTICATION_CONFIG = `apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
anonymous:
  enabled: true
  conditions:
    - path: /livez
    - path: /readyz
    - path: /healthz
`;

/** The k3s systemd unit (server or agent), as K3s's installer writes it, reading secrets from an environment file. */
export function renderK3sUnit(mode: 'server' | 'agent'): string {
  return `[Unit]
Description=Lightweight Kubernetes (${mode})
Documentation=https://k3s.io
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target

[Service]
Type=notify
EnvironmentFile=-${K3S_ENV_PATH}
KillMode=process
Delegate=yes
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStartPre=-/sbin/modprobe br_netfilter
ExecStartPre=-/sbin/modprobe overlay
ExecStart=${K3S_BINARY_PATH} ${mode}
`;
}

/**
 * Installs the pinned K3s release: downloads the binary and verifies its SHA-256 (against `sha256` when the site
 * pins one, else against the release's own checksum file); idempotent when that version is installed already.
 */
export function renderK3sInstallScript(version: string, sha256?: string): string {
  return `#!/bin/sh
# Installs K3s ${version} (rendered by proxmox-k3s-ha). Idempotent.
set -eu
version='${version}'
expected_sha256='${sha256 ?? ''}'
if [ -x ${K3S_BINARY_PATH} ] && ${K3S_BINARY_PATH} --version | grep -qF "$version"; then
  exit 0
fi
case "$(uname -m)" in
  x86_64) binary=k3s; sums=sha256sum-amd64.txt ;;
  aarch64) binary=k3s-arm64; sums=sha256sum-arm64.txt ;;
  *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
base="https://github.com/k3s-io/k3s/releases/download/$(printf '%s' "$version" | sed 's/+/%2B/')"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fsSL --retry 5 -o "$tmp/$binary" "$base/$binary"
if [ -n "$expected_sha256" ]; then
  printf '%s  %s\\n' "$expected_sha256" "$tmp/$binary" | sha256sum -c -
else
  curl -fsSL --retry 5 -o "$tmp/$sums" "$base/$sums"
  (cd "$tmp" && grep " $binary\\$" "$sums" | sha256sum -c -)
fi
install -m 0755 "$tmp/$binary" ${K3S_BINARY_PATH}
for tool in kubectl crictl ctr; do
  ln -sf k3s "/usr/local/bin/$tool"
done
`;
}

/**
 * Waits until the API endpoint answers K3s's unauthenticated `/ping`, so joining servers and agents never race the
 * first server; gives up after `controlPlane.joinApiWaitMinutes` of elapsed time, which fails the host's first-boot
 * configuration there (a re-run continues from this step).
 */
export function renderWaitForApiScript(plan: SitePlan): string {
  const url = registrationUrl(plan);
  return `#!/bin/sh
# Waits until ${url} answers (rendered by proxmox-k3s-ha).
set -eu
${renderWaitLoop({
    condition: `curl -ksf --max-time 5 '${url}/ping' | grep -q pong`,
    description: `the API endpoint ${url} to answer /ping`,
    timeoutSeconds: plan.controlPlane.joinApiWaitMinutes * 60,
  })}
`;
}
