import { ChildProcess, spawn } from 'child_process';
import { existsSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'fs';
import { join } from 'path';
import { API_PORT, API_SERVERS, CLIENT, INGRESS_HTTP_PORT, INGRESS_NODE_PORTS, LOAD_BALANCERS, LabConfiguration } from './configs';
import { FailoverLab, LAB_VIP, LabNode, TIMESTAMP_LINES, makeCertificate } from './lab';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Probe cadence and failure bound: a fresh TCP+TLS connection every 25 ms, failed on error or beyond 200 ms. */
export const PROBE_INTERVAL_MS = 25;
export const PROBE_LIMIT_MS = 200;

/** What a probe connects to: the API endpoint (TLS) or the application behind the ingress frontend (plain HTTP). */
export interface ProbeTarget {
  readonly port: number;
  readonly mode: 'tls' | 'http';
}
export const API_TARGET: ProbeTarget = { port: API_PORT, mode: 'tls' };
export const INGRESS_TARGET: ProbeTarget = { port: INGRESS_HTTP_PORT, mode: 'http' };

export interface ProbeResult {
  readonly t: number;
  readonly ok: boolean;
  readonly ms: number;
  readonly server?: string;
  readonly error?: string;
}

export interface Topology {
  readonly lab: FailoverLab;
  readonly config: LabConfiguration;
  readonly loadBalancers: LabNode[];
  readonly apiServers: LabNode[];
  readonly client: LabNode;
  readonly cert: { cert: string; key: string };
}

/** Brings up the lab with `config` on the load balancers; resolves once one node holds the VIP and probes pass. */
export async function startTopology(config: LabConfiguration): Promise<Topology> {
  const lab = new FailoverLab();
  try {
    const cert = makeCertificate(lab.workDir);
    const apiServers = API_SERVERS.map((api) => lab.addNode(api.name, api.ip));
    const loadBalancers = LOAD_BALANCERS.map((lb) => lab.addNode(lb.name, lb.ip));
    const client = lab.addNode(CLIENT.name, CLIENT.ip);
    const topology: Topology = { lab, config, loadBalancers, apiServers, client, cert };
    apiServers.forEach((api) => {
      startApiServer(topology, api);
      startIngressController(topology, api, true);
    });
    for (const lb of loadBalancers) {
      watchAddresses(lab, lb);
      lab.startLoadBalancer(lb, config.files(lb.name));
    }
    const settled = await lab.waitFor(() => lab.vipHolders(loadBalancers, LAB_VIP).length === 1, 20_000, 100);
    if (!settled) {
      throw new Error(`${config.label}: no single VIP holder after 20 s (holders: ${lab.vipHolders(loadBalancers, LAB_VIP).join(', ') || 'none'})`);
    }
    // Let health checks mark every server up before measuring.
    const probes = await probe(topology, 6000, async () => undefined);
    if (!probes.slice(-20).every((p) => p.ok)) {
      throw new Error(`${config.label}: probes still failing after start: ${JSON.stringify(probes.slice(-3))}`);
    }
    if (hasIngress(topology)) {
      const app = await probe(topology, 3000, async () => undefined, false, INGRESS_TARGET);
      if (!app.slice(-20).every((p) => p.ok)) {
        throw new Error(`${config.label}: ingress probes still failing after start: ${JSON.stringify(app.slice(-3))}`);
      }
    }
    return topology;
  } catch (error) {
    lab.stop();
    throw error;
  }
}

export function startApiServer(topology: Topology, api: LabNode): ChildProcess {
  return topology.lab.spawnIn(api, process.execPath, [join(__dirname, 'api-standin.js'), api.name, topology.cert.cert, topology.cert.key], api.name);
}

/** True when the configuration has ingress frontends (the generated one; seed 001's has none). */
export function hasIngress(topology: Topology): boolean {
  return topology.config.files(topology.loadBalancers[0].name).haproxyCfg.includes('frontend ingress_http');
}

/**
 * Starts the stand-in ingress controller on a server node, ready or waiting for SIGUSR2. It runs as `ingress-standin`
 * (a link to node), so scenarios can tell it from the API stand-in by process name.
 */
export const INGRESS_PROCESS = 'ingress-standin';

export function startIngressController(topology: Topology, node: LabNode, ready: boolean): ChildProcess {
  const program = join(topology.lab.workDir, INGRESS_PROCESS);
  if (!existsSync(program)) {
    symlinkSync(process.execPath, program);
  }
  return topology.lab.spawnIn(node, program, [join(__dirname, 'ingress-standin.js'), node.name, String(INGRESS_NODE_PORTS.http), String(INGRESS_NODE_PORTS.https),
    topology.cert.cert, topology.cert.key, ...(ready ? [] : ['not-ready'])], `${node.name}-ingress`);
}

/** Records the node's address additions and removals with kernel timestamps (`ip monitor`, event driven). */
function watchAddresses(lab: FailoverLab, node: LabNode): void {
  const log = join(lab.workDir, `${node.name}-addresses.log`);
  writeFileSync(log, '');
  const out = openSync(log, 'a');
  const child = spawn('ip', ['-n', node.namespace, '-timestamp', 'monitor', 'address'], { stdio: ['ignore', out, out], detached: true });
  lab.track(child);
}

/** VIP additions (`gained`) and removals per load balancer, in time order. */
export function vipEvents(topology: Topology): { t: number; node: string; gained: boolean }[] {
  const events: { t: number; node: string; gained: boolean }[] = [];
  for (const lb of topology.loadBalancers) {
    let t = 0;
    for (const line of readFileSync(join(topology.lab.workDir, `${lb.name}-addresses.log`), 'utf8').split('\n')) {
      const stamp = /^Timestamp: (.+) (\d+) usec$/.exec(line);
      if (stamp) {
        t = new Date(stamp[1]).getTime() + Math.floor(Number(stamp[2]) / 1000);
      } else if (line.includes(` ${LAB_VIP}/`)) {
        events.push({ t, node: lb.name, gained: !line.startsWith('Deleted') });
      }
    }
  }
  return events.sort((a, b) => a.t - b.t);
}

/**
 * Runs the client probe for `durationMs`; `during` runs after 1 s of warm-up. With `stopAfterDuring`, probing
 * stops as soon as `during` returns (`durationMs` is then only the upper bound). Returns every probe.
 */
export async function probe(topology: Topology, durationMs: number, during: () => Promise<void>, stopAfterDuring = false,
  target: ProbeTarget = API_TARGET): Promise<ProbeResult[]> {
  const log = join(topology.lab.workDir, `probe-${Date.now()}.log`);
  writeFileSync(log, '');
  const out = openSync(log, 'a');
  const child = spawn('ip', ['netns', 'exec', topology.client.namespace, process.execPath, join(__dirname, 'probe.js'),
    LAB_VIP, String(target.port), String(PROBE_INTERVAL_MS), String(PROBE_LIMIT_MS), String(durationMs), target.mode], { stdio: ['ignore', out, 'inherit'] });
  topology.lab.track(child);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await sleep(1000);
  await during();
  if (stopAfterDuring && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
  }
  // Bounded, and the timer cleared so that an early stop leaves nothing pending.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((resolve) => { timer = setTimeout(resolve, durationMs + 5000); })]);
  clearTimeout(timer);
  // A probe stopped by a signal may leave its last line unfinished.
  return readFileSync(log, 'utf8').split('\n').filter((line) => line.endsWith('}')).map((line) => JSON.parse(line) as ProbeResult);
}

/**
 * When `lb`'s HAProxy logged `server` (of `backend`, default any) going DOWN (or UP) at or after `from` (epoch ms),
 * from its time-stamped stderr (`-db` prints every server state change there); undefined if it has not.
 */
export function serverMarked(topology: Topology, lb: LabNode, server: string, state: 'DOWN' | 'UP', from: number, backend = '[^/ ]+'): number | undefined {
  const pattern = new RegExp(`^(\\d+) .*Server ${backend}/${server} is ${state}\\b`);
  for (const line of readFileSync(join(topology.lab.workDir, `${lb.name}-haproxy.log`), 'utf8').split('\n')) {
    const t = Number(pattern.exec(line)?.[1]);
    if (t >= from) {
      return t;
    }
  }
  return undefined;
}

/** What a fault did to the clients. */
export interface Outage {
  /** Failed probes from the fault on. */
  readonly failed: number;
  /** Longest stretch without a successful probe after the fault (ms). */
  readonly outageMs: number;
}

export function outageAfter(probes: readonly ProbeResult[], from: number): Outage {
  const after = probes.filter((p) => p.t >= from - PROBE_INTERVAL_MS);
  let longest = 0;
  let firstFailure: number | undefined;
  for (const p of after) {
    if (!p.ok && firstFailure === undefined) {
      firstFailure = p.t;
    } else if (p.ok && firstFailure !== undefined) {
      longest = Math.max(longest, p.t - firstFailure);
      firstFailure = undefined;
    }
  }
  if (firstFailure !== undefined) {
    longest = Math.max(longest, after[after.length - 1].t - firstFailure + PROBE_INTERVAL_MS);
  }
  return { failed: after.filter((p) => !p.ok).length, outageMs: longest };
}

export function currentHolder(topology: Topology): LabNode {
  const holders = topology.lab.vipHolders(topology.loadBalancers, LAB_VIP);
  if (holders.length !== 1) {
    throw new Error(`expected one VIP holder, found: ${holders.join(', ') || 'none'}`);
  }
  return topology.loadBalancers.find((lb) => lb.name === holders[0])!;
}

/** Restarts HAProxy on a load balancer inside its own namespaces, logging like the first start. */
export function restartHaproxy(topology: Topology, lb: LabNode): void {
  topology.lab.restartInNode(lb, `haproxy -W -db -f /etc/haproxy/haproxy.cfg 2>&1 | ${TIMESTAMP_LINES} >> ${join(topology.lab.workDir, `${lb.name}-haproxy.log`)}`, `${lb.name}-restart`);
}

export function restartKeepalived(topology: Topology, lb: LabNode): void {
  const run = join(topology.lab.workDir, lb.name, 'run');
  topology.lab.restartInNode(lb, `keepalived --dont-fork --log-console --log-detail --vrrp -f /etc/keepalived/keepalived.conf -p ${run}/keepalived.pid -r ${run}/vrrp.pid -c ${run}/checkers.pid 2>&1 | ${TIMESTAMP_LINES} >> ${join(topology.lab.workDir, `${lb.name}-keepalived.log`)}`, `${lb.name}-restart-keepalived`);
}

export { sleep };

/** One scenario's numbers (undefined where a number does not apply or never happened). */
export interface Measurement {
  readonly scenario: string;
  /** Failed probes from the fault on (not measured for the long-lived connection). */
  readonly failed?: number;
  readonly outageMs?: number;
  /** Fault → the VIP appears on another load balancer. */
  readonly vipMoveMs?: number;
  /** VIP gains anywhere from the fault until the lab settled again (moves, including preemption back). */
  readonly vipMoves: number;
  /** Load balancer faults: repair → the first load balancer is again the only VIP holder (preemption back). */
  readonly preemptBackMs?: number;
  /** Load balancer faults: VIP gains on the first load balancer after the repair (1 = it preempted back once). */
  readonly preemptBacks?: number;
  /**
   * Fault → the last probe affected by it (served by the faulted server, or failed), measured at the client; for
   * the long-lived connection, fault → the connection closed.
   */
  readonly removalMs?: number;
  /** Fault → the VIP holder's HAProxy marks the server DOWN (its own log). */
  readonly markedDownMs?: number;
  /** Repair → the API server serves probes again. */
  readonly recoveryMs?: number;
  /** For long-lived connections: marked down → the client's connection closed. */
  readonly closedAfterDownMs?: number;
  /** Failed probes that started after HAProxy had marked the faulted server DOWN (redispatch should leave none). */
  readonly failedAfterMarkedDown?: number;
  /** For the split brain: failed probes after the heal. */
  readonly failedAfterHeal?: number;
  /** For the split brain: load balancers that took the VIP while VRRP was cut (1 = the cut had no effect). */
  readonly splitBrainHolders?: number;
  /** Ingress faults: probes a restarted, not yet ready controller served (it must get none). */
  readonly servedBeforeReady?: number;
}

/**
 * Fault → the end of the last probe the fault still affected: served by the faulted server, or failed. Measured at
 * the client: after it, the server is out of rotation as far as clients can tell (0: no probe was affected).
 */
function lastAffectedAfter(probes: readonly ProbeResult[], server: string, from: number): number {
  const affected = probes.filter((p) => p.t >= from && (p.server === server || !p.ok));
  return affected.length > 0 ? Math.max(...affected.map((p) => p.t + p.ms)) - from : 0;
}

function firstServedAfter(probes: readonly ProbeResult[], server: string, from: number): number | undefined {
  const served = probes.find((p) => p.t >= from && p.server === server && p.ok);
  return served ? served.t - from : undefined;
}

function vipSummary(topology: Topology, from: number, original: string): { vipMoveMs?: number; vipMoves: number } {
  const gains = vipEvents(topology).filter((e) => e.gained && e.t >= from);
  const moved = gains.find((e) => e.node !== original);
  return { vipMoveMs: moved ? moved.t - from : undefined, vipMoves: gains.length };
}

/**
 * Preemption back after a repair: when the first load balancer became the only VIP holder again (replaying the
 * address events, so a node that kept the VIP through a FAULT counts as well), and how often it gained the VIP.
 */
function preemptionBack(topology: Topology, repairAt: number, first: string): { preemptBackMs?: number; preemptBacks: number } {
  const holders = new Set<string>();
  let preemptBackMs: number | undefined;
  for (const e of vipEvents(topology)) {
    if (e.gained) {
      holders.add(e.node);
    } else {
      holders.delete(e.node);
    }
    if (preemptBackMs === undefined && e.t >= repairAt && holders.size === 1 && holders.has(first)) {
      preemptBackMs = e.t - repairAt;
    }
  }
  const preemptBacks = vipEvents(topology).filter((e) => e.gained && e.node === first && e.t >= repairAt).length;
  return { preemptBackMs, preemptBacks };
}

async function waitForSingleHolder(topology: Topology, name?: string): Promise<void> {
  const ok = await topology.lab.waitFor(() => {
    const holders = topology.lab.vipHolders(topology.loadBalancers, LAB_VIP);
    return holders.length === 1 && (name === undefined || holders[0] === name);
  }, 30_000, 100);
  if (!ok) {
    throw new Error(`VIP did not settle${name ? ` on ${name}` : ''}: ${topology.lab.vipHolders(topology.loadBalancers, LAB_VIP).join(', ') || 'none'}`);
  }
}

/**
 * Load balancer faults on the VIP holder (the first node): HAProxy killed, link cut, Keepalived stopped. Then
 * repairs it and waits (bounded) for the VIP to come back to it, measuring that preemption back.
 */
export async function loadBalancerFault(topology: Topology, fault: 'haproxy-killed' | 'link-down' | 'keepalived-stopped'): Promise<Measurement> {
  await waitForSingleHolder(topology, topology.loadBalancers[0].name);
  const holder = currentHolder(topology);
  let faultAt = 0;
  const probes = await probe(topology, 5000, async () => {
    const pids = fault === 'link-down' ? [] : topology.lab.pidsOf(holder, fault === 'haproxy-killed' ? 'haproxy' : 'keepalived');
    faultAt = Date.now();
    if (fault === 'haproxy-killed') {
      topology.lab.kill(pids, 'SIGKILL');
    } else if (fault === 'link-down') {
      topology.lab.setLink(holder, false);
    } else {
      topology.lab.kill(pids, 'SIGTERM');
    }
  });
  const outage = outageAfter(probes, faultAt);
  const { vipMoveMs } = vipSummary(topology, faultAt, holder.name);
  const repairAt = Date.now();
  if (fault === 'haproxy-killed') {
    restartHaproxy(topology, holder);
  } else if (fault === 'link-down') {
    topology.lab.setLink(holder, true);
  } else {
    restartKeepalived(topology, holder);
  }
  // Preemption is on unless the site sets nopreempt: the first node takes the VIP back once it is healthy again.
  await waitForSingleHolder(topology, holder.name);
  // Let the address monitors log the last events (and catch a flap right after the move back).
  await sleep(2000);
  return { scenario: fault, ...outage, vipMoveMs, vipMoves: vipSummary(topology, faultAt, holder.name).vipMoves, ...preemptionBack(topology, repairAt, holder.name) };
}

/** How long an API server fault lasts by default (the suite): enough for the generated checks, not the seed's. */
const API_FAULT_MS = 3500;
/** An API server whose last affected probe ended less than this before the repair never left rotation. */
const STILL_AFFECTED_MS = 250;
/** With `untilRemovedMs`: how long the fault goes on after HAProxy marked the server down, and the server UP. */
const AFTER_MARKED_MS = 1000;
/** With `untilRemovedMs`: the longest wait for HAProxy to mark the repaired server UP again. */
const RECOVERY_WAIT_MS = 30_000;

export interface ApiFaultOptions {
  /**
   * Keep the fault until the VIP holder's HAProxy has marked the server DOWN (then 1 s more, and at least the
   * default 3.5 s), for at most this long, and after the repair probe until it is UP again: so slow checks (the
   * seed-001 baseline's `inter 10s`) get their real removal time instead of "never". Default: a fixed 3.5 s fault.
   */
  readonly untilRemovedMs?: number;
}

/** API server faults: process killed, host black-holed, alive but not ready. Measures removal and recovery. */
export async function apiServerFault(topology: Topology, fault: 'api-killed' | 'api-blackholed' | 'api-not-ready', options: ApiFaultOptions = {}): Promise<Measurement> {
  await waitForSingleHolder(topology);
  const holder = currentHolder(topology);
  const api = topology.apiServers[0];
  const { lab } = topology;
  const untilRemoved = options.untilRemovedMs;
  let faultAt = 0;
  let repairAt = 0;
  const windowMs = untilRemoved === undefined ? 12_000 : 1000 + untilRemoved + RECOVERY_WAIT_MS + 2 * AFTER_MARKED_MS + 2000;
  const probes = await probe(topology, windowMs, async () => {
    const pids = lab.pidsOf(api, 'node');
    faultAt = Date.now();
    if (fault === 'api-killed') {
      lab.kill(pids, 'SIGKILL');
    } else if (fault === 'api-blackholed') {
      lab.setLink(api, false);
    } else {
      lab.kill(pids, 'SIGUSR1');
    }
    if (untilRemoved === undefined) {
      await sleep(API_FAULT_MS);
    } else {
      await lab.waitFor(() => {
        const down = serverMarked(topology, holder, api.name, 'DOWN', faultAt);
        return down !== undefined && Date.now() >= Math.max(faultAt + API_FAULT_MS, down + AFTER_MARKED_MS);
      }, untilRemoved, 100);
    }
    repairAt = Date.now();
    if (fault === 'api-killed') {
      startApiServer(topology, api);
    } else if (fault === 'api-blackholed') {
      lab.setLink(api, true);
    } else {
      lab.signal(api, 'node', 'SIGUSR2');
    }
    if (untilRemoved !== undefined) {
      // Only a server that was taken out comes back UP (the seed's TCP check never notices "not ready").
      if (serverMarked(topology, holder, api.name, 'DOWN', faultAt) !== undefined) {
        await lab.waitFor(() => serverMarked(topology, holder, api.name, 'UP', repairAt) !== undefined, RECOVERY_WAIT_MS, 100);
      }
      await sleep(AFTER_MARKED_MS);
    }
  }, untilRemoved !== undefined);
  const duringFault = probes.filter((p) => p.t < repairAt);
  const removal = lastAffectedAfter(duringFault, api.name, faultAt);
  const markedDown = serverMarked(topology, holder, api.name, 'DOWN', faultAt);
  return {
    scenario: fault,
    ...outageAfter(duringFault, faultAt),
    vipMoves: vipSummary(topology, faultAt, holder.name).vipMoves,
    // Still affected shortly before the repair: it never left rotation. The margin spans several rounds of
    // probes over the three servers (round robin gives one server every third probe only).
    removalMs: removal >= repairAt - faultAt - STILL_AFFECTED_MS ? undefined : removal,
    markedDownMs: markedDown !== undefined && markedDown < repairAt ? markedDown - faultAt : undefined,
    recoveryMs: firstServedAfter(probes, api.name, repairAt),
  };
}

/** Ingress faults on the first server node, measured with application probes through the VIP's ingress frontend. */
export type IngressFault = 'ingress-killed' | 'ingress-not-ready' | 'ingress-node-stopped';
/** How long an ingress fault lasts before the repair. */
const INGRESS_FAULT_MS = 3000;
/** A killed controller restarts not ready: how long it stays so (it must get no traffic) before it becomes ready. */
const NOT_READY_HOLD_MS = 2000;

/**
 * Ingress faults on one node: the controller killed (then restarted, first not ready, then ready), the controller up
 * but not ready (its health page says 503 while the port still accepts connections), or the whole node stopped
 * (link cut: seed 002's "application remains accessible when a control plane node is stopped"). Measures removal
 * from and return to rotation of `ingress_http` on the VIP holder, and what the application clients saw.
 */
export async function ingressFault(topology: Topology, fault: IngressFault): Promise<Measurement> {
  await waitForSingleHolder(topology);
  const holder = currentHolder(topology);
  const node = topology.apiServers[0];
  const { lab } = topology;
  let faultAt = 0;
  let repairAt = 0;
  let readyAt = 0;
  const probes = await probe(topology, 1000 + INGRESS_FAULT_MS + NOT_READY_HOLD_MS + RECOVERY_WAIT_MS + AFTER_MARKED_MS + 2000, async () => {
    const pids = lab.pidsOf(node, INGRESS_PROCESS);
    faultAt = Date.now();
    if (fault === 'ingress-killed') {
      lab.kill(pids, 'SIGKILL');
    } else if (fault === 'ingress-not-ready') {
      lab.kill(pids, 'SIGUSR1');
    } else {
      lab.setLink(node, false);
    }
    await sleep(INGRESS_FAULT_MS);
    repairAt = Date.now();
    if (fault === 'ingress-killed') {
      startIngressController(topology, node, false);
      await sleep(NOT_READY_HOLD_MS);
      readyAt = Date.now();
      lab.signal(node, INGRESS_PROCESS, 'SIGUSR2');
    } else if (fault === 'ingress-not-ready') {
      readyAt = repairAt;
      lab.signal(node, INGRESS_PROCESS, 'SIGUSR2');
    } else {
      readyAt = repairAt;
      lab.setLink(node, true);
    }
    await lab.waitFor(() => serverMarked(topology, holder, node.name, 'UP', readyAt, 'ingress_http') !== undefined, RECOVERY_WAIT_MS, 100);
    if (fault === 'ingress-node-stopped') {
      // The node's API server left rotation too: back before the next scenario.
      await lab.waitFor(() => serverMarked(topology, holder, node.name, 'UP', repairAt, 'k3s_api') !== undefined, RECOVERY_WAIT_MS, 100);
    }
    await sleep(AFTER_MARKED_MS);
  }, true, INGRESS_TARGET);
  const duringFault = probes.filter((p) => p.t < repairAt);
  const removal = lastAffectedAfter(duringFault, node.name, faultAt);
  const markedDown = serverMarked(topology, holder, node.name, 'DOWN', faultAt, 'ingress_http');
  return {
    scenario: fault,
    ...outageAfter(duringFault, faultAt),
    vipMoves: vipSummary(topology, faultAt, holder.name).vipMoves,
    removalMs: removal >= repairAt - faultAt - STILL_AFFECTED_MS ? undefined : removal,
    markedDownMs: markedDown !== undefined && markedDown < repairAt ? markedDown - faultAt : undefined,
    recoveryMs: firstServedAfter(probes, node.name, readyAt),
    failedAfterMarkedDown: markedDown === undefined ? undefined : duringFault.filter((p) => !p.ok && p.t > markedDown).length,
    servedBeforeReady: probes.filter((p) => p.t >= repairAt && p.t < readyAt && p.server === node.name).length,
  };
}

/** No fault at all for `durationMs`: VIP moves and failed probes should both be zero. */
export async function soak(topology: Topology, durationMs: number): Promise<Measurement> {
  await waitForSingleHolder(topology);
  const from = Date.now();
  const probes = await probe(topology, durationMs, async () => undefined);
  return { scenario: `soak ${Math.round(durationMs / 1000)} s`, ...outageAfter(probes, from), vipMoves: vipSummary(topology, from, '').vipMoves };
}

/** VRRP cut between the holder and the next node for 3 s, then healed: failed probes after the heal. */
export async function splitBrain(topology: Topology): Promise<Measurement> {
  await waitForSingleHolder(topology, topology.loadBalancers[0].name);
  const [a, b] = topology.loadBalancers;
  let cutAt = 0;
  let healAt = 0;
  const probes = await probe(topology, 9000, async () => {
    cutAt = Date.now();
    topology.lab.setVrrpCut(a, b, true);
    await sleep(3000);
    healAt = Date.now();
    topology.lab.setVrrpCut(a, b, false);
  });
  await waitForSingleHolder(topology);
  const afterHeal = outageAfter(probes, healAt);
  // Both holding the VIP at once is what makes it a split brain; count the nodes that held it during the cut.
  const holders = new Set(vipEvents(topology).filter((e) => e.gained && e.t >= cutAt && e.t < healAt).map((e) => e.node));
  return {
    scenario: 'split-brain',
    ...outageAfter(probes, cutAt),
    vipMoves: vipSummary(topology, cutAt, a.name).vipMoves,
    failedAfterHeal: afterHeal.failed,
    splitBrainHolders: holders.size,
  };
}

/** How long the long-lived connection scenario waits for HAProxy to mark the server down and close the connection. */
const LONG_LIVED_WAIT_MS = 15_000;

/**
 * A long-lived connection (like a kubectl watch) whose API server is black-holed: when the VIP holder's HAProxy
 * marks the server DOWN, and how long after that the client's connection is closed (`on-marked-down
 * shutdown-sessions`), so it reconnects instead of hanging. Both waits are bounded.
 */
export async function longLivedConnection(topology: Topology): Promise<Measurement> {
  await waitForSingleHolder(topology);
  const holder = currentHolder(topology);
  const log = join(topology.lab.workDir, `hold-${Date.now()}.log`);
  writeFileSync(log, '');
  const out = openSync(log, 'a');
  const child = spawn('ip', ['netns', 'exec', topology.client.namespace, process.execPath, join(__dirname, 'hold.js'), LAB_VIP, String(API_PORT),
    String(LONG_LIVED_WAIT_MS + 5000)], { stdio: ['ignore', out, 'inherit'] });
  topology.lab.track(child);
  const served = await topology.lab.waitFor(() => readFileSync(log, 'utf8').startsWith('server '), 5000, 50);
  if (!served) {
    throw new Error('the long-lived connection was not served');
  }
  const server = readFileSync(log, 'utf8').split(' ')[1];
  const api = topology.apiServers.find((a) => a.name === server)!;
  const faultAt = Date.now();
  topology.lab.setLink(api, false);
  const closedAt = () => {
    const closed = /closed (\d+)/.exec(readFileSync(log, 'utf8'));
    return closed ? Number(closed[1]) : undefined;
  };
  await topology.lab.waitFor(() => closedAt() !== undefined && serverMarked(topology, holder, api.name, 'DOWN', faultAt) !== undefined, LONG_LIVED_WAIT_MS, 20);
  const closed = closedAt();
  const down = serverMarked(topology, holder, api.name, 'DOWN', faultAt);
  topology.lab.setLink(api, true);
  // Back in rotation before the next scenario (bounded).
  if (down !== undefined) {
    await topology.lab.waitFor(() => serverMarked(topology, holder, api.name, 'UP', down) !== undefined, RECOVERY_WAIT_MS, 100);
  }
  await sleep(1000);
  return {
    scenario: 'long-lived connection, server black-holed',
    vipMoves: vipSummary(topology, faultAt, holder.name).vipMoves,
    removalMs: closed !== undefined ? closed - faultAt : undefined,
    markedDownMs: down !== undefined ? down - faultAt : undefined,
    closedAfterDownMs: closed !== undefined && down !== undefined ? closed - down : undefined,
  };
}
