import type { BackupPlan } from './backup';
import { ApiHealthCheck, ChecksumAlgorithm, CniKind, DatastoreKind, Distribution, HostKind, HostRole, MonitoringReceiverSpec, VrrpVersion } from './spec';

/** A non-fatal finding about a site: it synthesizes, but an operator should know. */
export interface SiteWarning {
  /** The site field the finding is about, e.g. `hosts` or `proxmox.cloudImage.checksum`. */
  readonly path: string;
  /** What is risky and why, lower-case; `SiteStack` turns it into a cdktf warning annotation. */
  readonly message: string;
}

/** Resolved CPU, memory and disk of a host. */
export interface HostSizePlan {
  /** Virtual CPU cores. */
  readonly cores: number;
  /** Memory in MiB (Proxmox `memory.dedicated`). */
  readonly memoryMiB: number;
  /** Root disk size in GiB (VM boot disk or LXC root filesystem). */
  readonly diskGiB: number;
}

/** A host with every default resolved. */
export interface HostPlan {
  /** Host name, an RFC 1123 label; also the Proxmox VM name or LXC hostname and the Kubernetes node name. */
  readonly name: string;
  /** `<name>.<searchDomain>` */
  readonly fqdn: string;
  /** Static IPv4 address, without prefix length. */
  readonly ip: string;
  /** The address with the network's prefix length, e.g. `192.168.168.111/24` (Proxmox `ip_config`). */
  readonly ipCidr: string;
  /** Proxmox VM/CT id. */
  readonly vmId: number;
  /** The Proxmox node the host is created on. */
  readonly proxmoxNode: string;
  /** VM or LXC container (`HostSpec.kind`, default VM). */
  readonly kind: HostKind;
  /** Roles in the order written in the site file, without duplicates. */
  readonly roles: readonly HostRole[];
  /** CPU, memory and disk: the site's `size` fields, the rest sized by role. */
  readonly size: HostSizePlan;
  /** Kubernetes node labels the node registers with (empty when none). */
  readonly nodeLabels: Readonly<Record<string, string>>;
  /** Kubernetes node taints as `key[=value]:Effect` the node registers with (empty when none). */
  readonly nodeTaints: readonly string[];
  /** Rebuild counter (`HostSpec.generation`, default 0): a change replaces the machine. */
  readonly generation: number;
  /** The pinned SSH host key, when the site gave one. */
  readonly sshHostKey?: string;
  /** Being taken out (`HostSpec.decommission`): out of the cluster, converged no more; its machine stays until removed. */
  readonly decommission: boolean;
}

/** A download with its checksum algorithm resolved. */
export interface DownloadPlan {
  /** Where Proxmox downloads the file from. */
  readonly url: string;
  /** The file name on the images datastore. */
  readonly fileName: string;
  /** Expected checksum, lower-case hex; absent when the site gave none (the download is then not verified). */
  readonly checksum?: string;
  /** Algorithm of `checksum`: set exactly when `checksum` is, SHA-256 unless the site chose another. */
  readonly checksumAlgorithm?: ChecksumAlgorithm;
}

/** The resolved API endpoint every layer reads: HAProxy frontends, `tls-san`, kubeconfig, DNS. */
export interface ApiEndpointPlan {
  /** The VIP, or the single load balancer's (or first server's) address when there is no VIP. */
  readonly address: string;
  /** Port the API is served on at the endpoint (HAProxy's frontend when the site has load balancers). */
  readonly port: number;
  /** DNS name of the endpoint, in the API server certificate and the kubeconfig (`api.<searchDomain>` by default). */
  readonly dnsName: string;
  /** True when `address` is a Keepalived VIP rather than one host's own address. */
  readonly floating: boolean;
  /** `https://<dnsName>:<port>` */
  readonly url: string;
}

/** One load balancer with its VRRP priority. */
export interface LoadBalancerNodePlan {
  /** Host name of the load balancer. */
  readonly name: string;
  /** Its own address: the VRRP unicast source and the address the stats page binds to. */
  readonly ip: string;
  /** Keepalived VRRP priority (1–254); the healthy node with the highest one holds the VIP. */
  readonly priority: number;
}

/** HAProxy + Keepalived, resolved; absent when no host has role `load-balancer`. */
export interface LoadBalancerPlan {
  /** In site order; the first has the highest priority. */
  readonly nodes: readonly LoadBalancerNodePlan[];
  /** Keepalived `virtual_router_id`, unique per layer-2 network. */
  readonly vrrpRouterId: number;
  /** VRRP version Keepalived speaks (`version`). */
  readonly vrrpVersion: VrrpVersion;
  /** VRRP advertisement interval in milliseconds (Keepalived `advert_int`, in seconds). */
  readonly vrrpAdvertIntervalMs: number;
  /** True unless the site asked for multicast (`vrrpMulticast`): each node then lists its peers as `unicast_peer`. */
  readonly vrrpUnicast: boolean;
  /** True when Keepalived authenticates adverts with a VRRPv2 `auth_pass` (a generated 8-character secret). */
  readonly vrrpAuthentication: boolean;
  /** Keepalived `nopreempt`: every node starts as BACKUP and a returning node does not take the VIP back. */
  readonly vrrpNopreempt: boolean;
  /** Network interface that carries the VIP. */
  readonly vrrpInterface: string;
  /** How HAProxy checks each API server backend. */
  readonly apiHealthCheck: ApiHealthCheck;
  /** Port of HAProxy's stats page, bound to each load balancer's own address. */
  readonly statsPort: number;
  /** Loopback port of HAProxy's own health page, which the Keepalived track scripts read. */
  readonly healthPort: number;
  /** True when HAProxy forwards ports 80/443 in TCP mode to the ingress NodePorts. */
  readonly ingressFrontends: boolean;
  /** Failed checks before an API server leaves rotation (HAProxy `fall`). */
  readonly healthCheckFall: number;
  /** Passed checks before an API server returns to rotation (HAProxy `rise`). */
  readonly healthCheckRise: number;
}

/** A validated, resolved, deep-frozen site: the one source every renderer and construct reads. */
export interface SitePlan {
  /** Site name; names the Terraform stack and the GitOps folder. */
  readonly name: string;
  /** Free text from the site file; absent when it gave none or an empty one. */
  readonly description?: string;
  /** The site's layer-2 network. */
  readonly network: {
    /** Network address with prefix, e.g. `192.168.168.0/24`. */
    readonly cidr: string;
    readonly prefixLength: number;
    readonly gateway: string;
    readonly dnsServers: readonly string[];
    readonly searchDomain: string;
    readonly etcHosts: boolean;
  };
  /** The Proxmox VE cluster, with the SSH user and TLS setting resolved. */
  readonly proxmox: {
    readonly endpoint: string;
    readonly nodes: readonly string[];
    readonly bridge: string;
    readonly vlanId?: number;
    readonly datastores: { readonly disks: string; readonly snippets: string; readonly images: string };
    readonly cloudImage: DownloadPlan;
    readonly lxcTemplate?: DownloadPlan & { readonly osType: string };
    readonly insecureTls: boolean;
    readonly sshUser: string;
  };
  /** Every host in site order, with defaults resolved. */
  readonly hosts: readonly HostPlan[];
  /** The resolved Kubernetes API endpoint. */
  readonly apiEndpoint: ApiEndpointPlan;
  /** Pinned versions: K3s, and Kubernetes and CRI-O (read on kubeadm sites only). */
  readonly versions: { readonly k3s: string; readonly k3sSha256?: string; readonly kubernetes: string; readonly crio: string };
  /** Pod and Service networks, cluster domain and CNI. */
  readonly cluster: {
    readonly podCidr: string;
    readonly serviceCidr: string;
    readonly clusterDomain: string;
    readonly cni: CniKind;
    /** True only with Cilium: K3s servers then run with `disable-kube-proxy`. */
    readonly kubeProxyReplacement: boolean;
  };
  /** NodePorts that HAProxy's ingress backends and the ingress controller's Service both read. */
  readonly ingress: { readonly httpNodePort: number; readonly httpsNodePort: number };
  /** HAProxy + Keepalived; present when a host has role `load-balancer`. */
  readonly loadBalancer?: LoadBalancerPlan;
  /** Distribution, datastore, etcd snapshots and Secrets encryption. */
  readonly controlPlane: {
    readonly distribution: Distribution;
    readonly datastore: DatastoreKind;
    readonly dedicatedServers: boolean;
    readonly etcdSnapshotScheduleCron: string;
    readonly etcdSnapshotRetention: number;
    readonly secretsEncryption: boolean;
    /** Minutes a joining node waits for the API endpoint at first boot. */
    readonly joinApiWaitMinutes: number;
  };
  /** Present when a host has role `dns`. */
  readonly dns?: {
    readonly zone: string;
    readonly wildcardToEndpoint: boolean;
    readonly forwarders: readonly string[];
    /** The DNS servers in site order (the first is the primary). */
    readonly servers: readonly { readonly name: string; readonly ip: string }[];
  };
  /** Present with `controlPlane.datastore: postgres`. */
  readonly postgres?: {
    readonly version: number;
    readonly port: number;
    readonly writerPort: number;
    readonly synchronousCommit: boolean;
    readonly database: string;
    readonly user: string;
    /** TLS with a datastore CA (`hostssl`, `sslmode=verify-full`); false: plain-text datastore traffic. */
    readonly tls: boolean;
    /** The datastore hosts in site order: the first is the initial primary. */
    readonly nodes: readonly { readonly name: string; readonly ip: string }[];
    /** Patroni's `synchronous_mode_strict`. */
    readonly synchronousModeStrict: boolean;
    /** The etcd witness host, when the number of datastore nodes is even. */
    readonly witness?: { readonly name: string; readonly ip: string };
    /** The etcd cluster Patroni keeps its state in: the datastore nodes, then the witness. */
    readonly etcdMembers: readonly { readonly name: string; readonly ip: string }[];
    /** Patroni's failure detection, in seconds. */
    readonly failover: { readonly ttlSeconds: number; readonly loopWaitSeconds: number; readonly retryTimeoutSeconds: number };
  };
  /** How changes roll through the running site. */
  readonly rollout: {
    readonly agentConcurrency: number;
    readonly allowUnsafeServerRemoval: boolean;
    readonly bastion?: { readonly host: string; readonly user?: string; readonly port?: number };
  };
  /** Admin user, extra SSH keys, time zone and NTP servers (empty list: the image's default pool). */
  readonly access: {
    readonly adminUser: string;
    readonly sshAuthorizedKeys: readonly string[];
    readonly timezone: string;
    readonly ntpServers: readonly string[];
  };
  /** The in-cluster monitoring stack: on unless the site turned it off; the receiver as the site named it. */
  readonly monitoring: { readonly enabled: boolean; readonly receiver?: MonitoringReceiverSpec };
  /** Backups that leave the site; absent when the site has no backup section. */
  readonly backup?: BackupPlan;
  /** Non-fatal findings (single points of failure, unverified downloads, ...). */
  readonly warnings: readonly SiteWarning[];
}

/** The hosts that carry `role`, in site order. */
export function hostsWithRole(plan: SitePlan, role: HostRole): readonly HostPlan[] {
  return plan.hosts.filter((host) => host.roles.includes(role));
}

/** The control-plane hosts of either distribution (K3s servers or kubeadm control planes), in site order. */
export function controlPlaneHosts(plan: SitePlan): readonly HostPlan[] {
  return plan.hosts.filter((host) => host.roles.includes(HostRole.K3S_SERVER) || host.roles.includes(HostRole.CONTROL_PLANE));
}

/** The worker hosts of either distribution (K3s agents or kubeadm workers), in site order. */
export function workerHosts(plan: SitePlan): readonly HostPlan[] {
  return plan.hosts.filter((host) => host.roles.includes(HostRole.K3S_AGENT) || host.roles.includes(HostRole.WORKER));
}

/** True when `host` carries `role`. */
export function hasRole(host: HostPlan, role: HostRole): boolean {
  return host.roles.includes(role);
}

/**
 * The DNS domain applications are published under: the zone Bind9 serves (with its wildcard to the endpoint) when the
 * site has DNS servers, else `network.searchDomain`. The demo app's Ingress host and the site page both read it.
 */
export function applicationDomain(plan: SitePlan): string {
  return plan.dns?.zone ?? plan.network.searchDomain;
}
