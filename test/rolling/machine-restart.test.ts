import { readFileSync } from 'fs';
import { join } from 'path';
import { LOAD_BALANCERS } from '../failover/configs';
import { LAB_VIP } from '../failover/lab';
import { describeWithTools } from '../support/tools';
import { shellcheck } from '../support/validators';
import { MachineRun, sharedVipSpans } from './machine-lab';

// Resizing the three load balancers (containers) of a site with machines: the stand-in bpg/proxmox provider acts
// out each container's restart on its lab host (guest-hook.sh: a clean reboot of the host's real HAProxy and
// Keepalived), and the real Terraform CLI must order them by the rollout: one at a time, each gated by its converge
// step before the next, the VIP holder last (which hands the VIP over before it stops), while a client probes the VIP.

// The VIP holder (highest VRRP priority) is lb-1: the rollout goes lb-3, lb-2, then lb-1.
const ROLLOUT_ORDER = [...LOAD_BALANCERS].reverse().map((lb) => lb.name);
describeWithTools(['sshd', 'terraform', 'haproxy', 'keepalived', 'ip', 'nsenter', 'unshare', 'ssh-keygen', 'curl', 'shellcheck'],
  'machine restarts with the real Terraform CLI: three load balancer containers resized, restarted in rollout order', () => {
    let machines: MachineRun;

    beforeAll(async () => {
      for (const script of ['guest-hook.sh', 'guest-reboot.sh', 'guest-destroy.sh']) {
        const checked = shellcheck(readFileSync(join(__dirname, script), 'utf8'));
        expect({ script, ok: checked.ok, output: checked.output }).toEqual({ script, ok: true, output: '' });
      }
      machines = await MachineRun.start();
      const { run } = machines;
      machines.synth(512);
      await run.init();
      const first = await run.apply();
      expect({ status: first.status, tail: first.output.slice(-3000) }).toEqual({ status: 0, tail: expect.stringContaining('Apply complete!') });
      expect(machines.events().map((e) => `${e.event} ${e.host}`).sort()).toEqual(ROLLOUT_ORDER.map((host) => `create ${host}`).sort());
      // lb-1, configured last, preempts the VIP after the apply: measure from when it holds it.
      expect(await run.lab.network.waitFor(() => run.lab.network.vipHolders([...run.loadBalancers.values()], LAB_VIP).join() === 'lb-1', 30_000)).toBe(true);
    }, 900_000);
    afterAll(async () => {
      await machines?.stop();
    }, 60_000);

    test('each container restarts in its rollout slot: one at a time, its converge step (gates) between it and the next, the VIP holder last, handing the VIP over', async () => {
      const { run } = machines;
      machines.synth(1024);
      const observer = run.observe();
      const since = Date.now();
      const result = await run.apply();
      const seen = await observer.stop();
      const timeline = [
        ...machines.events(since).map((e) => ({ t: e.t, what: `${e.event} ${e.host}` })),
        ...seen.vipChanges.map((c) => ({ t: c.t, what: `VIP holders: ${c.holders.join(',') || 'none'}` })),
        ...seen.failures.map((f) => ({ t: f.t, what: `probe failed: ${f.error ?? `${f.ms} ms`}` })),
      ].sort((a, b) => a.t - b.t).map((e) => `  +${e.t - since} ms ${e.what}`);
      process.stdout.write(`resize of three load balancers: ${seen.probes} probes, ${seen.failed} failed, ${seen.vipMoves} VIP moves, apply ${result.ms} ms\n${timeline.join('\n')}\n`);
      expect({ status: result.status, tail: result.output.slice(-3000) }).toEqual({ status: 0, tail: expect.stringContaining('Apply complete! Resources: 3 added, 3 changed, 3 destroyed') });

      const events = machines.events(since);
      expect(events.filter((e) => e.event === 'restart').map((e) => e.host)).toEqual(ROLLOUT_ORDER);
      const journal = run.journal(since);
      for (let i = 0; i < ROLLOUT_ORDER.length; i++) {
        const host = ROLLOUT_ORDER[i];
        const done = events.find((e) => e.event === 'restart-done' && e.host === host)!;
        const next = events.find((e) => e.event === 'restart' && e.host === ROLLOUT_ORDER[i + 1]);
        // One at a time: the next restart begins after this one is done, and after this host's converge step ran
        // (its gates call systemctl on the host) in between.
        expect(done).toBeDefined();
        if (next) {
          expect(next.t).toBeGreaterThan(done.t);
        }
        const gated = journal.filter((entry) => entry.host === host && entry.t > done.t && (!next || entry.t < next.t));
        expect({ host, converged: gated.length > 0 }).toEqual({ host, converged: true });
      }
      // The VIP ends where it began.
      // Two holders only for a moment of a handover (the next holder announces the VIP before the old one drops it).
      expect(sharedVipSpans(seen.vipChanges, Date.now()).filter((ms) => ms > 500)).toEqual([]);
      expect(seen.holders[seen.holders.length - 1]).toEqual(['lb-1']);
      // Only the holder's restart moves the VIP, both times in its slot: away before its Keepalived stops (the
      // handover: a preemption by lb-2 while lb-1 still holds the address and serves), back when it preempts again.
      const holderSlot = { from: events.find((e) => e.event === 'restart' && e.host === 'lb-1')!.t, to: events.find((e) => e.event === 'restart-done' && e.host === 'lb-1')!.t + 10_000 };
      // (The watch may see the address on no host, or on both, for a moment between the holders: part of a move.)
      const changes = seen.vipChanges.slice(1);
      expect(changes.filter((change) => change.holders.length === 1).length).toBeLessThanOrEqual(2);
      expect(changes.filter((change) => change.t < holderSlot.from || change.t > holderSlot.to)).toEqual([]);
      expect(run.lab.daemonLog(run.loadBalancers.get('lb-1')!, 'keepalived')).toContain(`keepalived-handover: ${LAB_VIP} handed over`);
      // The two other restarts fail no probe. At the holder's moves only a connection in flight as the client
      // switches to the new holder's MAC can fail (the new holder does not know it): a few, within a second of a move.
      expect(seen.probes).toBeGreaterThan(100);
      expect(seen.failures.filter((failure) => !changes.some((change) => Math.abs(failure.t - change.t) <= 1_000))).toEqual([]);
      expect(seen.failed).toBeLessThanOrEqual(3);

      const again = await run.apply();
      expect(again.output).toContain('Apply complete! Resources: 0 added, 0 changed, 0 destroyed');
    }, 900_000);
  }, { needsRoot: true });
