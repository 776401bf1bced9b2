import { Ipv4Cidr, isIpv4 } from '../../core/ipv4';
import { isIntegerInRange, isRfc1123Label } from '../../core/names';
import { ProblemCollector } from '../../core/problems';
import { HostKind, HostRole } from '../spec';
import { SSH_PUBLIC_KEY } from './misc';
import { HostEntry, hostPaths } from './host-paths';
import { ProxmoxNodes } from './proxmox';
import { expectNonEmptyArray, expectObject, reportDuplicates, reportUnknownKeys } from './shape';

/** Roles that need a full kernel (K3s runs its own containers and netfilter rules). */
const VM_ONLY_ROLES: readonly HostRole[] = [HostRole.K3S_SERVER, HostRole.K3S_AGENT, HostRole.CONTROL_PLANE, HostRole.WORKER];

const LABEL_NAME = '[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
const LABEL_KEY = new RegExp(`^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?${LABEL_NAME}$`);
const LABEL_VALUE = new RegExp(`^(${LABEL_NAME})?$`);
const TAINT = new RegExp(`^(?<key>([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?${LABEL_NAME})(=(?<value>${LABEL_NAME})?)?:(?<effect>NoSchedule|PreferNoSchedule|NoExecute)$`);

/** A node taint as the site model takes it (`hosts[].nodeTaints`): `key[=value]:NoSchedule|PreferNoSchedule|NoExecute`. */
export function isNodeTaint(value: unknown): value is string {
  return typeof value === 'string' && TAINT.test(value);
}

/** The parts of a taint `key[=value]:Effect` (a core/v1 Taint); undefined when it is not one (see {@link isNodeTaint}). */
export function parseNodeTaint(taint: string): { readonly key: string; readonly value?: string; readonly effect: string } | undefined {
  const groups = TAINT.exec(taint)?.groups;
  return groups ? { key: groups.key, ...(groups.value ? { value: groups.value } : {}), effect: groups.effect } : undefined;
}

/**
 * Label keys a kubelet may set on its own Node (`--node-labels`, which K3s's `node-label` and kubeadm's
 * `kubeletExtraArgs` pass on): none in the kubernetes.io or k8s.io namespaces except the kubelet.kubernetes.io and
 * node.kubernetes.io namespaces and a fixed set of well-known keys. A kubelet given another one exits at start
 * ("unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels"; kubernetes cmd/kubelet/app/options/
 * options.go ValidateKubeletFlags, staging/src/k8s.io/kubelet/pkg/apis/well_known_labels.go IsKubeletLabel).
 */
const KUBELET_LABELS = ['kubernetes.io/hostname', 'topology.kubernetes.io/zone', 'topology.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region', 'beta.kubernetes.io/instance-type', 'node.kubernetes.io/instance-type', 'kubernetes.io/os', 'kubernetes.io/arch',
  'beta.kubernetes.io/os', 'beta.kubernetes.io/arch'];
const KUBELET_LABEL_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];
const KUBELET_LABEL_RULE = 'a label the kubelet may set on its own node: none in the kubernetes.io or k8s.io namespaces (node-role.kubernetes.io/… included: '
  + 'set those with kubectl label once the node is up), except kubelet.kubernetes.io/…, node.kubernetes.io/… and the well-known kubernetes.io/os, kubernetes.io/arch, topology.kubernetes.io/zone, …';

const inNamespace = (namespace: string, domain: string) => namespace === domain || namespace.endsWith(`.${domain}`);

function isLabelKubeletMaySet(key: string): boolean {
  const namespace = key.includes('/') ? key.slice(0, key.indexOf('/')) : '';
  if (!inNamespace(namespace, 'kubernetes.io') && !inNamespace(namespace, 'k8s.io')) {
    return true;
  }
  return KUBELET_LABELS.includes(key) || KUBELET_LABEL_NAMESPACES.some((allowed) => inNamespace(namespace, allowed));
}

/** Roles one host cannot combine: each pair installs the same Kubernetes node twice. */
const EXCLUSIVE_ROLES: readonly (readonly [HostRole, HostRole, string])[] = [
  [HostRole.K3S_SERVER, HostRole.K3S_AGENT, 'a K3s server runs workloads itself (it is its own agent); keep one of the two roles'],
  [HostRole.CONTROL_PLANE, HostRole.WORKER, 'a kubeadm control plane runs workloads once its taint is removed; keep one of the two roles'],
];

export interface HostsContext {
  readonly cidr?: Ipv4Cidr;
  readonly gateway?: unknown;
  /** The Proxmox nodes hosts may be placed on; undefined when `proxmox.nodes` is unusable (reported there). */
  readonly proxmoxNodes?: ProxmoxNodes;
}

function validateHost(problems: ProblemCollector, path: string, host: Record<string, unknown>, context: HostsContext): void {
  reportUnknownKeys(problems, path, host, ['name', 'ip', 'vmId', 'proxmoxNode', 'roles', 'kind', 'size', 'nodeLabels', 'nodeTaints', 'generation', 'sshHostKey', 'decommission']);
  if (host.decommission !== undefined) {
    problems.check(typeof host.decommission === 'boolean', `${path}.decommission`, host.decommission, 'true or false');
  }
  if (host.generation !== undefined) {
    problems.check(isIntegerInRange(host.generation, 0, 1_000_000), `${path}.generation`, host.generation, 'a rebuild counter, an integer from 0');
  }
  if (host.sshHostKey !== undefined) {
    problems.check(typeof host.sshHostKey === 'string' && SSH_PUBLIC_KEY.test(host.sshHostKey), `${path}.sshHostKey`, host.sshHostKey,
      'an SSH host public key line, e.g. the content of /etc/ssh/ssh_host_ed25519_key.pub ("ssh-ed25519 AAAA…")');
  }
  if (host.nodeLabels !== undefined && expectObject(problems, `${path}.nodeLabels`, host.nodeLabels)) {
    for (const [key, value] of Object.entries(host.nodeLabels)) {
      if (problems.check(LABEL_KEY.test(key) && typeof value === 'string' && LABEL_VALUE.test(value), `${path}.nodeLabels.${key}`, value,
        'a Kubernetes label: key [prefix/]name of letters, digits, -, _ and . (name at most 63), value at most 63 such characters')) {
        problems.check(isLabelKubeletMaySet(key), `${path}.nodeLabels.${key}`, value, KUBELET_LABEL_RULE);
      }
    }
  }
  if (host.nodeTaints !== undefined && problems.check(Array.isArray(host.nodeTaints), `${path}.nodeTaints`, host.nodeTaints, 'a list of taints')) {
    (host.nodeTaints as unknown[]).forEach((taint, i) => problems.check(isNodeTaint(taint), `${path}.nodeTaints[${i}]`, taint,
      'a taint "key[=value]:NoSchedule|PreferNoSchedule|NoExecute"'));
  }
  problems.check(isRfc1123Label(host.name), `${path}.name`, host.name,
    'a host name of 1–63 lower-case letters, digits and hyphens, not starting or ending with a hyphen (RFC 1123)');
  if (problems.check(isIpv4(host.ip), `${path}.ip`, host.ip, 'an IPv4 address in dotted-decimal form') && context.cidr) {
    if (problems.check(context.cidr.isUsableHostAddress(host.ip as string), `${path}.ip`, host.ip,
      `a host address inside network.cidr ${context.cidr.toString()} (not its network or broadcast address)`)) {
      problems.check(host.ip !== context.gateway, `${path}.ip`, host.ip, 'an address other than network.gateway');
    }
  }
  problems.check(isIntegerInRange(host.vmId, 100, 999_999_999), `${path}.vmId`, host.vmId, 'a Proxmox VM id, an integer from 100 to 999999999');
  // A node whose own entry in proxmox.nodes is broken is reported there, not again for each host on it.
  const nodes = context.proxmoxNodes;
  if (nodes && !(typeof host.proxmoxNode === 'string' && nodes.listed.has(host.proxmoxNode) && !nodes.valid.has(host.proxmoxNode))) {
    problems.check(typeof host.proxmoxNode === 'string' && nodes.valid.has(host.proxmoxNode), `${path}.proxmoxNode`,
      host.proxmoxNode, `one of proxmox.nodes (${[...nodes.valid].join(', ')})`);
  }
  const kind = host.kind ?? HostKind.VM;
  problems.check(Object.values(HostKind).includes(kind as HostKind), `${path}.kind`, host.kind, `one of ${Object.values(HostKind).join(', ')}`);

  if (expectNonEmptyArray(problems, `${path}.roles`, host.roles, `roles (${Object.values(HostRole).join(', ')})`)) {
    const roles = host.roles;
    roles.forEach((role, i) => {
      if (!problems.check(Object.values(HostRole).includes(role as HostRole), `${path}.roles[${i}]`, role,
        `one of ${Object.values(HostRole).join(', ')}`)) {
        return;
      }
      problems.check(roles.indexOf(role) === i, `${path}.roles[${i}]`, role, 'each role once per host');
      for (const [first, second, why] of EXCLUSIVE_ROLES) {
        problems.check(!(role === second && roles.includes(first)), `${path}.roles[${i}]`, role, `not both ${first} and ${second} on one host: ${why}`);
      }
      problems.check(!(kind === HostKind.LXC && VM_ONLY_ROLES.includes(role as HostRole)), `${path}.roles[${i}]`, role,
        'a role an unprivileged LXC container can run: Kubernetes nodes (K3s servers and agents, kubeadm nodes) must be VMs (kind: vm)');
    });
  }
  if (host.size !== undefined && expectObject(problems, `${path}.size`, host.size)) {
    reportUnknownKeys(problems, `${path}.size`, host.size, ['cores', 'memoryMiB', 'diskGiB']);
    const limits = { cores: [1, 128, 'CPU cores'], memoryMiB: [512, 1_048_576, 'MiB of memory'], diskGiB: [4, 65_536, 'GiB of disk'] } as const;
    for (const [key, [min, max, unit]] of Object.entries(limits)) {
      const value = host.size[key];
      if (value !== undefined) {
        problems.check(isIntegerInRange(value, min, max), `${path}.size.${key}`, value, `an integer from ${min} to ${max} (${unit})`);
      }
    }
  }
}

/**
 * Checks `hosts`: each host on its own, then uniqueness of names, addresses and VM ids across them.
 *
 * @returns the entries that are objects, each with its position and the path its problems are reported at
 */
export function validateHosts(problems: ProblemCollector, hosts: unknown, context: HostsContext): readonly HostEntry[] {
  if (!expectNonEmptyArray(problems, 'hosts', hosts, 'hosts')) {
    return [];
  }
  const paths = hostPaths(hosts);
  const entries: HostEntry[] = [];
  hosts.forEach((host, i) => {
    if (expectObject(problems, paths[i], host)) {
      validateHost(problems, paths[i], host, context);
      entries.push({ index: i, path: paths[i], host });
    }
  });
  const field = (key: string) => entries.flatMap(({ host, path }) => (host[key] !== undefined ? [{ path: `${path}.${key}`, value: host[key] }] : []));
  reportDuplicates(problems, field('name'), 'host name');
  reportDuplicates(problems, field('ip'), 'IP address');
  reportDuplicates(problems, field('vmId'), 'VM id');

  const roles = entries.flatMap(({ host }) => (Array.isArray(host.roles) ? host.roles : []));
  problems.check(roles.includes(HostRole.K3S_SERVER) || roles.includes(HostRole.CONTROL_PLANE), 'hosts[*].roles', [...new Set(roles)].sort(),
    `at least one host with role ${HostRole.K3S_SERVER} (or ${HostRole.CONTROL_PLANE} with kubeadm)`);
  return entries;
}
