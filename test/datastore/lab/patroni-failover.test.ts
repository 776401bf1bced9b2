import { describeWithTools } from '../../support/tools';
import {
  FailoverMeasurement, LAB_TOOLS, PatroniLab, PrimaryFault, WriteRecord, doublePrimaries, haproxyChurnUnderLoad, installedPostgresVersion, primaryFailover, restApiExceptions, restApiTracebacks, sleep,
  switchoverUnderLoad, waitFor, writeOutage,
} from './patroni-lab';

/**
 * Automatic failover of the K3s datastore on real daemons: etcd (db-1, db-2, the witness on server-1), Patroni
 * running PostgreSQL on db-1 and db-2, HAProxy's writer endpoint on server-1, all from the rendered files (see
 * patroni-lab.ts). One lab for the suite; each test starts from, and leaves, a healthy cluster (one leader, one
 * synchronous standby). A writer on a K3s server commits through the writer endpoint during every fault; what it
 * was acknowledged must be on the primary afterwards. The lab bootstraps with the witness's etcd member down (it
 * joins afterwards), as a site whose witness host comes last does. Needs root; skipped naming the missing tool otherwise.
 */
const version = installedPostgresVersion();
const TOOLS = [...LAB_TOOLS, ...(version === undefined ? ['postgresql (/usr/lib/postgresql/<v>/bin)'] : [])];

/** Per-scenario numbers, printed at the end. */
const report: Record<string, Record<string, number | string | undefined>> = {};

function record(scenario: string, numbers: Record<string, number | string | undefined>): void {
  report[scenario] = numbers;
  console.log(`${scenario}: ${JSON.stringify(numbers)}`);
}

describeWithTools(TOOLS, 'Patroni datastore failover (real etcd, Patroni, PostgreSQL, HAProxy)', () => {
  let lab: PatroniLab;
  let ttlMs: number;
  /** The bootstrap with the witness's etcd member down, and the cluster version etcd reported before and after it joined. */
  const bootstrap: { leaderMs?: number; versionWithoutWitness?: string; versionWithWitness?: string; witnessHealthy?: boolean } = {};

  beforeAll(async () => {
    lab = new PatroniLab(version!);
    ttlMs = lab.plan.postgres!.failover.ttlSeconds * 1000;
    // Bootstrap with 2 of the 3 etcd members: etcd, the first node's initdb, the second node's clone.
    ({ leaderMs: bootstrap.leaderMs } = await lab.start({ etcdMembersDown: [lab.witness.name] }));
    bootstrap.versionWithoutWitness = await lab.etcdClusterVersion(lab.db[0].name);
    lab.startEtcd(lab.witness.name);
    bootstrap.witnessHealthy = await waitFor(() => lab.etcdHealthy(), 60_000, 500);
    // etcd raises the cluster version once every member answered (its version monitor runs every few seconds).
    await waitFor(async () => (bootstrap.versionWithWitness = await lab.etcdClusterVersion(lab.db[0].name)) === '3.4.0', 30_000, 500);
  }, 420_000);

  afterAll(() => {
    lab?.stop();
    if (Object.keys(report).length > 0) {
      console.log(`failover settings ${JSON.stringify(lab?.plan.postgres?.failover)}; Patroni ${lab?.patroniPythonPath ? 'as installed + backport of patroni/patroni#2689 (see patchedPatroniModule)' : 'as installed'}\n${Object.entries(report).map(([s, n]) => `${s.padEnd(28)} ${JSON.stringify(n)}`).join('\n')}`);
    }
  }, 60_000);

  test('bootstrap with the witness\'s etcd member down: a leader within 90 s although etcd reports cluster version 3.0; the witness joins later (3.4)', () => {
    record('bootstrap-without-witness', { ...bootstrap, witnessHealthy: String(bootstrap.witnessHealthy) });
    // The case Patroni's own API-path choice cannot serve: a member that never answered keeps the cluster at 3.0.
    expect(bootstrap.versionWithoutWitness).toBe('3.0.0');
    expect(bootstrap.leaderMs).toBeLessThan(90_000);
    expect(bootstrap.witnessHealthy).toBe(true);
    expect(bootstrap.versionWithWitness).toBe('3.4.0');
  });

  test('bootstrap: validated config, one leader and a sync standby, the K3s user, TLS and client certificates enforced', async () => {
    // Validated before Patroni started, while the witness's etcd member was down: that is the one thing it reports.
    const witness = `${lab.witness.ip}:2379`;
    for (const node of lab.db) {
      expect({ node: node.name, ...lab.validation[node.name] })
        .toEqual({ node: node.name, status: 1, output: `etcd3.hosts.2 ${witness} didn't pass validation: '${witness} is not reachable'` });
    }
    expect(lab.haproxyCheck?.status).toBe(0);

    const list = await lab.patronictlList('db-1');
    expect(list.map((m) => m.Member).sort()).toEqual(['db-1', 'db-2']);
    expect(list.map((m) => m.Role).sort()).toEqual(['Leader', 'Sync Standby']);
    expect(list.every((m) => m.State === 'running' && m.TL === list[0].TL)).toBe(true);
    const leader = String(list.find((m) => m.Role === 'Leader')!.Member);
    const { database, user } = lab.plan.postgres!;

    // The post-bootstrap script's user: may log in, no superuser, a SCRAM verifier; it owns the K3s database.
    const role = await lab.superuserSql(leader, `select rolcanlogin, rolsuper, rolpassword like 'SCRAM-SHA-256$%' from pg_authid where rolname = '${user}'`);
    expect(role).toEqual({ status: 0, output: 't|f|t' });
    const owner = await lab.superuserSql(leader, `select pg_get_userbyid(datdba) from pg_database where datname = '${database}'`);
    expect(owner).toEqual({ status: 0, output: user });

    // The client writes through the writer endpoint (the VIP, sslmode=verify-full) and lands on the leader.
    expect(await lab.writeOnce()).toEqual({ status: 0, output: lab.node(leader).ip });
    // verify-full really verifies: with an unrelated CA the same connection fails.
    const wrongCa = await lab.clientSql(lab.dsn, 'select 1', 10_000, lab.otherCaCertificate);
    expect(wrongCa.status).not.toBe(0);
    expect(wrongCa.output).toMatch(/certificate verify failed/);

    // hostssl only: without TLS a node rejects the K3s user; with TLS the same connection is accepted.
    for (const node of lab.db) {
      const plain = await lab.clientSql(lab.directDsn(node.name, 'disable'), 'select 1');
      expect(plain.status).not.toBe(0);
      expect(plain.output).toMatch(/no pg_hba\.conf entry .*no encryption/);
      expect(await lab.clientSql(lab.directDsn(node.name, 'verify-full'), 'select 1')).toEqual({ status: 0, output: '1' });
    }

    // The REST API answers over TLS with the node's certificate only: the right CA works, another CA does not,
    // plain HTTP does not.
    for (const node of lab.db) {
      expect(await lab.restStatus(node.name, '/health', lab.client)).toBe(200);
      expect(await lab.restStatus(node.name, '/health', lab.client, lab.otherCaCertificate)).toBe(0);
      const plainHttp = await lab.exec(lab.client, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '2', `http://${node.ip}:8008/health`]);
      expect(plainHttp.output).not.toBe('200');
    }

    // etcd: a client without a certificate is refused, the member's certificate is accepted (and sees the leader key).
    for (const host of lab.plan.postgres!.etcdMembers.map((m) => m.name)) {
      const anonymous = await lab.etcdctl(host, ['get', '--prefix', '/', '--keys-only'], false);
      expect(anonymous.status).not.toBe(0);
      const member = await lab.etcdctl(host, ['get', '--print-value-only', '/proxmox-k3s-ha/k3s-datastore/leader']);
      expect(member).toEqual({ status: 0, output: leader });
      // The runbook's command (loopback, the member's certificate) works on every member.
      const runbook = await lab.renderedEtcdctl(host, ['endpoint', 'health']);
      expect(runbook.status).toBe(0);
      expect(runbook.output).toMatch(/127\.0\.0\.1:2379 is healthy/);
    }
  });

  /** A healthy cluster's leader and replica, with the writer and the watch of both nodes' /primary running. */
  async function startScenario() {
    const before = await lab.waitHealthy(120_000);
    const leader = before.find((m) => m.role === 'leader')!;
    return { leader, replica: lab.other(leader.name), writer: lab.startWriter(), watch: lab.watchPrimaries() };
  }

  /** The assertions every primary fault shares: a new primary, writes resumed there, nothing acknowledged lost, rejoin. */
  function expectCleanFailover(m: FailoverMeasurement, bounds: { newPrimaryMs: number }): void {
    expect(m.newPrimary).toBe(lab.other(m.oldPrimary).name);
    expect(m.newPrimaryMs).toBeDefined();
    expect(m.newPrimaryMs!).toBeLessThan(bounds.newPrimaryMs);
    expect(m.resumedOnNewPrimary).toBe(true);
    expect(m.writes.outageMs).toBeDefined();
    expect(m.writes.acknowledged).toBeGreaterThan(10);
    expect(m.lost).toEqual([]);
    expect(m.lostOnRejoined).toEqual([]);
    expect(m.doublePrimaryRounds).toBe(0);
    expect(m.newTimeline!).toBeGreaterThan(m.oldTimeline!);
  }

  function recordFailover(m: FailoverMeasurement): void {
    record(m.fault, {
      outageMs: m.writes.outageMs, maxAckGapMs: m.writes.maxAckGapMs, failedWrites: m.writes.failed, newPrimaryMs: m.newPrimaryMs, oldDemotedMs: m.oldDemotedMs,
      lost: m.lost.length, rejoinMs: m.rejoinMs, from: m.oldPrimary, to: m.newPrimary,
    });
  }

  async function failover(fault: PrimaryFault): Promise<FailoverMeasurement> {
    const m = await primaryFailover(lab, fault);
    recordFailover(m);
    return m;
  }

  test('kill -9 of the primary\'s PostgreSQL: the replica takes over, nothing acknowledged is lost, the old primary rejoins', async () => {
    // primary_start_timeout 0: no restart in place, the sync standby is promoted once the leader key is released.
    const m = await failover('kill-postgres');
    expectCleanFailover(m, { newPrimaryMs: ttlMs + 10_000 });
  }, 300_000);

  test('the primary\'s link cut: the isolated primary demotes itself before the other node is promoted; it rejoins after the link is back', async () => {
    const m = await failover('cut-link');
    expectCleanFailover(m, { newPrimaryMs: ttlMs + 15_000 });
    // No split brain: the cut-off primary (asked inside its own namespace) stopped saying "primary" before the
    // other node started to.
    expect(m.oldDemotedMs).toBeDefined();
    expect(m.oldDemotedMs!).toBeLessThan(m.newPrimaryMs!);
  }, 300_000);

  test('Patroni stopped on the primary (SIGTERM): it releases the leader key, the replica takes over; started again it rejoins', async () => {
    const m = await failover('stop-patroni');
    // A clean stop hands over without waiting for the ttl.
    expectCleanFailover(m, { newPrimaryMs: ttlMs });
  }, 300_000);

  test('the witness etcd member down: no failover, writes go on', async () => {
    const { leader, writer, watch } = await startScenario();
    let records: WriteRecord[] = [];
    let faultAt = 0;
    try {
      await waitFor(() => writer.records().filter((r) => r.ok).length >= 5, 20_000, 200);
      faultAt = Date.now();
      await lab.stopEtcd(lab.witness.name);
      // Two ttls: long enough for a leader key that could not be renewed to expire.
      await sleep(2 * ttlMs + 2_000);
    } finally {
      await watch.stop();
      records = await writer.stop();
      lab.startEtcd(lab.witness.name);
    }
    expect(await waitFor(() => lab.etcdHealthy(), 60_000, 500)).toBe(true);
    const after = await lab.waitHealthy(120_000);
    const outage = writeOutage(records, faultAt);
    const acknowledged = records.filter((r) => r.ok).map((r) => r.id);
    const lost = await lab.missingIds(leader.name, acknowledged);
    record('witness-etcd-down', { failedWrites: outage.failed, maxAckGapMs: outage.maxAckGapMs, acknowledged: outage.acknowledged, lost: lost.length });

    expect(after.find((m) => m.role === 'leader')).toMatchObject({ name: leader.name, timeline: leader.timeline });
    // The leader answered 200 throughout, the other node never did.
    expect(watch.samples.filter((s) => s.at >= faultAt).length).toBeGreaterThan(10);
    expect(watch.samples.filter((s) => s.codes[leader.name] !== 200)).toEqual([]);
    expect(doublePrimaries(watch.samples)).toEqual([]);
    expect(outage.failed).toBe(0);
    expect(records.filter((r) => r.ok && r.start > faultAt + ttlMs).length).toBeGreaterThan(10);
    expect(lost).toEqual([]);
  }, 300_000);

  test('etcd quorum lost: the primary demotes itself (writes fail, never two primaries); quorum back: a primary again, nothing acknowledged lost', async () => {
    const { leader, replica, writer, watch } = await startScenario();
    let records: WriteRecord[] = [];
    let faultAt = 0;
    let demotedAt: number | undefined;
    let quorumBackAt = 0;
    let primaryAgainAt: number | undefined;
    try {
      await waitFor(() => writer.records().filter((r) => r.ok).length >= 5, 20_000, 200);
      faultAt = Date.now();
      await Promise.all([lab.stopEtcd(lab.witness.name), lab.stopEtcd(replica.name)]);
      // Patroni retries etcd for retry_timeout, then demotes; within the ttl plus a margin.
      if (await waitFor(async () => (await Promise.all(lab.db.map((n) => lab.primaryStatus(n.name)))).every((code) => code !== 200), ttlMs + 10_000, 200)) {
        demotedAt = Date.now();
      }
      // Stay without quorum for a while: writes must keep failing.
      await sleep(8_000);
      quorumBackAt = Date.now();
      lab.startEtcd(lab.witness.name);
      lab.startEtcd(replica.name);
      if (await waitFor(() => writer.records().some((r) => r.ok && r.start > quorumBackAt), 90_000, 200)) {
        primaryAgainAt = writer.records().find((r) => r.ok && r.start > quorumBackAt)!.end;
      }
      await sleep(2_000);
    } finally {
      await watch.stop();
      records = await writer.stop();
      for (const host of [lab.witness.name, replica.name]) {
        if (!quorumBackAt) {
          lab.startEtcd(host);
        }
      }
    }
    const after = await lab.waitHealthy(180_000);
    const newLeader = after.find((m) => m.role === 'leader')!;
    const acknowledged = records.filter((r) => r.ok).map((r) => r.id);
    const lost = await lab.missingIds(newLeader.name, acknowledged);
    // Writes started once the primary had demoted (plus 2 s for HAProxy's checks) and before the quorum was back.
    const duringLoss = records.filter((r) => demotedAt !== undefined && r.start > demotedAt + 2_000 && r.end < quorumBackAt);
    record('etcd-quorum-lost', {
      demotedMs: demotedAt && demotedAt - faultAt, writesDuringLoss: duringLoss.length, acknowledgedDuringLoss: duringLoss.filter((r) => r.ok).length,
      primaryAgainAfterQuorumMs: primaryAgainAt && primaryAgainAt - quorumBackAt, lost: lost.length, from: leader.name, to: newLeader.name,
    });

    expect(demotedAt).toBeDefined();
    expect(duringLoss.length).toBeGreaterThan(0);
    expect(duringLoss.filter((r) => r.ok)).toEqual([]);
    expect(doublePrimaries(watch.samples)).toEqual([]);
    expect(primaryAgainAt).toBeDefined();
    expect(lost).toEqual([]);
  }, 360_000);

  test('the replica down with synchronous mode: writes go on after a short stall, it comes back as sync standby, nothing lost', async () => {
    const { leader, replica, writer, watch } = await startScenario();
    let records: WriteRecord[] = [];
    let faultAt = 0;
    let syncDroppedAt: number | undefined;
    let resumed = false;
    try {
      await waitFor(() => writer.records().filter((r) => r.ok).length >= 5, 20_000, 200);
      faultAt = Date.now();
      // The replica's host is gone (cut off): its walsender on the primary does not notice, Patroni does when the
      // replica's member key expires, and drops it from synchronous_standby_names.
      lab.cutLink(replica.name);
      if (await waitFor(async () => (await lab.superuserSql(leader.name, 'show synchronous_standby_names')).output === '', 60_000, 200)) {
        syncDroppedAt = Date.now();
      }
      resumed = await waitFor(() => writer.records().filter((r) => r.ok && r.start > (syncDroppedAt ?? Infinity)).length >= 5, 30_000, 200);
    } finally {
      await watch.stop();
      records = await writer.stop();
      lab.restoreLink(replica.name);
    }
    const outage = writeOutage(records, faultAt);
    const after = await lab.waitHealthy(180_000);
    const acknowledged = records.filter((r) => r.ok).map((r) => r.id);
    const lost = await lab.missingIds(leader.name, acknowledged);
    let lostOnReplica: number[] = acknowledged;
    await waitFor(async () => (lostOnReplica = await lab.missingIds(replica.name, acknowledged)).length === 0, 30_000, 500);
    record('replica-link-cut', {
      syncDroppedMs: syncDroppedAt && syncDroppedAt - faultAt, outageMs: outage.outageMs, maxAckGapMs: outage.maxAckGapMs, failedWrites: outage.failed, lost: lost.length,
    });

    expect(syncDroppedAt).toBeDefined();
    expect(resumed).toBe(true);
    expect(outage.maxAckGapMs).toBeLessThan(30_000);
    // No failover: the primary answered 200 throughout.
    expect(watch.samples.filter((s) => s.at >= faultAt && s.codes[leader.name] !== 200)).toEqual([]);
    expect(doublePrimaries(watch.samples)).toEqual([]);
    expect(after.find((m) => m.role === 'leader')).toMatchObject({ name: leader.name, timeline: leader.timeline });
    expect(after.find((m) => m.role === 'sync_standby')?.name).toBe(replica.name);
    expect(lost).toEqual([]);
    expect(lostOnReplica).toEqual([]);
  }, 300_000);

  test('planned switchovers under a write load (the runbook\'s command): the writer endpoint follows, no write reaches a replica, nothing acknowledged is lost', async () => {
    for (let i = 0; i < 2; i++) {
      const m = await switchoverUnderLoad(lab);
      record(`switchover-${i + 1}`, {
        outageMs: m.writes.outageMs, failedWrites: m.writes.failed, toReplica: m.toReplica.length, lost: m.lost.length, from: m.from, to: m.to,
      });
      expect(m.toReplica).toEqual([]);
      expect(m.lost).toEqual([]);
      expect(m.resumedOnNewPrimary).toBe(true);
      expect(m.writes.acknowledged).toBeGreaterThan(10);
    }
  }, 600_000);

  test('HAProxy on the VIP holder reloaded and restarted 20 times each under a write load, the replica listed first: no connection reaches the replica, writes fail only while a restarted HAProxy is down or has not checked yet', async () => {
    const m = await haproxyChurnUnderLoad(lab, { reloads: 20, restarts: 20, crashEvery: 4, pauseMs: 1_500 });
    const restartMs = m.restarts.map((w) => w.to - w.from).sort((a, b) => a - b);
    record('haproxy-reloads-restarts', {
      writes: m.records.length, acknowledged: m.records.filter((r) => r.ok).length, toReplica: m.toReplica.length, replicaSessions: m.replicaSessions,
      failedBeyondRestarts: m.failedBeyondRestarts.length, failedInRestarts: m.failedInRestarts, restartMedianMs: restartMs[Math.floor(restartMs.length / 2)],
      restartMaxMs: restartMs[restartMs.length - 1], lost: m.lost.length, replica: m.replica,
    });

    expect(m.replica).toBe(lab.db[0].name);
    expect(m.restarts).toHaveLength(20);
    expect(m.restarts.filter((w) => w.crash)).toHaveLength(5);
    expect(m.records.filter((r) => r.ok).length).toBeGreaterThan(200);
    expect(m.toReplica).toEqual([]);
    expect(m.replicaSessions).toBe(0);
    expect(m.failedBeyondRestarts).toEqual([]);
    // A restart's failed writes stay within HAProxy's downtime and its first checks.
    expect(restartMs[restartMs.length - 1]).toBeLessThan(5_000);
    expect(m.lost).toEqual([]);
    expect(m.leaderAfter).toBe(m.primary);
  }, 600_000);

  test('Patroni\'s log holds no traceback from serving the REST API\'s checks (HAProxy reads each answer to its end), over the whole run', () => {
    // What the checks made Patroni log before they read each answer to its end (the parse below must find it).
    const before = ['2026-12-07 06:35:00,517 WARNING: Exception happened during processing of request from 198.18.0.11:50944',
      '2026-12-07 06:35:00,520 WARNING: Traceback (most recent call last):', '  File "/usr/lib/python3.11/ssl.py", line 1243, in send',
      '    return self._sslobj.write(data)', '           ^^^^^^^^^^^^^^^^^^^^^^^^', 'ssl.SSLEOFError: EOF occurred in violation of protocol (_ssl.c:2393)'].join('\n');
    expect(restApiExceptions(before)).toEqual(['198.18.0.11:50944: ssl.SSLEOFError: EOF occurred in violation of protocol (_ssl.c:2393)']);
    const tracebacks = lab.db.flatMap((node) => restApiTracebacks(lab, node.name).map((t) => `${node.name}: ${t}`));
    record('patroni-tracebacks', { count: tracebacks.length, first: tracebacks[0] });
    expect(tracebacks).toEqual([]);
  });
}, { needsRoot: true });
