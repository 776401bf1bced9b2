import { markdownTable, medianMaxOfRuns } from '../../support/bench-stats';
import { isRoot } from '../../support/netns';
import { hasCommand } from '../../support/tools';
import {
  FailoverMeasurement, HaproxyChurnMeasurement, LAB_TOOLS, PatroniLab, PrimaryFault, haproxyChurnUnderLoad, installedPostgresVersion, primaryFailover, sleep, writeOutage,
} from './patroni-lab';

/**
 * `npm run bench:datastore`: the Patroni lab of patroni-failover.test.ts (real etcd, Patroni, PostgreSQL and
 * HAProxy from the rendered files). Each primary fault BENCH_REPS times (default 5), printing median / max of:
 * - write outage as the K3s server sees it (first failed write → first acknowledged write after it);
 * - time to a new primary (fault → the other node's Patroni answers 200 on /primary);
 * - acknowledged writes lost (must be 0: the bench fails otherwise);
 * then "reloads under load": HAProxy on the VIP holder reloaded BENCH_RELOADS times (default 20) and restarted as
 * often (every 4th a crash that systemd restarts), the way the writer endpoint's haproxy.service drop-in runs them,
 * with the replica listed first and the writer running: writes and HAProxy sessions that reached the replica (must
 * be 0), failed writes beyond a restart's own (must be 0), and per restart the time from the stop to the primary in
 * rotation and the writes that failed;
 * then a fault-free soak of BENCH_SOAK_SECONDS (default 120) with the writer running: leader changes (false
 * failovers, must be 0) and failed writes. Needs root.
 */
const REPS = Number(process.env.BENCH_REPS ?? 5);
const SOAK_S = Number(process.env.BENCH_SOAK_SECONDS ?? 120);
const RELOADS = Number(process.env.BENCH_RELOADS ?? 20);
const FAULTS: readonly PrimaryFault[] = ['kill-postgres', 'cut-link', 'stop-patroni'];
const version = installedPostgresVersion();
const missing = [...LAB_TOOLS.filter((tool) => !hasCommand(tool)), ...(version === undefined ? ['postgresql'] : []), ...(isRoot() ? [] : ['root privileges'])];


function table(results: readonly FailoverMeasurement[]): string {
  const rows: [string, (m: FailoverMeasurement) => number | undefined][] = [
    ['write outage (ms)', (m) => m.writes.outageMs],
    ['new primary (ms)', (m) => m.newPrimaryMs],
    ['old primary demoted (ms)', (m) => m.oldDemotedMs],
    ['failed writes', (m) => m.writes.failed],
    ['acknowledged writes lost', (m) => m.lost.length + m.lostOnRejoined.length],
    ['old primary rejoined (ms)', (m) => m.rejoinMs],
  ];
  return markdownTable(['metric', ...FAULTS], rows.map(([label, metric]) => [label, ...FAULTS.map((fault) => medianMaxOfRuns(results.filter((m) => m.fault === fault).map(metric)))]));
}

/** The "reloads under load" rows: what reloads and restarts of HAProxy did to the writes. */
function churnTable(m: HaproxyChurnMeasurement): string {
  const windows = m.restarts.map((w) => w.to - w.from);
  const failedPerRestart = m.restarts.map((w) => m.records.filter((r) => !r.ok && r.start <= w.to && r.end >= w.from).length);
  return [
    `reloads under load (${m.reloads} reloads, ${m.restarts.length} restarts of which ${m.restarts.filter((w) => w.crash).length} crashes; replica ${m.replica} listed first; `
      + `${m.records.length} writes, ${m.records.filter((r) => r.ok).length} acknowledged)`,
    markdownTable(['metric', 'value'], [
      ['writes that reached the replica / HAProxy sessions to it', `${m.toReplica.length} / ${m.replicaSessions}`],
      ['failed writes beyond a restart\'s own (reloads included)', `${m.failedBeyondRestarts.length}`],
      ['restart: stop → primary in rotation (ms)', medianMaxOfRuns(windows)],
      ['restart: failed writes', medianMaxOfRuns(failedPerRestart)],
      ['acknowledged writes lost', `${m.lost.length}`],
    ]),
  ].join('\n');
}

/** The writer for `seconds` without any fault: leader changes (asked every second) and failed writes. */
async function soak(lab: PatroniLab, seconds: number): Promise<{ leaderChanges: number; timelineBefore?: number; timelineAfter?: number; failed: number; acknowledged: number; lost: number }> {
  const before = await lab.waitHealthy(120_000);
  const leader = before.find((m) => m.role === 'leader')!;
  const writer = lab.startWriter({ maxMs: (seconds + 60) * 1000 });
  const startedAt = Date.now();
  let leaderChanges = 0;
  let current = leader.name;
  try {
    for (let i = 0; i < seconds * 2 && Date.now() - startedAt < seconds * 1000; i++) {
      await sleep(1_000);
      const now = (await lab.leader())?.name;
      if (now !== undefined && now !== current) {
        leaderChanges += 1;
        current = now;
      }
    }
  } finally {
    await writer.stop();
  }
  const records = writer.records();
  const after = await lab.waitHealthy(120_000);
  const newLeader = after.find((m) => m.role === 'leader')!;
  const outage = writeOutage(records, startedAt);
  const lost = await lab.missingIds(newLeader.name, records.filter((r) => r.ok).map((r) => r.id));
  return {
    leaderChanges: leaderChanges + (newLeader.name !== current ? 1 : 0),
    timelineBefore: leader.timeline,
    timelineAfter: newLeader.timeline,
    failed: outage.failed,
    acknowledged: outage.acknowledged,
    lost: lost.length,
  };
}

const maybe = missing.length === 0 ? test : test.skip;
if (missing.length > 0) {
  console.warn(`datastore benchmark skipped: ${missing.join(', ')} missing`);
}

maybe(`datastore failover benchmark (${REPS} repetitions, median / max; soak ${SOAK_S} s)`, async () => {
  const lab = new PatroniLab(version!);
  try {
    await lab.start();
    const results: FailoverMeasurement[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      for (const fault of FAULTS) {
        const m = await primaryFailover(lab, fault);
        results.push(m);
        process.stderr.write(`${fault} ${rep + 1}/${REPS}: outage ${m.writes.outageMs} ms, new primary ${m.newPrimaryMs} ms, lost ${m.lost.length}, ${m.oldPrimary} → ${m.newPrimary}\n`);
      }
    }
    const churn = RELOADS > 0 ? await haproxyChurnUnderLoad(lab, { reloads: RELOADS, restarts: RELOADS, crashEvery: 4, pauseMs: 1_500 }) : undefined;
    const soaked = SOAK_S > 0 ? await soak(lab, SOAK_S) : undefined;
    process.stdout.write([
      '',
      `datastore failover benchmark: PostgreSQL ${lab.version}, Patroni failover settings ${JSON.stringify(lab.plan.postgres!.failover)}`
        + `${lab.patroniPythonPath ? ' (Patroni as installed + backport of patroni/patroni#2689, see patchedPatroniModule)' : ''}`,
      `median / max over ${REPS} repetitions`,
      table(results),
      churn ? churnTable(churn) : 'reloads under load skipped (BENCH_RELOADS=0)',
      soaked ? `soak ${SOAK_S} s without faults: ${soaked.leaderChanges} leader change(s), timeline ${soaked.timelineBefore} → ${soaked.timelineAfter}, `
        + `${soaked.failed} failed of ${soaked.failed + soaked.acknowledged} writes, ${soaked.lost} acknowledged lost` : 'soak skipped (BENCH_SOAK_SECONDS=0)',
      '',
    ].join('\n'));

    expect(results.flatMap((m) => [...m.lost, ...m.lostOnRejoined])).toEqual([]);
    expect(results.filter((m) => m.doublePrimaryRounds > 0 || m.newPrimary === m.oldPrimary || !m.resumedOnNewPrimary).map((m) => m.fault)).toEqual([]);
    if (churn) {
      expect({ toReplica: churn.toReplica.length, replicaSessions: churn.replicaSessions, failedBeyondRestarts: churn.failedBeyondRestarts.length, lost: churn.lost.length })
        .toEqual({ toReplica: 0, replicaSessions: 0, failedBeyondRestarts: 0, lost: 0 });
    }
    if (soaked) {
      expect(soaked.leaderChanges).toBe(0);
      expect(soaked.timelineAfter).toBe(soaked.timelineBefore);
      expect(soaked.lost).toBe(0);
    }
  } finally {
    lab.stop();
  }
}, 4 * 3600_000);
