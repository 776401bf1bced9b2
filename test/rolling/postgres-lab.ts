import { spawn } from 'child_process';
import { SiteSpec, defineSite } from '../../constructs';
import { ETCD_DATA_DIR, PATRONI_CONFIG_PATH, etcdctlCommand } from '../../constructs/renderers';
import { installedPostgresVersion, waitFor } from '../datastore/harness';
import { LabHost } from './lab';
import { GuestEvent, MachineRun } from './machine-lab';
import { startProbeLoop } from './probe-loop';
import { PG_NODES, PG_VIP, PG_WITNESS, POSTGRES_K3S_PASSWORD, RollingRun, postgresSiteSpec } from './rolling-site';

/** The datastore labs' helpers: a writer client through the VIP's writer endpoint, and Patroni/PostgreSQL on a host. */

export const POSTGRES_VERSION = installedPostgresVersion() ?? 15;
/** The data directory Patroni manages on a datastore node of the lab. */
export const POSTGRES_DATA_DIR = `/var/lib/postgresql/${POSTGRES_VERSION}/main`;
const PSQL = `/usr/lib/postgresql/${POSTGRES_VERSION}/bin/psql`;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs psql as the K3s user (with `password`) through the writer endpoint (`writerPort`, from the site plan) from the client namespace; its output, or undefined on failure. */
export async function writerSql(run: RollingRun, writerPort: number, sql: string, password = POSTGRES_K3S_PASSWORD): Promise<string | undefined> {
  const { status, stdout } = await run.lab.runInClient([PSQL, '-XAtq', '-v', 'ON_ERROR_STOP=1',
    '-h', PG_VIP, '-p', String(writerPort), '-U', 'k3s', '-d', 'k3s', '-c', sql], { PGPASSWORD: password, PGCONNECT_TIMEOUT: '2' });
  return status === 0 ? stdout.trim() : undefined;
}

/**
 * Writes a row into `rolling_probe` through the writer endpoint every `everyMs` until stopped; records every
 * acknowledged id and when each failed write was sent. Ids start after `firstId`, so several writers of one run never collide.
 */
export function startWriter(run: RollingRun, writerPort: number, options: { everyMs?: number; maxWrites?: number; firstId?: number; password?: string } = {}) {
  const { everyMs = 100, maxWrites = 3000, firstId = 0, password } = options;
  const acknowledged: number[] = [];
  /** When each failed write was sent (epoch ms). */
  const failedAt: number[] = [];
  const loop = startProbeLoop(async (round) => {
    const id = firstId + round;
    const sent = Date.now();
    if ((await writerSql(run, writerPort, `INSERT INTO rolling_probe (id) VALUES (${id})`, password)) !== undefined) {
      acknowledged.push(id);
    } else {
      failedAt.push(sent);
    }
  }, everyMs, maxWrites);
  return {
    stop: async () => {
      await loop.stop();
      return { acknowledged, failed: failedAt.length, failedAt };
    },
  };
}

/** The postmaster's PID on a host (the first line of postmaster.pid in the data directory Patroni manages). */
export const postmasterPid = (run: RollingRun, host: LabHost) => run.lab.readHostFile(host, `${POSTGRES_DATA_DIR}/postmaster.pid`)?.split('\n')[0];

export const patronictl = (run: RollingRun, host: LabHost, args: string) => run.lab.exec(host, `patronictl -c ${PATRONI_CONFIG_PATH} ${args}`);

/** One member as `patronictl list --format json` reports it. */
export interface PatroniMember { readonly Member: string; readonly Role: string; readonly State: string; readonly TL?: number; readonly 'Lag in MB'?: number | string }

/** The members as `patronictl list` reports them, or an empty list when it fails. */
export function patroniMembers(run: RollingRun, host: LabHost): PatroniMember[] {
  const result = patronictl(run, host, 'list --format json');
  if (result.status !== 0) {
    return [];
  }
  try {
    return JSON.parse(result.stdout) as PatroniMember[];
  } catch {
    return [];
  }
}

/** The members' roles as `patronictl list` reports them (name → role), or an empty map when it fails. */
export function roles(run: RollingRun, host: LabHost): Map<string, string> {
  return new Map(patroniMembers(run, host).map((m) => [m.Member, m.Role]));
}

/** Runs SQL on a datastore node itself, as the PostgreSQL superuser over the local socket (peer); its output, or undefined on failure. */
export function localSql(run: RollingRun, host: LabHost, sql: string): string | undefined {
  const result = run.lab.exec(host, `runuser -u postgres -- ${PSQL} -XAtq -v ON_ERROR_STOP=1 -d k3s -c "${sql}"`);
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** Polls `check` every 500 ms until it is true or `timeoutMs` passed (the datastore harness's wait); whether it became true. */
export const waitUntil = (check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> => waitFor(check, timeoutMs, 500);

/**
 * Logs in through the writer endpoint as the K3s user with `password` and runs `sql`, from the client namespace;
 * status, output and psql's error text (e.g. "password authentication failed"). Bounded by `timeoutMs`.
 */
export function writerLogin(run: RollingRun, writerPort: number, password: string, sql = 'SELECT current_user', timeoutMs = 10_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const argv = [PSQL, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-h', PG_VIP, '-p', String(writerPort), '-U', 'k3s', '-d', 'k3s', '-c', sql];
  return new Promise((resolve) => {
    // The password reaches psql through its environment, never argv.
    const child = spawn('ip', ['netns', 'exec', run.lab.client.namespace, ...argv], {
      env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '2' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout: stdout.trim(), stderr });
    });
  });
}

/** The datastore lab's machines: Patroni on pg-1 (the leader after the first apply) and pg-2, the etcd witness on pg-witness. */
export const DATASTORE_HOSTS = [...PG_NODES, PG_WITNESS];
export const DATASTORE_LEADER = 'pg-1';
export const DATASTORE_REPLICA = 'pg-2';

/** `generations`: the host generations of a rebuild (absent: the first machine). */
export type Generations = Readonly<Record<string, number>>;

/** What one rebuild apply did, and what the writer saw meanwhile. */
export interface DatastoreRebuild<Watched> {
  readonly result: { status: number | null; output: string; ms: number };
  /** Whether the replica streamed again as the synchronous standby (bounded wait). */
  readonly streaming: boolean;
  /** When the replica was seen streaming again (epoch ms). */
  readonly streamingAgain: number;
  readonly written: { acknowledged: number[]; failed: number; failedAt: number[] };
  readonly sideResult: Watched | undefined;
  readonly events: GuestEvent[];
}

/**
 * The datastore site with machines (the shared setup of datastore-rebuild.test.ts and .bench.ts): applied once by the
 * real Terraform CLI with the stand-in providers, whose guest hook acts a destroy out by wiping the PostgreSQL and
 * etcd data directories; pg-1 leads, pg-2 is its synchronous standby, and `rolling_probe` exists for the writer.
 */
export class DatastoreLab {
  /** Rebuilds so far: each one's writer writes its own id range. */
  private rebuilds = 0;

  private constructor(public readonly machines: MachineRun, public readonly writerPort: number) {}

  public get run(): RollingRun {
    return this.machines.run;
  }

  public static async start(): Promise<DatastoreLab> {
    const machines = await MachineRun.start({ sshHosts: DATASTORE_HOSTS, wipe: [POSTGRES_DATA_DIR, ETCD_DATA_DIR] });
    try {
      const lab = new DatastoreLab(machines, defineSite(datastoreSpec(machines.run, {})).postgres!.writerPort);
      await lab.firstApply();
      return lab;
    } catch (error) {
      await machines.stop();
      throw error;
    }
  }

  public host(name: string): LabHost {
    const host = this.run.loadBalancers.get(name);
    if (!host) {
      throw new Error(`${name}: not a host of the datastore lab (expected one of ${DATASTORE_HOSTS.map((h) => h.name).join(', ')})`);
    }
    return host;
  }

  /** The datastore site spec with these host generations. */
  public spec(generations: Generations): SiteSpec {
    return datastoreSpec(this.run, generations);
  }

  /** The etcdctl command line on a member (its local endpoint, its TLS options). */
  public etcdctlOn(name: string): string {
    return etcdctlCommand(defineSite(this.spec({})), name);
  }

  /** Every row id of rolling_probe on a datastore node (read locally), or undefined when the query fails. */
  public storedIds(name: string): Set<number> | undefined {
    const out = localSql(this.run, this.host(name), 'SELECT id FROM rolling_probe');
    return out === undefined ? undefined : new Set(out.split('\n').filter(Boolean).map(Number));
  }

  /** The leader's view of a replica's WAL stream (`state|sync_state` in pg_stat_replication; Patroni names it after the member). */
  public replicationOf(name: string, leader = DATASTORE_LEADER): string | undefined {
    return localSql(this.run, this.host(leader), `SELECT state || '|' || sync_state FROM pg_stat_replication WHERE application_name = '${name}'`);
  }

  /**
   * Applies `generations` (a rebuild) while a writer writes (and `whileApplying` watches), then waits (at most 180 s)
   * until `after.replica` streams again as the synchronous standby of `after.leader` (by default the roles of the
   * first apply); returns the apply, when the replica streamed again, the writes, the watch's result and the guest
   * events.
   */
  public async rebuild<Watched>(generations: Generations, whileApplying?: () => { stop(): Promise<Watched> },
    after: { readonly leader: string; readonly replica: string } = { leader: DATASTORE_LEADER, replica: DATASTORE_REPLICA }): Promise<DatastoreRebuild<Watched>> {
    this.rebuilds += 1;
    const writer = startWriter(this.run, this.writerPort, { firstId: this.rebuilds * 100_000 });
    const side = whileApplying?.();
    const since = Date.now();
    this.machines.expectRebuilds(true);
    this.machines.synthSpec(this.spec(generations));
    const result = await this.run.apply();
    this.machines.expectRebuilds(false);
    // The replica streams as the synchronous standby again, in PostgreSQL and in Patroni's view (its sync key in
    // etcd follows a moment later), while the writer still writes.
    const leader = this.host(after.leader);
    const streaming = await waitUntil(() => this.replicationOf(after.replica, after.leader) === 'streaming|sync' && roles(this.run, leader).get(after.replica) === 'Sync Standby', 180_000);
    const streamingAgain = Date.now();
    await sleep(1000);
    const written = await writer.stop();
    const sideResult = await side?.stop();
    return { result, streaming, streamingAgain, written, sideResult, events: this.machines.events(since) };
  }

  /** Waits (at most 60 s) until every acknowledged write is on the leader and on the replica; the ids still missing on each. */
  public async lostWrites(acknowledged: readonly number[]): Promise<Record<string, number[]>> {
    let missing: Record<string, number[]> = {};
    await waitUntil(() => {
      missing = Object.fromEntries([DATASTORE_LEADER, DATASTORE_REPLICA].map((name) => {
        const ids = this.storedIds(name);
        return [name, ids === undefined ? [...acknowledged] : acknowledged.filter((id) => !ids.has(id))];
      }));
      return Object.values(missing).every((ids) => ids.length === 0);
    }, 60_000);
    return missing;
  }

  public async stop(): Promise<void> {
    await this.machines.stop();
  }

  private async firstApply(): Promise<void> {
    const { run } = this;
    // As on a machine where the postgresql package was just installed: Debian's default cluster runs.
    for (const node of PG_NODES) {
      const started = run.lab.exec(this.host(node.name), `systemctl start postgresql@${POSTGRES_VERSION}-main`);
      if (started.status !== 0) {
        throw new Error(`${node.name}: systemctl start postgresql@${POSTGRES_VERSION}-main exited ${started.status}, expected 0: ${started.stderr}`);
      }
    }
    this.machines.synthSpec(this.spec({}));
    await run.init();
    const first = await run.apply();
    if (first.status !== 0) {
      throw new Error(`first apply exited ${first.status}, expected 0:\n${first.output.slice(-6000)}`);
    }
    const created = this.machines.events().filter((e) => e.event === 'create').map((e) => e.host).sort();
    const expected = DATASTORE_HOSTS.map((h) => h.name).sort();
    if (created.join() !== expected.join()) {
      throw new Error(`first apply: machines created ${JSON.stringify(created)}, expected ${JSON.stringify(expected)}`);
    }
    // The first apply configures pg-1 first: it bootstraps and leads, pg-2 follows as the synchronous standby.
    const leader = this.host(DATASTORE_LEADER);
    const settled = await waitUntil(() => {
      const members = roles(run, leader);
      return members.get(DATASTORE_LEADER) === 'Leader' && members.get(DATASTORE_REPLICA) === 'Sync Standby';
    }, 180_000);
    if (!settled) {
      const logs = [...run.loadBalancers.values()]
        .map((h) => `${h.name}: patronictl list: ${patronictl(run, h, 'list').stdout}\npatroni log: ${run.lab.daemonLog(h, 'patroni').slice(-3000)}`);
      throw new Error(`after the first apply: Patroni roles ${JSON.stringify(Object.fromEntries(roles(run, leader)))}, expected ${DATASTORE_LEADER} Leader and ${DATASTORE_REPLICA} Sync Standby within 180 s\n${logs.join('\n')}`);
    }
    const tableReady = await waitUntil(async () => (await writerSql(run, this.writerPort, 'CREATE TABLE IF NOT EXISTS rolling_probe (id integer PRIMARY KEY)')) === '', 30_000);
    if (!tableReady) {
      throw new Error(`CREATE TABLE rolling_probe through the writer endpoint (port ${this.writerPort}) did not succeed within 30 s`);
    }
  }
}

/** The datastore site (synchronous commit) on the lab's hosts, with `generations`. */
function datastoreSpec(run: RollingRun, generations: Generations): SiteSpec {
  const base = postgresSiteSpec(run.loadBalancers, POSTGRES_VERSION, true);
  return { ...base, hosts: base.hosts.map((h) => (generations[h.name] ? { ...h, generation: generations[h.name] } : h)) };
}
