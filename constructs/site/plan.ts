import { ApiHealthCheck, ChecksumAlgorithm, CniKind, DatastoreKind, Distribution, HostKind, HostRole, VrrpVersion } from './spec';

/** A non-fatal finding about a site: it synthesizes, but an operator should know. */
export interface SiteWarning {
  readonly path: string;
  readonly message: string;
}

/** Resolved CPU, memory and disk of a host. */
export interface HostSizePlan {
  readonly cores: number;
  readonly memoryMiB: number;
  readonly diskGiB: number;
}

/** A host with every default resolved. */
export interface HostPlan {
  readonly name: string;
  /** `<name>.<searchDomain>` */
  readonly fqdn: string;
  readonly ip: string;
  /** The address with the network's prefix length, e.g. `192.168.168.111/24` (Proxmox `ip_config`). */
  readonly ipCidr: string;
  readonly vmId: number;
  readonly proxmoxNode: string;
  readonly kind: HostKind;
  /** Roles in the order written in the site file, without duplicates. */
  readonly roles: readonly HostRole[];
  readonly size: HostSizePlan;
  readonly nodeLabels: Readonly<Record<string, string>>;
  readonly nodeTaints: readonly string[];
}

/** A download with its checksum algorithm resolved. */
export interface DownloadPlan {
  readonly url: string;
  readonly fileName: string;
  readonly checksum?: string;
  readonly checksumAlgorithm?: ChecksumAlgorithm;
}

/** The resolved API endpoint every layer reads: HAProxy frontends, `tls-san`, kubeconfig, DNS. */
export interface ApiEndpointPlan {
  /** The VIP, or the single load balancer's (or first server's) address when there is no VIP. */
  readonly address: string;
  readonly port: number;
  readonly dnsName: string;
  /** True when `address` is a Keepalived VIP rather than one host's own address. */
  readonly floating: boolean;
  /** `https://<dnsName>:<port>` */
  readonly url: string;
}

/** One load balancer with its VRRP priority. */
export interface LoadBalancerNodePlan {
  readonly name: string;
  readonly ip: string;
  readonly priority: number;
}

/** HAProxy + Keepalived, resolved; absent when no host has role `load-balancer`. */
export interface LoadBalancerPlan {
  /** In site order; the first has the highest priority. */
  readonly nodes: readonly LoadBalancerNodePlan[];
  readonly vrrpRouterId: number;
  readonly vrrpVersion: VrrpVersion;
  readonly vrrpAdvertIntervalMs: number;
  readonly vrrpUnicast: boolean;
  readonly vrrpAuthentication: boolean;
  readonly vrrpNopreempt: boolean;
  readonly vrrpInterface: string;
  readonly apiHealthCheck: ApiHealthCheck;
  readonly statsPort: number;
  /** Loopback port of HAProxy's own health page, which the Keepalived track scripts read. */
  readonly healthPort: number;
  readonly ingressFrontends: boolean;
  readonly healthCheckFall: number;
  readonly healthCheckRise: number;
}

/** A validated, resolved, deep-frozen site: the one source every renderer and construct reads. */
export interface SitePlan {
  readonly name: string;
  readonly description?: string;
  readonly network: {
    /** Network address with prefix, e.g. `192.168.168.0/24`. */
    readonly cidr: string;
    readonly prefixLength: number;
    readonly gateway: string;
    readonly dnsServers: readonly string[];
    readonly searchDomain: string;
    readonly etcHosts: boolean;
  };
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
  readonly hosts: readonly HostPlan[];
  readonly apiEndpoint: ApiEndpointPlan;
  readonly versions: { readonly k3s: string; readonly k3sSha256?: string; readonly kubernetes: string; readonly crio: string };
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
  readonly loadBalancer?: LoadBalancerPlan;
  readonly controlPlane: {
    readonly distribution: Distribution;
    readonly datastore: DatastoreKind;
    readonly dedicatedServers: boolean;
    readonly etcdSnapshotScheduleCron: string;
    readonly etcdSnapshotRetention: number;
    readonly secretsEncryption: boolean;
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
  };
  readonly access: {
    readonly adminUser: string;
    readonly sshAuthorizedKeys: readonly string[];
    readonly timezone: string;
    readonly ntpServers: readonly string[];
  };
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

export function hasRole(host: HostPlan, role: HostRole): boolean {
  return host.roles.includes(role);
}
