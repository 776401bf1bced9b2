import { describeWithTools } from '../support/tools';
import { RollingRun, rollingSiteSpec } from './rolling-site';

const CHANGE = { extraServers: 0, healthCheckFall: 2 };
/** A small converge deadline for the run, so a hang is cut within the test. */
const CONVERGE_SECONDS = 20;

describeWithTools(['sshd', 'terraform', 'haproxy', 'keepalived', 'ip', 'nsenter', 'unshare', 'ssh-keygen', 'curl', 'timeout'],
  'no wait without a deadline, with the real Terraform CLI: a host whose converge hangs fails the apply in time, named', () => {
    let run: RollingRun;
    beforeAll(async () => {
      run = await RollingRun.start();
      run.synthSpec(rollingSiteSpec(run.loadBalancers, CHANGE), { convergeSeconds: CONVERGE_SECONDS });
      await run.init();
      const first = await run.apply();
      expect(first.status).toBe(0);
    }, 600_000);
    afterAll(async () => {
      await run?.stop();
    }, 60_000);

    test('HAProxy hangs on lb-2: Terraform stops within the deadline with one line naming lb-2, the step and what it waited for; lb-1 stays untouched', async () => {
      const lb2 = run.loadBalancers.get('lb-2')!;
      // HAProxy's configuration check on lb-2 never returns (its own mount namespace only).
      run.lab.exec(lb2, 'printf \'#!/bin/sh\\nsleep 600\\n\' > /run/hanging-haproxy && chmod 0755 /run/hanging-haproxy');
      expect(run.lab.exec(lb2, 'mount --bind /run/hanging-haproxy /usr/sbin/haproxy')).toMatchObject({ status: 0 });
      run.synthSpec(rollingSiteSpec(run.loadBalancers, { ...CHANGE, healthCheckFall: 3 }), { convergeSeconds: CONVERGE_SECONDS });
      const result = await run.apply();
      run.lab.exec(lb2, 'umount /usr/sbin/haproxy');
      expect(result.status).not.toBe(0);
      expect(result.output).toMatch(new RegExp(`lb-2_[0-9A-F]+ \\(remote-exec\\): proxmox-k3s-ha: lb-2: converge: gave up after ${CONVERGE_SECONDS} s waiting for the converge script \\(files, services, health gates\\) to finish`));
      // lb-3 converged before, lb-1 was never reached; the whole apply took the deadline and little more.
      expect(run.lab.readHostFile(run.loadBalancers.get('lb-3')!, '/etc/haproxy/haproxy.cfg')).toContain(' fall 3 ');
      expect(run.lab.readHostFile(run.loadBalancers.get('lb-1')!, '/etc/haproxy/haproxy.cfg')).toContain(' fall 2 ');
      expect(result.output).not.toMatch(/lb-1_[0-9A-F]+ \(remote-exec\)/);
      expect(result.ms).toBeLessThan((CONVERGE_SECONDS + 60) * 1000);
    }, 600_000);
  }, { needsRoot: true });
