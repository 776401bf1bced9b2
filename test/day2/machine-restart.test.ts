import { spawn } from 'child_process';
import { HostKind, SiteSpec, defineSite } from '../../constructs';
import { compareSyntheses, formatChangeReport } from '../../constructs/tf';
import prod from '../../sites/prod';
import { ProxmoxApiStandin } from '../support/proxmox-api-standin';
import { logicalIdOf, resourcesByPath, synthSite } from '../support/synth';

// A VM's memory, cores or cloud-init network change is left pending by the provider (reboot_after_update = false)
// and restarted through Proxmox by the host's converge step, in its rollout slot, inside the drain of a K3s node.

const synth = (spec: SiteSpec) => synthSite(defineSite(spec)).json;
const withHosts = (spec: SiteSpec, hosts: SiteSpec['hosts']): SiteSpec => ({ ...spec, hosts });
const resized = (spec: SiteSpec, names: readonly string[]) => withHosts(spec, spec.hosts.map((h) => (names.includes(h.name)
  ? { ...h, size: { ...h.size, memoryMiB: (h.size?.memoryMiB ?? 4096) * 2 } } : h)));

type LocalExec = { 'local-exec': { command: string; environment: Record<string, string> } };
const prodJson = synth(prod);
const converges = (json: typeof prodJson) => resourcesByPath(json, 'terraform_data');
const restartStep = (json: typeof prodJson, host: string) => (converges(json)[`prod/${host}/Converge/Resource`].provisioner as LocalExec[])[0]['local-exec'];
const vms = prod.hosts.filter((h) => (h.kind ?? HostKind.VM) === HostKind.VM).map((h) => h.name);
const containers = prod.hosts.filter((h) => h.kind === HostKind.LXC).map((h) => h.name);

describe('machine changes restart VMs in their rollout slot, never in the provider', () => {
  test('the fixture has VMs and containers', () => {
    expect(vms.length).toBeGreaterThanOrEqual(3);
    expect(containers.length).toBeGreaterThanOrEqual(2);
  });

  test('every VM leaves restarts pending; its converge step restarts it through the API first, with the token from the sensitive variable', () => {
    const machines = resourcesByPath(prodJson, 'proxmox_virtual_environment_vm');
    for (const host of vms) {
      expect(machines[`prod/${host}/Resource`].reboot_after_update).toBe(false);
      const vmAddress = `proxmox_virtual_environment_vm.${logicalIdOf(prodJson, `prod/${host}/Resource`)}`;
      expect(restartStep(prodJson, host).environment).toEqual({
        PKH_HOST: host,
        PKH_PVE_ENDPOINT: defineSite(prod).proxmox.endpoint,
        // References: the step follows a migration to another node.
        PKH_PVE_NODE: `\${${vmAddress}.node_name}`,
        PKH_VM_ID: `\${${vmAddress}.vm_id}`,
        PKH_PVE_API_TOKEN: '${var.proxmox_api_token}',
        PKH_PVE_INSECURE: defineSite(prod).proxmox.insecureTls ? '1' : '0',
        PKH_WAIT_SECONDS: '900',
      });
    }
    expect(JSON.stringify(prodJson.variable.proxmox_api_token)).toContain('"sensitive":true');
  });

  test('a container\'s update (the provider restarts it itself) waits for the previous hosts of the rollout; its converge step gates it', () => {
    const machines = resourcesByPath(prodJson, 'proxmox_virtual_environment_container');
    const report = compareSyntheses('prod', prodJson, prodJson);
    const rolloutContainers = report.order.filter((host) => containers.includes(host));
    expect(rolloutContainers.length).toBe(containers.length);
    for (const host of containers) {
      const provisioners = converges(prodJson)[`prod/${host}/Converge/Resource`].provisioner as Record<string, unknown>[];
      expect(provisioners.map((p) => Object.keys(p)[0])).not.toContain('local-exec');
      expect(machines[`prod/${host}/Resource`].reboot_after_update).toBeUndefined();
      expect((converges(prodJson)[`prod/${host}/Converge/Resource`].triggers_replace as { restart?: string }).restart).toMatch(/^[0-9a-f]{12}$/);
      // Its machine update waits for the last step of the host before it in the rollout (which waited for its own).
      expect((machines[`prod/${host}/Resource`].depends_on ?? []).length).toBe(report.order.indexOf(host) === 0 ? 0 : 1);
    }
    const first = rolloutContainers[0];
    expect(machines[`prod/${first}/Resource`].depends_on ?? []).toEqual([]);
    const second = rolloutContainers[1];
    expect(machines[`prod/${second}/Resource`].depends_on).toEqual([`terraform_data.${logicalIdOf(prodJson, `prod/${first}/Converge/Resource`)}`]);
  });

  test('a memory change re-runs exactly that VM\'s converge step and its drain; a configuration change leaves the restart trigger alone', () => {
    const [host, other] = vms;
    const next = synth(resized(prod, [host]));
    const trigger = (json: typeof prodJson, name: string) => (converges(json)[`prod/${name}/Converge/Resource`].triggers_replace as { restart?: string }).restart;
    expect(trigger(next, host)).toMatch(/^[0-9a-f]{12}$/);
    expect(trigger(next, host)).not.toBe(trigger(prodJson, host));
    expect(trigger(next, other)).toBe(trigger(prodJson, other));
    const drainTrigger = (json: typeof prodJson, name: string) => (converges(json)[`prod/${name}-Drain/Drain`].triggers_replace as { restart: string }).restart;
    expect(drainTrigger(next, host)).not.toBe(drainTrigger(prodJson, host));
    expect(drainTrigger(next, other)).toBe(drainTrigger(prodJson, other));
    const upgraded = synth({ ...prod, versions: { ...prod.versions, k3s: defineSite(prod).versions.k3s.replace(/\+k3s(\d+)$/, (_, n) => `+k3s${Number(n) + 1}`) } });
    expect(trigger(upgraded, host)).toBe(trigger(prodJson, host));
  });

  test('an escape-hatch override restarts the machine in its slot when it changes what the guest restarts for, and only then', () => {
    const [vm] = vms;
    const [container] = containers;
    const withOverride = (host: string, path: string, value: unknown) => synthSite(defineSite(prod), (stack) => stack.hosts.get(host)!.machine!.resource.addOverride(path, value)).json;
    const trigger = (json: typeof prodJson, name: string) => (converges(json)[`prod/${name}/Converge/Resource`].triggers_replace as { restart?: string }).restart;
    // What the provider restarts a VM for (memory, a PCI device) and a container for (memory).
    for (const [host, path, value] of [[vm, 'memory.dedicated', 12288], [vm, 'hostpci', [{ device: 'hostpci0', id: '0000:01:00.0' }]], [container, 'memory.dedicated', 2048]] as const) {
      const next = withOverride(host, path, value);
      expect({ host, path, changed: trigger(next, host) !== trigger(prodJson, host) }).toEqual({ host, path, changed: true });
      expect(vms.concat(containers).filter((other) => other !== host && trigger(next, other) !== trigger(prodJson, other))).toEqual([]);
    }
    // Updated in place without a restart: the description of either, a container's cores.
    for (const [host, path, value] of [[vm, 'description', 'moved rack'], [container, 'description', 'moved rack'], [container, 'cpu.cores', 4]] as const) {
      expect({ host, path, trigger: trigger(withOverride(host, path, value), host) }).toEqual({ host, path, trigger: trigger(prodJson, host) });
    }
  });

  test('the change report lists the restart per host with its values, in rollout order, and finds nothing unsafe', () => {
    const servers = vms.slice(0, 3);
    const report = compareSyntheses('prod', prodJson, synth(resized(prod, servers)));
    expect(report.problems).toEqual([]);
    for (const host of servers) {
      const change = report.hosts.find((h) => h.host === host)!;
      expect(change.action).toBe('converge');
      expect(change.machine).toMatchObject({ action: 'update', restartsInRollout: true, values: [expect.stringMatching(/^memory\.(0\.)?dedicated \d+ → \d+$/)] });
    }
    const text = formatChangeReport('prod', report);
    expect(text).toMatch(new RegExp(`${servers[0]}: converge in place.* · machine: restart in its rollout slot: memory\\.(0\\.)?dedicated \\d+ → \\d+`));
    expect(text).toContain(`rollout order: ${report.order.filter((h) => servers.includes(h)).join(' → ')}`);
  });

  test('resizing the three load balancers (containers) restarts them in rollout order, the VIP holder last, and is safe', () => {
    const report = compareSyntheses('prod', prodJson, synth(resized(prod, containers)));
    expect(report.problems).toEqual([]);
    for (const host of containers) {
      expect(report.hosts.find((h) => h.host === host)!.machine).toMatchObject({ action: 'restart', restartsInRollout: true, values: ['memory.dedicated 512 → 1024'] });
    }
    const order = report.order.filter((h) => containers.includes(h));
    // lb-01 has the highest VRRP priority (the VIP's holder): the rollout takes it last.
    expect(order[order.length - 1]).toBe(defineSite(prod).hosts.filter((h) => containers.includes(h.name)).sort((a, b) => a.name.localeCompare(b.name))[0].name);
  });
});

/** The synthesized local-exec command (Terraform's template escapes undone) run as Terraform runs it: `/bin/sh -c`. */
function runRestartStep(endpoint: string, overrides: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  const step = restartStep(prodJson, vms[0]);
  const command = step.command.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    PKH_HOST: 'cp-05', PKH_PVE_ENDPOINT: endpoint, PKH_PVE_NODE: 'pve2', PKH_VM_ID: '205', PKH_PVE_INSECURE: '0', PKH_WAIT_SECONDS: '20',
    PKH_PVE_API_TOKEN: 'root@pam!terraform=00000000-aaaa-bbbb-cccc-restart-secret',
    ...overrides,
  };
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output });
    });
  });
}

describe('the restart step against a Proxmox API stand-in (the synthesized command, run by /bin/sh)', () => {
  let api: ProxmoxApiStandin;
  let endpoint: string;
  beforeEach(async () => {
    api = new ProxmoxApiStandin();
    endpoint = await api.start();
  });
  afterEach(() => api.stop());

  test('nothing pending: no reboot', async () => {
    const run = await runRestartStep(endpoint);
    expect(run).toEqual({ code: 0, output: 'proxmox-k3s-ha: cp-05: no pending machine change, no restart\n' });
    expect(api.calls.map((c) => c.method)).toEqual(['GET']);
  });

  test('pending memory and a pending delete: one reboot through the API, waited for, the token sent only as the header', async () => {
    api.pending = [{ key: 'memory', value: '4096', pending: '8192' }, { key: 'balloon', value: '0', delete: 1 }];
    const run = await runRestartStep(endpoint);
    expect(run.code).toBe(0);
    expect(run.output).toContain('pending machine changes (memory balloon ): rebooting through Proxmox');
    expect(run.output).toContain('cp-05: rebooted, the pending changes are applied');
    expect(api.calls.filter((c) => c.method === 'POST').map((c) => c.path)).toEqual(['/api2/json/nodes/pve2/qemu/205/status/reboot']);
    expect(new Set(api.calls.map((c) => c.authorization))).toEqual(new Set(['PVEAPIToken=root@pam!terraform=00000000-aaaa-bbbb-cccc-restart-secret']));
    expect(run.output).not.toContain('restart-secret');
  });

  test('a failed reboot task fails the step, naming the host, the VM and the task\'s status', async () => {
    api.pending = [{ key: 'cores', value: '2', pending: '4' }];
    api.taskOutcome = 'VM quit/powerdown failed - got timeout';
    const run = await runRestartStep(endpoint);
    expect(run.code).toBe(1);
    expect(run.output).toContain('proxmox-k3s-ha: cp-05 (VM 205 on pve2): restart through Proxmox: the reboot task ended with VM quit/powerdown failed - got timeout');
  });

  test('changes still pending after the reboot fail the step, naming them', async () => {
    api.pending = [{ key: 'memory', value: '4096', pending: '8192' }];
    api.keepPending = true;
    const run = await runRestartStep(endpoint);
    expect(run.code).toBe(1);
    expect(run.output).toContain('cp-05 (VM 205 on pve2): restart through Proxmox: changes are still pending after the reboot: memory');
  });

  test('a task that never ends fails the step at its deadline', async () => {
    api.pending = [{ key: 'memory', value: '4096', pending: '8192' }];
    api.taskOutcome = undefined;
    const started = Date.now();
    const run = await runRestartStep(endpoint, { PKH_WAIT_SECONDS: '3' });
    expect(run.code).toBe(1);
    expect(run.output).toContain('cp-05 (VM 205 on pve2): restart through Proxmox: gave up after 3 s waiting for the reboot task to end');
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  test('a refused token fails the step with what to check, without printing the token', async () => {
    api.rejectToken = true;
    const run = await runRestartStep(endpoint);
    expect(run.code).toBe(1);
    expect(run.output).toContain('restart through Proxmox: GET');
    expect(run.output).toContain('check the API token\'s VM.PowerMgmt and VM.Audit rights and the endpoint');
    expect(run.output).not.toContain('restart-secret');
  });
});
