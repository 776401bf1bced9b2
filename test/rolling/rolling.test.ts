import { describeWithTools } from '../support/tools';
import { LOAD_BALANCERS } from '../failover/configs';
import { K3S_API_SERVER_PORT } from '../../constructs/renderers';
import { LAB_VIP } from '../failover/lab';
import { EXTRA_SERVERS, RollingRun, STATS_PASSWORD, orderOf } from './rolling-site';

// The VIP holder (highest VRRP priority) is lb-1: the rollout goes lb-3, lb-2, then lb-1.
const ROLLOUT_ORDER = [...LOAD_BALANCERS].reverse().map((lb) => lb.name);

describeWithTools(['sshd', 'terraform', 'haproxy', 'keepalived', 'ip', 'nsenter', 'unshare', 'ssh-keygen', 'curl'],
  'rolling update with the real Terraform CLI: three load balancers converge in place, one at a time', () => {
    let run: RollingRun;
    beforeAll(async () => {
      run = await RollingRun.start();
      run.synth({ extraServers: 0, healthCheckFall: 2 });
      await run.init();
    }, 120_000);
    afterAll(async () => {
      await run?.stop();
    }, 60_000);

    test('the first apply configures the three hosts in rollout order; the VIP holder ends with the VIP', async () => {
      const since = Date.now();
      const result = await run.apply();
      expect(result.output).toContain('Apply complete! Resources: 3 added');
      expect(result.status).toBe(0);
      expect(orderOf(run.journal(since), 'reload-or-restart', 'haproxy')).toEqual(ROLLOUT_ORDER);
      expect(result.output).not.toContain(STATS_PASSWORD);
      expect(run.lab.readHostFile(run.loadBalancers.get('lb-1')!, '/etc/haproxy/haproxy.cfg')).toContain(`stats auth admin:${STATS_PASSWORD}`);
      expect(await run.lab.network.waitFor(() => run.lab.network.vipHolders([...run.loadBalancers.values()], LAB_VIP).join() === 'lb-1', 30_000)).toBe(true);
    }, 600_000);

    test('adding a backend and changing a check: reloads one host at a time in order, 0 failed probes, the VIP never moves', async () => {
      run.synth({ extraServers: 1, healthCheckFall: 3 });
      const observer = run.observe();
      const since = Date.now();
      const result = await run.apply();
      const seen = await observer.stop();
      expect(result.status).toBe(0);
      expect(result.output).toContain('Apply complete! Resources: 3 added, 0 changed, 3 destroyed');
      const journal = run.journal(since);
      // HAProxy reloads (never restarts); Keepalived's file did not change, so it is left alone.
      expect(orderOf(journal, 'reload-or-restart', 'haproxy')).toEqual(ROLLOUT_ORDER);
      expect(journal.filter((e) => e.args[0] === 'restart' || e.args.includes('keepalived') && e.args[0] !== 'is-active')).toEqual([]);
      for (const host of run.loadBalancers.values()) {
        const config = run.lab.readHostFile(host, '/etc/haproxy/haproxy.cfg')!;
        // The new API server, on K3s's API port (the backends' port, not the frontend's).
        expect(config).toContain(`server ${EXTRA_SERVERS[0].name} ${EXTRA_SERVERS[0].ip}:${K3S_API_SERVER_PORT}`);
        expect(config).toContain(' fall 3 ');
      }
      expect(seen.probes).toBeGreaterThan(20);
      expect(seen.failed).toBe(0);
      expect(seen.vipMoves).toBe(0);
      expect(seen.holders).toEqual([['lb-1']]);
      expect(result.output).not.toContain(STATS_PASSWORD);
    }, 600_000);

    test('a host whose HAProxy cannot start stops the rollout there: later hosts stay unchanged, the message names the host', async () => {
      const lb2 = run.loadBalancers.get('lb-2')!;
      // A broken HAProxy binary on lb-2 only (its own mount namespace): its configuration check fails.
      const broken = run.lab.exec(lb2, 'mount --bind /bin/false /usr/sbin/haproxy');
      expect(broken.status).toBe(0);
      run.synth({ extraServers: 1, healthCheckFall: 4 });
      const result = await run.apply();
      expect(result.status).not.toBe(0);
      expect(result.output).toMatch(/lb-2_[0-9A-F]+ \(remote-exec\): proxmox-k3s-ha: configuration FAILED at step \d+\/\d+: if pkh_pending/);
      expect(run.lab.readHostFile(run.loadBalancers.get('lb-3')!, '/etc/haproxy/haproxy.cfg')).toContain(' fall 4 ');
      expect(run.lab.readHostFile(run.loadBalancers.get('lb-1')!, '/etc/haproxy/haproxy.cfg')).toContain(' fall 3 ');
      expect(result.output).not.toMatch(/lb-1_[0-9A-F]+ \(remote-exec\)/);
      run.lab.exec(lb2, 'umount /usr/sbin/haproxy');
    }, 600_000);

    test('once the cause is fixed, the next apply finishes the rollout: the change still pending on lb-2 is reloaded, then lb-1', async () => {
      // lb-2's haproxy.cfg was rewritten before its check failed: only the ledger of pending changes knows it was not taken.
      expect(run.lab.readHostFile(run.loadBalancers.get('lb-2')!, '/etc/haproxy/haproxy.cfg')).toContain(' fall 4 ');
      expect(run.lab.readHostFile(run.loadBalancers.get('lb-2')!, '/var/lib/proxmox-k3s-ha/pending-changes')).toBe('/etc/haproxy/haproxy.cfg\n');
      const since = Date.now();
      const result = await run.apply();
      expect(result.status).toBe(0);
      expect(orderOf(run.journal(since), 'reload-or-restart', 'haproxy')).toEqual(['lb-2', 'lb-1']);
      expect(run.lab.readHostFile(run.loadBalancers.get('lb-1')!, '/etc/haproxy/haproxy.cfg')).toContain(' fall 4 ');
      expect(run.lab.readHostFile(run.loadBalancers.get('lb-2')!, '/var/lib/proxmox-k3s-ha/pending-changes')).toBe('');
    }, 600_000);
  }, { needsRoot: true });
