import { readFileSync } from 'fs';
import { join } from 'path';
import { defineSite } from '../../constructs';
import { LOAD_BALANCERS } from '../failover/configs';
import { LAB_VIP } from '../failover/lab';
import { ProxmoxApiStandin } from '../support/proxmox-api-standin';
import { describeWithTools } from '../support/tools';
import { shellcheck } from '../support/validators';
import { MachineRun } from './machine-lab';
import { actOutFirstBoot, vmSpec } from './vm-lab';

// Moving a load balancer VM to another Proxmox node with the real Terraform CLI: a `proxmoxNode` change of a VM is a
// live migration (`migrate = true`, BEHAVIOUR.md: vm.go ForceNewIf 1781-1790, migration 7820-7836), which the
// stand-in bpg/proxmox acts out on the lab host (guest-hook.sh: the host keeps running). The VM's converge step asks
// the Proxmox API for pending changes first (proxmox-restart-pending.sh, run where Terraform runs): a stand-in of
// that API listens on loopback of the lab's client namespace, where Terraform runs.

describeWithTools(['sshd', 'terraform', 'haproxy', 'keepalived', 'ip', 'nsenter', 'unshare', 'ssh-keygen', 'curl', 'sudo', 'useradd', 'qemu-ga', 'shellcheck'],
  'machine moves with the real Terraform CLI: a load balancer VM migrated to another Proxmox node, the VIP served throughout', () => {
    let machines: MachineRun;
    const api = new ProxmoxApiStandin();
    let endpoint: string;
    // Where each load balancer runs; the tests move them one by one.
    const nodes: Record<string, string> = Object.fromEntries(LOAD_BALANCERS.map((lb, i) => [lb.name, `pve${i + 1}`]));

    beforeAll(async () => {
      const checked = shellcheck(readFileSync(join(__dirname, 'vm-first-boot.sh'), 'utf8'));
      expect({ ok: checked.ok, output: checked.output }).toEqual({ ok: true, output: '' });
      machines = await MachineRun.start();
      const { run } = machines;
      endpoint = await api.start({ namespace: run.lab.client.namespace, https: true });
      const spec = vmSpec(run.loadBalancers, endpoint, nodes);
      for (const host of run.loadBalancers.values()) {
        actOutFirstBoot(run.lab, host, defineSite(spec).access.adminUser);
      }
      machines.synthSpec(spec);
      await run.init();
      const first = await run.apply();
      expect({ status: first.status, tail: first.output.slice(-3000) }).toEqual({ status: 0, tail: expect.stringContaining('Apply complete!') });
      expect(machines.events().map((e) => `${e.event} ${e.host}`).sort()).toEqual(LOAD_BALANCERS.map((lb) => `create ${lb.name}`).sort());
      // Each VM's restart step asked the API stand-in for its pending changes (none: nothing rebooted).
      const vmIds = new Map(defineSite(spec).hosts.map((h) => [h.name, h.vmId]));
      expect(api.calls.map((call) => `${call.method} ${call.path}`).sort())
        .toEqual(LOAD_BALANCERS.map((lb) => `GET /api2/json/nodes/${nodes[lb.name]}/qemu/${vmIds.get(lb.name)}/pending`).sort());
      // lb-1 (highest VRRP priority) holds the VIP once the apply is done.
      expect(await run.lab.network.waitFor(() => run.lab.network.vipHolders([...run.loadBalancers.values()], LAB_VIP).join() === 'lb-1', 30_000)).toBe(true);
    }, 900_000);
    afterAll(async () => {
      await machines?.stop();
      await api.stop();
    }, 60_000);

    /** Moves `host` to `to`, applies with the probe through the VIP running, and checks the move was a migration. */
    async function move(host: string, to: string, expected: { applied: string; downloads: string[] }): Promise<void> {
      const { run } = machines;
      const from = nodes[host];
      nodes[host] = to;
      const spec = vmSpec(run.loadBalancers, endpoint, nodes);
      machines.synthSpec(spec);
      const callsBefore = api.calls.length;
      const observer = run.observe();
      const since = Date.now();
      const result = await run.apply();
      const seen = await observer.stop();
      process.stdout.write(`move ${host} (${from} → ${to}): apply ${result.ms} ms, probes ${seen.probes}, failed ${seen.failed}\n`);
      expect({ status: result.status, tail: result.output.slice(-3000) }).toEqual({ status: 0, tail: expect.stringContaining('Apply complete!') });
      // The VM is updated in place (migrated), never destroyed and created again. Its snippets follow it (a file's
      // `node_name` change replaces it: BEHAVIOUR.md, file.go 126-131), its converge step's inputs change in place,
      // and the cloud image is downloaded on a node that had no VM and removed from one left without any (dl.go 216-300).
      expect(result.output).toContain(`Apply complete! Resources: ${expected.applied}`);
      const actions = result.output.split('\n').map((line) => /^\s*# (\S+) (will be|must be) (.+)$/.exec(line)).filter((m): m is RegExpExecArray => m !== null)
        .map((m) => `${m[1].replace(/_[0-9A-F]{8}$/, '')} ${m[3]}`);
      expect(actions.sort()).toEqual([
        `proxmox_virtual_environment_vm.${host} updated in-place`,
        `terraform_data.${host}_Converge updated in-place`,
        `proxmox_virtual_environment_file.${host}_MetaData replaced`,
        `proxmox_virtual_environment_file.${host}_UserData replaced`,
        ...expected.downloads,
      ].sort());
      // A live migration restarts nothing: the converge step's inputs (the VM's node) change in place, its
      // provisioners, the restart step among them, run at creation only, so Proxmox is asked nothing.
      expect(api.calls.slice(callsBefore)).toEqual([]);
      expect(machines.events(since).map((e) => `${e.event} ${e.host}`)).toEqual([`migrate ${host}`]);
      expect(seen.probes).toBeGreaterThan(10);
      expect(seen.failed).toBe(0);
      // The VIP never moved: lb-1 held it throughout.
      expect(seen.holders).toEqual([['lb-1']]);
    }

    test('lb-2 (not the VIP holder) moves from pve2 to pve3: a live migration, no probe fails, the VIP stays', async () => {
      // pve2 is left without a VM: its cloud image goes.
      await move('lb-2', 'pve3', { applied: '2 added, 2 changed, 3 destroyed.', downloads: ['proxmox_download_file.CloudImage-pve2 destroyed'] });
    }, 900_000);

    test('lb-1 (the VIP holder) moves from pve1 to pve2: a live migration, no probe fails, the VIP stays; the next apply is a no-op', async () => {
      // pve2 gets a VM again (its cloud image is downloaded again) and pve1 is left without one.
      await move('lb-1', 'pve2', {
        applied: '3 added, 2 changed, 3 destroyed.',
        downloads: ['proxmox_download_file.CloudImage-pve1 destroyed', 'proxmox_download_file.CloudImage-pve2 created'],
      });
      const again = await machines.run.apply();
      expect(again.output).toContain('No changes.');
    }, 900_000);
  }, { needsRoot: true });
