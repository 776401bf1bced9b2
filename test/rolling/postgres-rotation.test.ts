import { defineSite } from '../../constructs';
import {
  PATRONI_API_PORT, PATRONI_API_USER, PATRONI_CONFIG_PATH, PATRONI_ENV_PATH, POSTGRES_REPLICATION_USER, POSTGRES_REWIND_USER, POSTGRES_SUPERUSER, PostgresPaths, postgresPaths,
} from '../../constructs/renderers';
import { POSTGRES_SYNC_METRICS_SCRIPT } from '../../constructs/roles';
import { describeWithTools } from '../support/tools';
import { POSTGRES_VERSION as VERSION, PatroniMember, localSql, patroniMembers, postmasterPid, roles, startWriter, waitUntil, writerLogin, writerSql } from './postgres-lab';
import { PATRONI_OWN_PASSWORD_VARIABLES, PG_NODES, PG_WITNESS, POSTGRES_K3S_PASSWORD, RollingRun, orderOf, postgresSiteSpec } from './rolling-site';

/** The rotated K3s database password (letters and digits, as the sync script requires). */
const ROTATED_K3S_PASSWORD = 'RotatedLabK3sDb0nly';
/** The password of the second rotation (the leader moved to pg-2 first). */
const SECOND_ROTATED_K3S_PASSWORD = 'RotatedAgainLabK3sDb0nly';
/** Patroni's own passwords rotated: each variable's new value (letters and digits). */
const ROTATED_PATRONI_PASSWORDS: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(PATRONI_OWN_PASSWORD_VARIABLES)
  .map(([name, value]) => [name, value.replace('RollingLab', 'RotatedLab')]));
/** The datastore nodes in rollout order (the order of the first apply's Patroni reloads in postgres-rolling). */
const ROLLOUT_ORDER = PG_NODES.map((node) => node.name);

/** The hosts in the order Terraform printed their "converged" line. */
function convergedOrder(output: string): string[] {
  return [...output.matchAll(/\(remote-exec\): proxmox-k3s-ha: (\S+) converged/g)].map((match) => match[1]);
}

/** The hosts whose converge set the K3s user's password (the sync script's log line in Terraform's output). */
function passwordSetOn(output: string): string[] {
  return [...output.matchAll(/terraform_data\.(\S+?)_[0-9A-F]+ \(remote-exec\): postgres-sync-k3s-password\.sh: user k3s has the password of/g)].map((match) => match[1]);
}

/** On the primary: each replica's name (Patroni's application_name), WAL sender state and sync state. */
const STREAMING_SQL = "SELECT string_agg(application_name || ':' || state || ':' || sync_state, ',') FROM pg_stat_replication";

/** Leader and replica as `patronictl list` reports them: name, role and state of each, sorted by name. */
const clusterView = (members: readonly PatroniMember[]) => members.map((m) => ({ name: m.Member, role: m.Role, state: m.State })).sort((a, b) => a.name.localeCompare(b.name));

describeWithTools(['sshd', 'terraform', 'haproxy', 'keepalived', 'pg_ctlcluster', '/usr/bin/patroni', 'etcd', 'etcdctl', 'ip', 'nsenter', 'unshare', 'ssh-keygen', 'runuser'],
  'rotation with the real Terraform CLI: the datastore\'s passwords reach PostgreSQL and Patroni through the datastore nodes\' converge, in rollout order', () => {
    let run: RollingRun;
    /** The writer endpoint's and PostgreSQL's ports and PostgreSQL's paths, from the site plan. */
    let writerPort = 0;
    let postgresPort = 0;
    let paths: PostgresPaths;
    beforeAll(async () => {
      run = await RollingRun.start([...PG_NODES, PG_WITNESS]);
      const spec = postgresSiteSpec(run.loadBalancers, VERSION, true);
      ({ writerPort, port: postgresPort } = defineSite(spec).postgres!);
      paths = postgresPaths(defineSite(spec));
      // As on a host where the postgresql package was just installed (see postgres-rolling.test.ts).
      for (const node of PG_NODES) {
        expect(run.lab.exec(run.loadBalancers.get(node.name)!, `systemctl start postgresql@${VERSION}-main`)).toMatchObject({ status: 0 });
      }
      run.synthSpec(spec);
      await run.init();
      const first = await run.apply();
      if (first.status !== 0) {
        throw new Error(`first apply failed:\n${first.output.slice(-6000)}`);
      }
      // The rotation starts from a settled cluster: a leader, a streaming synchronous standby, the K3s user logging in.
      const settled = await waitUntil(async () => {
        const members = clusterView(patroniMembers(run, run.loadBalancers.get(PG_NODES[0].name)!));
        return members.map((m) => m.role).sort().join() === 'Leader,Sync Standby' && members.every((m) => m.state === 'running' || m.state === 'streaming')
          && (await writerLogin(run, writerPort, POSTGRES_K3S_PASSWORD)).stdout === 'k3s';
      }, 180_000);
      if (!settled) {
        throw new Error(`the cluster did not settle within 180 s after the first apply: ${JSON.stringify(patroniMembers(run, run.loadBalancers.get(PG_NODES[0].name)!))}`);
      }
    }, 900_000);
    afterAll(async () => {
      await run?.stop();
    }, 60_000);

    /**
     * Rotates the K3s password from `from` to `to` with an apply and checks what a rotation must do: the apply succeeds
     * and re-converges only the datastore nodes, one at a time in rollout order, Patroni reloaded (never restarted);
     * the primary (`leader`) alone ran ALTER ROLE; through the writer endpoint `to` logs in and `from` is refused;
     * the same leader, the replica streaming, PostgreSQL not restarted; neither password in Terraform's output.
     * Returns the apply's duration and the order of the Patroni reloads.
     */
    async function rotateAndCheck(from: string, to: string): Promise<{ ms: number; order: string[] }> {
      const [pg1, pg2] = PG_NODES.map((node) => run.loadBalancers.get(node.name)!);
      const before = clusterView(patroniMembers(run, pg1));
      const leader = before.find((m) => m.role === 'Leader')!.name;
      const replica = before.find((m) => m.role !== 'Leader')!.name;
      const pids = [postmasterPid(run, pg1), postmasterPid(run, pg2)];
      const since = Date.now();
      const result = await run.apply({ TF_VAR_postgres_k3s_password: to });
      expect({ status: result.status, tail: result.status === 0 ? '' : result.output.slice(-6000) }).toEqual({ status: 0, tail: '' });
      for (const secret of [to, from]) {
        expect(result.output).not.toContain(secret);
      }
      // Only the datastore nodes use the password: they alone re-converge (the witness does not), in rollout order,
      // one at a time: every systemctl call of pg-1 before the first one of pg-2.
      expect(result.output).toContain('Apply complete! Resources: 2 added, 0 changed, 2 destroyed');
      expect(convergedOrder(result.output)).toEqual(ROLLOUT_ORDER);
      const journal = run.journal(since);
      const order = orderOf(journal, 'reload', 'patroni');
      expect(order).toEqual(ROLLOUT_ORDER);
      const callTimes = (host: string) => journal.filter((e) => e.host === host).map((e) => e.t);
      expect(Math.max(...callTimes('pg-1'))).toBeLessThan(Math.min(...callTimes('pg-2')));
      expect(journal.filter((e) => (e.args[0] === 'restart' || e.args[0] === 'stop') && e.args.includes('patroni'))).toEqual([]);
      expect(passwordSetOn(result.output)).toEqual([leader]);
      for (const host of [pg1, pg2]) {
        expect(run.lab.readHostFile(host, PATRONI_ENV_PATH)).toMatch(new RegExp(`^PKH_K3S_PASSWORD=${to}$`, 'm'));
      }
      // Through the writer endpoint, as a K3s server logs in: the new password works, the old one is refused.
      const loggedIn = await waitUntil(async () => (await writerLogin(run, writerPort, to)).stdout === 'k3s', 30_000);
      const withNew = await writerLogin(run, writerPort, to);
      expect({ loggedIn, status: withNew.status, stdout: withNew.stdout }).toEqual({ loggedIn: true, status: 0, stdout: 'k3s' });
      const withOld = await writerLogin(run, writerPort, from);
      expect(withOld.status).not.toBe(0);
      expect(withOld.stderr).toContain('password authentication failed for user "k3s"');
      // Patroni: the same leader and replica, streaming synchronously, PostgreSQL never restarted.
      expect(clusterView(patroniMembers(run, pg1))).toEqual(before);
      expect(localSql(run, run.loadBalancers.get(leader)!, STREAMING_SQL)).toBe(`${replica}:streaming:sync`);
      expect([postmasterPid(run, pg1), postmasterPid(run, pg2)]).toEqual(pids);
      // Nothing changed since: the next apply with the same password does nothing.
      const againSince = Date.now();
      const again = await run.apply({ TF_VAR_postgres_k3s_password: to });
      expect(again.output).toContain('Apply complete! Resources: 0 added, 0 changed, 0 destroyed');
      expect(run.journal(againSince)).toEqual([]);
      expect(again.output).not.toContain(to);
      return { ms: result.ms, order };
    }

    test('a rotated password: the datastore nodes re-converge one at a time in order, the new password logs in and the old one is refused, Patroni unchanged; it never shows', async () => {
      expect(roles(run, run.loadBalancers.get('pg-1')!).get('pg-1')).toBe('Leader');
      const { ms, order } = await rotateAndCheck(POSTGRES_K3S_PASSWORD, ROTATED_K3S_PASSWORD);
      console.log(`rotate k3s password: apply ${ms} ms, order ${order.join(' ')}`);
    }, 900_000);

    test('with the leader on pg-2 (after a switchover), the replica pg-1 converges first and leaves the password to the primary, which takes it', async () => {
      const pg1 = run.loadBalancers.get('pg-1')!;
      // As the runbook says, as root: the installed patronictl loads the REST API's credentials from Patroni's
      // environment file (Debian's own gets a 401 and still exits 0).
      const switchover = run.lab.exec(pg1, `patronictl -c ${PATRONI_CONFIG_PATH} switchover --leader pg-1 --candidate pg-2 --force`);
      expect({ status: switchover.status, output: `${switchover.stdout}${switchover.stderr}` })
        .toEqual({ status: 0, output: expect.stringContaining('Successfully switched over to "pg-2"') });
      // Settled: pg-2 leads, pg-1 streams from it synchronously, the writer endpoint reaches pg-2.
      const observed = async () => {
        const login = await writerLogin(run, writerPort, ROTATED_K3S_PASSWORD, 'SELECT current_user || \'@\' || NOT pg_is_in_recovery()');
        return {
          members: clusterView(patroniMembers(run, pg1)).map((m) => `${m.name} ${m.role}`),
          streaming: localSql(run, run.loadBalancers.get('pg-2')!, STREAMING_SQL),
          writer: login.status === 0 ? login.stdout : login.stderr.trim(),
        };
      };
      const expected = { members: ['pg-1 Sync Standby', 'pg-2 Leader'], streaming: 'pg-1:streaming:sync', writer: 'k3s@true' };
      await waitUntil(async () => JSON.stringify(await observed()) === JSON.stringify(expected), 180_000);
      expect(await observed()).toEqual(expected);
      const { ms, order } = await rotateAndCheck(ROTATED_K3S_PASSWORD, SECOND_ROTATED_K3S_PASSWORD);
      console.log(`rotate k3s password (leader pg-2): apply ${ms} ms, order ${order.join(' ')}`);
    }, 900_000);

    /** From `from` (a datastore node): whether `user` logs in to the PostgreSQL of `to` over the network with `password`. */
    const logsIn = (from: string, to: string, user: string, password: string, replication = false) => {
      const target = PG_NODES.find((node) => node.name === to)!;
      // Lab-only values: the password is in this command's text, inside the lab's namespace.
      const connection = `host=${target.ip} port=${postgresPort} user=${user} dbname=postgres connect_timeout=5${replication ? ' replication=true' : ''}`;
      const result = run.lab.exec(run.loadBalancers.get(from)!, `PGPASSWORD=${password} ${paths.psql} -XAtq -d '${connection}' -c ${replication ? 'IDENTIFY_SYSTEM' : "'SELECT 1'"}`);
      return result.status === 0 ? 'logged in' : result.stderr.includes('password authentication failed') ? 'password refused' : `failed: ${result.stderr.trim()}`;
    };
    /** From `from`: the HTTP status of Patroni's REST API on `to` for a change (an empty one) made with `password`. */
    const restApiStatus = (from: string, to: string, password: string) => {
      const target = PG_NODES.find((node) => node.name === to)!;
      return run.lab.exec(run.loadBalancers.get(from)!, `curl -s --max-time 5 -o /dev/null -w '%{http_code}' -u ${PATRONI_API_USER}:${password} -X PATCH -H 'Content-Type: application/json' --data '{"pause": null}' http://${target.ip}:${PATRONI_API_PORT}/config`).stdout;
    };

    test('Patroni\'s own passwords rotated, the replica first: the primary\'s roles take them, the primary hands over, each Patroni restarts paused in rollout order, synchronous replication holds, the old passwords are refused', async () => {
      const [pg1, pg2] = PG_NODES.map((node) => run.loadBalancers.get(node.name)!);
      // The previous test left pg-2 leading: pg-1, a replica, converges first and sets the roles on pg-2 over the network.
      const before = clusterView(patroniMembers(run, pg1));
      expect(before.map((m) => `${m.name} ${m.role}`)).toEqual(['pg-1 Sync Standby', 'pg-2 Leader']);
      const replicaPid = postmasterPid(run, pg1);
      const k3sPassword = SECOND_ROTATED_K3S_PASSWORD;
      expect(await writerSql(run, writerPort, 'CREATE TABLE IF NOT EXISTS rolling_probe (id integer PRIMARY KEY)', k3sPassword)).toBe('');
      const writer = startWriter(run, writerPort, { password: k3sPassword, firstId: 1_000_000 });
      const since = Date.now();
      const result = await run.apply({ TF_VAR_postgres_k3s_password: k3sPassword, ...ROTATED_PATRONI_PASSWORDS });
      const writes = await writer.stop();
      expect({ status: result.status, tail: result.status === 0 ? '' : result.output.slice(-6000) }).toEqual({ status: 0, tail: '' });
      for (const secret of [...Object.values(PATRONI_OWN_PASSWORD_VARIABLES), ...Object.values(ROTATED_PATRONI_PASSWORDS)]) {
        expect(result.output).not.toContain(secret);
      }
      // In rollout order, one node at a time: the roles set on the primary, then that node's Patroni restarted.
      expect(convergedOrder(result.output)).toEqual(ROLLOUT_ORDER);
      const journal = run.journal(since);
      expect(journal.filter((e) => e.args.includes('patroni') && e.args[0] === 'restart').map((e) => e.host)).toEqual(ROLLOUT_ORDER);
      const logged = (line: string) => [...result.output.matchAll(new RegExp(`terraform_data\\.(\\S+?)_[0-9A-F]+ \\(remote-exec\\): patroni-rotate-passwords\\.sh: ${line}`, 'g'))].map((m) => m[1]);
      expect(logged('the roles of .* have their new passwords on the primary')).toEqual(ROLLOUT_ORDER);
      // Only the primary hands over (Patroni 3.0 restarted beside a running primary would drop synchronous replication).
      expect(logged('the primary was handed over')).toEqual(['pg-2']);
      // pg-1's PostgreSQL ran on and leads now; pg-2 follows it as the synchronous standby, and the primary waits for it.
      expect(postmasterPid(run, pg1)).toBe(replicaPid);
      const after = ['pg-1 Leader', 'pg-2 Sync Standby'];
      const replication = () => ({ members: clusterView(patroniMembers(run, pg1)).map((m) => `${m.name} ${m.role}`), streaming: localSql(run, pg1, STREAMING_SQL), syncNames: localSql(run, pg1, 'SHOW synchronous_standby_names') });
      const expected = { members: after, streaming: 'pg-2:streaming:sync', syncNames: '"pg-2"' };
      await waitUntil(() => JSON.stringify(replication()) === JSON.stringify(expected), 60_000);
      expect(replication()).toEqual(expected);
      const stored = await writerSql(run, writerPort, `SELECT count(*) FROM rolling_probe WHERE id IN (${writes.acknowledged.join(',') || '0'})`, k3sPassword);
      expect({ acknowledged: writes.acknowledged.length > 20, stored: Number(stored) }).toEqual({ acknowledged: true, stored: writes.acknowledged.length });
      // Writes fail only during the switchover.
      const failedSpanMs = writes.failed === 0 ? 0 : Math.max(...writes.failedAt) - Math.min(...writes.failedAt);
      expect({ failedSpanUnder5s: failedSpanMs < 5_000 }).toEqual({ failedSpanUnder5s: true });
      // Cluster management resumed.
      expect(run.lab.exec(pg1, `curl -fsS --max-time 5 http://${PG_NODES[0].ip}:${PATRONI_API_PORT}/patroni`).stdout).not.toContain('"pause"');
      // The new passwords log in, the old ones are refused: superuser and rewind from the peer, replication too.
      const passwordOf = (values: Readonly<Record<string, string>>) => ({
        superuser: values.TF_VAR_postgres_superuser_password, rewind: values.TF_VAR_postgres_rewind_password,
        replication: values.TF_VAR_postgres_replication_password, api: values.TF_VAR_patroni_api_password,
      });
      const [oldPasswords, newPasswords] = [passwordOf(PATRONI_OWN_PASSWORD_VARIABLES), passwordOf(ROTATED_PATRONI_PASSWORDS)];
      const logins = (passwords: typeof oldPasswords) => ({
        superuser: logsIn('pg-2', 'pg-1', POSTGRES_SUPERUSER, passwords.superuser),
        rewind: logsIn('pg-2', 'pg-1', POSTGRES_REWIND_USER, passwords.rewind),
        replication: logsIn('pg-2', 'pg-1', POSTGRES_REPLICATION_USER, passwords.replication, true),
        api: restApiStatus('pg-2', 'pg-1', passwords.api),
      });
      expect(logins(newPasswords)).toEqual({ superuser: 'logged in', rewind: 'logged in', replication: 'logged in', api: '200' });
      expect(logins(oldPasswords)).toEqual({ superuser: 'password refused', rewind: 'password refused', replication: 'password refused', api: '401' });
      // The replica's next replication connection is made with the new password: its WAL sender ended, it streams again.
      expect(localSql(run, pg1, 'SELECT count(pg_terminate_backend(pid)) FROM pg_stat_replication')).toBe('1');
      const streamingAgain = await waitUntil(() => localSql(run, pg1, STREAMING_SQL) === 'pg-2:streaming:sync', 60_000);
      expect({ streamingAgain, streaming: localSql(run, pg1, STREAMING_SQL) }).toEqual({ streamingAgain: true, streaming: 'pg-2:streaming:sync' });
      // Nothing changed since: the next apply with the same passwords does nothing.
      const againSince = Date.now();
      const again = await run.apply({ TF_VAR_postgres_k3s_password: k3sPassword, ...ROTATED_PATRONI_PASSWORDS });
      expect(again.output).toContain('Apply complete! Resources: 0 added, 0 changed, 0 destroyed');
      expect(run.journal(againSince)).toEqual([]);
      console.log(`rotate Patroni's own passwords (leader pg-2, handed over to pg-1): apply ${result.ms} ms, ${writes.acknowledged.length} writes acknowledged, ${writes.failed} failed within ${failedSpanMs} ms, 0 lost`);
    }, 900_000);
    /** What postgres-sync-metrics.sh (as rendered for the datastore nodes, run on `host`) publishes: its sample lines. */
    const synchronousStandbysMetric = (host: string) => {
      const result = run.lab.exec(run.loadBalancers.get(host)!, `dir=$(mktemp -d) && cat >"$dir/metrics.sh" <<'PKH_SCRIPT'
${POSTGRES_SYNC_METRICS_SCRIPT}PKH_SCRIPT
PKH_TEXTFILE_DIR=$dir sh "$dir/metrics.sh" ${paths.psql} ${paths.socketDir} ${postgresPort} && grep '^pkh_' "$dir/pkh-postgres-sync.prom"; status=$?; rm -rf "$dir"; exit $status`);
      return result.stdout.trim();
    };

    test('Patroni restarted beside its running primary (paused): PostgreSQL stops waiting for the standby Patroni still names; the sync metric shows 0, a switchover brings 1 back', async () => {
      const [pg1, pg2] = PG_NODES.map((node) => run.loadBalancers.get(node.name)!);
      // The previous test left pg-1 leading with pg-2 its synchronous standby.
      expect(synchronousStandbysMetric('pg-1')).toBe('pkh_postgres_synchronous_standbys 1');
      expect(synchronousStandbysMetric('pg-2')).toBe('');
      // What an operator may do (and what a crash of Patroni does, systemd restarting it): Patroni restarted while
      // PostgreSQL runs on.
      for (const command of [`patronictl -c ${PATRONI_CONFIG_PATH} pause --wait`, 'systemctl restart patroni']) {
        expect({ command, status: run.lab.exec(pg1, command, 120_000).status }).toEqual({ command, status: 0 });
      }
      expect(await waitUntil(() => run.lab.exec(pg1, `curl -fsS --max-time 5 http://${PG_NODES[0].ip}:${PATRONI_API_PORT}/patroni`).stdout.includes('"state": "running"'), 60_000)).toBe(true);
      expect(run.lab.exec(pg1, `patronictl -c ${PATRONI_CONFIG_PATH} resume --wait`, 120_000).status).toBe(0);
      // Patroni keeps naming pg-2 while PostgreSQL waits for nobody, loop after loop.
      const drifted = () => ({
        members: clusterView(patroniMembers(run, pg1)).map((m) => `${m.name} ${m.role}`),
        syncNames: localSql(run, pg1, 'SHOW synchronous_standby_names'),
        streaming: localSql(run, pg1, STREAMING_SQL),
        metric: synchronousStandbysMetric('pg-1'),
      });
      const expectedDrift = { members: ['pg-1 Leader', 'pg-2 Sync Standby'], syncNames: '', streaming: 'pg-2:streaming:async', metric: 'pkh_postgres_synchronous_standbys 0' };
      await waitUntil(() => JSON.stringify(drifted()) === JSON.stringify(expectedDrift), 60_000);
      expect(drifted()).toEqual(expectedDrift);
      await new Promise((resolve) => setTimeout(resolve, 15_000));
      expect(drifted()).toEqual(expectedDrift);
      // The alert's remedy: a switchover to the Sync Standby, whose Patroni sets synchronous_standby_names as it leads.
      const switchover = run.lab.exec(pg1, `patronictl -c ${PATRONI_CONFIG_PATH} switchover --leader pg-1 --candidate pg-2 --force`, 120_000);
      expect({ status: switchover.status, output: `${switchover.stdout}${switchover.stderr}` }).toEqual({ status: 0, output: expect.stringContaining('Successfully switched over to "pg-2"') });
      const restored = () => ({ streaming: localSql(run, pg2, STREAMING_SQL), metric: synchronousStandbysMetric('pg-2') });
      const expectedRestored = { streaming: 'pg-1:streaming:sync', metric: 'pkh_postgres_synchronous_standbys 1' };
      await waitUntil(() => JSON.stringify(restored()) === JSON.stringify(expectedRestored), 120_000);
      expect(restored()).toEqual(expectedRestored);
    }, 600_000);
  }, { needsRoot: true });
