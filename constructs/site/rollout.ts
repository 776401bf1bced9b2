import { HostPlan, SitePlan } from './plan';
import { HostRole } from './spec';

/** The stages of a rollout, in order; a host converges in the stage of its latest role. */
export enum RolloutStage {
  /** Bind9: the primary first (the secondaries then wait for its serials). */
  DNS = 'dns',
  /** HAProxy + Keepalived: lowest VRRP priority first, so the VIP holder goes last and the VIP moves at most once. */
  LOAD_BALANCER = 'load-balancer',
  /**
   * PostgreSQL with Patroni (and load balancers on the same hosts): one node at a time, in site order. Patroni
   * reloads without stopping PostgreSQL, and whichever node is primary stays so; each node's gate waits until it
   * runs PostgreSQL again under a primary (when it did before: on a first rollout the first nodes wait for the
   * etcd quorum the later ones bring).
   */
  DATASTORE = 'datastore',
  /** K3s servers or kubeadm control planes: one at a time, in site order, each gated on quorum. */
  CONTROL_PLANE = 'control-plane',
  /** K3s agents or kubeadm workers: `rollout.agentConcurrency` at a time (servers first: Kubernetes' version skew). */
  WORKER = 'worker',
}

const STAGE_ORDER = Object.values(RolloutStage);

const STAGE_OF_ROLE: Readonly<Record<HostRole, RolloutStage>> = {
  [HostRole.DNS]: RolloutStage.DNS,
  [HostRole.DATASTORE]: RolloutStage.DATASTORE,
  [HostRole.LOAD_BALANCER]: RolloutStage.LOAD_BALANCER,
  [HostRole.K3S_SERVER]: RolloutStage.CONTROL_PLANE,
  [HostRole.CONTROL_PLANE]: RolloutStage.CONTROL_PLANE,
  [HostRole.K3S_AGENT]: RolloutStage.WORKER,
  [HostRole.WORKER]: RolloutStage.WORKER,
};

/** One host's place in the rollout. */
export interface RolloutStep {
  /** The host that converges. */
  readonly host: string;
  /** Its stage: the latest stage among its roles. */
  readonly stage: RolloutStage;
  /** Position in the whole rollout, from 1. */
  readonly position: number;
  /** Hosts whose converge must have finished (and passed its gates) before this one starts. */
  readonly after: readonly string[];
}

/** The stage a host converges in: the latest of its roles' stages (an agent that also serves DNS waits for the servers). */
export function stageOf(host: HostPlan): RolloutStage {
  return STAGE_ORDER[Math.max(...host.roles.map((role) => STAGE_ORDER.indexOf(STAGE_OF_ROLE[role])))];
}

/** Order inside a stage: lower first; ties keep site order. */
function keyInStage(plan: SitePlan, host: HostPlan, stage: RolloutStage): number {
  switch (stage) {
    case RolloutStage.DNS:
      return plan.dns?.servers.findIndex((server) => server.name === host.name) ?? 0;
    case RolloutStage.DATASTORE:
      return plan.postgres?.nodes.findIndex((node) => node.name === host.name) ?? 0;
    case RolloutStage.LOAD_BALANCER:
      return plan.loadBalancer?.nodes.find((node) => node.name === host.name)?.priority ?? 0;
    default:
      return 0;
  }
}

/**
 * The order in which hosts converge after a change: stage by stage (DNS, load balancers, datastore, control plane,
 * workers), one host at a time, except workers, `rollout.agentConcurrency` at a time. Each step names the hosts
 * it waits for; a failed gate on one host therefore leaves every later host untouched.
 *
 * @param only the hosts the rollout covers (default: all), e.g. without hosts another stack configures
 */
export function rolloutOrder(plan: SitePlan, only?: ReadonlySet<string>): RolloutStep[] {
  const hosts = plan.hosts.filter((host) => !only || only.has(host.name));
  const steps: RolloutStep[] = [];
  let previous: string[] = [];
  for (const stage of STAGE_ORDER) {
    const inStage = hosts.filter((host) => stageOf(host) === stage)
      .map((host, siteIndex) => ({ host, key: keyInStage(plan, host, stage), siteIndex }))
      .sort((a, b) => a.key - b.key || a.siteIndex - b.siteIndex)
      .map(({ host }) => host.name);
    if (inStage.length === 0) {
      continue;
    }
    const width = stage === RolloutStage.WORKER ? plan.rollout.agentConcurrency : 1;
    inStage.forEach((host, i) => {
      steps.push({ host, stage, position: steps.length + 1, after: i < width ? previous : [inStage[i - width]] });
    });
    // The next stage starts when every chain of this one finished.
    previous = inStage.slice(-width);
  }
  return steps;
}
