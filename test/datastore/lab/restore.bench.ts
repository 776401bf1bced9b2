import { medianMax } from '../../support/bench-stats';
import { isRoot } from '../../support/netns';
import { hasCommand } from '../../support/tools';
import { WriteRecord, installedPostgresVersion, sleep } from './patroni-lab';
import { PGBACKREST_LAB_TOOLS, PgbackrestLab } from './pgbackrest-lab';

/**
 * `npm run bench:restore`: the restore drill of restore-drill.test.ts (real Patroni, PostgreSQL and pgBackRest from
 * the rendered files; posix repository in the lab) repeated BENCH_REPS times (default 5) for each datastore size in
 * BENCH_SIZES_MB (default "100,1024"), printing median / max of:
 * - backup duration: the generated job's full backup (`backup-postgres full` on the primary);
 * - recovery point: acknowledged writes lost when the whole datastore is destroyed at a random moment while the
 *   writer commits through the writer endpoint, and the seconds between the newest restored write and the
 *   destruction; bounded by archive_timeout (BENCH_ARCHIVE_TIMEOUT, default the site default 60);
 * - recovery time: the generated `restore-postgres` from start to the node answering 200 on /primary, and the time
 *   until the other node is back as a replica rebuilt from the repository.
 * The data is a table of hex text (about 2:1 compressible with lz4). Needs root.
 */
const REPS = Number(process.env.BENCH_REPS ?? 5);
const SIZES_MB = (process.env.BENCH_SIZES_MB ?? '100,1024').split(',').map(Number);
const ARCHIVE_TIMEOUT = Number(process.env.BENCH_ARCHIVE_TIMEOUT ?? 60);
const version = installedPostgresVersion();
const missing = [...PGBACKREST_LAB_TOOLS.filter((tool) => !hasCommand(tool)), ...(version === undefined ? ['postgresql'] : []), ...(isRoot() ? [] : ['root privileges'])];

/** "median / max" with `digits` decimals. */
function medianMaxFixed(values: readonly number[], digits = 1): string {
  return medianMax(values, (value) => value.toFixed(digits));
}

interface Rep {
  readonly sizeMb: number;
  readonly backupS: number;
  readonly writesLost: number;
  readonly recoveryPointS: number;
  readonly recoveryTimeS: number;
  readonly replicaBackS: number;
}

(missing.length === 0 ? describe : describe.skip)(`bench: PostgreSQL datastore backup and restore${missing.length ? ` [skipped: ${missing.join(', ')} missing]` : ''}`, () => {
  const reps: Rep[] = [];
  let drill: PgbackrestLab;

  beforeAll(async () => {
    drill = new PgbackrestLab(version!, { archiveTimeoutSeconds: ARCHIVE_TIMEOUT });
    await drill.lab.start();
  }, 600_000);

  afterAll(() => {
    drill?.stop();
    const lines = SIZES_MB.map((size) => {
      const of = reps.filter((r) => r.sizeMb === size);
      return `${`${size} MB`.padEnd(8)} runs ${of.length}  backup ${medianMaxFixed(of.map((r) => r.backupS))} s  recovery time ${medianMaxFixed(of.map((r) => r.recoveryTimeS))} s  `
        + `replica back ${medianMaxFixed(of.map((r) => r.replicaBackS))} s  recovery point ${medianMaxFixed(of.map((r) => r.recoveryPointS))} s, ${medianMaxFixed(of.map((r) => r.writesLost), 0)} writes lost`;
    });
    console.log(`restore bench (median / max; archive_timeout ${ARCHIVE_TIMEOUT} s)\n${lines.join('\n')}\n${JSON.stringify(reps)}`);
  }, 60_000);

  const primary = async () => (await drill.lab.leader())!.name;

  /** Grows the `filler` table until the cluster's databases hold about `mb` MB. */
  async function fill(mb: number): Promise<void> {
    const leader = await primary();
    for (let i = 0; i < 200; i++) {
      const size = Number((await drill.lab.superuserSql(leader, 'select sum(pg_database_size(datname)) / 1048576 from pg_database')).output);
      if (size >= mb) {
        return;
      }
      // About 100 bytes a row; at most 256 MB per statement.
      const rows = Math.min(Math.ceil(((mb - size) * 1048576) / 100), 2_500_000);
      const result = await drill.lab.exec(drill.lab.node(leader).host, 'runuser', ['-u', 'postgres', '--', `${drill.lab.bin}/psql`, '-X', '-q', '-h', drill.lab.node(leader).socketDir, '-d', 'postgres', '-c',
        `create table if not exists filler (id bigint, payload text); insert into filler select g, md5(random()::text) || md5(random()::text) from generate_series(1, ${rows}) g`], { timeoutMs: 1_800_000 });
      if (result.status !== 0) {
        throw new Error(`filling to ${mb} MB: ${result.output}`);
      }
    }
  }

  for (const sizeMb of SIZES_MB) {
    for (let rep = 1; rep <= REPS; rep++) {
      test(`${sizeMb} MB, run ${rep}: full backup, writes, everything destroyed, restore-postgres, replica rebuilt`, async () => {
        await fill(sizeMb);
        const leader = await primary();
        const backup = await drill.backup(leader, 'full');
        if (backup.status !== 0) {
          throw new Error(`backup on ${leader}: ${backup.output}`);
        }
        const writer = drill.lab.startWriter({ intervalMs: 20 });
        // A random moment in the archive cycle.
        await sleep((ARCHIVE_TIMEOUT + Math.random() * ARCHIVE_TIMEOUT) * 1000);
        const destroyedAt = Date.now();
        await drill.destroy();
        const records: WriteRecord[] = await writer.stop();
        const restored = await drill.restore(leader);
        if (restored.status !== 0) {
          throw new Error(`restore-postgres on ${leader}: ${restored.output}\n${drill.lab.logTail(`${leader}-patroni`, 30)}`);
        }
        const ids = (await drill.lab.superuserSql(leader, `select id from probe where id >= ${Math.min(...records.map((r) => r.id))}`, drill.lab.plan.postgres!.database)).output;
        const present = new Set(ids.split('\n').filter(Boolean).map(Number));
        const acknowledged = records.filter((r) => r.ok);
        const newest = acknowledged.filter((r) => present.has(r.id)).reduce((max, r) => Math.max(max, r.end), 0);
        const replica = drill.lab.other(leader).name;
        const replicaStart = Date.now();
        drill.lab.startPatroni(replica);
        await drill.lab.waitHealthy(1_800_000);
        const result: Rep = {
          sizeMb, backupS: backup.ms / 1000, writesLost: acknowledged.filter((r) => !present.has(r.id)).length, recoveryPointS: (destroyedAt - newest) / 1000,
          recoveryTimeS: restored.ms / 1000, replicaBackS: (Date.now() - replicaStart) / 1000,
        };
        reps.push(result);
        console.log(JSON.stringify(result));
        // Every write acknowledged before the newest restored one is there too (no hole in the recovered history).
        expect(acknowledged.filter((r) => r.end < newest && !present.has(r.id)).map((r) => r.id)).toEqual([]);
      }, 3_600_000);
    }
  }
});
