import { Testing, TerraformStack } from 'cdktf';
import { CloudConfig, proxmox, ProxmoxVm, ProxmoxVmProps } from '../../constructs';
import { TfJson } from '../support/synth';

function vmProps(overrides: Partial<ProxmoxVmProps> = {}): ProxmoxVmProps {
  return {
    name: 'node-1',
    nodeName: 'pve-a',
    vmId: 150,
    ipv4Cidr: '198.18.0.50/24',
    gateway: '198.18.0.1',
    dnsServers: ['198.18.0.2', '198.18.0.3'],
    dnsDomain: 'fixture.test',
    bridge: 'vmbr1',
    imageFileId: 'local:import/noble.qcow2',
    diskDatastoreId: 'fast-lvm',
    snippetsDatastoreId: 'snip',
    cloudConfig: new CloudConfig({ hostname: 'node-1', fqdn: 'node-1.fixture.test' }),
    ...overrides,
  };
}

function synthVm(props: ProxmoxVmProps, after?: (vm: ProxmoxVm) => void): { vm: TfJson; file: TfJson } {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'test');
  new proxmox.provider.ProxmoxProvider(stack, 'proxmox', {});
  const vm = new ProxmoxVm(stack, 'Vm', props);
  after?.(vm);
  const json = JSON.parse(Testing.synth(stack, true));
  return {
    vm: Object.values(json.resource.proxmox_virtual_environment_vm)[0] as TfJson,
    file: Object.entries(json.resource.proxmox_virtual_environment_file).find(([name]) => name.startsWith('Vm_UserData_'))![1] as TfJson,
  };
}

describe('ProxmoxVm', () => {
  test('defaults suit a K3s node: 2 cores, 4 GiB, 40 GB imported boot disk, guest agent, Linux, serial console', () => {
    const { vm } = synthVm(vmProps());
    expect(vm).toMatchObject({
      name: 'node-1', node_name: 'pve-a', vm_id: 150, on_boot: true, started: true, stop_on_destroy: false,
      agent: { enabled: true, trim: true },
      cpu: { cores: 2, type: 'x86-64-v2-AES' },
      memory: { dedicated: 4096 },
      operating_system: { type: 'l26' },
      scsi_hardware: 'virtio-scsi-single',
      serial_device: [{ device: 'socket' }],
    });
    expect(vm.disk).toEqual([{ interface: 'scsi0', datastore_id: 'fast-lvm', import_from: 'local:import/noble.qcow2', size: 40, discard: 'on', iothread: true, ssd: true }]);
  });

  test('static address, gateway and resolvers go into initialization; user data references the snippet', () => {
    const { vm, file } = synthVm(vmProps());
    expect(vm.initialization.ip_config).toEqual([{ ipv4: { address: '198.18.0.50/24', gateway: '198.18.0.1' } }]);
    expect(vm.initialization.dns).toEqual({ domain: 'fixture.test', servers: ['198.18.0.2', '198.18.0.3'] });
    expect(vm.initialization.datastore_id).toBe('fast-lvm');
    expect(vm.initialization.user_data_file_id).toMatch(/^\$\{proxmox_virtual_environment_file\.Vm_UserData_[0-9A-F]+\.id\}$/);
    expect(file).toMatchObject({ content_type: 'snippets', datastore_id: 'snip', node_name: 'pve-a' });
    expect(file.source_raw.file_name).toBe('node-1-user-data.yaml');
    expect(file.source_raw.data).toMatch(/^#cloud-config\nhostname: node-1\nfqdn: node-1\.fixture\.test\n/);
  });

  test('network_device carries every object key (null where unset), as Terraform JSON requires', () => {
    const { vm } = synthVm(vmProps({ vlanId: 30 }));
    expect(vm.network_device).toEqual([{
      bridge: 'vmbr1', disconnected: null, enabled: null, firewall: null, mac_address: null, model: 'virtio', mtu: null,
      queues: null, rate_limit: null, trunks: null, vlan_id: 30,
    }]);
    expect(synthVm(vmProps()).vm.network_device[0].vlan_id).toBeNull();
  });

  test('size, CPU type, tags and description can be overridden', () => {
    const { vm } = synthVm(vmProps({ cores: 6, memoryMiB: 12288, diskGiB: 120, cpuType: 'host', tags: ['zeta', 'alpha'], description: 'd' }));
    expect(vm.cpu).toEqual({ cores: 6, type: 'host' });
    expect(vm.memory).toEqual({ dedicated: 12288 });
    expect(vm.disk[0].size).toBe(120);
    expect(vm.tags).toEqual(['alpha', 'zeta']);
    expect(vm.description).toBe('d');
  });

  test('roles added after construction are rendered (user data is produced at synthesis)', () => {
    const { file } = synthVm(vmProps(), (vm) => vm.cloudConfig.addPackages('late-role', 'haproxy'));
    expect(file.source_raw.data).toContain('packages:\n  - haproxy\n');
  });

  test('changed user data keeps the snippet name and the VM ignores its user data reference: no replacement', () => {
    const before = synthVm(vmProps());
    const after = synthVm(vmProps(), (vm) => vm.cloudConfig.addCommand('r', 'echo changed'));
    expect(after.file.source_raw.file_name).toBe('node-1-user-data.yaml');
    expect(before.file.source_raw.file_name).toBe('node-1-user-data.yaml');
    expect(after.file.source_raw.data).not.toBe(before.file.source_raw.data);
    expect(after.vm.lifecycle.ignore_changes).toEqual(['initialization[0].user_data_file_id', 'initialization[0].meta_data_file_id']);
  });

  test('literal ${ and %{ in files are escaped for Terraform, while references stay interpolations', () => {
    const { file } = synthVm(vmProps(), (vm) => {
      vm.cloudConfig.addFile('r', { path: '/etc/x.sh', content: 'echo ${HOME} %{literal}\n' });
      vm.cloudConfig.addUser('r', { name: 'ops', sshAuthorizedKeys: ['${var.key}'] });
    });
    expect(file.source_raw.data).toContain('echo $${HOME} %%{literal}');
    // A plain string '${var.key}' is literal text, not a cdktf token: it is escaped too.
    expect(file.source_raw.data).toContain('$${var.key}');
  });
});
