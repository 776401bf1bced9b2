import { defineSite } from '../../constructs';
import { etcdClientUrl } from '../../constructs/renderers';
import { markdownTable, medianMax, medianMaxOfRuns } from '../support/bench-stats';
import { DATASTORE_LEADER, DATASTORE_REPLICA, DatastoreLab, Generations, roles } from './postgres-lab';
import { startProbeLoop } from './probe-loop';
import { PG_WITNESS } from './rolling-site';

/**
 * `npm run bench:rolling` (with the other rolling benches): in one datastore lab (Patroni on pg-1 and pg-2, the etcd
 * witness on pg-witness, machines applied by the real Terraform CLI with the stand-in providers), pg-2 rebuilt
 * BENCH_REPS times (default 3), then the witness BENCH_REPS times, then the Patroni leader of the moment BENCH_REPS
 * times (its standby takes over), each a new generation, while a client writes through the writer endpoint every
 * 100 ms. Prints per scenario median / max of: writes acknowledged, failed, LOST (acknowledged but missing afterwards
 * on the leader), apply time, and the time from the guest's destroy to its member serving again (a PostgreSQL node:
 * streaming as the synchronous standby; witness: its new etcd member started).
 */
const REPS = Number(process.env.BENCH_REPS ?? 3);

/** One rebuild's numbers; `servingAfterMs` undefined when the member was not seen serving again. */
interface RebuildMeasure { acknowledged: number; failed: number; lost: number; applyMs: number; servingAfterMs: number | undefined }

/**
 * Polls `serving` every `everyMs` (at most 2400 times) until stopped, and once more when stopped; `stop` returns each
 * sample, so the caller finds when the member served again after its guest's destroy.
 */
function watchServing(serving: () => Promise<boolean>, everyMs: number) {
  const samples: { t: number; serving: boolean }[] = [];
  const sample = async () => {
    const t = Date.now();
    samples.push({ t, serving: await serving() });
  };
  const loop = startProbeLoop(sample, everyMs, 2400);
  return { stop: async () => { await loop.stop(); await sample(); return samples; } };
}

/** The first sample serving after one not serving, both after `destroyedAt`: the new member serving (ms after the destroy). */
function servingAgainAfter(samples: readonly { t: number; serving: boolean }[], destroyedAt: number): number | undefined {
  const after = samples.filter((s) => s.t >= destroyedAt);
  const down = after.findIndex((s) => !s.serving);
  const up = down < 0 ? undefined : after.slice(down).find((s) => s.serving);
  return up === undefined ? undefined : up.t - destroyedAt;
}

test(`datastore rebuilds with a writer running: ${DATASTORE_REPLICA} ${REPS} times, the etcd witness ${REPS} times, the leader ${REPS} times: median / max`, async () => {
  const lab = await DatastoreLab.start();
  const { run } = lab;
  const leaderEndpoint = etcdClientUrl(defineSite(lab.spec({})).postgres!.tls, lab.host(DATASTORE_LEADER).ip);
  /** Whether the leader's etcd lists `name` as a started member under another ID than `oldId` (from the client namespace). */
  const etcdMemberStarted = async (name: string, oldId: string) => {
    const { status, stdout } = await run.lab.runInClient(['etcdctl', '--endpoints', leaderEndpoint, '--dial-timeout=2s', '--command-timeout=3s', 'member', 'list'], {}, 8_000);
    return status === 0 && stdout.split('\n').some((line) => {
      const [id, state, memberName] = line.split(', ');
      return memberName === name && state === 'started' && id !== oldId;
    });
  };
  const memberId = async (name: string) => {
    const { stdout } = await run.lab.runInClient(['etcdctl', '--endpoints', leaderEndpoint, '--dial-timeout=2s', '--command-timeout=3s', 'member', 'list'], {}, 8_000);
    const id = stdout.split('\n').map((line) => line.split(', ')).find(([, , memberName]) => memberName === name)?.[0];
    expect({ member: name, id }).toEqual({ member: name, id: expect.stringMatching(/^[0-9a-f]+$/) });
    return id!;
  };
  const generations: Record<string, number> = {};
  try {
    const rows: string[][] = [];
    // The leader: the Patroni leader of the moment (pg-1 first, then whichever took over), its standby taking over.
    const LEADER_ROW = 'the leader';
    for (const scenario of [DATASTORE_REPLICA, PG_WITNESS.name, LEADER_ROW]) {
      const measures: RebuildMeasure[] = [];
      for (let i = 0; i < REPS; i++) {
        const leader = [...roles(run, lab.host(DATASTORE_REPLICA))].find(([, role]) => role === 'Leader')?.[0] ?? DATASTORE_LEADER;
        const standby = leader === DATASTORE_LEADER ? DATASTORE_REPLICA : DATASTORE_LEADER;
        const rebuilt = scenario === LEADER_ROW ? leader : scenario;
        const after = scenario === LEADER_ROW ? { leader: standby, replica: leader } : { leader, replica: standby };
        generations[rebuilt] = (generations[rebuilt] ?? 1) + 1;
        const oldId = await memberId(rebuilt);
        // A PostgreSQL node serves again once the leader streams WAL to it as the synchronous standby (read on the
        // leader, which holds the event loop for a moment each time: every 500 ms, as the wait after the apply); the
        // witness once its new etcd member started (asked from the client namespace, without holding it).
        const watch = rebuilt === PG_WITNESS.name
          ? () => watchServing(() => etcdMemberStarted(rebuilt, oldId), 250)
          : () => watchServing(async () => lab.replicationOf(after.replica, after.leader) === 'streaming|sync', 500);
        const { result, written, sideResult, events } = await lab.rebuild({ ...generations } as Generations, watch, after);
        expect({ status: result.status, tail: result.output.slice(-3000) }).toEqual({ status: 0, tail: expect.stringContaining('Apply complete!') });
        const destroyed = events.find((e) => e.event === 'destroy' && e.host === rebuilt);
        expect({ rebuilt, destroyed: destroyed !== undefined }).toEqual({ rebuilt, destroyed: true });
        const servingAfterMs = servingAgainAfter(sideResult!, destroyed!.t);
        const lost = await lab.lostWrites(written.acknowledged);
        const measure: RebuildMeasure = {
          acknowledged: written.acknowledged.length, failed: written.failed, lost: lost[after.leader].length, applyMs: result.ms, servingAfterMs,
        };
        console.log(`rebuild ${rebuilt} ${i + 1} (generation ${generations[rebuilt]}): ${JSON.stringify(measure)}, missing on ${after.replica}: ${lost[after.replica].length}`);
        measures.push(measure);
      }
      const serves = scenario === PG_WITNESS.name ? 'etcd member started' : 'replica streaming';
      const name = scenario === LEADER_ROW ? 'leader (pg-1 or pg-2)' : scenario;
      rows.push(
        [`${name}: writes acknowledged`, medianMax(measures.map((m) => m.acknowledged))],
        [`${name}: failed writes`, medianMax(measures.map((m) => m.failed))],
        [`${name}: LOST writes (acknowledged, missing on the leader after)`, medianMax(measures.map((m) => m.lost))],
        [`${name}: apply time (ms)`, medianMax(measures.map((m) => m.applyMs))],
        [`${name}: destroy to ${serves} (ms)`, medianMaxOfRuns(measures.map((m) => m.servingAfterMs))],
      );
    }
    console.log(markdownTable([`measure (${REPS} rebuilds each, writer through the writer endpoint)`, 'median / max'], rows));
  } finally {
    await lab.stop();
  }
}, 4 * 3600 * 1000);
