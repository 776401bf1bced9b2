import { describeWithTools } from '../support/tools';
import { LOAD_BALANCERS } from '../failover/configs';
import { LAB_VIP } from '../failover/lab';
import { MachineRun } from './machine-lab';
import { RollingRun, STATS_PASSWORD, orderOf, rollingSiteSpec } from './rolling-site';

// The VIP holder (highest VRRP priority) is lb-1: the rollout goes lb-3, lb-2, then lb-1.
const ROLLOUT_ORDER = [...LOAD_BALANCERS].reverse().map((lb) => lb.name);
const ROTATED_STATS_PASSWORD = 'RotatedLabStats0nly';
const CHANGE = { extraServers: 0, healthCheckFall: 2 };

/** The hosts in the order Terraform printed their "converged" line. */
function convergedOrder(output: string): string[] {
  return [...output.matchAll(/\(remote-exec\): proxmox-k3s-ha: (\S+) converged/g)].map((match) => match[1]);
}

describeWithTools(['sshd', 'terraform', 'haproxy', 'keepalived', 'ip', 'nsenter', 'unshare', 'ssh-keygen', 'curl'],
  'rotation with the real Terraform CLI: a password and the admin key reach the three load balancer containers in rollout order, none replaced or restarted', () => {
    let machines: MachineRun;
    let run: RollingRun;
    /** The site with machines (the load balancers are containers the stack creates), and extra authorized keys. */
    const synth = (extraKeys: readonly string[] = []) => {
      const base = rollingSiteSpec(run.loadBalancers, CHANGE);
      machines.synthSpec({ ...base, access: { ...base.access, sshAuthorizedKeys: [...(base.access?.sshAuthorizedKeys ?? []), ...extraKeys] } });
    };
    beforeAll(async () => {
      machines = await MachineRun.start();
      run = machines.run;
      synth();
      await run.init();
      const first = await run.apply();
      expect({ status: first.status, tail: first.output.slice(-3000) }).toEqual({ status: 0, tail: expect.stringContaining('Apply complete!') });
      // lb-1, configured last, preempts the VIP after the apply: the rotation starts once it holds it, so a probe
      // cut by that first move is not counted against the rotation.
      expect(await run.lab.network.waitFor(() => run.lab.network.vipHolders([...run.loadBalancers.values()], LAB_VIP).join() === 'lb-1', 30_000)).toBe(true);
    }, 600_000);
    afterAll(async () => {
      await machines?.stop();
    }, 60_000);

    test('a rotated password re-converges every host that uses it, one at a time in order, 0 failed probes; it never shows', async () => {
      const observer = run.observe();
      const since = Date.now();
      const result = await run.apply({ TF_VAR_haproxy_stats_password: ROTATED_STATS_PASSWORD });
      const seen = await observer.stop();
      expect(result.status).toBe(0);
      expect(result.output).toContain('Apply complete! Resources: 3 added, 0 changed, 3 destroyed');
      expect(orderOf(run.journal(since), 'reload-or-restart', 'haproxy')).toEqual(ROLLOUT_ORDER);
      for (const host of run.loadBalancers.values()) {
        expect(run.lab.readHostFile(host, '/etc/haproxy/haproxy.cfg')).toContain(`stats auth admin:${ROTATED_STATS_PASSWORD}`);
      }
      expect(result.output).not.toContain(ROTATED_STATS_PASSWORD);
      expect(result.output).not.toContain(STATS_PASSWORD);
      expect(seen.failed).toBe(0);
      // The containers were neither replaced nor restarted: only their converge steps ran again.
      expect(machines.events(since)).toEqual([]);
      // Nothing changed since: the next apply does nothing.
      const again = await run.apply({ TF_VAR_haproxy_stats_password: ROTATED_STATS_PASSWORD });
      expect(again.output).toContain('Apply complete! Resources: 0 added, 0 changed, 0 destroyed');
    }, 600_000);

    test('the admin key: first both keys, then only the new one; every host re-converges in order, the old key is refused', async () => {
      const next = run.lab.makeKeyPair('rotated_ed25519');
      const variables = { TF_VAR_haproxy_stats_password: ROTATED_STATS_PASSWORD };
      // 1. The new key as an extra key: every host accepts both (Terraform still logs in with the old one).
      const since = Date.now();
      synth([next.publicKey]);
      const both = await run.apply(variables);
      expect(both.status).toBe(0);
      expect(convergedOrder(both.output)).toEqual(ROLLOUT_ORDER);
      for (const host of run.loadBalancers.values()) {
        expect(run.lab.readHostFile(host, '/root/.ssh/authorized_keys')).toBe(`${run.lab.publicKey}\n${next.publicKey}\n`);
      }
      // 2. The new key is the admin key, Terraform logs in with it, the extra key goes: only the new key is left.
      synth();
      const rotated = await run.apply({ ...variables, TF_VAR_admin_ssh_public_key: next.publicKey, TF_VAR_ssh_private_key: next.privateKey });
      expect(rotated.status).toBe(0);
      expect(rotated.output).toContain('Apply complete! Resources: 3 added, 0 changed, 3 destroyed');
      expect(convergedOrder(rotated.output)).toEqual(ROLLOUT_ORDER);
      for (const host of run.loadBalancers.values()) {
        expect(run.lab.readHostFile(host, '/root/.ssh/authorized_keys')).toBe(`${next.publicKey}\n`);
        expect(run.lab.ssh(host, 'true', { identityFile: next.privateKeyFile })).toMatchObject({ status: 0 });
        const old = run.lab.ssh(host, 'true');
        expect(old.status).toBe(255);
        expect(old.stderr).toContain('Permission denied (publickey)');
      }
      // A container's keys are ForceNew in the provider (BEHAVIOUR.md): the stack ignores them after creation and the
      // converge step writes authorized_keys, so no container was replaced or restarted for the new key.
      expect(machines.events(since)).toEqual([]);
      for (const secret of [run.lab.privateKey, next.privateKey]) {
        expect(rotated.output).not.toContain(secret.split('\n')[1]);
      }
    }, 900_000);
  }, { needsRoot: true });
