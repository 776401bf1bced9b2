import { stringify } from 'yaml';
import { KUBEADM_CONTROL_PLANE_TAINT } from '../site/defaults';
import { HostPlan, SitePlan, hostsWithRole } from '../site/plan';
import { parseNodeTaint } from '../site/validate/hosts';
import { CniKind, Distribution, HostRole } from '../site/spec';
import { renderWaitLoop } from './shell-wait';
import { ETCD_METRICS_PORT } from '../monitoring/ports';

/**
 * kubeadm (Kubernetes 1.30, `kubeadm.k8s.io/v1beta3`) with CRI-O and stacked etcd: the configuration documents,
 * the discovery kubeconfig and the node scripts, rendered from the plan. Pure: secrets come in as strings
 * (Terraform references) and are written where kubeadm reads them, never onto a command line.
 */

/** The kubeadm configuration API Kubernetes 1.30 reads (v1beta4 arrives with 1.31). */
export const KUBEADM_API_VERSION = 'kubeadm.k8s.io/v1beta3';
/** CRI-O's socket (the seeds' container runtime). */
export const CRIO_SOCKET = 'unix:///var/run/crio/crio.sock';
/** Where kube-apiserver listens on every control plane; HAProxy's backends point here. */
export const KUBEADM_API_SERVER_PORT = 6443;

/** The admin kubeconfig `kubeadm init` and a control plane's `kubeadm join` write. */
export const KUBEADM_ADMIN_KUBECONFIG_PATH = '/etc/kubernetes/admin.conf';
/** kubectl with admin rights, on a control plane. */
export const KUBEADM_KUBECTL = `kubectl --kubeconfig=${KUBEADM_ADMIN_KUBECONFIG_PATH}`;

/** Our kubeadm inputs; outside the paths `kubeadm reset` cleans, so a retried join keeps them. */
export const KUBEADM_DIR = '/etc/kubernetes/kubeadm';
/** The first control plane's `InitConfiguration` and `ClusterConfiguration`, read by `kubeadm init --config`. */
export const KUBEADM_INIT_CONFIG_PATH = `${KUBEADM_DIR}/init.yaml`;
/** A joining node's `JoinConfiguration`, read by `kubeadm join --config`. */
export const KUBEADM_JOIN_CONFIG_PATH = `${KUBEADM_DIR}/join.yaml`;
/** The discovery kubeconfig (endpoint and cluster CA, no credentials) the `JoinConfiguration`'s `discovery.file` names. */
export const KUBEADM_DISCOVERY_KUBECONFIG_PATH = `${KUBEADM_DIR}/discovery.conf`;
/** The cluster CA, base64 of the PEM: Terraform references must stay on one line inside user data. */
export const KUBEADM_CA_CERT_BASE64_PATH = `${KUBEADM_DIR}/ca.crt.b64`;
/** The cluster CA's private key, base64 of the PEM (first control plane only), decoded into the PKI directory by the init script. */
export const KUBEADM_CA_KEY_BASE64_PATH = `${KUBEADM_DIR}/ca.key.b64`;
/** kubeadm's certificate directory; the init script installs the cluster CA (`ca.crt`, `ca.key`) here before `kubeadm init`. */
export const KUBERNETES_PKI_DIR = '/etc/kubernetes/pki';
/** The node preparation script ({@link renderKubeadmNodePrepScript}), run on every kubeadm node. */
export const KUBEADM_NODE_PREP_SCRIPT_PATH = '/usr/local/lib/proxmox-k3s-ha/kubeadm-node-prep.sh';
/** The cluster init script ({@link renderKubeadmInitScript}), run on the first control plane. */
export const KUBEADM_INIT_SCRIPT_PATH = '/usr/local/lib/proxmox-k3s-ha/kubeadm-init.sh';
/** The join script ({@link renderKubeadmJoinScript}), run on every other control plane and every worker. */
export const KUBEADM_JOIN_SCRIPT_PATH = '/usr/local/lib/proxmox-k3s-ha/kubeadm-join.sh';

/**
 * Lifetime of the bootstrap token. Every node joins at first boot, within minutes of `kubeadm init`; a token that
 * never expires (`ttl: 0`) would let anyone who ever read it join nodes forever. A node added or rebuilt after
 * 24 hours needs the token again: `kubeadm token create <token> --ttl 2h` on a control plane (the same value, read
 * from the joining node's `join.yaml` or Terraform state) — and, for a control plane, the uploaded certificates
 * too (kubeadm deletes them after 2 hours): `kubeadm init phase upload-certs --upload-certs --certificate-key <key>`.
 */
export const KUBEADM_BOOTSTRAP_TOKEN_TTL = '24h0m0s';

/** Flannel release whose manifest the first control plane applies (kubeadm sites with `cluster.cni: flannel`). */
export const FLANNEL_VERSION = 'v0.26.7';
/** The release manifest of {@link FLANNEL_VERSION}, downloaded by the init script (the one in-cluster fetch at boot). */
export const FLANNEL_MANIFEST_URL = `https://github.com/flannel-io/flannel/releases/download/${FLANNEL_VERSION}/kube-flannel.yml`;
/** The pod network written into Flannel's manifest (`net-conf.json`); replaced by the site's pod CIDR. */
const FLANNEL_MANIFEST_NETWORK = '10.244.0.0/16';

/** What every kubeadm configuration document has. */
export interface KubeadmDocument {
  /** The document's API group and version, {@link KUBEADM_API_VERSION} for kubeadm's own documents. */
  readonly apiVersion: string;
  /** The document type, e.g. `InitConfiguration`. */
  readonly kind: string;
}

/** `bindPort` and `advertiseAddress` of one API server. */
export interface KubeadmApiEndpoint {
  /** The address this API server advertises to the cluster: the node's own address. */
  readonly advertiseAddress: string;
  /** The port this API server listens on ({@link KUBEADM_API_SERVER_PORT}). */
  readonly bindPort: number;
}

/** A node taint (core/v1 Taint). */
export interface KubeadmTaint {
  /** The taint's key, e.g. `node-role.kubernetes.io/control-plane`. */
  readonly key: string;
  /**
   * The taint's value.
   *
   * @default - no value
   */
  readonly value?: string;
  /** `NoSchedule`, `PreferNoSchedule` or `NoExecute`. */
  readonly effect: string;
}

/** `nodeRegistration` of an Init- or JoinConfiguration. */
export interface KubeadmNodeRegistration {
  /** The Node object's name: the host's name. */
  readonly name: string;
  /** The container runtime's socket ({@link CRIO_SOCKET}). */
  readonly criSocket: string;
  /** Extra kubelet flags without the dashes: `node-ip` always, `node-labels` when the host has labels. */
  readonly kubeletExtraArgs: Readonly<Record<string, string>>;
  /**
   * Taints registered with the node; when present they replace kubeadm's own, so a control plane's list starts
   * with the control-plane taint.
   *
   * @default - kubeadm's own: the control-plane taint on control planes, none on workers
   */
  readonly taints?: readonly KubeadmTaint[];
}

/** A bootstrap token created by `kubeadm init` (bootstraptoken/v1 BootstrapToken). */
export interface KubeadmBootstrapToken {
  /** `[a-z0-9]{6}.[a-z0-9]{16}` */
  readonly token: string;
  /** Human-readable note on what the token is for (`kubeadm token list` shows it). */
  readonly description: string;
  /** How long the token stays valid after `kubeadm init` ({@link KUBEADM_BOOTSTRAP_TOKEN_TTL}). */
  readonly ttl: string;
  /** What the token may be used for: `signing` (of `cluster-info`) and `authentication` (the TLS bootstrap). */
  readonly usages: readonly string[];
  /** Extra groups the token authenticates as: kubeadm's default node-token group. */
  readonly groups: readonly string[];
}

/** `InitConfiguration` (v1beta3), for the first control plane only. */
export interface KubeadmInitConfiguration extends KubeadmDocument {
  /** Always `InitConfiguration`. */
  readonly kind: 'InitConfiguration';
  /** The tokens `kubeadm init` creates: one, which every joining node uses. */
  readonly bootstrapTokens: readonly KubeadmBootstrapToken[];
  /** Hex AES-256 key that encrypts the certificates `--upload-certs` shares with joining control planes. */
  readonly certificateKey: string;
  /** The API server of this (the first) control plane. */
  readonly localAPIEndpoint: KubeadmApiEndpoint;
  /** How this node registers with the cluster. */
  readonly nodeRegistration: KubeadmNodeRegistration;
}

/** `ClusterConfiguration` (v1beta3): what every control plane shares. */
export interface KubeadmClusterConfiguration extends KubeadmDocument {
  /** Always `ClusterConfiguration`. */
  readonly kind: 'ClusterConfiguration';
  /** The cluster's name: the site's name. */
  readonly clusterName: string;
  /** The control plane's Kubernetes version, `v<versions.kubernetes>`. */
  readonly kubernetesVersion: string;
  /** The shared API endpoint, `<host>:<port>` ({@link kubeadmControlPlaneEndpoint}). */
  readonly controlPlaneEndpoint: string;
  /** The site's pod CIDR, service CIDR and cluster domain. */
  readonly networking: { readonly podSubnet: string; readonly serviceSubnet: string; readonly dnsDomain: string };
  /** Extra names and addresses of the API server certificate ({@link kubeadmCertSans}). */
  readonly apiServer: { readonly certSANs: readonly string[] };
  /** Stacked etcd: a local member on every control plane, with its data in `/var/lib/etcd`; metrics on port 2381. */
  readonly etcd: { readonly local: { readonly dataDir: string; readonly extraArgs: Readonly<Record<string, string>> } };
}

/** `JoinConfiguration` (v1beta3), for every node but the first control plane. */
export interface KubeadmJoinConfiguration extends KubeadmDocument {
  /** Always `JoinConfiguration`. */
  readonly kind: 'JoinConfiguration';
  /** How the node finds and verifies the cluster, and the token it bootstraps its kubelet with. */
  readonly discovery: {
    /** A kubeconfig holding the endpoint and the cluster CA: discovery verifies the API server against that CA. */
    readonly file: { readonly kubeConfigPath: string };
    readonly tlsBootstrapToken: string;
  };
  /** How this node registers with the cluster. */
  readonly nodeRegistration: KubeadmNodeRegistration;
  /**
   * Present when the node joins as a control plane: its own API endpoint and the key of the uploaded certificates.
   *
   * @default - a worker
   */
  readonly controlPlane?: { readonly localAPIEndpoint: KubeadmApiEndpoint; readonly certificateKey: string };
}

/** Secrets of the first control plane's `InitConfiguration`, as Terraform references. */
export interface KubeadmInitSecrets {
  /** `<id>.<secret>`, from two generated strings. */
  readonly bootstrapToken: string;
  /** 64 hex digits (32 random bytes). */
  readonly certificateKey: string;
}

/** Secrets of a `JoinConfiguration`, as Terraform references. */
export interface KubeadmJoinOptions {
  /** The bootstrap token of the first control plane's `InitConfiguration`, `<id>.<secret>`. */
  readonly bootstrapToken: string;
  /**
   * Decrypts the certificates the first control plane uploaded.
   *
   * @default - none; required for a control plane
   */
  readonly certificateKey?: string;
}

function requireKubeadm(plan: SitePlan): void {
  if (plan.controlPlane.distribution !== Distribution.KUBEADM) {
    throw new Error(`site ${plan.name}: controlPlane.distribution ${JSON.stringify(plan.controlPlane.distribution)} — expected "${Distribution.KUBEADM}"`);
  }
}

/** A kubeadm node of the site and, for a control plane, its position (0 initializes the cluster). */
function kubeadmNode(plan: SitePlan, hostName: string): { host: HostPlan; controlPlaneIndex: number } {
  requireKubeadm(plan);
  const controlPlanes = hostsWithRole(plan, HostRole.CONTROL_PLANE);
  const index = controlPlanes.findIndex((h) => h.name === hostName);
  if (index >= 0) {
    return { host: controlPlanes[index], controlPlaneIndex: index };
  }
  const worker = hostsWithRole(plan, HostRole.WORKER).find((h) => h.name === hostName);
  if (!worker) {
    throw new Error(`site ${plan.name}: host ${JSON.stringify(hostName)} — expected a host with role ${HostRole.CONTROL_PLANE} or ${HostRole.WORKER}`);
  }
  return { host: worker, controlPlaneIndex: -1 };
}

/**
 * The host part of `controlPlaneEndpoint`: the endpoint's DNS name when every node resolves it from `/etc/hosts`
 * (`network.etcHosts`), else its address — nothing else guarantees the name resolves on the nodes at first boot.
 */
function endpointHost(plan: SitePlan): string {
  return plan.network.etcHosts ? plan.apiEndpoint.dnsName : plan.apiEndpoint.address;
}

/** `controlPlaneEndpoint`: the load balancer (or VIP), `<host>:<port>`. */
export function kubeadmControlPlaneEndpoint(plan: SitePlan): string {
  return `${endpointHost(plan)}:${plan.apiEndpoint.port}`;
}

/** The URL joining nodes reach the API at: `https://<controlPlaneEndpoint>`. */
export function kubeadmEndpointUrl(plan: SitePlan): string {
  return `https://${kubeadmControlPlaneEndpoint(plan)}`;
}

/** Extra API server certificate names: the endpoint's address and DNS name, and every control plane's. */
export function kubeadmCertSans(plan: SitePlan): string[] {
  const controlPlanes = hostsWithRole(plan, HostRole.CONTROL_PLANE);
  return [...new Set([plan.apiEndpoint.address, plan.apiEndpoint.dnsName, ...controlPlanes.flatMap((h) => [h.ip, h.fqdn, h.name])])];
}

/** A taint of the site model (validated by defineSite) as kubeadm's type. */
function parseTaint(taint: string): KubeadmTaint {
  const parsed = parseNodeTaint(taint);
  if (!parsed) {
    throw new Error(`nodeTaints: ${JSON.stringify(taint)} — a taint "key[=value]:NoSchedule|PreferNoSchedule|NoExecute"`);
  }
  return parsed;
}

/** The control-plane taint kubeadm applies by default; kept when a site adds taints of its own. */
const CONTROL_PLANE_TAINT: KubeadmTaint = parseTaint(KUBEADM_CONTROL_PLANE_TAINT);

function nodeRegistration(host: HostPlan, controlPlane: boolean): KubeadmNodeRegistration {
  const labels = Object.entries(host.nodeLabels).map(([k, v]) => `${k}=${v}`).sort();
  const taints = host.nodeTaints.map(parseTaint);
  return {
    name: host.name,
    criSocket: CRIO_SOCKET,
    // The kubelet would otherwise pick the address of the default route's interface.
    kubeletExtraArgs: { 'node-ip': host.ip, ...(labels.length > 0 ? { 'node-labels': labels.join(',') } : {}) },
    ...(taints.length > 0 ? { taints: controlPlane ? [CONTROL_PLANE_TAINT, ...taints] : taints } : {}),
  };
}

/** The `ClusterConfiguration` every control plane shares (the first one uploads it into the cluster). */
export function kubeadmClusterConfiguration(plan: SitePlan): KubeadmClusterConfiguration {
  requireKubeadm(plan);
  return {
    apiVersion: KUBEADM_API_VERSION,
    kind: 'ClusterConfiguration',
    clusterName: plan.name,
    kubernetesVersion: `v${plan.versions.kubernetes}`,
    controlPlaneEndpoint: kubeadmControlPlaneEndpoint(plan),
    networking: { podSubnet: plan.cluster.podCidr, serviceSubnet: plan.cluster.serviceCidr, dnsDomain: plan.cluster.clusterDomain },
    apiServer: { certSANs: kubeadmCertSans(plan) },
    etcd: {
      local: {
        dataDir: '/var/lib/etcd',
        // kubeadm's default serves etcd's metrics on loopback only. Every address, because this document is shared by
        // all control planes and cannot name each one's own: the hosts' only outside network is the site network.
        extraArgs: { 'listen-metrics-urls': `http://0.0.0.0:${ETCD_METRICS_PORT}` },
      },
    },
  };
}

/**
 * The first control plane's `InitConfiguration`: one bootstrap token (see {@link KUBEADM_BOOTSTRAP_TOKEN_TTL}),
 * the certificate key for `--upload-certs`, its own API endpoint and CRI-O.
 */
export function kubeadmInitConfiguration(plan: SitePlan, hostName: string, secrets: KubeadmInitSecrets): KubeadmInitConfiguration {
  const { host, controlPlaneIndex } = kubeadmNode(plan, hostName);
  if (controlPlaneIndex !== 0) {
    const first = hostsWithRole(plan, HostRole.CONTROL_PLANE)[0];
    throw new Error(`site ${plan.name}: host ${JSON.stringify(hostName)} — expected the first control plane (${first.name}), which alone runs kubeadm init`);
  }
  return {
    apiVersion: KUBEADM_API_VERSION,
    kind: 'InitConfiguration',
    bootstrapTokens: [{
      token: secrets.bootstrapToken,
      description: `proxmox-k3s-ha: nodes of site ${plan.name} join with it at first boot`,
      ttl: KUBEADM_BOOTSTRAP_TOKEN_TTL,
      usages: ['signing', 'authentication'],
      groups: ['system:bootstrappers:kubeadm:default-node-token'],
    }],
    certificateKey: secrets.certificateKey,
    localAPIEndpoint: { advertiseAddress: host.ip, bindPort: KUBEADM_API_SERVER_PORT },
    nodeRegistration: nodeRegistration(host, true),
  };
}

/**
 * The `JoinConfiguration` of a joining control plane or worker. Discovery reads a kubeconfig that holds the
 * cluster CA ({@link renderKubeadmDiscoveryKubeconfig}), so the API server is verified — never
 * `unsafeSkipCAVerification`; the bootstrap token only authenticates the TLS bootstrap.
 */
export function kubeadmJoinConfiguration(plan: SitePlan, hostName: string, options: KubeadmJoinOptions): KubeadmJoinConfiguration {
  const { host, controlPlaneIndex } = kubeadmNode(plan, hostName);
  if (controlPlaneIndex === 0) {
    throw new Error(`site ${plan.name}: host ${JSON.stringify(hostName)} — expected a joining node, not the first control plane (it runs kubeadm init)`);
  }
  const controlPlane = controlPlaneIndex > 0;
  if (controlPlane && options.certificateKey === undefined) {
    throw new Error(`certificateKey: undefined — the key of the certificates kubeadm init uploaded, since ${hostName} joins as a control plane`);
  }
  return {
    apiVersion: KUBEADM_API_VERSION,
    kind: 'JoinConfiguration',
    discovery: { file: { kubeConfigPath: KUBEADM_DISCOVERY_KUBECONFIG_PATH }, tlsBootstrapToken: options.bootstrapToken },
    nodeRegistration: nodeRegistration(host, controlPlane),
    ...(controlPlane ? {
      controlPlane: { localAPIEndpoint: { advertiseAddress: host.ip, bindPort: KUBEADM_API_SERVER_PORT }, certificateKey: options.certificateKey! },
    } : {}),
  };
}

/** Renders kubeadm documents into one multi-document YAML file. */
export function renderKubeadmConfig(documents: readonly KubeadmDocument[]): string {
  return `# Rendered by proxmox-k3s-ha; do not edit by hand.\n${documents.map((document) => stringify(document, { lineWidth: 0 })).join('---\n')}`;
}

/**
 * The kubeconfig `discovery.file` reads: the endpoint and the cluster CA (`certificate-authority-data`, base64 of
 * the PEM), no credentials.
 *
 * @param caCertificateBase64 base64 of the CA certificate's PEM, a Terraform reference
 */
export function renderKubeadmDiscoveryKubeconfig(plan: SitePlan, caCertificateBase64: string): string {
  requireKubeadm(plan);
  const document = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: plan.name, cluster: { server: kubeadmEndpointUrl(plan), 'certificate-authority-data': caCertificateBase64 } }],
    // kubeadm reads the cluster of the current context; an empty user means "no credentials in this file".
    contexts: [{ name: 'discovery', context: { cluster: plan.name, user: 'discovery' } }],
    'current-context': 'discovery',
    users: [{ name: 'discovery', user: {} }],
  };
  return `# Rendered by proxmox-k3s-ha; do not edit by hand.\n${stringify(document, { lineWidth: 0 })}`;
}

/** The minor release line of the site's Kubernetes version, e.g. `v1.30`: it names the pkgs.k8s.io repositories. */
export function kubernetesMinor(plan: SitePlan): string {
  return `v${plan.versions.kubernetes.split('.').slice(0, 2).join('.')}`;
}

/** The Debian package version pkgs.k8s.io publishes for the site's release, e.g. `1.30.14-1.1`. */
export function kubernetesPackageVersion(plan: SitePlan): string {
  return `${plan.versions.kubernetes}-1.1`;
}

/** The Debian package version of the site's CRI-O release in the CRI-O repository, e.g. `1.30.14-1.1`. */
export function crioPackageVersion(plan: SitePlan): string {
  return `${plan.versions.crio}-1.1`;
}

/**
 * Prepares any kubeadm node (POSIX sh, idempotent): swap off now and in `/etc/fstab`, the pkgs.k8s.io repositories
 * of the site's minor release for Kubernetes and CRI-O (signing keys fetched over HTTPS and dearmored into
 * `/etc/apt/keyrings`), CRI-O and kubelet/kubeadm/kubectl pinned and held, CRI-O without its default bridge network,
 * CRI-O and the kubelet enabled. Kernel modules and sysctls come from the Kubernetes node prerequisites role.
 */
export function renderKubeadmNodePrepScript(plan: SitePlan): string {
  requireKubeadm(plan);
  return `#!/bin/sh
# Prepares a kubeadm node: Kubernetes ${plan.versions.kubernetes} and CRI-O ${plan.versions.crio} (rendered by proxmox-k3s-ha). Idempotent.
set -eu
export DEBIAN_FRONTEND=noninteractive
minor='${kubernetesMinor(plan)}'
package_version='${kubernetesPackageVersion(plan)}'
crio_package_version='${crioPackageVersion(plan)}'

# The kubelet refuses to start while swap is on: off now, and every swap line of /etc/fstab commented out.
swapoff -a
sed -i -E '/^[^#[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]]/ s/^/# /' /etc/fstab

# add_repository NAME URL: the repository's signing key (dearmored, for signed-by) and its source list.
add_repository() {
  keyring="/etc/apt/keyrings/$1-apt-keyring.gpg"
  if [ ! -s "$keyring" ]; then
    # Two steps, not curl | gpg: sh has no pipefail, and a failed download must not leave an empty keyring behind.
    key=$(mktemp)
    if ! curl -fsSL --retry 5 -o "$key" "$2/Release.key" || ! gpg --dearmor --batch --yes -o "$keyring.tmp" "$key" || [ ! -s "$keyring.tmp" ]; then
      rm -f "$key" "$keyring.tmp"
      echo "could not fetch the signing key of the $1 repository from $2/Release.key" >&2
      exit 1
    fi
    rm -f "$key"
    chmod 0644 "$keyring.tmp"
    mv -f "$keyring.tmp" "$keyring"
  fi
  printf 'deb [signed-by=%s] %s/ /\\n' "$keyring" "$2" > "/etc/apt/sources.list.d/$1.list"
}
install -d -m 0755 /etc/apt/keyrings
add_repository kubernetes "https://pkgs.k8s.io/core:/stable:/$minor/deb"
add_repository cri-o "https://pkgs.k8s.io/addons:/cri-o:/stable:/$minor/deb"
apt-get update
apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confold \\
  "cri-o=$crio_package_version" "kubelet=$package_version" "kubeadm=$package_version" "kubectl=$package_version"
# Upgrades go through kubeadm upgrade, one minor release at a time, never through apt; CRI-O moves with them.
apt-mark hold cri-o kubelet kubeadm kubectl
# CRI-O ships a bridge network (10.85.0.0/16) that would make nodes Ready before the CNI exists and give early pods
# (CoreDNS) addresses no other node can reach: the site's CNI alone configures pod networking.
rm -f /etc/cni/net.d/11-crio-ipv4-bridge.conflist
systemctl enable crio
systemctl restart crio
# The kubelet restarts in a loop until kubeadm init or join configures it.
systemctl enable kubelet
`;
}

/**
 * Initializes the cluster on the first control plane (POSIX sh, idempotent): installs the Terraform-generated
 * cluster CA (kubeadm init uses an existing CA instead of generating one), runs `kubeadm init --upload-certs`
 * unless {@link KUBEADM_ADMIN_KUBECONFIG_PATH} exists, then applies the CNI with the admin kubeconfig.
 *
 * The CNI is Flannel's pinned release manifest, downloaded here: the one in-cluster fetch at boot (from GitHub's
 * release download), with its pod network replaced by the site's pod CIDR so Flannel and kubeadm's `podSubnet`
 * agree.
 */
export function renderKubeadmInitScript(plan: SitePlan): string {
  requireKubeadm(plan);
  if (plan.cluster.cni !== CniKind.FLANNEL) {
    throw new Error(`site ${plan.name}: cluster.cni ${JSON.stringify(plan.cluster.cni)} — expected "${CniKind.FLANNEL}" (kubeadm sites apply Flannel's manifest)`);
  }
  const first = hostsWithRole(plan, HostRole.CONTROL_PLANE)[0];
  const network = plan.cluster.podCidr;
  return `#!/bin/sh
# Initializes the cluster on ${first.name}, the first control plane (rendered by proxmox-k3s-ha). Idempotent.
set -eu
pki='${KUBERNETES_PKI_DIR}'

# install_ca BASE64_FILE TARGET MODE: the cluster CA from Terraform, decoded unless present. The base64 copies
# (0600) stay, so a rerun after kubeadm reset restores the same CA the joining nodes' discovery files pin.
install_ca() {
  if [ ! -s "$2" ]; then
    (umask 077 && base64 -d < "$1" > "$2.tmp")
    chmod "$3" "$2.tmp"
    mv -f "$2.tmp" "$2"
  fi
}
install -d -m 0755 "$pki"
install_ca '${KUBEADM_CA_CERT_BASE64_PATH}' "$pki/ca.crt" 0644
install_ca '${KUBEADM_CA_KEY_BASE64_PATH}' "$pki/ca.key" 0600

if [ ! -f ${KUBEADM_ADMIN_KUBECONFIG_PATH} ]; then
  kubeadm init --config '${KUBEADM_INIT_CONFIG_PATH}' --upload-certs
fi

# Flannel ${FLANNEL_VERSION}: the one manifest fetched at boot, from Flannel's release.
export KUBECONFIG=${KUBEADM_ADMIN_KUBECONFIG_PATH}
manifest=$(mktemp)
trap 'rm -f "$manifest"' EXIT
curl -fsSL --retry 5 -o "$manifest" '${FLANNEL_MANIFEST_URL}'
grep -qF '"Network": "${FLANNEL_MANIFEST_NETWORK}"' "$manifest"
${network === FLANNEL_MANIFEST_NETWORK ? '# The site\'s pod CIDR is Flannel\'s default network: the manifest applies unchanged.'
    : `sed -i 's#"Network": "${FLANNEL_MANIFEST_NETWORK}"#"Network": "${network}"#' "$manifest"`}
tries=0
until kubectl apply -f "$manifest"; do
  tries=$((tries + 1))
  if [ "$tries" -ge 30 ]; then
    echo "kubectl apply of the Flannel manifest failed 30 times" >&2
    exit 1
  fi
  sleep 10
done
`;
}

/**
 * Joins a control plane or worker (POSIX sh, idempotent): unless `/etc/kubernetes/kubelet.conf` exists, waits (at
 * most `controlPlane.joinApiWaitMinutes` of elapsed time, one try every 5 s) until the endpoint answers `/readyz`
 * and serves `cluster-info` (published after the bootstrap token and the uploaded certificates exist), then runs `kubeadm join`, up to 3 times with a
 * `kubeadm reset` between attempts. `curl -k` only probes readiness: kubeadm's discovery verifies the CA itself.
 */
export function renderKubeadmJoinScript(plan: SitePlan, hostName: string): string {
  const { controlPlaneIndex } = kubeadmNode(plan, hostName);
  if (controlPlaneIndex === 0) {
    throw new Error(`site ${plan.name}: host ${JSON.stringify(hostName)} — expected a joining node, not the first control plane (it runs kubeadm init)`);
  }
  const url = kubeadmEndpointUrl(plan);
  return `#!/bin/sh
# Joins ${hostName} to the cluster as a ${controlPlaneIndex > 0 ? 'control plane' : 'worker'} through ${url} (rendered by proxmox-k3s-ha). Idempotent.
set -eu
if [ -f /etc/kubernetes/kubelet.conf ]; then
  exit 0
fi
endpoint='${url}'
${renderWaitLoop({
    condition: `curl -ksf --max-time 5 -o /dev/null "$endpoint/readyz" \\
  && curl -ksf --max-time 5 -o /dev/null "$endpoint/api/v1/namespaces/kube-public/configmaps/cluster-info"`,
    description: `the API endpoint ${url} to be ready and publish cluster-info`,
    timeoutSeconds: plan.controlPlane.joinApiWaitMinutes * 60,
  })}
attempt=1
until kubeadm join --config '${KUBEADM_JOIN_CONFIG_PATH}'; do
  if [ "$attempt" -ge 3 ]; then
    echo "kubeadm join failed $attempt times" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  # A failed join leaves state behind (kubelet configuration, static pods) that the next preflight rejects.
  kubeadm reset --force
  sleep 30
done
`;
}
