import { defineSite } from '../../constructs';
import { installedPostgresVersion } from '../datastore/harness';
import { describeWithTools } from '../support/tools';
import { LabHost } from './lab';
import { startProbeLoop } from './probe-loop';
import { PG_NODES, PG_VIP, POSTGRES_K3S_PASSWORD, RollingRun, orderOf, postgresSiteSpec } from './rolling-site';

const VERSION = installedPostgresVersion() ?? 15;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The writer endpoint's port, from the site plan (set once the lab's hosts exist). */
let writerPort = 0;

/** Runs psql as the K3s user through the writer endpoint from the client namespace; resolves with its output, or undefined on failure. */
async function writerSql(run: RollingRun, sql: string): Promise<string | undefined> {
  const { status, stdout } = await run.lab.runInClient([`/usr/lib/postgresql/${VERSION}/bin/psql`, '-XAtq', '-v', 'ON_ERROR_STOP=1',
    '-h', PG_VIP, '-p', String(writerPort), '-U', 'k3s', '-d', 'k3s', '-c', sql], { PGPASSWORD: POSTGRES_K3S_PASSWORD, PGCONNECT_TIMEOUT: '2' });
  return status === 0 ? stdout.trim() : undefined;
}

/** Writes a row through the writer endpoint every `everyMs` until stopped; records every acknowledged id and every failure. */
function startWriter(run: RollingRun, everyMs = 100, maxWrites = 3000) {
  const acknowledged: number[] = [];
  let failed = 0;
  const loop = startProbeLoop(async (id) => {
    if ((await writerSql(run, `INSERT INTO rolling_probe (id) VALUES (${id})`)) !== undefined) {
      acknowledged.push(id);
    } else {
      failed += 1;
    }
  }, everyMs, maxWrites);
  return {
    stop: async () => {
      await loop.stop();
      return { acknowledged, failed };
    },
  };
}

/** The postmaster's PID on a host (the first line of postmaster.pid). */
const postmasterPid = (run: RollingRun, host: LabHost) => run.lab.readHostFile(host, `/var/lib/postgresql/${VERSION}/main/postmaster.pid`)?.split('\n')[0];
const asPostgres = (run: RollingRun, host: LabHost, sql: string) => run.lab.exec(host, `runuser -u postgres -- psql -XAtq -c "${sql}"`).stdout.trim();

describeWithTools(['sshd', 'terraform', 'haproxy', 'keepalived', 'pg_ctlcluster', 'ip', 'nsenter', 'unshare', 'ssh-keygen'],
  'rolling update with the real Terraform CLI: a PostgreSQL setting change on the pair, writes keep working', () => {
    let run: RollingRun;
    beforeAll(async () => {
      run = await RollingRun.start(PG_NODES);
      writerPort = defineSite(postgresSiteSpec(run.loadBalancers, VERSION, true)).postgres!.writerPort;
      // As on a host where the postgresql package was just installed: Debian's default cluster runs (the replica
      // init replaces a fresh running cluster, and refuses a stopped one it cannot vouch for).
      for (const host of run.loadBalancers.values()) {
        expect(run.lab.exec(host, `systemctl start postgresql@${VERSION}-main`)).toMatchObject({ status: 0 });
      }
      run.synthSpec(postgresSiteSpec(run.loadBalancers, VERSION, true));
      await run.init();
      const first = await run.apply();
      if (first.status !== 0) {
        throw new Error(`first apply failed:\n${first.output.slice(-6000)}`);
      }
    }, 600_000);
    afterAll(async () => {
      await run?.stop();
    }, 60_000);

    test('the first apply makes a primary and a streaming replica behind the writer endpoint', async () => {
      const [primary, replica] = PG_NODES.map((node) => run.loadBalancers.get(node.name)!);
      expect(asPostgres(run, primary, 'SELECT pg_is_in_recovery()')).toBe('f');
      expect(asPostgres(run, replica, 'SELECT status FROM pg_stat_wal_receiver')).toBe('streaming');
      let created: string | undefined;
      for (let i = 0; i < 60 && created === undefined; i++) {
        created = await writerSql(run, 'CREATE TABLE IF NOT EXISTS rolling_probe (id integer PRIMARY KEY)');
        if (created === undefined) {
          await sleep(500);
        }
      }
      expect(created).toBe('');
    }, 120_000);

    test('synchronous → asynchronous commit: primary first, then the replica, each reloaded (no restart); every acknowledged write is there', async () => {
      const [primary, replica] = PG_NODES.map((node) => run.loadBalancers.get(node.name)!);
      const pids = [postmasterPid(run, primary), postmasterPid(run, replica)];
      expect(asPostgres(run, primary, 'SHOW synchronous_standby_names')).not.toBe('');
      const writer = startWriter(run);
      const since = Date.now();
      run.synthSpec(postgresSiteSpec(run.loadBalancers, VERSION, false));
      const result = await run.apply();
      await sleep(1000);
      const written = await writer.stop();
      expect(result.status).toBe(0);
      const unit = `postgresql@${VERSION}-main`;
      expect(orderOf(run.journal(since), 'reload-or-restart', unit)).toEqual(['pg-1', 'pg-2']);
      expect(run.journal(since).filter((e) => e.args[0] === 'restart')).toEqual([]);
      expect([postmasterPid(run, primary), postmasterPid(run, replica)]).toEqual(pids);
      expect(asPostgres(run, primary, 'SHOW synchronous_standby_names')).toBe('');
      expect(asPostgres(run, replica, 'SELECT status FROM pg_stat_wal_receiver')).toBe('streaming');
      console.log(`PostgreSQL rollout: ${written.acknowledged.length} writes acknowledged, ${written.failed} failed`);
      expect(written.acknowledged.length).toBeGreaterThan(10);
      expect(written.failed).toBe(0);
      const stored = (await writerSql(run, 'SELECT count(*) FROM rolling_probe'))!;
      expect(Number(stored)).toBe(written.acknowledged.length);
    }, 600_000);
  }, { needsRoot: true });
