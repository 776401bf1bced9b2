/**
 * The site model: plain, typed data that describes one site. Site files (`sites/<name>.ts`) build a
 * {@link SiteSpec} and pass it to `defineSite()`, which validates all of it at once and resolves it into a
 * `SitePlan`. Addresses are plain strings here, not value objects, so that every bad one can be reported in
 * one error instead of throwing at the first.
 */

import type { BackupSpec } from './backup';

/** What a host does in the site. Roles attach services to hosts; several roles may share one host. */
export enum HostRole {
  /** A K3s server (control plane; embedded etcd member when the site uses etcd). */
  K3S_SERVER = 'k3s-server',
  /** A K3s agent (worker). */
  K3S_AGENT = 'k3s-agent',
  /** HAProxy + Keepalived in front of the API servers and the ingress NodePorts. */
  LOAD_BALANCER = 'load-balancer',
  /** A PostgreSQL node of the external K3s datastore. */
  DATASTORE = 'datastore',
  /** A Bind9 DNS server for the site's zone. */
  DNS = 'dns',
  /** A kubeadm control-plane node (stacked etcd member), with `controlPlane.distribution: kubeadm`. */
  CONTROL_PLANE = 'control-plane',
  /** A kubeadm worker node, with `controlPlane.distribution: kubeadm`. */
  WORKER = 'worker',
}

/** The Kubernetes distribution a site runs. */
export enum Distribution {
  /** K3s servers and agents (roles `k3s-server`, `k3s-agent`). */
  K3S = 'k3s',
  /** kubeadm with CRI-O and stacked etcd (roles `control-plane`, `worker`). */
  KUBEADM = 'kubeadm',
}

/** How a host is provisioned on Proxmox VE. */
export enum HostKind {
  /** A QEMU virtual machine booted from the site's cloud image and configured by cloud-init. */
  VM = 'vm',
  /** An LXC container (no cloud-init: provisioned by a shell script over SSH). */
  LXC = 'lxc',
}

/** Hash algorithms Proxmox accepts to verify a downloaded file. */
export enum ChecksumAlgorithm {
  MD5 = 'md5',
  SHA1 = 'sha1',
  SHA224 = 'sha224',
  SHA256 = 'sha256',
  SHA384 = 'sha384',
  SHA512 = 'sha512',
}

/** The site's layer-2 network. Every host address, the gateway and the VIP lie inside `cidr`. */
export interface NetworkSpec {
  /** The subnet, in CIDR notation with host bits clear, e.g. `192.168.168.0/24`. */
  readonly cidr: string;
  /** The default gateway, inside `cidr`. */
  readonly gateway: string;
  /** DNS resolvers the hosts use (at least one). */
  readonly dnsServers: readonly string[];
  /**
   * Write every host of the site into each host's `/etc/hosts` (for sites without a DNS zone for their hosts).
   *
   * @default false
   */
  readonly etcHosts?: boolean;
  /** The DNS search domain and the zone host names live in, e.g. `k3s.test.local`. */
  readonly searchDomain: string;
}

/** A file Proxmox downloads onto a datastore (cloud image or LXC template). */
export interface DownloadSpec {
  /** Where Proxmox downloads it from (http or https). */
  readonly url: string;
  /** The file name on the datastore. */
  readonly fileName: string;
  /**
   * Expected checksum (hex).
   *
   * @default - the download is not verified and the site gets a warning
   */
  readonly checksum?: string;
  /**
   * Algorithm of `checksum`.
   *
   * @default ChecksumAlgorithm.SHA256 when `checksum` is set
   */
  readonly checksumAlgorithm?: ChecksumAlgorithm;
}

/** An LXC OS template. */
export interface LxcTemplateSpec extends DownloadSpec {
  /**
   * The container OS type Proxmox uses for its setup (`ubuntu`, `debian`, `alpine`, ...).
   *
   * @default 'ubuntu'
   */
  readonly osType?: string;
}

/** Proxmox datastore ids for each kind of content. */
export interface ProxmoxDatastoresSpec {
  /** VM disks, LXC root filesystems and cloud-init drives, e.g. `local-lvm`. */
  readonly disks: string;
  /** Cloud-init snippets: must have the `snippets` content type enabled, e.g. `local`. */
  readonly snippets: string;
  /** Downloaded cloud images (`import` content type) and LXC templates (`vztmpl`), e.g. `local`. */
  readonly images: string;
}

/** The Proxmox VE cluster the site runs on. */
export interface ProxmoxSpec {
  /** The API endpoint, e.g. `https://pve1.example.net:8006/`. */
  readonly endpoint: string;
  /** Names of the Proxmox nodes hosts may be placed on. */
  readonly nodes: readonly string[];
  /** The Linux bridge the hosts' NICs attach to, e.g. `vmbr0`. */
  readonly bridge: string;
  /**
   * VLAN tag for the hosts' NICs.
   *
   * @default - untagged
   */
  readonly vlanId?: number;
  /** Which Proxmox datastore holds disks, cloud-init snippets and downloaded images. */
  readonly datastores: ProxmoxDatastoresSpec;
  /** The cloud image VMs boot from (`qcow2`, `raw` or `vmdk`, imported as the boot disk). */
  readonly cloudImage: DownloadSpec;
  /**
   * The template LXC hosts are created from.
   *
   * @default - required only when the site has LXC hosts
   */
  readonly lxcTemplate?: LxcTemplateSpec;
  /**
   * Skip TLS verification of the Proxmox API (self-signed certificates).
   *
   * @default false
   */
  readonly insecureTls?: boolean;
  /**
   * The SSH user the provider uses to upload snippets to the Proxmox nodes.
   *
   * @default 'root'
   */
  readonly sshUser?: string;
}

/** CPU, memory and disk of a host. */
export interface HostSizeSpec {
  /**
   * Virtual CPU cores (1–128).
   *
   * @default - by role: 2 for K3s, kubeadm and datastore hosts, 1 otherwise (the largest of the host's roles)
   */
  readonly cores?: number;
  /**
   * Memory in MiB (512–1048576).
   *
   * @default - by role: 4096 for K3s and kubeadm nodes, 2048 for datastores, 1024 otherwise (the largest of the host's roles)
   */
  readonly memoryMiB?: number;
  /**
   * Size of the root disk (VM boot disk or LXC root filesystem) in GiB (4–65536).
   *
   * @default - by role: 40 for K3s, kubeadm and datastore hosts, 10 otherwise (the largest of the host's roles)
   */
  readonly diskGiB?: number;
}

/** One machine of the site. */
export interface HostSpec {
  /**
   * Host name, an RFC 1123 label starting with a letter (the host's Terraform resources are named after it), other
   * than `proxmox`, `random`, `tls` and `backend` (the stack's own constructs); the FQDN is `<name>.<searchDomain>`.
   */
  readonly name: string;
  /** Static IPv4 address inside the site network. */
  readonly ip: string;
  /** Proxmox VM/CT id, unique in the Proxmox cluster (100–999999999). */
  readonly vmId: number;
  /** The Proxmox node the host runs on; one of `proxmox.nodes`. */
  readonly proxmoxNode: string;
  /** What the host does (at least one). */
  readonly roles: readonly HostRole[];
  /**
   * VM or LXC container. Kubernetes nodes must be VMs; LXC suits the light roles (load balancer, DNS, datastore).
   *
   * @default HostKind.VM
   */
  readonly kind?: HostKind;
  /**
   * CPU, memory and disk; fields left out are sized by role.
   *
   * @default - sized by role, see {@link HostSizeSpec}
   */
  readonly size?: HostSizeSpec;
  /**
   * Kubernetes node labels (K3s servers and agents, kubeadm nodes), set by the kubelet at registration: none in the
   * kubernetes.io or k8s.io namespaces (the kubelet refuses `node-role.kubernetes.io/…` and exits) except
   * `kubelet.kubernetes.io/…`, `node.kubernetes.io/…` and the well-known `kubernetes.io/os`, `topology.kubernetes.io/zone`, ….
   *
   * @default {}
   */
  readonly nodeLabels?: Readonly<Record<string, string>>;
  /** Kubernetes node taints as `key=value:Effect` (K3s servers and agents). @default [] */
  readonly nodeTaints?: readonly string[];
  /**
   * Rebuild counter: raise it to replace this host on purpose (a new VM or container that boots its user data
   * again). Configuration changes never replace a host; they converge it in place.
   *
   * @default 0
   */
  readonly generation?: number;
  /**
   * The host's SSH host public key (`ssh-ed25519 AAAA…`), pinned by the converge step's SSH connection. Leave it out
   * for a host that does not exist yet (its key is made at first boot): the connection then trusts the address.
   *
   * @default - not pinned
   */
  readonly sshHostKey?: string;
  /**
   * Take the host out, in place, before removing it: a K3s node is drained, its service stopped and its Node (with
   * its etcd member) deleted from another server; the host is converged no more. Remove it from the site in a later
   * change to destroy its machine (removing a K3s node that was not decommissioned first is rejected). Only K3s
   * servers and agents are taken out: a host with another role (load balancer, DNS, datastore) gives it to another
   * host first, a kubeadm node, the datastore's etcd witness and the server that is the API endpoint (no load
   * balancer) cannot be decommissioned, and one K3s server at least stays.
   *
   * @default false
   */
  readonly decommission?: boolean;
}

/** How configuration changes roll through a running site. */
export interface RolloutSpec {
  /**
   * How many K3s agents (kubeadm workers) converge at once, after every server. Servers always go one at a time.
   *
   * @default 1
   */
  readonly agentConcurrency?: number;
  /**
   * Allow a change that removes more than one server at once or leaves etcd without a quorum of the previous
   * members (checked against the previous synthesis). Only for a site you are willing to rebuild.
   *
   * @default false
   */
  readonly allowUnsafeServerRemoval?: boolean;
  /**
   * A jump host for the converge steps' SSH connections (`host` or `user@host[:port]`).
   *
   * @default - direct connections to the hosts' addresses
   */
  readonly bastion?: string;
}

/** The fixed address clients and joining nodes use to reach the Kubernetes API. */
export interface ApiEndpointSpec {
  /**
   * Floating virtual IP held by Keepalived on the load balancers.
   *
   * @default - no VIP: the address of the single load balancer (or the first server when there is none)
   */
  readonly vip?: string;
  /**
   * Port the API is served on at the endpoint (HAProxy's frontend). Use 8443 when HAProxy shares a host with a
   * K3s server, whose API server already listens on 6443.
   *
   * @default 6443
   */
  readonly port?: number;
  /**
   * DNS name of the endpoint; goes into the API server certificate and the kubeconfig.
   *
   * @default `api.<searchDomain>`
   */
  readonly dnsName?: string;
}

/** Pinned versions. */
export interface VersionsSpec {
  /**
   * K3s release the servers and agents install, e.g. `v1.36.3+k3s1`.
   *
   * @default - the library's pinned stable K3s release, `DEFAULT_K3S_VERSION`
   */
  readonly k3s?: string;
  /**
   * SHA-256 of the K3s binary (amd64) to verify the download against.
   *
   * @default - verified against the release's own checksum file only
   */
  readonly k3sSha256?: string;
  /** kubeadm sites: Kubernetes release (kubeadm, kubelet, kubectl). @default '1.30.14' */
  readonly kubernetes?: string;
  /**
   * kubeadm sites: CRI-O release, installed pinned and held from the CRI-O repository of the Kubernetes minor
   * (CRI-O follows Kubernetes' minor releases, not its patches).
   *
   * @default '1.30.14'
   */
  readonly crio?: string;
}

/** How operators reach the hosts. */
export interface AccessSpec {
  /**
   * The sudo-capable admin user created on VMs.
   *
   * @default 'k3sadmin'
   */
  readonly adminUser?: string;
  /**
   * Extra SSH public keys for the admin user (public keys only; the stack also adds the key given in the
   * `admin_ssh_public_key` Terraform variable).
   *
   * @default []
   */
  readonly sshAuthorizedKeys?: readonly string[];
  /**
   * IANA time zone the hosts are set to (`timedatectl set-timezone`), e.g. `Europe/Berlin`.
   *
   * @default 'Etc/UTC'
   */
  readonly timezone?: string;
  /**
   * NTP servers for time sync (etcd and TLS need synchronized clocks).
   *
   * @default - the image's default pool
   */
  readonly ntpServers?: readonly string[];
}

/** The CNI the cluster runs. */
export enum CniKind {
  /** Cilium via a K3s HelmChart; K3s's flannel and network policy controller are turned off. */
  CILIUM = 'cilium',
  /** K3s's built-in flannel (VXLAN). */
  FLANNEL = 'flannel',
}

/** Cluster networking shared by K3s (`cluster-cidr`, `service-cidr`) and the CNI. */
export interface ClusterSpec {
  /**
   * Pod network (K3s `cluster-cidr`, kubeadm `podSubnet`, Cilium's IPAM pool); must not overlap the site network.
   *
   * @default '10.42.0.0/16' (K3s default)
   */
  readonly podCidr?: string;
  /**
   * Service ClusterIP network (K3s `service-cidr`, kubeadm `serviceSubnet`); must not overlap the site network.
   *
   * @default '10.43.0.0/16' (K3s default)
   */
  readonly serviceCidr?: string;
  /**
   * DNS domain of in-cluster Service names (K3s `cluster-domain`, kubeadm `dnsDomain`).
   *
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;
  /**
   * The CNI. K3s sites: Cilium or K3s's flannel; kubeadm sites: Flannel only (Cilium is installed through K3s's
   * Helm controller, which kubeadm lacks).
   *
   * @default CniKind.CILIUM on K3s, CniKind.FLANNEL on kubeadm
   */
  readonly cni?: CniKind;
  /**
   * Let Cilium replace kube-proxy; K3s then runs with `disable-kube-proxy` on every server. Only with Cilium.
   *
   * @default true with Cilium
   */
  readonly kubeProxyReplacement?: boolean;
}

/** How ingress traffic reaches the ingress controller: load balancer ports 80/443 → NodePorts. */
export interface IngressSpec {
  /** NodePort of the controller's HTTP port (30000–32767). @default 30080 */
  readonly httpNodePort?: number;
  /** NodePort of the controller's HTTPS port (30000–32767). @default 30443 */
  readonly httpsNodePort?: number;
}

/** VRRP protocol version Keepalived speaks. */
export enum VrrpVersion {
  /** VRRPv2: whole-second adverts; the only version with (weak, 8-character) authentication. */
  V2 = 2,
  /** VRRPv3 (RFC 5798): sub-second adverts, no authentication field. */
  V3 = 3,
}

/** How HAProxy decides that a K3s API server may receive traffic. */
export enum ApiHealthCheck {
  /**
   * HTTPS `GET /readyz` expecting 200: leaves rotation when the API server is up but not ready. K3s answers it
   * anonymously because the K3s servers get an authentication configuration that allows anonymous `/readyz`,
   * `/livez` and `/healthz` only.
   */
  READYZ = 'readyz',
  /** HTTPS `GET /ping` (K3s's supervisor, unauthenticated): proves K3s runs, not that the API server is ready. */
  PING = 'ping',
  /** A TCP connect: proves only that something listens on 6443. */
  TCP = 'tcp',
}

/** HAProxy + Keepalived on the hosts with role `load-balancer`. */
export interface LoadBalancerSpec {
  /** VRRP `virtual_router_id`, unique per layer-2 network (also across sites sharing one). @default 51 */
  readonly vrrpRouterId?: number;
  /**
   * VRRP version Keepalived speaks; VRRPv3 allows sub-second adverts and so faster VIP failover.
   *
   * @default VrrpVersion.V3
   */
  readonly vrrpVersion?: VrrpVersion;
  /**
   * VRRP advertisement interval. Master-down time is about 3 intervals. Whole seconds under VRRPv2.
   *
   * @default 250 with VRRPv3 (0.1 s flapped on a busy hypervisor), 1000 with VRRPv2
   */
  readonly vrrpAdvertIntervalMs?: number;
  /** Advertise by multicast instead of unicast to each peer (unicast works where bridges filter multicast). @default false */
  readonly vrrpMulticast?: boolean;
  /**
   * VRRPv2 `auth_pass` from a generated 8-character secret (keepalived truncates longer ones). Weak, and absent
   * from VRRPv3: prefer isolating the VRRP network.
   *
   * @default false
   */
  readonly vrrpAuthentication?: boolean;
  /**
   * Priorities of the load balancers in site order, distinct, 1–254.
   *
   * @default - 200, 150, 100, 50 for up to four load balancers; 200, 190, 180, ... for more
   */
  readonly vrrpPriorities?: readonly number[];
  /** Do not take the VIP back when a higher-priority node returns (every node starts as BACKUP). @default false */
  readonly vrrpNopreempt?: boolean;
  /** Network interface carrying the VIP. @default 'eth0' */
  readonly vrrpInterface?: string;
  /**
   * How HAProxy checks each API server backend (`readyz` on K3s needs v1.34 or later).
   *
   * @default ApiHealthCheck.READYZ
   */
  readonly apiHealthCheck?: ApiHealthCheck;
  /** Port of the stats page, bound to each load balancer's own address. @default 8404 */
  readonly statsPort?: number;
  /** Frontends 80/443 in TCP mode to the ingress NodePorts on the K3s servers. @default true */
  readonly ingressFrontends?: boolean;
  /** Failed checks before an API server leaves rotation. @default 2 */
  readonly healthCheckFall?: number;
  /** Passed checks before an API server returns to rotation. @default 2 */
  readonly healthCheckRise?: number;
}

/** Where the K3s servers keep the cluster state. */
export enum DatastoreKind {
  /** K3s's embedded etcd: the first server runs `cluster-init`, the others join it (odd server counts). */
  EMBEDDED_ETCD = 'embedded-etcd',
  /** An external PostgreSQL primary/replica pair on the hosts with role `datastore`. */
  POSTGRES = 'postgres',
}

/** The K3s control plane. */
export interface ControlPlaneSpec {
  /**
   * Which Kubernetes distribution the site installs; decides which host roles are valid.
   *
   * @default Distribution.K3S
   */
  readonly distribution?: Distribution;
  /**
   * Where the K3s servers keep the cluster state.
   *
   * @default DatastoreKind.EMBEDDED_ETCD (kubeadm: always stacked etcd)
   */
  readonly datastore?: DatastoreKind;
  /**
   * Accept an even number of embedded-etcd servers (an even count tolerates no more failures than one server less).
   *
   * @default false
   */
  readonly allowEvenServerCount?: boolean;
  /** Taint the servers `CriticalAddonsOnly=true:NoExecute` so workloads run on agents only. @default false */
  readonly dedicatedServers?: boolean;
  /**
   * Embedded etcd snapshot schedule, as K3s's scheduler (robfig/cron v3) reads it: five fields (minute hour
   * day-of-month month day-of-week, weekdays 0–6 or names), `@daily`-style descriptors or `@every <duration>` of
   * at least 1m, optionally after `CRON_TZ=<zone> `. One that does not parse or never fires is refused (K3s would
   * silently take no snapshots).
   *
   * @default '0 *\/6 * * *'
   */
  readonly etcdSnapshotScheduleCron?: string;
  /** Embedded etcd snapshots kept. @default 12 */
  readonly etcdSnapshotRetention?: number;
  /** Encrypt Secrets at rest in the datastore. @default true */
  readonly secretsEncryption?: boolean;
  /**
   * How long a joining server, agent or kubeadm node waits at first boot for the API endpoint, in minutes of elapsed
   * time; past it the host's first-boot configuration fails at that step (re-running it continues from there).
   * Long enough for the first server to install and bootstrap on slow storage, short enough to see a stuck site.
   *
   * @default 30
   */
  readonly joinApiWaitMinutes?: number;
}

/** The external PostgreSQL datastore (with `controlPlane.datastore: postgres`). */
export interface PostgresSpec {
  /** PostgreSQL major version of the distribution's packages (Ubuntu 24.04: 16). @default 16 */
  readonly version?: number;
  /** Port PostgreSQL listens on, on each datastore host. @default 5432 */
  readonly port?: number;
  /** Port of the writer endpoint on the load balancers (always the current primary). @default 5433 */
  readonly writerPort?: number;
  /**
   * Patroni's `synchronous_mode`: a commit is acknowledged only once a synchronous replica has it, and only that
   * replica may be promoted, so an automatic failover loses no acknowledged write. With every replica down the
   * primary keeps writing alone (Patroni drops the synchronous standby), unless `synchronousModeStrict`.
   *
   * @default true
   */
  readonly synchronousCommit?: boolean;
  /**
   * Patroni's `synchronous_mode_strict`: with no synchronous replica left, commits wait instead of going on
   * without one (no write is ever acknowledged by one node alone, at the price of K3s stalling while the replica is
   * down). Needs `synchronousCommit`.
   *
   * @default false
   */
  readonly synchronousModeStrict?: boolean;
  /**
   * The host of the etcd witness: a third etcd member (Patroni's DCS) beside the datastore nodes, so two datastore
   * nodes keep a quorum when either fails. Needed when the number of datastore nodes is even; must not be one.
   *
   * @default - the first load balancer that is not a datastore node, else the first K3s server that is not one
   */
  readonly witness?: string;
  /**
   * Patroni's failure detection, in seconds. A primary that cannot renew its leader key in etcd for `ttlSeconds`
   * loses it and a replica takes over; Patroni wakes every `loopWaitSeconds`; an etcd or PostgreSQL call is
   * retried for `retryTimeoutSeconds` before the primary demotes itself. Patroni needs
   * `loopWaitSeconds + 2 × retryTimeoutSeconds ≤ ttlSeconds`.
   *
   * @default - { ttlSeconds: 8, loopWaitSeconds: 2, retryTimeoutSeconds: 3 }
   */
  readonly failover?: PostgresFailoverSpec;
  /**
   * Database K3s keeps the cluster state in (created on the primary, owned by `user`).
   *
   * @default 'k3s'
   */
  readonly database?: string;
  /**
   * PostgreSQL role K3s logs in as (scram-sha-256; its password is generated by Terraform, never written here).
   *
   * @default 'k3s'
   */
  readonly user?: string;
  /**
   * TLS between K3s and PostgreSQL (and between the datastore nodes): Terraform generates a datastore CA and a
   * server certificate per node valid for the node's address and name and the writer endpoint's; PostgreSQL then
   * accepts the K3s user and replication over TLS only, and K3s connects with `sslmode=verify-full` against the CA.
   * With `false`, the K3s datastore traffic (the password exchange is scram-sha-256, but every key and value of
   * the cluster state) crosses the network in plain text.
   *
   * @default true
   */
  readonly tls?: boolean;
}

/** Patroni's failure-detection timing (see {@link PostgresSpec.failover}). */
export interface PostgresFailoverSpec {
  /** The leader key's time to live. @default 8 */
  readonly ttlSeconds?: number;
  /** Seconds between two runs of Patroni's loop. @default 2 */
  readonly loopWaitSeconds?: number;
  /** How long an etcd or PostgreSQL call is retried. @default 3 */
  readonly retryTimeoutSeconds?: number;
}

/** The site's DNS zone, served by Bind9 on the hosts with role `dns`. */
export interface DnsSpec {
  /** Forward zone. @default network.searchDomain */
  readonly zone?: string;
  /** A wildcard record `*.<zone>` to the API endpoint address (ingress hosts via the load balancers). @default true */
  readonly wildcardToEndpoint?: boolean;
  /** Resolvers Bind9 forwards other names to. @default [] (full recursion) */
  readonly forwarders?: readonly string[];
}

/** Everything that describes one site. */
export interface SiteSpec {
  /** Site name, an RFC 1123 label; names the Terraform stack and the GitOps folder. */
  readonly name: string;
  /**
   * Free text about the site, shown in its generated site document.
   *
   * @default - none
   */
  readonly description?: string;
  /** The layer-2 network every host, the gateway and the VIP live on. */
  readonly network: NetworkSpec;
  /** The Proxmox VE cluster, its datastores and the images hosts are created from. */
  readonly proxmox: ProxmoxSpec;
  /** Every machine of the site with its roles (at least one). */
  readonly hosts: readonly HostSpec[];
  /** The fixed address of the Kubernetes API (VIP or single host address). */
  readonly apiEndpoint: ApiEndpointSpec;
  /**
   * Pinned versions of K3s, or of Kubernetes and CRI-O on kubeadm sites.
   *
   * @default - the library's pinned versions
   */
  readonly versions?: VersionsSpec;
  /**
   * Admin user, SSH keys, time zone and NTP servers of the hosts.
   *
   * @default - admin user `k3sadmin`, keys from the Terraform variable only, UTC, the image's NTP pool
   */
  readonly access?: AccessSpec;
  /**
   * How changes roll through the running site: agent concurrency, a bastion, unsafe server removals.
   *
   * @default - agents one at a time, direct SSH, unsafe removals rejected
   */
  readonly rollout?: RolloutSpec;
  /**
   * Pod and Service networks, cluster domain and CNI.
   *
   * @default - K3s's default CIDRs, Cilium with kube-proxy replacement (kubeadm: Flannel)
   */
  readonly cluster?: ClusterSpec;
  /**
   * NodePorts the load balancers forward ingress ports 80/443 to.
   *
   * @default - NodePorts 30080/30443
   */
  readonly ingress?: IngressSpec;
  /**
   * HAProxy and Keepalived settings for the hosts with role `load-balancer`.
   *
   * @default - see {@link LoadBalancerSpec}; used only when a host has role `load-balancer`
   */
  readonly loadBalancer?: LoadBalancerSpec;
  /**
   * Distribution, datastore and control-plane options.
   *
   * @default - K3s on embedded etcd, Secrets encrypted, servers schedulable
   */
  readonly controlPlane?: ControlPlaneSpec;
  /**
   * The external PostgreSQL datastore.
   *
   * @default - see {@link PostgresSpec}; used only with `controlPlane.datastore: postgres`
   */
  readonly postgres?: PostgresSpec;
  /**
   * The Bind9 DNS zone.
   *
   * @default - see {@link DnsSpec}; used only when a host has role `dns`
   */
  readonly dns?: DnsSpec;
  /**
   * The in-cluster monitoring stack (kube-prometheus-stack), its scrape targets and alert rules from the plan.
   *
   * @default - on, alerts go nowhere until a receiver is named
   */
  readonly monitoring?: MonitoringSpec;
  /** Backups that leave the site (S3-compatible target); without one the site gets a warning. @default - none */
  readonly backup?: BackupSpec;
}

/** A key of a Kubernetes Secret in the monitoring namespace: secrets are referenced, never written into the site. */
export interface SecretKeySpec {
  /** The Secret's name (an RFC 1123 subdomain), created by the operator in the namespace `monitoring`. */
  readonly name: string;
  /** The key inside the Secret. */
  readonly key: string;
}

/** What Alertmanager sends alerts to. */
export enum MonitoringReceiverKind {
  /** An HTTP POST of Alertmanager's webhook JSON to a URL. */
  WEBHOOK = 'webhook',
  /** Email through an SMTP smarthost. */
  EMAIL = 'email',
  /** A topic on an ntfy server (its JSON publishing endpoint, through Alertmanager's webhook). */
  NTFY = 'ntfy',
}

/** A webhook receiver. The URL often carries a token, so it comes from a Secret. */
export interface WebhookReceiverSpec {
  readonly kind: MonitoringReceiverKind.WEBHOOK;
  /** The Secret key holding the full URL (Alertmanager's `url_file`). */
  readonly urlSecret: SecretKeySpec;
}

/** An email receiver. */
export interface EmailReceiverSpec {
  readonly kind: MonitoringReceiverKind.EMAIL;
  /** Recipient address. */
  readonly to: string;
  /** Sender address. */
  readonly from: string;
  /** SMTP server as `host:port`. */
  readonly smarthost: string;
  /** SMTP user name. @default - no SMTP authentication */
  readonly username?: string;
  /** The Secret key holding the SMTP password (needs `username`). @default - no password */
  readonly passwordSecret?: SecretKeySpec;
}

/** An ntfy receiver. */
export interface NtfyReceiverSpec {
  readonly kind: MonitoringReceiverKind.NTFY;
  /** The ntfy server, `https://host[:port]` (no path). */
  readonly serverUrl: string;
  /** The topic alerts are published to. */
  readonly topic: string;
  /** The Secret key holding an ntfy access token (sent as a bearer token). @default - anonymous publishing */
  readonly tokenSecret?: SecretKeySpec;
}

/** Where Alertmanager sends the site's alerts. */
export type MonitoringReceiverSpec = WebhookReceiverSpec | EmailReceiverSpec | NtfyReceiverSpec;

/** The in-cluster monitoring stack. */
export interface MonitoringSpec {
  /** Install kube-prometheus-stack, the scrape targets and the alert rules. @default true */
  readonly enabled?: boolean;
  /** Where alerts go. @default - nowhere (Alertmanager's null receiver): alerts show only in Prometheus and Alertmanager */
  readonly receiver?: MonitoringReceiverSpec;
}
