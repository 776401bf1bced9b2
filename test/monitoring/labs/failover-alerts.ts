import { mkdirSync } from 'fs';
import { join } from 'path';
import { defineSite } from '../../../constructs';
import { MetricsJob, metricsEndpoints } from '../../../constructs/monitoring/metrics-endpoints';
import { LAB_SITE, generatedConfiguration } from '../../failover/configs';
import { LAB_VIP } from '../../failover/lab';
import { Topology, currentHolder, restartHaproxy, restartKeepalived, startTopology } from '../../failover/scenarios';
import { AlertTiming, AlertWatch, LabPrometheus, ScaledRule, labScrapeConfig, nodeExporterArgs, scaledRules } from './lab-prometheus';

/**
 * The failover lab (test/failover: real HAProxy and Keepalived from the generated files, three load balancers, three
 * stand-in API servers, a client) with monitoring: node_exporter on every lab host of the plan (the load balancers'
 * on the textfile directory Keepalived's notify script writes the VRRP state to), and a real Prometheus in the
 * client's namespace with the generated scrape config and the load-balancer and meta rules (the cluster-etcd,
 * snapshot and node rules are left out: the API servers are stand-ins without etcd or Kubernetes).
 */

export const FAILOVER_TOOLS = ['haproxy', 'keepalived', 'ip', 'unshare', 'nsenter', 'openssl', 'curl', 'killall', 'perl', 'prometheus', 'prometheus-node-exporter'];
export const FAILOVER_RULE_GROUPS = ['meta', 'load-balancers'];
/** Jobs the lab runs: node_exporter and HAProxy (no cluster etcd behind the stand-in API servers). */
const LAB_JOBS = [MetricsJob.NODE, MetricsJob.HAPROXY];

export interface FailoverAlertLab {
  readonly topology: Topology;
  readonly prometheus: LabPrometheus;
  readonly watch: AlertWatch;
  readonly rules: readonly ScaledRule[];
  /** Instances per job Prometheus scrapes. */
  readonly expected: Record<string, string[]>;
}

export async function startFailoverAlertLab(): Promise<FailoverAlertLab> {
  const plan = defineSite(LAB_SITE);
  const topology = await startTopology(generatedConfiguration(plan));
  try {
    const { lab } = topology;
    const endpoints = metricsEndpoints(plan).filter((endpoint) => LAB_JOBS.includes(endpoint.job));
    for (const node of [...topology.loadBalancers, ...topology.apiServers]) {
      // The load balancers' textfile directory is the one the lab mounts over /var/lib/prometheus/node-exporter in
      // their mount namespace (test/failover/lab.ts); the API servers get an empty one.
      const textfile = join(lab.workDir, node.name, 'textfile');
      mkdirSync(textfile, { recursive: true });
      const exporter = endpoints.find((e) => e.job === MetricsJob.NODE && e.host === node.name)!;
      lab.spawnIn(node, 'prometheus-node-exporter', nodeExporterArgs(node.ip, exporter.port, textfile), `${node.name}-node-exporter`);
    }
    const rules = scaledRules(plan, FAILOVER_RULE_GROUPS);
    const prometheus = new LabPrometheus(topology.client.namespace, join(lab.workDir, 'prometheus'));
    prometheus.start(labScrapeConfig(plan, endpoints, 'rules.yml'), rules.yaml, (command, args) => lab.spawnIn(topology.client, command, args, 'prometheus'));
    const expected: Record<string, string[]> = {};
    for (const endpoint of endpoints) {
      (expected[endpoint.job] ??= []).push(endpoint.host);
    }
    await prometheus.waitTargetsUp(expected, 60_000);
    return { topology, prometheus, watch: new AlertWatch(prometheus), rules: rules.rules, expected };
  } catch (error) {
    topology.lab.stop();
    throw error;
  }
}

/** Load balancers whose node_exporter reports `keepalived_vrrp_state == 1` (the VIP holders by the metric). */
export async function vrrpMasters(lab: FailoverAlertLab): Promise<string[]> {
  return (await lab.prometheus.query('keepalived_vrrp_state == 1')).map((r) => r.metric.instance).sort();
}

/** Bounded wait until lb-1 holds the VIP alone (preempted back) and the metric agrees. */
async function settled(lab: FailoverAlertLab): Promise<void> {
  const first = lab.topology.loadBalancers[0];
  if (!(await lab.topology.lab.waitFor(() => { const h = lab.topology.lab.vipHolders(lab.topology.loadBalancers, LAB_VIP); return h.length === 1 && h[0] === first.name; }, 30_000, 100))) {
    throw new Error(`VIP did not settle on ${first.name}: holders ${lab.topology.lab.vipHolders(lab.topology.loadBalancers, LAB_VIP).join(', ') || 'none'}`);
  }
  let masters: string[] = [];
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && !((masters = await vrrpMasters(lab).catch(() => [])).length === 1 && masters[0] === first.name)) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (!(masters.length === 1 && masters[0] === first.name)) {
    throw new Error(`keepalived_vrrp_state == 1 on ${masters.join(', ') || 'no load balancer'}, expected only ${first.name}`);
  }
}

/** What a HAProxy kill on the VIP holder showed. */
export interface HaproxyKillResult {
  readonly timing: AlertTiming;
  /** Alerts seen firing from the fault to the repair. */
  readonly firing: Set<string>;
  /** VRRP masters by the metric once LoadBalancersDown fired. */
  readonly mastersDuringFault: string[];
}

/**
 * Kills (SIGKILL) the VIP holder's HAProxy, waits (bounded) for LoadBalancersDown to fire, restarts HAProxy and
 * waits for the alert to resolve. Times: fault → pending (Prometheus's activeAt), fault → firing, repair → resolved.
 */
export async function killHolderHaproxy(lab: FailoverAlertLab, firingBoundMs: number): Promise<HaproxyKillResult> {
  await settled(lab);
  await lab.watch.waitQuiet(['Watchdog'], Date.now(), 2_000, 60_000);
  const holder = currentHolder(lab.topology);
  const pids = lab.topology.lab.pidsOf(holder, 'haproxy');
  const faultAt = Date.now();
  lab.topology.lab.kill(pids, 'SIGKILL');
  const { activeAt, firingAt } = await lab.watch.waitFiring('LoadBalancersDown', faultAt, firingBoundMs);
  const mastersDuringFault = await vrrpMasters(lab);
  const repairAt = Date.now();
  const firing = lab.watch.seen(faultAt, repairAt, 'firing');
  restartHaproxy(lab.topology, holder);
  const resolvedAt = await lab.watch.waitResolved(['LoadBalancersDown'], repairAt, 60_000);
  await settled(lab);
  return { timing: { alert: 'LoadBalancersDown', pendingMs: activeAt - faultAt, firingMs: firingAt - faultAt, resolvedMs: resolvedAt - repairAt }, firing, mastersDuringFault };
}

/** What stopping the VIP holder's Keepalived showed. */
export interface KeepalivedStopResult {
  /** Alerts seen (pending or firing) and firing from the stop to the repair. */
  readonly seen: Set<string>;
  readonly firing: Set<string>;
  /** VRRP masters by the metric at the end of the fault. */
  readonly masters: string[];
  readonly holdMs: number;
}

/**
 * Stops the VIP holder's Keepalived (`signal`: SIGTERM as systemctl stop does, SIGKILL as a crash does) for `holdMs`,
 * then restarts it and waits (bounded) for the VIP to come back and every alert but the Watchdog to clear.
 */
export async function stopHolderKeepalived(lab: FailoverAlertLab, signal: 'SIGTERM' | 'SIGKILL', holdMs: number): Promise<KeepalivedStopResult & { timing?: AlertTiming }> {
  await settled(lab);
  await lab.watch.waitQuiet(['Watchdog'], Date.now(), 2_000, 60_000);
  const holder = currentHolder(lab.topology);
  const pids = lab.topology.lab.pidsOf(holder, 'keepalived');
  const faultAt = Date.now();
  if (signal === 'SIGKILL') {
    // Frozen first: killed one by one, a VRRP child that outlived its parent by a moment would get its parent-death
    // SIGTERM and run the notify script (STOP), which is not the crash this fault means.
    lab.topology.lab.kill(pids, 'SIGSTOP');
  }
  lab.topology.lab.kill(pids, signal);
  let timing: AlertTiming | undefined;
  if (signal === 'SIGKILL') {
    // No notify script runs: the stale MASTER state stays next to the new holder's (and so does the address).
    const { activeAt, firingAt } = await lab.watch.waitFiring('VipHasTwoHolders', faultAt, holdMs);
    timing = { alert: 'VipHasTwoHolders', pendingMs: activeAt - faultAt, firingMs: firingAt - faultAt };
  } else {
    await new Promise((resolve) => setTimeout(resolve, holdMs));
  }
  const masters = await vrrpMasters(lab);
  const repairAt = Date.now();
  const result = { seen: lab.watch.seen(faultAt, repairAt), firing: lab.watch.seen(faultAt, repairAt, 'firing'), masters, holdMs: repairAt - faultAt };
  restartKeepalived(lab.topology, holder);
  await settled(lab);
  const resolvedAt = await lab.watch.waitQuiet(['Watchdog'], repairAt, 2_000, 60_000);
  return { ...result, ...(timing ? { timing: { ...timing, resolvedMs: resolvedAt - repairAt } } : {}) };
}
