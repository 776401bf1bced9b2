import { SiteSpec } from '../../constructs';
import { LAB_VIP } from '../failover/lab';
import { describeWithTools } from '../support/tools';
import { MachineRun, sharedVipSpans } from './machine-lab';
import { rollingSiteSpec } from './rolling-site';

// Moving a load balancer container to another Proxmox node: Proxmox cannot migrate a container live, so the move is
// an explicit rebuild (a new generation with the new node). The real Terraform CLI applies it with the stand-in
// bpg/proxmox provider, whose guest hook acts it out on the lab host: the destroy stops its real HAProxy and
// Keepalived and wipes its state (guest-destroy.sh), the create is a new machine at the same address, and the
// host's converge step configures it again, while a client probes the VIP.

const CHANGE = { extraServers: 0, healthCheckFall: 2 };
/** Each load balancer's node and generation, the rest as the rolling lab's site. */
type Placement = Record<string, { proxmoxNode?: string; generation?: number }>;

describeWithTools(['sshd', 'terraform', 'haproxy', 'keepalived', 'ip', 'nsenter', 'unshare', 'ssh-keygen', 'curl'],
  'moving a load balancer container with the real Terraform CLI: an explicit rebuild in its rollout slot, the VIP handed over', () => {
    let machines: MachineRun;
    const synth = (placement: Placement = {}) => {
      const base: SiteSpec = rollingSiteSpec(machines.run.loadBalancers, CHANGE);
      machines.synthSpec({ ...base, hosts: base.hosts.map((host) => ({ ...host, ...placement[host.name] })) });
    };
    const nodeOf = (name: string) => rollingSiteSpec(machines.run.loadBalancers, CHANGE).hosts.find((host) => host.name === name)!.proxmoxNode;

    beforeAll(async () => {
      machines = await MachineRun.start();
      synth();
      await machines.run.init();
      const first = await machines.run.apply();
      expect({ status: first.status, tail: first.output.slice(-3000) }).toEqual({ status: 0, tail: expect.stringContaining('Apply complete!') });
      // lb-1, configured last, preempts the VIP after the apply: measure from when it holds it.
      expect(await machines.run.lab.network.waitFor(() => machines.run.lab.network.vipHolders([...machines.run.loadBalancers.values()], LAB_VIP).join() === 'lb-1', 30_000)).toBe(true);
      machines.expectRebuilds(true);
    }, 900_000);
    afterAll(async () => {
      await machines?.stop();
    }, 60_000);

    /** Applies `placement`; returns the run's result, guest events and what the probe and the VIP watch saw. */
    async function move(placement: Placement) {
      const { run } = machines;
      synth(placement);
      const observer = run.observe();
      const since = Date.now();
      const result = await run.apply();
      const seen = await observer.stop();
      const events = machines.events(since).map((e) => `${e.event} ${e.host}`);
      const timeline = [
        ...machines.events(since).map((e) => ({ t: e.t, what: `${e.event} ${e.host}` })),
        ...seen.vipChanges.map((c) => ({ t: c.t, what: `VIP holders: ${c.holders.join(',') || 'none'}` })),
        ...seen.failures.map((f) => ({ t: f.t, what: `probe failed: ${f.error ?? `${f.ms} ms`}` })),
      ].sort((a, b) => a.t - b.t).map((e) => `  +${e.t - since} ms ${e.what}`);
      process.stdout.write(`move ${Object.keys(placement).join(', ')}: apply ${result.ms} ms, probes ${seen.probes}, failed ${seen.failed}, VIP moves ${seen.vipMoves}\n${timeline.join('\n')}\n`);
      return { result, seen, events };
    }

    test('lb-2 to another node: its container alone is destroyed and created again, converged, 0 failed probes, the VIP stays', async () => {
      const to = nodeOf('lb-2') === 'pve1' ? 'pve3' : 'pve1';
      const { result, seen, events } = await move({ 'lb-2': { proxmoxNode: to, generation: 1 } });
      expect({ status: result.status, tail: result.output.slice(-3000) }).toEqual({ status: 0, tail: expect.stringMatching(/Apply complete! Resources: \d+ added, \d+ changed, \d+ destroyed/) });
      expect(result.output).toMatch(/proxmox_virtual_environment_container\.lb-2_[^ ]+ will be replaced/);
      expect(events).toEqual(['destroy lb-2', 'destroy-done lb-2', 'create lb-2']);
      expect(result.output).toMatch(/\(remote-exec\): proxmox-k3s-ha: lb-2 converged/);
      expect(machines.run.lab.exec(machines.run.loadBalancers.get('lb-2')!, 'systemctl is-active haproxy && systemctl is-active keepalived')).toMatchObject({ status: 0 });
      expect({ probes: seen.probes > 50, failures: seen.failures, vipMoves: seen.vipMoves }).toEqual({ probes: true, failures: [], vipMoves: 0 });
      const again = await machines.run.apply();
      expect(again.output).toContain('Apply complete! Resources: 0 added, 0 changed, 0 destroyed');
    }, 900_000);

    test('lb-1, the VIP holder: it hands the VIP over before its container goes, takes it back once rebuilt; probes fail only at the move', async () => {
      const lb2Node = nodeOf('lb-2') === 'pve1' ? 'pve3' : 'pve1';
      const to = nodeOf('lb-1') === 'pve2' ? 'pve3' : 'pve2';
      const { result, seen, events } = await move({ 'lb-2': { proxmoxNode: lb2Node, generation: 1 }, 'lb-1': { proxmoxNode: to, generation: 1 } });
      expect({ status: result.status, tail: result.output.slice(-3000) }).toEqual({ status: 0, tail: expect.stringContaining('Apply complete!') });
      expect(events).toEqual(['destroy lb-1', 'destroy-done lb-1', 'create lb-1']);
      expect(machines.run.lab.daemonLog(machines.run.loadBalancers.get('lb-1')!, 'keepalived')).toMatch(new RegExp(`keepalived-handover: ${LAB_VIP.replace(/\./g, '\\.')} handed over\\n[\\s\\S]*$`));
      // The VIP ends on lb-1 again (it preempts once its HAProxy runs).
      // Two holders only for a moment of a handover (the next holder announces the VIP before the old one drops it).
      expect(sharedVipSpans(seen.vipChanges, Date.now()).filter((ms) => ms > 500)).toEqual([]);
      expect(await machines.run.lab.network.waitFor(() => machines.run.lab.network.vipHolders([...machines.run.loadBalancers.values()], LAB_VIP).join() === 'lb-1', 30_000)).toBe(true);
      // Only a connection in flight as the client switches to the new holder's MAC can fail: a few, at the move.
      expect(seen.probes).toBeGreaterThan(50);
      expect(seen.failures.filter((failure) => !seen.vipChanges.slice(1).some((change) => Math.abs(failure.t - change.t) <= 1_000))).toEqual([]);
      expect(seen.failed).toBeLessThanOrEqual(3);
    }, 900_000);
  }, { needsRoot: true });
