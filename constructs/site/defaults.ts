import { CniKind, Distribution, HostRole } from './spec';
import { HostSizePlan } from './plan';

/** K3s release pinned by this library version (stable channel). */
export const DEFAULT_K3S_VERSION = 'v1.36.3+k3s1';
/** Kubernetes release for kubeadm sites (the seeds' 1.30 line). */
export const DEFAULT_KUBERNETES_VERSION = '1.30.14';
/**
 * CRI-O release for kubeadm sites, of the same minor as {@link DEFAULT_KUBERNETES_VERSION}. Invented where the
 * seeds are silent (seed 003 says only "CRI-O 1.30"): a 1.30 patch release published as `cri-o 1.30.14-1.1`.
 */
export const DEFAULT_CRIO_VERSION = '1.30.14';
/** `apiEndpoint.port` when the site leaves it out: the Kubernetes API server's own port. */
export const DEFAULT_API_PORT = 6443;
/** `access.adminUser` when the site leaves it out. */
export const DEFAULT_ADMIN_USER = 'k3sadmin';
/** `access.timezone` when the site leaves it out. */
export const DEFAULT_TIMEZONE = 'Etc/UTC';
/** `proxmox.sshUser` when the site leaves it out. */
export const DEFAULT_SSH_USER = 'root';
/** `proxmox.lxcTemplate.osType` when the site leaves it out. */
export const DEFAULT_LXC_OS_TYPE = 'ubuntu';
/** `cluster.podCidr` when the site leaves it out (K3s's own default). */
export const DEFAULT_POD_CIDR = '10.42.0.0/16';
/** `cluster.serviceCidr` when the site leaves it out (K3s's own default). */
export const DEFAULT_SERVICE_CIDR = '10.43.0.0/16';
/** `cluster.clusterDomain` when the site leaves it out. */
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
/** `ingress.httpNodePort` when the site leaves it out. */
export const DEFAULT_HTTP_NODE_PORT = 30080;
/** `ingress.httpsNodePort` when the site leaves it out. */
export const DEFAULT_HTTPS_NODE_PORT = 30443;

/**
 * Patroni's failure detection when the site does not set it: a lost primary's key expires within 8 s, so K3s
 * writes resume within about 12 s (bench:datastore), under the 15 s goal with margin. The primary renews its key
 * every 2 s against its own etcd member and retries for 3 s, well above an etcd election (about 1 s on a LAN).
 */
export const DEFAULT_POSTGRES_FAILOVER = { ttlSeconds: 8, loopWaitSeconds: 2, retryTimeoutSeconds: 3 } as const;

/**
 * The CNIs each distribution can install. K3s deploys Cilium through its Helm controller (a HelmChart in the
 * first server's auto-deploy folder) or runs its built-in flannel; kubeadm sites have no Helm controller and
 * apply Flannel's manifest.
 */
export const CNIS_BY_DISTRIBUTION: Readonly<Record<Distribution, readonly CniKind[]>> = {
  [Distribution.K3S]: [CniKind.CILIUM, CniKind.FLANNEL],
  [Distribution.KUBEADM]: [CniKind.FLANNEL],
};

/** `cluster.cni` when the site leaves it out: the distribution's first CNI (Cilium on K3s, Flannel on kubeadm). */
export function defaultCniFor(distribution: Distribution): CniKind {
  return CNIS_BY_DISTRIBUTION[distribution][0];
}

/** Sizes that make sense per role; a host with several roles gets the largest of each. */
const SIZE_BY_ROLE: Record<HostRole, HostSizePlan> = {
  [HostRole.K3S_SERVER]: { cores: 2, memoryMiB: 4096, diskGiB: 40 },
  [HostRole.K3S_AGENT]: { cores: 2, memoryMiB: 4096, diskGiB: 40 },
  [HostRole.DATASTORE]: { cores: 2, memoryMiB: 2048, diskGiB: 40 },
  [HostRole.LOAD_BALANCER]: { cores: 1, memoryMiB: 1024, diskGiB: 10 },
  [HostRole.DNS]: { cores: 1, memoryMiB: 1024, diskGiB: 10 },
  [HostRole.CONTROL_PLANE]: { cores: 2, memoryMiB: 4096, diskGiB: 40 },
  [HostRole.WORKER]: { cores: 2, memoryMiB: 4096, diskGiB: 40 },
};

/** The size of a host with `roles`: per field the largest any of its roles needs (at least 1 core, 1024 MiB, 10 GiB). */
export function defaultSizeFor(roles: readonly HostRole[]): HostSizePlan {
  const sizes = roles.map((role) => SIZE_BY_ROLE[role]).filter((size) => size !== undefined);
  return {
    cores: Math.max(1, ...sizes.map((s) => s.cores)),
    memoryMiB: Math.max(1024, ...sizes.map((s) => s.memoryMiB)),
    diskGiB: Math.max(10, ...sizes.map((s) => s.diskGiB)),
  };
}

/**
 * How long a converge step waits, at most (`SiteStackProps.deadlines` tunes them): each systemctl call 10 minutes
 * (a K3s server that joins etcd may take minutes; its unit never times out by itself), and a VM's first boot and
 * the whole converge script {@link CONVERGE_DEADLINE_MARGIN_MINUTES} beyond `controlPlane.joinApiWaitMinutes`, the
 * longest wait of a first configuration (a joining node waits that long for the API endpoint).
 */
export const DEFAULT_SERVICE_DEADLINE_SECONDS = 600;
/** Minutes a first boot or a converge step may take beyond `controlPlane.joinApiWaitMinutes` (packages, services, gates). */
export const CONVERGE_DEADLINE_MARGIN_MINUTES = 30;
/**
 * Seconds a VM's restart through Proxmox may take, in its rollout slot (the guest's clean shutdown, then its start):
 * Proxmox's reboot task waits for the guest's ACPI or agent shutdown first.
 */
export const MACHINE_RESTART_DEADLINE_SECONDS = 900;

/** `loadBalancer.vrrpRouterId` when the site leaves it out. */
export const DEFAULT_VRRP_ROUTER_ID = 51;
/** `loadBalancer.statsPort` when the site leaves it out. */
export const DEFAULT_STATS_PORT = 8404;
/** Loopback port of HAProxy's own health page (`LoadBalancerPlan.healthPort`); not configurable. */
export const LOAD_BALANCER_HEALTH_PORT = 8405;

/** 200, 150, 100, 50 for up to four nodes (the seed's spread); then a step of 10 so every node gets its own. */
export function defaultVrrpPriorities(count: number): number[] {
  const step = count <= 4 ? 50 : 10;
  return Array.from({ length: count }, (_, i) => 200 - i * step);
}

/** The taint kubeadm puts on control-plane nodes (kept when a site adds taints of its own). */
export const KUBEADM_CONTROL_PLANE_TAINT = 'node-role.kubernetes.io/control-plane:NoSchedule';
/** The taint K3s servers get with `controlPlane.dedicatedServers`, so ordinary workloads run on agents only. */
export const K3S_DEDICATED_SERVER_TAINT = 'CriticalAddonsOnly=true:NoExecute';

/**
 * Where the ingress controller answers 200 while NGINX runs (`-health-status`, on its default server, port 80):
 * the load balancers check it through the HTTP NodePort, whose `externalTrafficPolicy: Local` keeps the check on
 * the node it asks about.
 */
export const INGRESS_HEALTH_PATH = '/nginx-health';
