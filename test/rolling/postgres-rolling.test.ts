import { defineSite } from '../../constructs';
import { etcdctlCommand } from '../../constructs/renderers';
import { describeWithTools } from '../support/tools';
import { POSTGRES_VERSION as VERSION, patronictl, postmasterPid, roles, sleep, startWriter as startWriterOn, writerSql as writerSqlOn } from './postgres-lab';
import { PG_NODES, PG_WITNESS, RollingRun, orderOf, postgresSiteSpec } from './rolling-site';

/** The writer endpoint's port, from the site plan (set once the lab's hosts exist). */
let writerPort = 0;
const writerSql = (run: RollingRun, sql: string) => writerSqlOn(run, writerPort, sql);
const startWriter = (run: RollingRun) => startWriterOn(run, writerPort);

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
