import { defineSite } from '../../constructs';
import { LOAD_BALANCERS } from '../failover/configs';
import { ProxmoxApiStandin } from '../support/proxmox-api-standin';
import { describeWithTools } from '../support/tools';
import { MachineRun } from './machine-lab';
import { actOutFirstBoot, vmSpec } from './vm-lab';

// A VM whose first boot never ends, applied by the real Terraform CLI: its converge step waits for cloud-init, and
// that wait has a deadline, so the apply fails in time with one line naming the host, the step and what it waited
// for; the hosts after it in the rollout are not touched. (A converge that hangs later: deadline.test.ts.)

/** A small first-boot deadline, so the hang is cut within the test. */
const FIRST_BOOT_SECONDS = 15;

describeWithTools(['sshd', 'terraform', 'haproxy', 'keepalived', 'ip', 'nsenter', 'unshare', 'ssh-keygen', 'curl', 'sudo', 'useradd', 'qemu-ga', 'cloud-init', 'timeout'],
  'no wait without a deadline, with the real Terraform CLI: a VM whose first boot never ends fails the apply in time, named', () => {
    let machines: MachineRun;
    const api = new ProxmoxApiStandin();
    afterAll(async () => {
      await machines?.stop();
      await api.stop();
    }, 60_000);

    test('lb-3 (first in the rollout) never finishes cloud-init: Terraform stops within the deadline naming lb-3 and the first boot; lb-2 and lb-1 are never converged', async () => {
      machines = await MachineRun.start();
      const { run } = machines;
      const endpoint = await api.start({ namespace: run.lab.client.namespace, https: true });
      const spec = vmSpec(run.loadBalancers, endpoint, Object.fromEntries(LOAD_BALANCERS.map((lb, i) => [lb.name, `pve${i + 1}`])));
      for (const host of run.loadBalancers.values()) {
        actOutFirstBoot(run.lab, host, defineSite(spec).access.adminUser, host.name === 'lb-3' ? 'running' : 'done');
      }
      machines.synthSpec(spec, { firstBootSeconds: FIRST_BOOT_SECONDS });
      await run.init();
      const result = await run.apply();
      process.stdout.write(`first boot never ends on lb-3: apply failed after ${result.ms} ms\n`);
      expect(result.status).not.toBe(0);
      expect(result.output).toMatch(new RegExp(`lb-3_Converge_[0-9A-F]+ \\(remote-exec\\): proxmox-k3s-ha: lb-3: first boot: gave up after ${FIRST_BOOT_SECONDS} s `
        + 'waiting for cloud-init\'s first boot to end \\(cloud-init status --wait; see /var/log/cloud-init-output.log\\)'));
      // The rollout stopped at lb-3: no later host was converged, nothing was configured there.
      expect(result.output).not.toMatch(/lb-[12]_Converge_[0-9A-F]+ \(remote-exec\)/);
      for (const name of ['lb-2', 'lb-1']) {
        expect({ name, haproxy: run.lab.readHostFile(run.loadBalancers.get(name)!, '/etc/haproxy/haproxy.cfg') ?? '' })
          .toEqual({ name, haproxy: expect.not.stringContaining('rolling-lab') });
      }
      expect(result.ms).toBeLessThan((FIRST_BOOT_SECONDS + 120) * 1000);
    }, 900_000);
  }, { needsRoot: true });
