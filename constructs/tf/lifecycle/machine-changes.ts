import { ResourceChange } from './resource-plan';

/**
 * The machine half of the change report: which host's VM or container the predicted plan restarts or replaces,
 * and which of those changes are unsafe on a running site. A VM's restart is left pending by the provider and
 * rolled by its converge step (drained, restarted through Proxmox, gated, one host at a time: `machine-restart.ts`);
 * a container's update, which the provider restarts it for, waits for the previous hosts of the rollout. A restart
 * of a machine without that ordering (a synthesis from before it) or a replacement happens during the apply, in
 * parallel, outside the rollout order: it is refused when it hits a quorum member, several load balancers, or any
 * running host.
 */

const MACHINE_TYPES = ['proxmox_virtual_environment_vm', 'proxmox_virtual_environment_container'];

/** What the apply does to one host's machine. */
export interface MachineChange {
  readonly host: string;
  readonly change: ResourceChange;
  /** The changed settings with their values, for an update (`memory.dedicated 4096 → 8192`). */
  readonly values: readonly string[];
}

/** The value at a dotted path (`memory.dedicated`, `initialization.dns.servers.1`) of a resource's configuration. */
function valueAt(resource: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((value, step) => {
    // cdktf writes single blocks as objects, Terraform's paths index them: `memory.0.dedicated` and `memory.dedicated` alike.
    const container = Array.isArray(value) && !/^\d+$/.test(step) ? value[0] : value;
    return typeof container === 'object' && container !== null ? (container as Record<string, unknown>)[step] : undefined;
  }, resource);
}

const shown = (value: unknown) => (value === undefined ? '(none)' : typeof value === 'string' ? value : JSON.stringify(value));

/** The host a machine resource runs: a VM's `name`, a container's `initialization.hostname`. */
function hostOfMachine(resource: Record<string, unknown>): string | undefined {
  const initialization = resource.initialization as { hostname?: unknown } | undefined;
  const name = resource.name ?? initialization?.hostname;
  return typeof name === 'string' ? name : undefined;
}

/** The machine changes among predicted resource changes, by host (machines of both syntheses are looked up). */
export function machineChanges(changes: readonly ResourceChange[], ...stacks: readonly (unknown | undefined)[]): MachineChange[] {
  const hostByAddress = new Map<string, string>();
  const resourceBy = stacks.map(() => new Map<string, Record<string, unknown>>());
  stacks.forEach((stack, index) => {
    const resources = (stack as { resource?: Record<string, Record<string, Record<string, unknown>>> } | undefined)?.resource ?? {};
    for (const type of MACHINE_TYPES) {
      for (const [name, resource] of Object.entries(resources[type] ?? {})) {
        resourceBy[index].set(`${type}.${name}`, resource);
        const host = hostOfMachine(resource);
        if (host) {
          hostByAddress.set(`${type}.${name}`, host);
        }
      }
    }
  });
  // The first stack is the previous synthesis, the last the next one.
  const [before, after] = [resourceBy[0], resourceBy[resourceBy.length - 1]];
  const values = (change: ResourceChange) => (change.action === 'update' || change.action === 'restart'
    ? change.changed.filter((path) => !path.includes('(unknown)'))
      .map((path) => `${path} ${shown(valueAt(before?.get(change.address), path))} → ${shown(valueAt(after?.get(change.address), path))}`)
    : []);
  return changes.filter((change) => hostByAddress.has(change.address)).map((change) => ({ host: hostByAddress.get(change.address)!, change, values: values(change) }));
}

/** The attributes behind a machine change, for messages: `memory, cpu`, or the trigger (`generation`). */
export function machineChangeCause(change: ResourceChange): string {
  if (change.trigger?.startsWith('replace_triggered_by') && /_Generation_/.test(change.trigger)) {
    return 'generation';
  }
  if (change.trigger) {
    return change.trigger;
  }
  // The changed attributes the deciding rules cover (indexes left out), else every changed attribute.
  const paths = change.changed.map((path) => path.split('.').filter((step) => !/^\d+$/.test(step)).join('.'));
  const decisive = paths.filter((path) => change.rules.some((rule) => path === rule.path || path.startsWith(`${rule.path}.`)));
  return [...new Set(decisive.length > 0 ? decisive : paths)].join(', ');
}

/** A running host as the previous synthesis recorded it. */
export interface RunningHost {
  readonly roles: readonly string[];
  /** A member of an etcd quorum: K3s's embedded etcd, kubeadm's stacked etcd, or the datastore's etcd. */
  readonly quorumMember: boolean;
  /**
   * A rebuild on purpose (`generation` raised) is rolled safely: a K3s node of a site with another server to act
   * from, whose old Node, node password and etcd member are removed before the new machine joins
   * (`NodeRejoinCleanup`); a kubeadm worker, drained and cleaned up from the first control plane the same way; a
   * datastore etcd member, replaced in the running etcd cluster first (`DatastoreMemberRejoin`);
   * a load balancer or DNS server with a running peer of each of its roles (nothing to rejoin: the new machine
   * converges in its rollout slot; a VIP holder hands the VIP over as its Keepalived stops).
   */
  readonly rebuildable: boolean;
}

const isRebuild = ({ change }: Pick<MachineChange, 'change'>) => change.action === 'replace' && machineChangeCause(change) === 'generation';

/**
 * One problem per running host whose machine the apply would restart or replace outside the rollout (a restart of
 * a host in `rolledRestarts` happens in its rollout slot: `machine-restart.ts`). A rebuild on
 * purpose of a rebuildable host is accepted when the apply takes down at most one etcd quorum member and one load
 * balancer in all: rebuilding two quorum members at once can lose quorum, and two load balancers the VIP.
 */
export function unsafeMachineChanges(site: string, changes: readonly MachineChange[], running: ReadonlyMap<string, RunningHost>, rolledRestarts: ReadonlySet<string> = new Set()): string[] {
  const disruptive = changes.filter(({ host, change }) => running.has(host)
    && ((change.action === 'restart' && !rolledRestarts.has(host)) || change.action === 'replace'));
  const loadBalancers = disruptive.filter(({ host }) => running.get(host)!.roles.includes('load-balancer')).map(({ host }) => host);
  const quorumMembers = disruptive.filter(({ host }) => running.get(host)!.quorumMember).map(({ host }) => host);
  const safeRebuild = (machine: MachineChange) => isRebuild(machine) && running.get(machine.host)!.rebuildable
    && quorumMembers.length <= 1 && loadBalancers.length <= 1;
  return disruptive.filter((machine) => !safeRebuild(machine)).map(({ host, change }) => {
    const what = change.action === 'restart' ? 'the provider restarts the guest' : 'the machine is replaced';
    const why = isRebuild({ change }) && running.get(host)!.rebuildable && quorumMembers.length > 1
      ? `${quorumMembers.length} etcd quorum members (${quorumMembers.join(', ')}) would go down in one apply, which can lose quorum: rebuild one per apply`
      : running.get(host)!.quorumMember
      ? 'a running etcd quorum member goes down with no drain and no health gate'
      : loadBalancers.length > 1 && loadBalancers.includes(host)
        ? `${loadBalancers.length} load balancers (${loadBalancers.join(', ')}) go down together: the VIP can be left without a holder`
        : 'it happens during the apply, in parallel with other changes and outside the rollout order (no drain, no health gate)';
    return `${site}: hosts[${host}]: ${machineChangeCause(change)} — ${what} (${change.action}): ${why}; `
      + 'keep the previous value until machine changes are rolled out one host at a time';
  });
}
