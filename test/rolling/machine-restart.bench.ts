import { LAB_VIP } from '../failover/lab';
import { markdownTable, medianMax } from '../support/bench-stats';
import { MachineRun } from './machine-lab';

/**
 * `npm run bench:rolling` (with rolling.bench.ts): five resizes of the three load balancer containers through the
 * real Terraform CLI, each container restarted by the stand-in provider (a clean reboot of the lab host) in its
 * rollout slot, while a client probes the VIP. Prints median / max of: failed probes, VIP moves, time per host (from
 * one restart to the next), total apply time.
 */
const RUNS = 5;

test('resize of three load balancer containers, restarted in rollout order: median / max of 5', async () => {
  const machines = await MachineRun.start();
  const { run } = machines;
  const holdsVip = () => run.lab.network.waitFor(() => run.lab.network.vipHolders([...run.loadBalancers.values()], LAB_VIP).join() === 'lb-1', 30_000);
  try {
    machines.synth(512);
    await run.init();
    expect((await run.apply()).status).toBe(0);
    expect(await holdsVip()).toBe(true);
    const results: { failed: number; vipMoves: number; perHostMs: number; totalMs: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      machines.synth(1024 + 256 * i);
      const observer = run.observe();
      const since = Date.now();
      const applied = await run.apply();
      const seen = await observer.stop();
      expect(applied.status).toBe(0);
      const restarts = machines.events(since).filter((e) => e.event === 'restart').map((e) => e.t);
      expect(restarts).toHaveLength(3);
      console.log(`run ${i + 1}: ${seen.failed} failed of ${seen.probes} probes, VIP holders ${JSON.stringify(seen.holders)}, apply ${applied.ms} ms`);
      results.push({
        failed: seen.failed, vipMoves: seen.vipChanges.slice(1).filter((c) => c.holders.length === 1).length,
        perHostMs: (restarts[restarts.length - 1] - restarts[0]) / (restarts.length - 1), totalMs: applied.ms,
      });
      // The next resize starts with lb-1 holding the VIP again.
      expect(await holdsVip()).toBe(true);
    }
    console.log(markdownTable([`measure (${RUNS} resizes of 3 load balancer containers)`, 'median / max'], [
      ['failed probes', medianMax(results.map((r) => r.failed))],
      ['VIP moves', medianMax(results.map((r) => r.vipMoves))],
      ['time per host (ms, restart to next restart)', medianMax(results.map((r) => r.perHostMs))],
      ['total apply time (ms)', medianMax(results.map((r) => r.totalMs))],
    ]));
  } finally {
    await machines.stop();
  }
}, 1_800_000);
