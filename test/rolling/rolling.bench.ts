import { LAB_VIP } from '../failover/lab';
import { markdownTable, medianMax } from '../support/bench-stats';
import { RollingRun, orderOf } from './rolling-site';

/**
 * `npm run bench:rolling`: five load-balancer rollouts through the real Terraform CLI (each changes a check on all
 * three hosts) while a client probes the VIP. Prints median / max of: failed probes, VIP moves, time per host (from
 * one host's HAProxy reload to the next one's), total apply time.
 */
const RUNS = 5;

test('rolling update of three load balancers: median / max of 5', async () => {
  const run = await RollingRun.start();
  try {
    run.synth({ extraServers: 0, healthCheckFall: 2 });
    await run.init();
    expect((await run.apply()).status).toBe(0);
    // The first start ends with lb-1 preempting the VIP a few seconds later: measure rollouts only from then on.
    expect(await run.lab.network.waitFor(() => run.lab.network.vipHolders([...run.loadBalancers.values()], LAB_VIP).join() === 'lb-1', 30_000)).toBe(true);
    const results: { failed: number; vipMoves: number; perHostMs: number; totalMs: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      run.synth({ extraServers: i % 2 === 0 ? 1 : 0, healthCheckFall: 3 + i });
      const observer = run.observe();
      const since = Date.now();
      const applied = await run.apply();
      const seen = await observer.stop();
      expect(applied.status).toBe(0);
      const reloads = orderOf(run.journal(since), 'reload-or-restart', 'haproxy')
        .map((host) => run.journal(since).find((e) => e.host === host && e.args[0] === 'reload-or-restart')!.t);
      console.log(`run ${i + 1}: ${seen.failed} failed of ${seen.probes} probes, VIP holders ${JSON.stringify(seen.holders)}, apply ${applied.ms} ms`);
      results.push({ failed: seen.failed, vipMoves: seen.vipMoves, perHostMs: (reloads[reloads.length - 1] - reloads[0]) / (reloads.length - 1), totalMs: applied.ms });
    }
    console.log(markdownTable([`measure (${RUNS} rollouts of 3 load balancers)`, 'median / max'], [
      ['failed probes', medianMax(results.map((r) => r.failed))],
      ['VIP moves', medianMax(results.map((r) => r.vipMoves))],
      ['time per host (ms, reload to next reload)', medianMax(results.map((r) => r.perHostMs))],
      ['total apply time (ms)', medianMax(results.map((r) => r.totalMs))],
    ]));
  } finally {
    await run.stop();
  }
}, 1_800_000);
