import { ChildProcess, spawn, spawnSync } from 'child_process';
import { chmodSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { addBridgedNamespace, run, sh, uniqueName, tearDownLab } from '../support/netns';

/**
 * A network lab for the load balancers, entirely inside namespaces this process creates: one "switch" namespace
 * with a bridge, and one namespace per node (load balancers, stand-in API servers, a client), each with an `eth0`
 * veth plugged into the bridge. Addresses come from 198.18.0.0/24 (RFC 2544 benchmarking range) and nothing is
 * routed anywhere. Load balancers also get their own PID and mount namespaces (as a VM or LXC would), so the
 * generated files sit at their real paths and `killall -0` sees only the node's own processes.
 */

export const LAB_PREFIX = '198.18.0';
export const LAB_VIP = `${LAB_PREFIX}.10`;
export const labAddress = (host: number) => `${LAB_PREFIX}.${host}`;

export interface LabNode {
  readonly name: string;
  readonly ip: string;
  readonly namespace: string;
  /** The bridge-side end of the node's veth (set it down to cut the node's link). */
  readonly switchPort: string;
}

/** Files a load balancer runs with, at their real paths. */
export interface LoadBalancerFiles {
  readonly haproxyCfg: string;
  readonly keepalivedConf: string;
  readonly notifyScript: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A shell filter prefixing each line with the epoch time in milliseconds when it was read. Perl's clock read
 * in-process, not a `date` per line: a fork per line made HAProxy's "Server ... is DOWN" stamp lag the events it
 * causes (a connection closed by the mark-down) by milliseconds.
 */
export const TIMESTAMP_LINES = `perl -MTime::HiRes=time -ne 'BEGIN { $| = 1 } printf "%d %s", time * 1000, $_'`;

export class FailoverLab {
  public readonly workDir: string;
  private readonly id = uniqueName('pkh');
  private readonly switchNamespace: string;
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  private nextPort = 0;

  constructor() {
    this.workDir = mkdtempSync(join(tmpdir(), 'pkh-failover-'));
    this.switchNamespace = `${this.id}sw`;
    sh('ip', ['netns', 'add', this.switchNamespace]);
    this.namespaces.push(this.switchNamespace);
    sh('ip', ['-n', this.switchNamespace, 'link', 'add', 'br0', 'type', 'bridge']);
    // No STP delay: ports forward as soon as they are up, like a plain unmanaged switch.
    sh('ip', ['-n', this.switchNamespace, 'link', 'set', 'br0', 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0']);
    sh('ip', ['-n', this.switchNamespace, 'link', 'set', 'br0', 'up']);
  }

  /** Adds a node namespace with `eth0` at `ip`/24 plugged into the bridge. */
  public addNode(name: string, ip: string): LabNode {
    const namespace = `${this.id}${name}`.slice(0, 30);
    const switchPort = `p${this.nextPort++}`;
    this.namespaces.push(namespace);
    addBridgedNamespace(this.switchNamespace, namespace, switchPort, ip);
    return { name, ip, namespace, switchPort };
  }

  /** Starts a long-running process inside a node's network namespace; it is killed by {@link stop}. */
  public spawnIn(node: LabNode, command: string, args: readonly string[], logName: string): ChildProcess {
    const log = join(this.workDir, `${logName}.log`);
    writeFileSync(log, '');
    const out = openSync(log, 'a');
    const child = spawn('ip', ['netns', 'exec', node.namespace, command, ...args], { stdio: ['ignore', out, out], detached: true });
    this.children.push(child);
    return child;
  }

  /**
   * Starts HAProxy and Keepalived on a load balancer node in fresh PID and mount namespaces, with the files bind
   * mounted over /etc/haproxy and /etc/keepalived and a private /run (holding /run/haproxy).
   */
  public startLoadBalancer(node: LabNode, files: LoadBalancerFiles): void {
    const dir = join(this.workDir, node.name);
    for (const sub of ['haproxy', 'keepalived', 'run']) {
      mkdirSync(join(dir, sub), { recursive: true, mode: 0o755 });
    }
    writeFileSync(join(dir, 'haproxy/haproxy.cfg'), files.haproxyCfg);
    writeFileSync(join(dir, 'keepalived/keepalived.conf'), files.keepalivedConf, { mode: 0o600 });
    writeFileSync(join(dir, 'keepalived/notify.sh'), files.notifyScript);
    chmodSync(join(dir, 'keepalived/notify.sh'), 0o755);
    // keepalived's script security wants no non-root-writable directory on the script paths.
    chmodSync(this.workDir, 0o755);
    const init = [
      'set -e',
      // A private /run (like the node's own on a VM): HAProxy's stats socket directory is made inside it, so the
      // lab creates nothing on the host.
      'mount -t tmpfs -o mode=755 tmpfs /run',
      'mkdir -p /run/haproxy',
      `mount --bind ${dir}/haproxy /etc/haproxy`,
      `mount --bind ${dir}/keepalived /etc/keepalived`,
      // Keepalived's notify script publishes the VRRP state there (node_exporter's textfile directory): per node, not
      // this machine's (present only when prometheus-node-exporter is installed here).
      `mkdir -p ${dir}/textfile && if [ -d /var/lib/prometheus/node-exporter ]; then mount --bind ${dir}/textfile /var/lib/prometheus/node-exporter; fi`,
      `haproxy -W -db -f /etc/haproxy/haproxy.cfg 2>&1 | ${TIMESTAMP_LINES} > ${this.workDir}/${node.name}-haproxy.log &`,
      `keepalived --dont-fork --log-console --log-detail --vrrp -f /etc/keepalived/keepalived.conf -p ${dir}/run/keepalived.pid -r ${dir}/run/vrrp.pid -c ${dir}/run/checkers.pid 2>&1 | ${TIMESTAMP_LINES} > ${this.workDir}/${node.name}-keepalived.log &`,
      // Stay alive as the namespace's init even when HAProxy and Keepalived are killed by a scenario.
      'while :; do sleep 3600; done',
    ].join('\n');
    this.spawnIn(node, 'unshare', ['--pid', '--fork', '--mount-proc', '--mount', '--propagation', 'private', 'sh', '-c', init], `${node.name}-init`);
  }

  /** Host PIDs of the processes named `comm` running in the node's network namespace. */
  public pidsOf(node: LabNode, comm: string): number[] {
    const pids = run('ip', ['netns', 'pids', node.namespace]).output.split('\n').filter(Boolean).map(Number);
    return pids.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm;
      } catch {
        return false;
      }
    });
  }

  public signal(node: LabNode, comm: string, signal: NodeJS.Signals): number {
    return this.kill(this.pidsOf(node, comm), signal);
  }

  /**
   * Signals processes found earlier with {@link pidsOf}: a scenario looks them up first (`ip netns pids` takes
   * milliseconds), so the time it records as the fault is when the signal is really sent.
   */
  public kill(pids: readonly number[], signal: NodeJS.Signals): number {
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
    return pids.length;
  }

  /** Runs a command inside the node's PID and mount namespaces (where its HAProxy/Keepalived live). */
  public restartInNode(node: LabNode, command: string, logName: string): void {
    const init = this.pidsOf(node, 'sh')[0];
    if (init === undefined) {
      throw new Error(`${node.name}: no init process to enter`);
    }
    const log = join(this.workDir, `${logName}.log`);
    const out = openSync(log, 'a');
    const child = spawn('nsenter', ['-t', String(init), '-p', '-m', '-n', 'sh', '-c', command], { stdio: ['ignore', out, out], detached: true });
    this.children.push(child);
  }

  /** Tracks a process started elsewhere, so {@link stop} kills it too. */
  public track(child: ChildProcess): void {
    this.children.push(child);
  }

  public setLink(node: LabNode, up: boolean): void {
    sh('ip', ['-n', this.switchNamespace, 'link', 'set', node.switchPort, up ? 'up' : 'down']);
  }

  /**
   * Cuts VRRP between two load balancers (a split brain): each drops the other's VRRP packets at input routing
   * (`ip rule ... ipproto 112 blackhole`, placed before the `local` table). Everything else still flows. Unicast
   * VRRP only: multicast input skips routing rules. `false` heals it, `a`'s side first: the two rules go one after
   * the other, and a heal that let `b` hear `a` first could let `b`'s answering advert reach `a` while `a` still drops
   * it (a one-way heal the test does not mean to make; `a` then re-announces the VIP only at its next GARP refresh).
   */
  public setVrrpCut(a: LabNode, b: LabNode, cut: boolean): void {
    const directions: [LabNode, LabNode][] = cut ? [[a, b], [b, a]] : [[b, a], [a, b]];
    for (const [from, to] of directions) {
      if (cut) {
        if (!run('ip', ['-n', to.namespace, 'rule', 'show', 'pref', '100']).output.includes('lookup local')) {
          sh('ip', ['-n', to.namespace, 'rule', 'add', 'pref', '100', 'lookup', 'local']);
          sh('ip', ['-n', to.namespace, 'rule', 'del', 'pref', '0', 'lookup', 'local']);
        }
        sh('ip', ['-n', to.namespace, 'rule', 'add', 'pref', '10', 'from', from.ip, 'ipproto', '112', 'blackhole']);
      } else {
        run('ip', ['-n', to.namespace, 'rule', 'del', 'pref', '10', 'from', from.ip, 'ipproto', '112', 'blackhole']);
      }
    }
  }

  /** The load balancers currently holding `vip`. */
  public vipHolders(nodes: readonly LabNode[], vip: string): string[] {
    return nodes.filter((node) => run('ip', ['-n', node.namespace, '-o', '-4', 'addr', 'show', 'dev', 'eth0']).output.includes(` ${vip}/`)).map((n) => n.name);
  }

  /** Waits until `predicate` holds, polling every `stepMs`, for at most `timeoutMs`; returns whether it held. */
  public async waitFor(predicate: () => boolean, timeoutMs: number, stepMs = 50): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; Date.now() < deadline && i < 100_000; i++) {
      if (predicate()) {
        return true;
      }
      await sleep(stepMs);
    }
    return predicate();
  }

  /** Kills every process started in the lab and deletes every namespace and file; safe to call twice. */
  public stop(): void {
    tearDownLab({ namespaces: this.namespaces, children: this.children.splice(0), workDir: this.workDir, keepFilesVariable: 'FAILOVER_LAB_KEEP_FILES' });
  }
}

/** A self-signed certificate for the stand-in API servers. */
export function makeCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'api.crt');
  const key = join(dir, 'api.key');
  const result = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=api', '-keyout', key, '-out', cert], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`openssl: ${result.stderr}`);
  }
  return { cert, key };
}
