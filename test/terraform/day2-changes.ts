import { Distribution, HostRole, HostSpec, SiteSpec, SiteStack, defineSite } from '../../constructs';

/**
 * The day-2 changes the plan table plans against every seed site's applied state: each one a plain change of the
 * site file (or of a variable / a `-replace`), as an operator would make it.
 */
export interface Day2Change {
  readonly name: string;
  /** The changed site, or undefined when the change does not apply to this site (no LXC template, say). */
  readonly change: (spec: SiteSpec) => Day2Edit | undefined;
  /** Plan against the state after this other change was applied (decommission, then removal). */
  readonly after?: string;
}

/** One change: the new site file, and what changes outside it. */
export interface Day2Edit {
  readonly spec: SiteSpec;
  /** Variables given new values (`TF_VAR_…`). */
  readonly variables?: Readonly<Record<string, string>>;
  /** Resources replaced on purpose (`terraform apply -replace=…`): the addresses matching this. */
  readonly replaceMatching?: RegExp;
  /** An escape hatch applied to the synthesized stack (`addOverride`). */
  readonly customize?: (stack: SiteStack) => void;
}

const isKubeadm = (spec: SiteSpec) => spec.controlPlane?.distribution === Distribution.KUBEADM;
const serverRole = (spec: SiteSpec) => (isKubeadm(spec) ? HostRole.CONTROL_PLANE : HostRole.K3S_SERVER);
const agentRole = (spec: SiteSpec) => (isKubeadm(spec) ? HostRole.WORKER : HostRole.K3S_AGENT);
const withHosts = (spec: SiteSpec, hosts: readonly HostSpec[]): SiteSpec => ({ ...spec, hosts });
const mapHost = (spec: SiteSpec, name: string, change: (host: HostSpec) => HostSpec) => withHosts(spec, spec.hosts.map((h) => (h.name === name ? change(h) : h)));

/**
 * The host a per-host change targets: the last agent or worker, else the last server, preferring one with no other
 * role (a host that also serves DNS cannot be decommissioned: the site model asks to move that role first).
 */
function targetHost(spec: SiteSpec): HostSpec {
  const clusterOnly = (h: HostSpec) => h.roles.every((role) => role === agentRole(spec) || role === serverRole(spec));
  const candidates = [agentRole(spec), serverRole(spec)].map((role) => spec.hosts.filter((h) => h.roles.includes(role)));
  const pick = (hosts: HostSpec[]) => hosts.filter(clusterOnly).slice(-1)[0] ?? hosts.slice(-1)[0];
  return pick(candidates[0].length > 0 ? candidates[0] : candidates[1]);
}

/** A new host with a free address and VM id, on the first Proxmox node, like the other hosts of its role. */
function newHost(spec: SiteSpec, name: string, role: HostRole): HostSpec {
  const used = JSON.stringify(spec);
  const prefix = spec.network.cidr.split('.').slice(0, 3).join('.');
  const octet = [...Array(200).keys()].map((i) => 240 - i).find((candidate) => !used.includes(`"${prefix}.${candidate}"`))!;
  const like = spec.hosts.find((h) => h.roles.includes(role)) ?? spec.hosts.find((h) => h.roles.includes(serverRole(spec)))!;
  return { name, ip: `${prefix}.${octet}`, vmId: Math.max(...spec.hosts.map((h) => h.vmId)) + 1, proxmoxNode: spec.proxmox.nodes[0], roles: [role], ...(like.size ? { size: like.size } : {}) };
}

const bumpPatch = (version: string) => version.replace(/^(v?1\.\d+\.)(\d+)/, (_, head: string, patch: string) => `${head}${Number(patch) + 1}`);
const changedUrl = (url: string) => url.replace(/(\.[a-z0-9]+)$/, '-next$1');

/** The generated secret a rotation replaces: the HAProxy stats password (rotating the K3s token is a different operation). */
export const ROTATED_SECRET = /^random_password\.LoadBalancers_StatsPassword_/;
/** The host certificates a renewal replaces: every datastore host certificate (the CA stays). */
export const RENEWED_CERTIFICATES = /^tls_locally_signed_cert\./;

/** The memory an escape hatch gives one machine (more than any seed host has). */
const ESCAPE_HATCH_MEMORY_MIB = 24576;

export const DAY2_CHANGES: readonly Day2Change[] = [
  {
    name: 'K3s patch bump',
    change: (spec) => (isKubeadm(spec) ? undefined : { spec: { ...spec, versions: { ...spec.versions, k3s: bumpPatch(defineSite(spec).versions.k3s) } } }),
  },
  {
    name: 'server added',
    // A fourth etcd member is the first step of growing to five (the site model asks to say so).
    change: (spec) => ({ spec: { ...withHosts(spec, [...spec.hosts, newHost(spec, 'new-server', serverRole(spec))]), controlPlane: { ...spec.controlPlane, allowEvenServerCount: true } } }),
  },
  { name: 'agent added', change: (spec) => ({ spec: withHosts(spec, [...spec.hosts, newHost(spec, 'new-agent', agentRole(spec))]) }) },
  {
    name: 'decommission',
    // kubeadm nodes have no decommissioning step, and a host with another role (DNS, load balancer) must give it
    // up first: the site model refuses both (lab: every agent also serves DNS).
    change: (spec) => {
      const host = targetHost(spec);
      const clusterOnly = host.roles.every((role) => role === agentRole(spec) || role === serverRole(spec));
      return isKubeadm(spec) || !clusterOnly ? undefined : { spec: mapHost(spec, host.name, (h) => ({ ...h, decommission: true })) };
    },
  },
  {
    name: 'removal after decommission',
    after: 'decommission',
    change: (spec) => ({ spec: withHosts(spec, spec.hosts.filter((h) => h.name !== targetHost(spec).name)) }),
  },
  { name: 'generation bump', change: (spec) => ({ spec: mapHost(spec, targetHost(spec).name, (h) => ({ ...h, generation: (h.generation ?? 0) + 1 })) }) },
  {
    name: 'proxmoxNode change',
    change: (spec) => {
      const host = targetHost(spec);
      return { spec: mapHost(spec, host.name, (h) => ({ ...h, proxmoxNode: spec.proxmox.nodes.find((node) => node !== h.proxmoxNode)! })) };
    },
  },
  {
    name: 'memory and cores of the servers',
    change: (spec) => ({
      spec: withHosts(spec, spec.hosts.map((h) => (h.roles.includes(serverRole(spec))
        ? { ...h, size: { ...h.size, memoryMiB: (h.size?.memoryMiB ?? 4096) * 2, cores: (h.size?.cores ?? 2) + 2 } } : h))),
    }),
  },
  {
    name: 'memory through an escape hatch',
    change: (spec) => {
      const host = targetHost(spec).name;
      return { spec, customize: (stack) => stack.hosts.get(host)!.machine!.resource.addOverride('memory.dedicated', ESCAPE_HATCH_MEMORY_MIB) };
    },
  },
  {
    name: 'DNS server change',
    change: (spec) => ({ spec: { ...spec, network: { ...spec.network, dnsServers: [...spec.network.dnsServers, spec.network.gateway === spec.network.dnsServers[0] ? '9.9.9.9' : spec.network.gateway] } } }),
  },
  {
    name: 'cloud image change',
    change: (spec) => ({
      spec: { ...spec, proxmox: { ...spec.proxmox, cloudImage: { ...spec.proxmox.cloudImage, url: changedUrl(spec.proxmox.cloudImage.url), fileName: `next-${spec.proxmox.cloudImage.fileName}`, ...(spec.proxmox.cloudImage.checksum ? { checksum: 'cd'.repeat(32) } : {}) } } },
    }),
  },
  {
    name: 'LXC template change',
    change: (spec) => (spec.proxmox.lxcTemplate
      ? { spec: { ...spec, proxmox: { ...spec.proxmox, lxcTemplate: { ...spec.proxmox.lxcTemplate, url: changedUrl(spec.proxmox.lxcTemplate.url), fileName: `next-${spec.proxmox.lxcTemplate.fileName}` } } } }
      : undefined),
  },
  {
    name: 'admin key rotation',
    // A new key pair: the public key the hosts trust and the private key Terraform connects with.
    change: (spec) => ({ spec, variables: { admin_ssh_public_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIRotatedKeyForThePlanTableOnly rotated@plan-table', ssh_private_key: 'rotated private key, plan table only' } }),
  },
  { name: 'secret rotation', change: (spec) => ({ spec, replaceMatching: ROTATED_SECRET }) },
  {
    name: 'host certificate renewal',
    // What Terraform plans once a host certificate is ready for renewal (early_renewal_hours), as -replace.
    change: (spec) => (defineSite(spec).postgres?.tls ? { spec, replaceMatching: RENEWED_CERTIFICATES } : undefined),
  },
];
