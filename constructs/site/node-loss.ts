import { HostPlan, SitePlan, controlPlaneHosts, hostsWithRole } from './plan';
import { DatastoreKind, Distribution, HostRole } from './spec';

/** What losing a Proxmox node does to the site as a whole. */
export enum NodeLossVerdict {
  /** Every service keeps serving, none is left on a single host it was not on before. */
  SURVIVES = 'survives',
  /** Every service keeps serving, but one of them is down to its last host (or its last PostgreSQL node). */
  DEGRADED = 'degraded',
  /** At least one service stops. */
  OUTAGE = 'outage',
}

/** A service a site offers, as the node-loss table and warnings name it. */
export enum SiteService {
  API = 'API',
  DATASTORE = 'datastore',
  INGRESS = 'ingress',
  DNS = 'DNS',
}

/** Why a service stops: one per thing it needs. */
export enum StopCause {
  /** No load balancer left to hold the VIP, or the endpoint's one host (single load balancer, first server) lost. */
  API_ENDPOINT = 'api-endpoint',
  /** No K3s server or kubeadm control plane left. */
  API_SERVERS = 'api-servers',
  /** The cluster's etcd (embedded on K3s servers, stacked on kubeadm control planes) lost its quorum. */
  CLUSTER_ETCD = 'cluster-etcd',
  /** K3s on PostgreSQL: the datastore stopped (its own causes say why). */
  DATASTORE_STOPPED = 'datastore-stopped',
  /** The datastore's etcd (Patroni's state) lost its quorum: no leader can be held or elected. */
  DATASTORE_ETCD = 'datastore-etcd',
  /** No PostgreSQL node left. */
  DATASTORE_NODES = 'datastore-nodes',
  /** `synchronous_mode_strict` with no synchronous standby left: every commit waits. */
  SYNCHRONOUS_STANDBY = 'synchronous-standby',
  /** No node left that runs the ingress controller. */
  INGRESS_CONTROLLERS = 'ingress-controllers',
  /** No load balancer left for the 80/443 frontends. */
  INGRESS_FRONTENDS = 'ingress-frontends',
  /** No Bind9 server left. */
  DNS_SERVERS = 'dns-servers',
}

/** How many of a group's hosts are left after the loss. */
export interface Remaining {
  readonly left: number;
  readonly of: number;
}

/** An etcd cluster after the loss: members left of all, and the majority it needs. */
export interface QuorumRemaining extends Remaining {
  /** A majority of the voting members: floor(of / 2) + 1. */
  readonly needed: number;
}

/** A service that stops, and why. */
export interface ServiceStop {
  readonly service: SiteService;
  readonly cause: StopCause;
  /** Lower-case, in the words of the site warnings, e.g. `the datastore's etcd keeps 1 of 3 members, 2 needed`. */
  readonly reason: string;
  /** The lost hosts behind the cause (empty for a derived cause such as {@link StopCause.DATASTORE_STOPPED}). */
  readonly hosts: readonly string[];
}

/** What losing a set of hosts together leaves of each service. */
export interface HostsLoss {
  readonly api: {
    /** The load balancers left; absent when the site has none (the endpoint is then the first server's address). */
    readonly loadBalancers?: Remaining;
    /** The host whose own address is the endpoint, when there is no VIP (a single load balancer or the first server). */
    readonly endpointHost?: string;
    /** True when the endpoint's address still answers (a load balancer left for the VIP, or its one host). */
    readonly endpointUp: boolean;
    /** K3s servers or kubeadm control planes left. */
    readonly servers: Remaining;
    readonly serving: boolean;
  };
  /** The cluster's etcd (embedded on K3s servers, stacked on kubeadm control planes); absent on PostgreSQL. */
  readonly clusterEtcd?: QuorumRemaining;
  /** The PostgreSQL datastore; absent on etcd sites. */
  readonly datastore?: {
    /** The etcd cluster Patroni keeps its leader key in (`postgres.etcdMembers`). */
    readonly etcd: QuorumRemaining;
    /** The PostgreSQL nodes Patroni manages. */
    readonly nodes: Remaining;
    /** A leader can be kept or elected: a node left and the datastore's etcd quorum kept. */
    readonly leaderPossible: boolean;
    /** A second node is left to be the synchronous standby (with `synchronousCommit`). */
    readonly synchronousStandbyLeft: boolean;
    readonly serving: boolean;
  };
  readonly ingress: {
    /** The control-plane nodes, where the NGINX ingress DaemonSet runs (constructs/k8s/nginx-ingress-daemon-set.ts). */
    readonly controllers: Remaining;
    /** The load balancers carrying the 80/443 frontends; absent without `loadBalancer.ingressFrontends`. */
    readonly frontends?: Remaining;
    readonly serving: boolean;
  };
  /** The Bind9 servers; absent when the site has none. */
  readonly dns?: { readonly servers: Remaining; readonly serving: boolean };
  /** The services that stop, each with its cause; empty when all keep serving. */
  readonly stops: readonly ServiceStop[];
  /** What keeps serving on its last host, lower-case, e.g. `the VIP: one host left (pg-node-1)`. */
  readonly degradations: readonly string[];
  readonly verdict: NodeLossVerdict;
}

/** What losing one Proxmox node (every host on it) does. */
export interface ProxmoxNodeLoss extends HostsLoss {
  /** The Proxmox node's name. */
  readonly node: string;
  /** The hosts on it, in site order (decommissioned ones included: their machines are still there). */
  readonly hosts: readonly HostPlan[];
}

/**
 * The voting members of the cluster's own etcd: K3s servers on embedded etcd or kubeadm control planes (stacked
 * etcd), without the decommissioned ones (their member is removed). Empty on a K3s site on PostgreSQL.
 */
export function clusterEtcdVoters(plan: SitePlan): readonly HostPlan[] {
  const quorumBased = plan.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD || plan.controlPlane.distribution === Distribution.KUBEADM;
  return quorumBased ? controlPlaneHosts(plan).filter((host) => !host.decommission) : [];
}

/** The majority of `members` etcd needs to keep working: (n / 2) + 1 (../shared/seeds/003-kubeadm-stacked-etcd-haproxy.md:21). */
export const quorumOf = (members: number): number => Math.floor(members / 2) + 1;

/** `k3s servers` or `control planes`, the words of the site warnings for either distribution. */
export function serverNoun(plan: SitePlan): string {
  return plan.controlPlane.distribution === Distribution.KUBEADM ? 'control planes' : 'k3s servers';
}

const names = (hosts: readonly { readonly name: string }[]) => hosts.map((host) => host.name);

/** Collects what stops and what is left on its last host while each service is looked at. */
class LossReport {
  readonly stops: ServiceStop[] = [];
  readonly degradations: string[] = [];

  stop(service: SiteService, cause: StopCause, reason: string, hosts: readonly string[]): void {
    this.stops.push({ service, cause, reason, hosts });
  }

  /** A group that had two or more hosts and is down to one keeps serving without a spare. */
  lastOne(group: Split<HostPlan>, what: string): void {
    if (group.left.length === 1 && group.lostHere.length > 0) {
      this.degradations.push(`${what}: one host left (${group.left[0].name})`);
    }
  }

  stopped(service: SiteService): boolean {
    return this.stops.some((s) => s.service === service);
  }
}

interface Split<T> {
  readonly left: readonly T[];
  readonly lostHere: readonly T[];
}

/** Splits `hosts` into those left and those lost. */
function split<T extends { readonly name: string }>(hosts: readonly T[], lost: ReadonlySet<string>): Split<T> {
  return { left: hosts.filter((h) => !lost.has(h.name)), lostHere: hosts.filter((h) => lost.has(h.name)) };
}

const remaining = (group: Split<unknown>): Remaining => ({ left: group.left.length, of: group.left.length + group.lostHere.length });

/** The etcd quorum after the loss: members left against the majority of all members. */
const quorumRemaining = (group: Split<unknown>): QuorumRemaining => ({ ...remaining(group), needed: quorumOf(remaining(group).of) });

/** The API endpoint: the load balancers hold the VIP; without a VIP the endpoint is one host's own address. */
function endpointLoss(plan: SitePlan, lost: ReadonlySet<string>, report: LossReport) {
  const balancers = split(hostsWithRole(plan, HostRole.LOAD_BALANCER), lost);
  const endpointHost = plan.apiEndpoint.floating ? undefined : plan.hosts.find((host) => host.ip === plan.apiEndpoint.address);
  const endpointUp = endpointHost ? !lost.has(endpointHost.name) : balancers.left.length > 0;
  if (!endpointUp) {
    const reason = endpointHost
      ? `the API endpoint ${plan.apiEndpoint.address} is the own address of ${endpointHost.name}, which is lost`
      : `no load balancer left to hold the VIP ${plan.apiEndpoint.address}`;
    report.stop(SiteService.API, StopCause.API_ENDPOINT, reason, endpointHost ? [endpointHost.name] : names(balancers.lostHere));
  } else if (plan.apiEndpoint.floating) {
    report.lastOne(balancers, 'the VIP');
  }
  return { balancers, endpointHost, endpointUp };
}

/** The cluster's etcd quorum: voters left against the majority of all voters. */
function clusterEtcdLoss(plan: SitePlan, lost: ReadonlySet<string>, report: LossReport): QuorumRemaining | undefined {
  const voters = split(clusterEtcdVoters(plan), lost);
  if (remaining(voters).of === 0) {
    return undefined;
  }
  const quorum = quorumRemaining(voters);
  if (quorum.left < quorum.needed) {
    const kind = plan.controlPlane.distribution === Distribution.KUBEADM ? 'stacked' : 'embedded';
    report.stop(SiteService.API, StopCause.CLUSTER_ETCD, `${kind} etcd keeps ${quorum.left} of ${quorum.of} members, ${quorum.needed} needed for quorum`, names(voters.lostHere));
  }
  return quorum;
}

/**
 * The PostgreSQL datastore: Patroni holds or elects a leader only while its etcd keeps quorum; with
 * `synchronousModeStrict` and no synchronous standby left every commit waits (PostgresSpec.synchronousModeStrict).
 */
function datastoreLoss(plan: SitePlan, lost: ReadonlySet<string>, report: LossReport): HostsLoss['datastore'] {
  if (!plan.postgres) {
    return undefined;
  }
  const pg = plan.postgres;
  const members = split(pg.etcdMembers, lost);
  const etcd = quorumRemaining(members);
  const nodes = split(pg.nodes, lost);
  const leaderPossible = nodes.left.length > 0 && etcd.left >= etcd.needed;
  const before = report.stops.length;
  if (etcd.left < etcd.needed) {
    report.stop(SiteService.DATASTORE, StopCause.DATASTORE_ETCD,
      `the datastore's etcd keeps ${etcd.left} of ${etcd.of} members, ${etcd.needed} needed for quorum, so Patroni demotes the primary and elects no leader`,
      names(members.lostHere));
  }
  if (nodes.left.length === 0) {
    report.stop(SiteService.DATASTORE, StopCause.DATASTORE_NODES, 'no PostgreSQL node left', names(nodes.lostHere));
  } else if (leaderPossible && nodes.left.length === 1 && nodes.lostHere.length > 0) {
    if (pg.synchronousModeStrict) {
      report.stop(SiteService.DATASTORE, StopCause.SYNCHRONOUS_STANDBY, 'no synchronous standby left, and synchronous_mode_strict holds every commit', names(nodes.lostHere));
    } else {
      report.degradations.push(`the datastore: one PostgreSQL node left (${nodes.left[0].name}), no synchronous standby, no failover`);
    }
  }
  const serving = report.stops.length === before;
  if (!serving) {
    report.stop(SiteService.API, StopCause.DATASTORE_STOPPED, 'K3s keeps its state in the datastore, which stops', []);
  }
  return { etcd, nodes: remaining(nodes), leaderPossible, synchronousStandbyLeft: pg.synchronousCommit && nodes.left.length > 1, serving };
}

/** What losing the hosts named in `lost` together does to each service of the site. */
export function lossOfHosts(plan: SitePlan, lost: ReadonlySet<string>): HostsLoss {
  const report = new LossReport();
  const { balancers, endpointHost, endpointUp } = endpointLoss(plan, lost, report);

  const servers = split(controlPlaneHosts(plan).filter((host) => !host.decommission), lost);
  if (servers.left.length === 0) {
    report.stop(SiteService.API, StopCause.API_SERVERS, `no ${serverNoun(plan)} left`, names(servers.lostHere));
  } else {
    report.lastOne(servers, `the API (${serverNoun(plan)})`);
  }
  const clusterEtcd = clusterEtcdLoss(plan, lost, report);
  const datastore = datastoreLoss(plan, lost, report);

  // The ingress DaemonSet runs on the control-plane nodes only (required node affinity on the control-plane label,
  // constructs/k8s/nginx-ingress-daemon-set.ts); with frontends, clients reach it through the load balancers.
  const frontends = plan.loadBalancer?.ingressFrontends ? remaining(balancers) : undefined;
  if (servers.left.length === 0) {
    report.stop(SiteService.INGRESS, StopCause.INGRESS_CONTROLLERS, `no node left that runs the ingress controller (the ${serverNoun(plan)})`, names(servers.lostHere));
  } else {
    report.lastOne(servers, 'the ingress controller');
  }
  if (frontends && !endpointUp) {
    report.stop(SiteService.INGRESS, StopCause.INGRESS_FRONTENDS, 'no load balancer left for the 80/443 frontends', names(balancers.lostHere));
  }

  let dns: HostsLoss['dns'];
  if (plan.dns) {
    const dnsServers = split(hostsWithRole(plan, HostRole.DNS), lost);
    if (dnsServers.left.length === 0) {
      report.stop(SiteService.DNS, StopCause.DNS_SERVERS, 'no Bind9 server left', names(dnsServers.lostHere));
    } else {
      report.lastOne(dnsServers, 'DNS');
    }
    dns = { servers: remaining(dnsServers), serving: dnsServers.left.length > 0 };
  }

  return {
    api: {
      ...(remaining(balancers).of > 0 ? { loadBalancers: remaining(balancers) } : {}),
      ...(endpointHost ? { endpointHost: endpointHost.name } : {}),
      endpointUp,
      servers: remaining(servers),
      serving: !report.stopped(SiteService.API),
    },
    ...(clusterEtcd ? { clusterEtcd } : {}),
    ...(datastore ? { datastore } : {}),
    ingress: { controllers: remaining(servers), ...(frontends ? { frontends } : {}), serving: !report.stopped(SiteService.INGRESS) },
    ...(dns ? { dns } : {}),
    stops: report.stops,
    degradations: report.degradations,
    verdict: report.stops.length > 0 ? NodeLossVerdict.OUTAGE : report.degradations.length > 0 ? NodeLossVerdict.DEGRADED : NodeLossVerdict.SURVIVES,
  };
}

/** The Proxmox nodes of a site: `proxmox.nodes` in order, then any other node a host is on, by first appearance. */
export function proxmoxNodesOf(plan: SitePlan): readonly string[] {
  return [...new Set([...plan.proxmox.nodes, ...plan.hosts.map((host) => host.proxmoxNode)])];
}

/** For each Proxmox node of the site, in order, what losing it (with every host on it) takes down. */
export function proxmoxNodeLosses(plan: SitePlan): readonly ProxmoxNodeLoss[] {
  return proxmoxNodesOf(plan).map((node) => {
    const hosts = plan.hosts.filter((host) => host.proxmoxNode === node);
    return { node, hosts, ...lossOfHosts(plan, new Set(names(hosts))) };
  });
}
