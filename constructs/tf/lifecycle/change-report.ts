/**
 * What a new synthesis changes on a running site, read from two synthesized Terraform JSON documents of one stack
 * (the previous one, e.g. the last `cdktf.out/`, and the new one): per host new, converged in place (which files,
 * which services reload or restart), replaced or removed, and the rollout order. Unsafe changes (a K3s downgrade or
 * skipped minor, a kubeadm version change, more than one server gone at once or below etcd quorum, a K3s node
 * removed without being decommissioned first) are listed as problems. Pure: reads JSON, loads no construct library.
 */

import { HostRole } from '../../site/spec';
import { MachineChange, RunningHost, machineChangeCause, machineChanges, unsafeMachineChanges } from './machine-changes';
import { OutOfBandChange, ResourceChange, predictResourceChanges, referencesIn } from './resource-plan';

/** What a converge step records in its `input` for the change report: fingerprints only, never contents. */
export interface ConvergeRecord {
  readonly host: string;
  /** File path → fingerprint of the rendered content (secrets appear only as Terraform references). */
  readonly files: Readonly<Record<string, string>>;
  /** The services and what they watch. */
  readonly services: readonly { readonly unit: string; readonly watches: readonly string[]; readonly onChange: string }[];
  /** Position in the rollout and the hosts it waits for, filled in by the stack. */
  readonly position: number;
  readonly after: readonly string[];
  /** Roles, machine placement, versions: what the unsafe-change checks read. */
  readonly facts: Readonly<Record<string, string | number>>;
}

/** One host as its converge step recorded it (`terraform_data` `input`), plus its trigger. */
export interface HostRecord extends ConvergeRecord {
  /** Fingerprint of the whole converge script (the step's trigger). */
  readonly configuration: string;
  /** The Terraform expression hashing the resolved secrets and keys the script uses (the step's other trigger). */
  readonly secrets?: string;
  /** The step's address (`terraform_data.<name>`). */
  readonly address?: string;
}

/** What happens to one host. */
export interface HostChange {
  readonly host: string;
  readonly action: 'new' | 'converge' | 'unchanged' | 'replaced' | 'decommission' | 'removed';
  /** Changed (or added) files, for `converge`. */
  readonly files: readonly string[];
  /** `unit reload` / `unit restart`, for `converge`. */
  readonly services: readonly string[];
  /** Why the machine is replaced, for `replaced`. */
  readonly reason?: string;
  /** What the apply does to the host's VM or container, when it changes (`restart: memory`). */
  readonly machine?: {
    readonly action: ResourceChange['action'];
    readonly cause: string;
    readonly migrates?: boolean;
    /** The guest restarts in the host's rollout slot, drained and gated (`restart: memory.dedicated 4096 → 8192`). */
    readonly restartsInRollout?: boolean;
    /** The changed settings with their values, for an update. */
    readonly values?: readonly string[];
  };
  /**
   * For `converge`: the rotated values the host uses (`var.admin_ssh_public_key`, `random_password.x`), by address:
   * the converge step runs again because their resolved values change.
   */
  readonly rotated?: readonly string[];
}

/** The change report of one stack. */
export interface ChangeReport {
  readonly hosts: readonly HostChange[];
  /** Hosts in rollout order (the new synthesis). */
  readonly order: readonly string[];
  /** Unsafe changes; non-empty means the change must not be applied. */
  readonly problems: readonly string[];
  /** Terraform's predicted action on every resource that changes (no-ops left out). */
  readonly resources: readonly ResourceChange[];
}

/** The converge records of a synthesized stack (`cdk.tf.json`), by host. */
export function hostRecords(stack: unknown): Map<string, HostRecord> {
  const resources = (stack as { resource?: { terraform_data?: Record<string, { input?: unknown; triggers_replace?: { configuration?: string; secrets?: string } }> } })
    .resource?.terraform_data ?? {};
  const records = new Map<string, HostRecord>();
  for (const [name, resource] of Object.entries(resources)) {
    const input = resource.input as Partial<HostRecord> | undefined;
    if (input && typeof input.host === 'string' && input.files) {
      // A decommissioned host's record comes from its decommissioning step, which has no configuration.
      records.set(input.host, {
        ...(input as HostRecord),
        configuration: resource.triggers_replace?.configuration ?? 'decommissioned',
        ...(resource.triggers_replace?.secrets ? { secrets: resource.triggers_replace.secrets } : {}),
        address: `terraform_data.${name}`,
      });
    }
  }
  return records;
}

const CONTROL_PLANE_ROLES: readonly string[] = [HostRole.K3S_SERVER, HostRole.CONTROL_PLANE];
const K3S_ROLES: readonly string[] = [HostRole.K3S_SERVER, HostRole.K3S_AGENT];
/** Roles whose host keeps no state another host does not have: its rebuild needs no rejoin step. */
const STATELESS_ROLES: readonly string[] = [HostRole.LOAD_BALANCER, HostRole.DNS];
const rolesOf = (record: HostRecord) => String(record.facts.roles ?? '').split(',');
const isControlPlane = (record: HostRecord) => rolesOf(record).some((role) => CONTROL_PLANE_ROLES.includes(role));
const isDecommissioned = (record: HostRecord) => Number(record.facts.decommissioned ?? 0) === 1;
const isQuorumMember = (record: HostRecord) => (isControlPlane(record) && Number(record.facts.embeddedEtcd ?? 0) === 1) || Number(record.facts.etcdMember ?? 0) === 1;

/** Hosts of the previous synthesis that run (not decommissioned). */
function runningHosts(previous: Map<string, HostRecord>): Map<string, RunningHost> {
  const running = [...previous.values()].filter((record) => !isDecommissioned(record));
  // A rebuilt K3s node is cleaned up from another server (site-lifecycle.ts `addNodeLifecycle`).
  const servers = running.filter((record) => rolesOf(record).includes(HostRole.K3S_SERVER)).length;
  // A datastore etcd member is replaced in the running etcd cluster from another member (datastore-rejoin.ts).
  const k3sNode = (record: HostRecord) => rolesOf(record).some((role) => K3S_ROLES.includes(role));
  // A host with only stateless roles (a load balancer, a DNS server) is rebuilt like a restart in its rollout slot,
  // when another running host has each of its roles: the VIP or the other server carries on meanwhile.
  const peers = (role: string) => running.filter((record) => rolesOf(record).includes(role)).length;
  const stateless = (record: HostRecord) => rolesOf(record).every((role) => STATELESS_ROLES.includes(role) && peers(role) >= 2);
  // A rebuilt kubeadm worker is drained and cleaned up from the first control plane (`addKubeadmWorkerRebuilds`).
  const kubeadmWorker = (record: HostRecord) => rolesOf(record).every((role) => role === HostRole.WORKER) && running.some(isControlPlane);
  const rebuildable = (record: HostRecord) => stateless(record) || kubeadmWorker(record)
    || ((k3sNode(record) || Number(record.facts.etcdMember ?? 0) === 1) && (!k3sNode(record) || servers >= 2));
  return new Map(running.map((record) => [record.host, { roles: rolesOf(record), quorumMember: isQuorumMember(record), rebuildable: rebuildable(record) }]));
}

/** Hosts of a synthesis whose machine restarts are rolled (`machine-restart.ts`): their converge step records it. */
const rolledRestarts = (records: ReadonlyMap<string, HostRecord>) =>
  new Set([...records.values()].filter((record) => Number(record.facts.machineRestartInRollout ?? 0) === 1).map((record) => record.host));

const machineOf = (machine: MachineChange | undefined, rolled: ReadonlySet<string>): HostChange['machine'] | undefined => (machine
  ? {
    action: machine.change.action,
    cause: machineChangeCause(machine.change),
    ...(machine.change.migrates ? { migrates: true } : {}),
    ...(machine.change.restartsInRollout || (machine.change.action === 'restart' && rolled.has(machine.host)) ? { restartsInRollout: true } : {}),
    ...(machine.values.length > 0 ? { values: machine.values } : {}),
  }
  : undefined);

/** `v1.34.2+k3s1` → [1, 34, 2, 1]. */
function k3sVersionParts(version: string): number[] | undefined {
  const match = /^v(\d+)\.(\d+)\.(\d+)\+k3s(\d+)$/.exec(version);
  return match ? match.slice(1).map(Number) : undefined;
}

function compareParts(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) {
      return (a[i] ?? 0) - (b[i] ?? 0);
    }
  }
  return 0;
}

/**
 * Why a machine is replaced: an explicit rebuild, or a placement the provider cannot change in place (a VM's move to
 * another Proxmox node is a migration, no replacement).
 */
function replacementReason(before: HostRecord, after: HostRecord, migrates: boolean): string | undefined {
  for (const [fact, why] of [['generation', 'generation raised (rebuild on purpose)'], ['vmId', 'VM id changed'], ['proxmoxNode', 'Proxmox node changed'], ['kind', 'kind changed']] as const) {
    if (before.facts[fact] !== after.facts[fact] && !(fact === 'proxmoxNode' && migrates)) {
      return `${why}: ${before.facts[fact]} → ${after.facts[fact]}`;
    }
  }
  return undefined;
}

function versionProblems(site: string, before: HostRecord, after: HostRecord): string[] {
  const problems: string[] = [];
  const from = String(before.facts.k3s ?? '');
  const to = String(after.facts.k3s ?? '');
  const fromParts = k3sVersionParts(from);
  const toParts = k3sVersionParts(to);
  if (fromParts && toParts && from !== to) {
    if (compareParts(toParts, fromParts) < 0) {
      problems.push(`${site}: versions.k3s: ${JSON.stringify(to)} — a downgrade from ${from} (running on ${after.host}); K3s does not support downgrades: keep ${from} or a later release`);
    } else if (toParts[1] - fromParts[1] > 1) {
      problems.push(`${site}: versions.k3s: ${JSON.stringify(to)} — skips minor releases after ${from} (running on ${after.host}); upgrade one minor at a time (v1.${fromParts[1] + 1}.x first)`);
    }
  }
  if (before.facts.kubernetes !== undefined && after.facts.kubernetes !== undefined && before.facts.kubernetes !== after.facts.kubernetes) {
    problems.push(`${site}: versions.kubernetes: ${JSON.stringify(after.facts.kubernetes)} — ${after.host} runs ${before.facts.kubernetes}; kubeadm upgrades are not automated `
      + '(kubeadm upgrade apply/node one node at a time): keep the running version, upgrade by hand, then set the new one');
  }
  return problems;
}

/** The new synthesis says `rollout.allowUnsafeServerRemoval` (recorded on its control-plane hosts). */
function unsafeRemovalAllowed(next: Map<string, HostRecord>): boolean {
  return [...next.values()].some((record) => Number(record.facts.allowUnsafeServerRemoval ?? 0) === 1);
}

/** Servers leaving at once (removed or replaced): more than one, or fewer than etcd's quorum of the previous members. */
function serverRemovalProblems(site: string, previous: Map<string, HostRecord>, leaving: readonly string[]): string[] {
  // Servers already decommissioned left etcd before.
  const before = [...previous.values()].filter((record) => isControlPlane(record) && !isDecommissioned(record));
  const gone = before.filter((record) => leaving.includes(record.host));
  if (gone.length === 0) {
    return [];
  }
  const problems: string[] = [];
  const names = gone.map((record) => record.host).join(', ');
  if (gone.length > 1) {
    problems.push(`${site}: hosts: ${names} — ${gone.length} servers would leave at once; decommission, remove or rebuild one server per change (or set rollout.allowUnsafeServerRemoval)`);
  }
  const embeddedEtcd = before.some((record) => Number(record.facts.embeddedEtcd ?? 0) === 1);
  const quorum = Math.floor(before.length / 2) + 1;
  if (embeddedEtcd && before.length - gone.length < quorum) {
    problems.push(`${site}: hosts: ${names} — leaves ${before.length - gone.length} of ${before.length} etcd members, below the quorum of ${quorum}: the cluster would stop `
      + '(add a server first, or set rollout.allowUnsafeServerRemoval)');
  }
  return problems;
}

/**
 * Compares two syntheses of one stack; `previous` undefined means a new site (every host new). `outOfBand` names
 * what changes outside the configuration (rotated variables, `-replace` addresses).
 */
export function compareSyntheses(site: string, previousStack: unknown | undefined, nextStack: unknown, outOfBand: OutOfBandChange = {}): ChangeReport {
  const previous = previousStack ? hostRecords(previousStack) : new Map<string, HostRecord>();
  const next = hostRecords(nextStack);
  const resources = predictResourceChanges(previousStack as never, nextStack as never, outOfBand);
  const machines = machineChanges(resources, previousStack, nextStack);
  const machineByHost = new Map(machines.map((machine) => [machine.host, machine]));
  const rolled = rolledRestarts(next);
  const hosts: HostChange[] = [];
  const problems: string[] = [];
  const leaving: string[] = [];
  for (const record of next.values()) {
    const before = previous.get(record.host);
    if (!before) {
      hosts.push({ host: record.host, action: 'new', files: [], services: [] });
      continue;
    }
    // Every Kubernetes node carries the site's version: one report per site, not per node.
    problems.push(...versionProblems(site, before, record).filter((problem) => !problems.some((p) => p.split(' — ')[0] === problem.split(' — ')[0])));
    if (isDecommissioned(record)) {
      if (!isDecommissioned(before)) {
        leaving.push(record.host);
      }
      hosts.push({ host: record.host, action: isDecommissioned(before) ? 'unchanged' : 'decommission', files: [], services: [] });
      continue;
    }
    const machine = machineOf(machineByHost.get(record.host), rolled);
    const reason = replacementReason(before, record, machine?.migrates === true) ?? (machine?.action === 'replace' ? `machine replaced: ${machine.cause}` : undefined);
    if (reason) {
      leaving.push(record.host);
      hosts.push({ host: record.host, action: 'replaced', files: [], services: [], reason, ...(machine ? { machine } : {}) });
      continue;
    }
    const files = Object.keys(record.files).filter((path) => before.files[path] !== record.files[path]).sort();
    const services = record.services.filter((service) => service.watches.some((path) => files.includes(path))).map((service) => `${service.unit} ${service.onChange}`);
    const rotated = rotatedValues(record, resources, outOfBand);
    // The step also runs again when its triggers change otherwise (a rotated value, a trigger added by an upgrade).
    const stepRuns = resources.some((resource) => resource.address === record.address && resource.action === 'replace');
    const action = before.configuration === record.configuration && !stepRuns ? 'unchanged' : 'converge';
    hosts.push({ host: record.host, action, files, services, ...(machine ? { machine } : {}), ...(rotated.length > 0 ? { rotated } : {}) });
  }
  const allowed = unsafeRemovalAllowed(next);
  for (const before of previous.values()) {
    if (!next.has(before.host)) {
      hosts.push({ host: before.host, action: 'removed', files: [], services: [] });
      if (isDecommissioned(before)) {
        continue;
      }
      leaving.push(before.host);
      if (rolesOf(before).some((role) => K3S_ROLES.includes(role)) && !allowed) {
        problems.push(`${site}: hosts: ${before.host} — a K3s node would leave without being decommissioned: set its decommission: true and apply `
          + '(it is drained, its service stopped and its Node deleted from another server), then remove it from the site');
      }
    }
  }
  problems.push(...(allowed ? [] : serverRemovalProblems(site, previous, leaving)));
  problems.push(...unsafeMachineChanges(site, machines, runningHosts(previous), rolled));
  const order = [...next.values()].sort((a, b) => a.position - b.position).map((record) => record.host);
  return { hosts, order, problems, resources };
}

/**
 * The values a host's converge step uses whose resolved value changes in this apply (rotated variables, replaced
 * or new generated resources), by address, when its step runs again because of them.
 */
function rotatedValues(record: HostRecord, resources: readonly ResourceChange[], outOfBand: OutOfBandChange): string[] {
  const step = resources.find((resource) => resource.address === record.address);
  if (!record.secrets || step?.action !== 'replace' || !step.changed.includes('triggers_replace.secrets')) {
    return [];
  }
  const renewed = new Set(resources.filter((r) => r.action === 'replace' || r.action === 'create').map((r) => r.address));
  const variables = new Set((outOfBand.variables ?? []).map((name) => `var.${name}`));
  return [...new Set(referencesIn(record.secrets).map((reference) => reference.address))]
    .filter((address) => variables.has(address) || renewed.has(address)).sort();
}

/** `restart in its rollout slot: memory.dedicated 4096 → 8192`, `migrated (node_name)`, `update that restarts the guest (memory)`. */
function machineText(machine: NonNullable<HostChange['machine']>): string {
  if (machine.restartsInRollout) {
    return `restart in its rollout slot: ${(machine.values ?? [machine.cause]).join(', ')}${machine.migrates ? ' (migrated first)' : ''}`;
  }
  return `${machine.action === 'restart' ? 'update that restarts the guest' : machine.migrates ? 'migrated' : machine.action} (${machine.cause})`;
}

/** The report as text, one line per host that changes, then the rollout order. */
export function formatChangeReport(site: string, report: ChangeReport): string {
  const lines = [`site ${site}`];
  const counts = new Map<string, number>();
  for (const change of report.hosts) {
    counts.set(change.action, (counts.get(change.action) ?? 0) + 1);
    if (change.action === 'unchanged' && !change.machine) {
      continue;
    }
    const machine = change.machine && change.action !== 'replaced' ? ` · machine: ${machineText(change.machine)}` : '';
    const rotated = change.rotated ? ` · rotated: ${change.rotated.join(', ')}` : '';
    const detail = change.action === 'converge'
      ? `converge in place${change.files.length > 0 ? `: ${change.files.join(', ')}` : change.rotated ? '' : ' (converge script only, no file changes)'}${change.services.length > 0 ? ` → ${change.services.join(', ')}` : ''}${rotated}${machine}`
      : change.action === 'unchanged' ? `machine only${machine}`
      : change.action === 'replaced' ? `REPLACED (${change.reason})`
        : change.action === 'decommission' ? 'decommission: drained, service stopped, Node deleted (the machine stays until removed)' : change.action;
    lines.push(`  ${change.host}: ${detail}`);
  }
  const converging = new Set(report.hosts.filter((c) => c.action !== 'unchanged' && c.action !== 'removed').map((c) => c.host));
  const order = report.order.filter((host) => converging.has(host));
  lines.push(`  rollout order: ${order.length > 0 ? order.join(' → ') : 'nothing to roll out'}`);
  lines.push(`  ${['new', 'converge', 'replaced', 'decommission', 'removed', 'unchanged'].map((action) => `${counts.get(action) ?? 0} ${action}`).join(', ')}`);
  report.problems.forEach((problem) => lines.push(`  UNSAFE: ${problem}`));
  return lines.join('\n');
}
