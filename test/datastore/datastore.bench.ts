import { isRoot } from '../support/netns';
import { PgNode, PostgresLab, installedPostgresVersion, sleep, waitFor } from './harness';

/**
 * `npm run bench:datastore`: BENCH_REPS (default 5) failover cycles on the lab of postgres-lab.test.ts, printing the
 * median and max of:
 * - replication lag: a row's insert on the primary (its `clock_timestamp()`, so the synchronous commit round trip is
 *   included) until a replica polling every 0.5 ms sees it; BENCH_LAG_SAMPLES (default 10) per cycle;
 * - promotion: the promotion script's start (after a crash of the primary) until a write through the writer
 *   endpoint succeeds on the new primary (probed every 50 ms), and the script's own duration.
 * After each cycle the old primary is re-attached with the replica init script and synchronous commit re-enabled,
 * so the next cycle fails over the other way. Needs root.
 */
const REPS = Number(process.env.BENCH_REPS ?? 5);
const LAG_SAMPLES = Number(process.env.BENCH_LAG_SAMPLES ?? 10);
const version = installedPostgresVersion();

function stats(values: readonly number[]): string {
  if (values.length === 0) {
    return '-';
  }
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return `${median.toFixed(1)} / ${sorted[sorted.length - 1].toFixed(1)}`;
}

/** Milliseconds from the insert on `primary` until `replica` sees the row (bounded: 20 000 polls). */
async function replicationLagMs(lab: PostgresLab, primary: PgNode, replica: PgNode, id: number): Promise<number> {
  const watch = lab.sqlAsync(replica, [
    'do $$ begin',
    `  for i in 1..20000 loop exit when exists (select from bench_lag where id = ${id}); perform pg_sleep(0.0005); end loop;`,
    'end $$;',
    `select extract(epoch from clock_timestamp() - at) * 1000 from bench_lag where id = ${id};`,
  ].join('\n'), 'k3s', 30_000);
  // Let the watcher start polling before the row exists.
  await sleep(150);
  const insert = lab.sql(primary, `insert into bench_lag (id) values (${id})`, 'k3s');
  if (insert.status !== 0) {
    throw new Error(`insert on ${primary.name}: ${insert.output}`);
  }
  const seen = await watch;
  const lag = Number(seen.output);
  if (seen.status !== 0 || seen.output === '' || !Number.isFinite(lag)) {
    throw new Error(`${replica.name} did not see row ${id}: ${seen.output}`);
  }
  return lag;
}

/** Crashes `primary`, promotes `replica` with the script; returns [script start → writes accepted, script duration] in ms. */
async function promotionMs(lab: PostgresLab, primary: PgNode, replica: PgNode): Promise<[number, number]> {
  const crash = lab.crashPostgres(primary);
  if (crash.status !== 0) {
    throw new Error(`crash of ${primary.name}: ${crash.output}`);
  }
  const start = Date.now();
  let scriptMs = Number.NaN;
  const script = lab.runScriptAsync(replica, 'promote').then((result) => {
    scriptMs = Date.now() - start;
    return result;
  });
  let acceptedMs = Number.NaN;
  const accepted = await waitFor(async () => {
    const probe = await lab.sqlViaAsync(lab.dsn, 'insert into bench_probe default values returning host(inet_server_addr())', lab.client, 3_000);
    if (probe.status === 0 && probe.output === replica.ip) {
      acceptedMs = Date.now() - start;
      return true;
    }
    return false;
  }, 30_000, 50);
  const result = await script;
  if (result.status !== 0 || !accepted) {
    throw new Error(`promotion of ${replica.name}: ${accepted ? '' : 'the writer endpoint never accepted writes on it; '}${result.output}`);
  }
  return [acceptedMs, scriptMs];
}

/** The runbook's re-attach: clone the new primary onto the old one, then synchronous commit back on. */
async function reattach(lab: PostgresLab, oldPrimary: PgNode, newPrimary: PgNode): Promise<void> {
  const attached = lab.runScript(oldPrimary, 'replicaInit', ['--force']);
  if (attached.status !== 0) {
    throw new Error(`re-attaching ${oldPrimary.name}: ${attached.output}`);
  }
  lab.reenableSynchronousCommit(newPrimary);
  const synchronous = await waitFor(() => lab.sql(newPrimary, 'select sync_state from pg_stat_replication').output === 'quorum', 20_000, 100);
  const routed = await waitFor(() => lab.writerServerAddress() === newPrimary.ip, 20_000, 200);
  if (!synchronous || !routed) {
    throw new Error(`after re-attaching ${oldPrimary.name}: synchronous ${synchronous}, writer endpoint on ${newPrimary.name} ${routed}`);
  }
}

const maybe = isRoot() && version !== undefined ? test : test.skip;
maybe(`datastore benchmark (${REPS} failover cycles, median / max)`, async () => {
  const lab = new PostgresLab(version!);
  const lags: number[] = [];
  const cycleLags: number[] = [];
  const promotions: number[] = [];
  const scripts: number[] = [];
  try {
    await lab.provision();
    for (const sql of ['create table bench_lag (id integer primary key, at timestamptz default clock_timestamp())', 'create table bench_probe (id bigserial primary key)']) {
      const created = lab.sqlVia(lab.dsn, sql);
      if (created.status !== 0) {
        throw new Error(`${sql}: ${created.output}`);
      }
    }
    let [primary, replica] = lab.nodes;
    let id = 0;
    for (let rep = 0; rep < REPS; rep++) {
      const samples: number[] = [];
      for (let i = 0; i < LAG_SAMPLES; i++) {
        samples.push(await replicationLagMs(lab, primary, replica, ++id));
      }
      lags.push(...samples);
      cycleLags.push([...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]);
      const [accepted, script] = await promotionMs(lab, primary, replica);
      promotions.push(accepted);
      scripts.push(script);
      await reattach(lab, primary, replica);
      [primary, replica] = [replica, primary];
      process.stderr.write(`datastore bench: cycle ${rep + 1}/${REPS} done (promotion ${accepted} ms)\n`);
    }
  } finally {
    lab.stop();
  }
  const lines = [
    '| metric | median / max (ms) |',
    '|---|---|',
    `| replication lag, per-cycle medians (${LAG_SAMPLES} samples each) | ${stats(cycleLags)} |`,
    `| replication lag, all ${lags.length} samples | ${stats(lags)} |`,
    `| promotion: script start → writes accepted on the new primary | ${stats(promotions)} |`,
    `| promotion script duration | ${stats(scripts)} |`,
  ];
  process.stdout.write(`\ndatastore benchmark: PostgreSQL ${version}, synchronous commit, ${REPS} failover cycles\n${lines.join('\n')}\n`);
}, 4 * 3600_000);
