import { SiteSpec } from '../../constructs';
import { LAB_VIP } from '../failover/lab';
import { markdownTable, medianMax } from '../support/bench-stats';
import { MachineRun } from './machine-lab';
import { rollingSiteSpec } from './rolling-site';

/**
 * `npm run bench:rolling` (with the other rolling benches): a load balancer container moved to another Proxmox node,
 * which is a rebuild (a new generation: the stand-in provider destroys it, wiping the lab host, and creates it
 * again; its converge step configures it), five times for lb-2 and five times for lb-1, the VIP holder, while a
 * client probes the VIP. Prints median / max of: failed probes, VIP moves, rebuild time (destroy to converged),
 * total apply time.
 */
const RUNS = 5;
const CHANGE = { extraServers: 0, healthCheckFall: 2 };
const NODES = ['pve1', 'pve2', 'pve3'];

test('a load balancer container moved (rebuilt) to another node, 5 times each for lb-2 and lb-1 (the VIP holder): median / max', async () => {
  const machines = await MachineRun.start();
  const { run } = machines;
  const placement = new Map<string, { proxmoxNode: string; generation: number }>();
  const synth = () => {
    const base: SiteSpec = rollingSiteSpec(run.loadBalancers, CHANGE);
    machines.synthSpec({ ...base, hosts: base.hosts.map((host) => ({ ...host, ...placement.get(host.name) })) });
  };
  const holdsVip = () => run.lab.network.waitFor(() => run.lab.network.vipHolders([...run.loadBalancers.values()], LAB_VIP).join() === 'lb-1', 30_000);
  try {
    synth();
    await run.init();
    expect((await run.apply()).status).toBe(0);
    expect(await holdsVip()).toBe(true);
    machines.expectRebuilds(true);
    const rows: string[][] = [];
    for (const host of ['lb-2', 'lb-1']) {
      const results: { failed: number; vipMoves: number; rebuildMs: number; totalMs: number }[] = [];
      for (let i = 0; i < RUNS; i++) {
        const current = placement.get(host) ?? { proxmoxNode: rollingSiteSpec(run.loadBalancers, CHANGE).hosts.find((h) => h.name === host)!.proxmoxNode, generation: 0 };
        placement.set(host, { proxmoxNode: NODES[(NODES.indexOf(current.proxmoxNode) + 1) % NODES.length], generation: current.generation + 1 });
        synth();
        const observer = run.observe();
        const since = Date.now();
        const applied = await run.apply();
        const seen = await observer.stop();
        expect(applied.status).toBe(0);
        const destroyed = machines.events(since).find((e) => e.event === 'destroy' && e.host === host)!.t;
        const converged = run.journal(since).filter((e) => e.host === host).map((e) => e.t).pop()!;
        console.log(`${host} move ${i + 1}: ${seen.failed} failed of ${seen.probes} probes, VIP holders ${JSON.stringify(seen.holders)}, apply ${applied.ms} ms`);
        results.push({ failed: seen.failed, vipMoves: seen.vipChanges.slice(1).filter((c) => c.holders.length === 1).length, rebuildMs: converged - destroyed, totalMs: applied.ms });
        // The next move starts with lb-1 holding the VIP again.
        expect(await holdsVip()).toBe(true);
      }
      const what = host === 'lb-1' ? 'lb-1 (VIP holder)' : host;
      rows.push(
        [`${what}: failed probes`, medianMax(results.map((r) => r.failed))],
        [`${what}: VIP moves`, medianMax(results.map((r) => r.vipMoves))],
        [`${what}: rebuild (ms, destroy to its last service call)`, medianMax(results.map((r) => r.rebuildMs))],
        [`${what}: total apply time (ms)`, medianMax(results.map((r) => r.totalMs))],
      );
    }
    console.log(markdownTable([`measure (${RUNS} moves of a load balancer container each)`, 'median / max'], rows));
  } finally {
    await machines.stop();
  }
}, 1_800_000);
