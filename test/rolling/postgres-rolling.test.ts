import { defineSite } from '../../constructs';
import { PATRONI_CONFIG_PATH, etcdctlCommand } from '../../constructs/renderers';
import { installedPostgresVersion } from '../datastore/harness';
import { describeWithTools } from '../support/tools';
import { LabHost } from './lab';
import { startProbeLoop } from './probe-loop';
import { PG_NODES, PG_VIP, PG_WITNESS, POSTGRES_K3S_PASSWORD, RollingRun, orderOf, postgresSiteSpec } from './rolling-site';

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

/** The postmaster's PID on a host (the first line of postmaster.pid in the data directory Patroni manages). */
const postmasterPid = (run: RollingRun, host: LabHost) => run.lab.readHostFile(host, `/var/lib/postgresql/${VERSION}/main/postmaster.pid`)?.split('\n')[0];
const patronictl = (run: RollingRun, host: LabHost, args: string) => run.lab.exec(host, `patronictl -c ${PATRONI_CONFIG_PATH} ${args}`);

/** The members' roles as `patronictl list` reports them (name → role), or an empty map when it fails. */
function roles(run: RollingRun, host: LabHost): Map<string, string> {
  const result = patronictl(run, host, 'list --format json');
  if (result.status !== 0) {
    return new Map();
  }
  return new Map((JSON.parse(result.stdout) as { Member: string; Role: string }[]).map((m) => [m.Member, m.Role]));
}

describeWithTools(['sshd', 'terraform', 'haproxy', 'keepalived', 'pg_ctlcluster', '/usr/bin/patroni', 'etcd', 'etcdctl', 'ip', 'nsenter', 'unshare', 'ssh-keygen'],
  'rolling update with the real Terraform CLI: Patroni and etcd on the datastore, a setting change, writes keep working', () => {
    let run: RollingRun;
    beforeAll(async () => {
      run = await RollingRun.start([...PG_NODES, PG_WITNESS]);
      writerPort = defineSite(postgresSiteSpec(run.loadBalancers, VERSION, true)).postgres!.writerPort;
      // As on a host where the postgresql package was just installed: Debian's default cluster runs (the
      // preparation step drops it so that Patroni can create the datastore there).
      for (const node of PG_NODES) {
        expect(run.lab.exec(run.loadBalancers.get(node.name)!, `systemctl start postgresql@${VERSION}-main`)).toMatchObject({ status: 0 });
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

    test('the first apply, one host after the other, makes a Patroni cluster: a leader and a synchronous standby behind the writer endpoint', async () => {
      const [first] = PG_NODES.map((node) => run.loadBalancers.get(node.name)!);
      let members = new Map<string, string>();
      for (let i = 0; i < 360 && !(members.get('pg-1') && members.get('pg-2') && [...members.values()].sort().join() === 'Leader,Sync Standby'); i++) {
        await sleep(500);
        members = roles(run, first);
      }
      if ([...members.values()].sort().join() !== 'Leader,Sync Standby') {
        for (const host of run.loadBalancers.values()) {
          console.log(`${host.name}: patronictl list: ${patronictl(run, host, 'list').stdout}${patronictl(run, host, 'list').stderr}\n`
            + `etcd log: ${run.lab.daemonLog(host, 'etcd').slice(-1500)}\npatroni log: ${run.lab.daemonLog(host, 'patroni').slice(-3000)}`);
        }
      }
      expect([...members.values()].sort()).toEqual(['Leader', 'Sync Standby']);
      const plan = defineSite(postgresSiteSpec(run.loadBalancers, VERSION, true));
      expect(run.lab.exec(run.loadBalancers.get(PG_WITNESS.name)!, `${etcdctlCommand(plan, PG_WITNESS.name)} member list`).stdout).toContain(PG_WITNESS.name);
      let created: string | undefined;
      for (let i = 0; i < 60 && created === undefined; i++) {
        created = await writerSql(run, 'CREATE TABLE IF NOT EXISTS rolling_probe (id integer PRIMARY KEY)');
        if (created === undefined) {
          await sleep(500);
        }
      }
      expect(created).toBe('');
    }, 300_000);

    test('synchronous → asynchronous: Patroni reloads on each node in turn (PostgreSQL keeps running), the cluster setting follows; every acknowledged write is there', async () => {
      const [primary, replica] = PG_NODES.map((node) => run.loadBalancers.get(node.name)!);
      const pids = [postmasterPid(run, primary), postmasterPid(run, replica)];
      expect(patronictl(run, primary, 'show-config').stdout).toContain('synchronous_mode: true');
      const writer = startWriter(run);
      const since = Date.now();
      run.synthSpec(postgresSiteSpec(run.loadBalancers, VERSION, false));
      const result = await run.apply();
      await sleep(1000);
      const written = await writer.stop();
      expect(result.status).toBe(0);
      expect(orderOf(run.journal(since), 'reload', 'patroni')).toEqual(['pg-1', 'pg-2']);
      expect(run.journal(since).filter((e) => e.args[0] === 'restart' || e.args[0] === 'stop')).toEqual([]);
      expect([postmasterPid(run, primary), postmasterPid(run, replica)]).toEqual(pids);
      expect(patronictl(run, primary, 'show-config').stdout).toContain('synchronous_mode: false');
      console.log(`PostgreSQL rollout: ${written.acknowledged.length} writes acknowledged, ${written.failed} failed`);
      expect(written.acknowledged.length).toBeGreaterThan(10);
      expect(written.failed).toBe(0);
      const stored = (await writerSql(run, 'SELECT count(*) FROM rolling_probe'))!;
      expect(Number(stored)).toBe(written.acknowledged.length);
    }, 600_000);
  }, { needsRoot: true });
