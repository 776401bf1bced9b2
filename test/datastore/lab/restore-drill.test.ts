import { readFileSync } from 'fs';
import { join } from 'path';
import { describeWithTools } from '../../support/tools';
import { WriteRecord, installedPostgresVersion, sleep, waitFor } from './patroni-lab';
import { PGBACKREST_LAB_TOOLS, PgbackrestLab } from './pgbackrest-lab';

/**
 * The PostgreSQL datastore's restore drill on real daemons (issue 19, "A restore drill"): the Patroni lab with
 * pgBackRest as rendered (posix repository in the lab: see pgbackrest-lab.ts), writes through the writer endpoint,
 * the generated backup job on both nodes (only the primary backs up), more writes, then the whole datastore destroyed
 * (both data directories and Patroni's etcd keys) and brought back by the generated `restore-postgres`; then a
 * point-in-time restore to a moment between two write phases; then a failing backup job. Needs root; skipped naming
 * the missing tool otherwise.
 */
const version = installedPostgresVersion();
const TOOLS = [...PGBACKREST_LAB_TOOLS, ...(version === undefined ? ['postgresql (/usr/lib/postgresql/<v>/bin)'] : [])];
/** Short in the lab so the drill's recovery point is measured in a short run; sites default to 60 s. */
const ARCHIVE_TIMEOUT_SECONDS = 10;

const acknowledgedIds = (records: readonly WriteRecord[]) => records.filter((r) => r.ok).map((r) => r.id);

describeWithTools(TOOLS, 'PostgreSQL datastore restore drill (real Patroni, PostgreSQL, pgBackRest)', () => {
  let drill: PgbackrestLab;
  const report: Record<string, unknown> = {};

  beforeAll(async () => {
    drill = new PgbackrestLab(version!, { archiveTimeoutSeconds: ARCHIVE_TIMEOUT_SECONDS });
    await drill.lab.start();
  }, 420_000);

  afterAll(() => {
    console.log(`restore drill: ${JSON.stringify(report)}`);
    drill?.stop();
  }, 60_000);

  const primary = async () => (await drill.lab.leader())!.name;
  const ids = async (name: string): Promise<Set<number>> => {
    const result = await drill.lab.superuserSql(name, 'select id from probe where id >= 0', drill.lab.plan.postgres!.database);
    if (result.status !== 0) {
      throw new Error(`select on ${name}: ${result.output}`);
    }
    return new Set(result.output.split('\n').filter(Boolean).map(Number));
  };

  test('the backup job: the replica does nothing, the primary creates the stanza and takes a full backup, and says so to node_exporter', async () => {
    const leader = await primary();
    const replica = drill.lab.other(leader).name;
    const skipped = await drill.backup(replica, 'full');
    expect(skipped.output).toMatch(/not the Patroni primary/);
    expect(skipped.status).toBe(0);
    const full = await drill.backup(leader, 'full');
    if (full.status !== 0) {
      throw new Error(`backup-postgres full on ${leader}: ${full.output}`);
    }
    report.fullBackupMs = full.ms;
    const info = await drill.info(leader);
    expect(info.backup.map((b) => b.type)).toEqual(['full']);
    const metric = readFileSync(join(drill.textfileDir, 'pkh-backup-postgres.prom'), 'utf8');
    expect(metric).toMatch(/^pkh_backup_last_success_timestamp_seconds\{kind="postgres"\} \d{10}$/m);
    // The same job on the same node, again: the stanza exists already (stanza-create is idempotent), a differential.
    const diff = await drill.backup(leader, 'diff');
    expect([diff.status, diff.output]).toEqual([0, expect.stringMatching(/diff backup of stanza .* done/)]);
    expect((await drill.info(leader)).backup.map((b) => b.type)).toEqual(['full', 'diff']);
  }, 600_000);

  const phases: { before?: WriteRecord[]; after?: WriteRecord[]; pitrTime?: string; presentBeforeDestruction?: Set<number>; lastArchivedAt?: number; destroyedAt?: number } = {};

  test('destroyed (both data directories, the etcd keys) and restored to the latest WAL: every write acknowledged before the last archived segment is back', async () => {
    const leader = await primary();
    // Phase 1, then a quiet moment whose time is the point-in-time target of the next test, then phase 2.
    const first = drill.lab.startWriter({ intervalMs: 20 });
    await sleep(8_000);
    phases.before = await first.stop();
    await sleep(1_500);
    phases.pitrTime = (await drill.lab.superuserSql(leader, "select to_char(now() at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")).output;
    await sleep(1_500);
    const second = drill.lab.startWriter({ intervalMs: 20 });
    await sleep(3 * ARCHIVE_TIMEOUT_SECONDS * 1000);
    // The last segment the primary archived before it is destroyed, and what it held then.
    const archived = await drill.lab.superuserSql(leader, 'select extract(epoch from last_archived_time) from pg_stat_archiver');
    phases.lastArchivedAt = Number(archived.output) * 1000;
    phases.destroyedAt = Date.now();
    await drill.destroy();
    phases.after = await second.stop();
    expect(acknowledgedIds(phases.before).length).toBeGreaterThan(50);

    const restored = await drill.restore(leader);
    if (restored.status !== 0) {
      throw new Error(`restore-postgres on ${leader} (exit ${restored.status}):\n${restored.output}\n--- patroni\n${drill.lab.logTail(`${leader}-patroni`, 30)}`);
    }
    expect(restored.output).toMatch(/this node is the primary of the restored cluster/);
    expect(restored.output).toContain(`Next, on each other datastore node (${drill.lab.other(leader).name})`);
    report.recoveryTimeMs = restored.ms;

    const present = await ids(leader);
    const all = [...phases.before, ...phases.after];
    const acknowledgedBeforeArchive = all.filter((r) => r.ok && r.end <= phases.lastArchivedAt!).map((r) => r.id);
    expect(acknowledgedBeforeArchive.filter((id) => !present.has(id))).toEqual([]);
    const lost = acknowledgedIds(all).filter((id) => !present.has(id));
    const newestRestored = all.filter((r) => r.ok && present.has(r.id)).reduce((max, r) => Math.max(max, r.end), 0);
    report.acknowledgedWrites = acknowledgedIds(all).length;
    report.acknowledgedWritesLost = lost.length;
    report.recoveryPointSeconds = (phases.destroyedAt - newestRestored) / 1000;
    // The recovery point is bounded by archive_timeout (plus the archiver's own poll and the kill's timing).
    expect(report.recoveryPointSeconds).toBeLessThanOrEqual(ARCHIVE_TIMEOUT_SECONDS + 5);
  }, 900_000);

  test('the other node rejoins as a replica rebuilt from the repository (create_replica_methods: pgbackrest)', async () => {
    const leader = await primary();
    const replica = drill.lab.other(leader).name;
    drill.emptyDataDir(replica);
    const started = Date.now();
    drill.lab.startPatroni(replica);
    await drill.lab.waitHealthy(300_000);
    report.replicaRebuildMs = Date.now() - started;
    expect(drill.lab.logTail(`${replica}-patroni`, 400)).toMatch(/replica has been created using pgbackrest/);
  }, 400_000);

  test('a point-in-time restore returns exactly the rows committed before the timestamp', async () => {
    const leader = await primary();
    const replica = drill.lab.other(leader).name;
    // While the other node's Patroni runs, the restore refuses and changes nothing.
    const refused = await drill.restore(leader, phases.pitrTime);
    expect([refused.status, refused.output]).toEqual([1, expect.stringMatching(new RegExp(`Patroni still answers at https://${drill.lab.node(replica).ip}:8008; nothing was changed`))]);
    expect((await drill.lab.primaryStatus(leader))).toBe(200);
    // The operator's first step: Patroni stopped on every datastore node (the replica first).
    await drill.lab.stopPatroni(replica);
    await drill.lab.stopPatroni(leader);
    const restored = await drill.restore(leader, phases.pitrTime);
    if (restored.status !== 0) {
      throw new Error(`restore-postgres --time=${phases.pitrTime} on ${leader} (exit ${restored.status}):\n${restored.output}\n--- patroni\n${drill.lab.logTail(`${leader}-patroni`, 30)}`);
    }
    report.pointInTimeRecoveryMs = restored.ms;
    const present = await ids(leader);
    const committedBefore = acknowledgedIds(phases.before!);
    expect(committedBefore.filter((id) => !present.has(id))).toEqual([]);
    // Nothing of the second phase (its ids are in a range of their own), and no attempt of the first that was not acknowledged.
    const afterIds = new Set(phases.after!.map((r) => r.id));
    expect([...present].filter((id) => afterIds.has(id))).toEqual([]);
    const firstRange = phases.before!.map((r) => r.id);
    expect([...present].filter((id) => id >= Math.min(...firstRange)).sort((a, b) => a - b)).toEqual(committedBefore.filter((id) => present.has(id)).sort((a, b) => a - b));
    drill.emptyDataDir(replica);
    drill.lab.startPatroni(replica);
    await drill.lab.waitHealthy(300_000);
  }, 900_000);

  test('a failing backup (repository unreachable) fails the job and keeps the last good backup', async () => {
    const leader = await primary();
    const before = await drill.info(leader);
    const metricPath = join(drill.textfileDir, 'pkh-backup-postgres.prom');
    const metricBefore = readFileSync(metricPath, 'utf8');
    // pgBackRest reads PGBACKREST_* like its options: the repository where the postgres user cannot reach it.
    const failed = await drill.backup(leader, 'full', { PGBACKREST_REPO1_PATH: '/root/pkh-unreachable-repository' });
    expect(failed.status).not.toBe(0);
    expect(failed.output).toMatch(/ERROR: \[\d+\]/);
    const after = await drill.info(leader);
    expect(after.backup.map((b) => b.label)).toEqual(before.backup.map((b) => b.label));
    expect(readFileSync(metricPath, 'utf8')).toBe(metricBefore);
    expect(await waitFor(async () => (await drill.backup(leader, 'diff')).status === 0, 120_000, 5_000)).toBe(true);
  }, 600_000);
});
