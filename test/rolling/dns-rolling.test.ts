import { describeWithTools } from '../support/tools';
import { startDnsProbe } from './dns-probe';
import { DNS_SERVERS, EXTRA_SERVERS, RollingRun, dnsSiteSpec, orderOf } from './rolling-site';

describeWithTools(['sshd', 'terraform', 'named', 'dig', 'ip', 'nsenter', 'unshare', 'ssh-keygen'],
  'rolling update with the real Terraform CLI: a zone change reaches both Bind9 servers, queries answered throughout', () => {
    let run: RollingRun;
    beforeAll(async () => {
      run = await RollingRun.start(DNS_SERVERS);
      run.synthSpec(dnsSiteSpec(run.loadBalancers, 0));
      await run.init();
      const first = await run.apply();
      if (first.status !== 0) {
        throw new Error(`first apply failed:\n${first.output}`);
      }
    }, 300_000);
    afterAll(async () => {
      await run?.stop();
    }, 60_000);

    test('adding a host: the primary reloads, then the secondary restarts; both serve the new record; no query unanswered', async () => {
      const probe = startDnsProbe(run.lab, DNS_SERVERS, 'api-1.lab.test');
      const since = Date.now();
      run.synthSpec(dnsSiteSpec(run.loadBalancers, 1));
      const result = await run.apply();
      const seen = await probe.stop();
      expect(result.status).toBe(0);
      const journal = run.journal(since);
      expect(orderOf(journal, 'reload-or-restart', 'named')).toEqual(['dns-1']);
      expect(orderOf(journal, 'restart', 'named')).toEqual(['dns-2']);
      const reloadAt = journal.find((e) => e.host === 'dns-1' && e.args[0] === 'reload-or-restart')!.t;
      const restartAt = journal.find((e) => e.host === 'dns-2' && e.args[0] === 'restart')!.t;
      expect(restartAt).toBeGreaterThan(reloadAt);
      for (const server of DNS_SERVERS) {
        const answer = run.lab.exec(run.loadBalancers.get(server.name)!, `dig +short +norec @${server.ip} api-4.lab.test A`);
        expect(answer.stdout.trim()).toBe(EXTRA_SERVERS[0].ip);
      }
      console.log(`DNS rollout: ${seen.rounds} query rounds, ${seen.unanswered} unanswered by both, failed per server ${JSON.stringify(seen.failedByServer)}`);
      expect(seen.rounds).toBeGreaterThan(10);
      expect(seen.unanswered).toBe(0);
      // The primary reloads without a gap; only the secondary's restart may miss a query or two.
      expect(seen.failedByServer['dns-1']).toBe(0);
    }, 600_000);
  }, { needsRoot: true });
