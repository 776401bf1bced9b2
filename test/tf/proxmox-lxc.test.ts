import { TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { CloudConfig, proxmox, ProxmoxLxc, ProxmoxLxcProps } from '../../constructs';
import { TfJson } from '../support/synth';

function synthLxc(overrides: Partial<ProxmoxLxcProps> = {}, after?: (lxc: ProxmoxLxc) => void): { ct: TfJson; provision: TfJson; json: TfJson } {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'test');
  new proxmox.provider.ProxmoxProvider(stack, 'proxmox', {});
  const key = new TerraformVariable(stack, 'private_key', { type: 'string', sensitive: true });
  const lxc = new ProxmoxLxc(stack, 'Lb', {
    name: 'lb-1',
    nodeName: 'pve-a',
    vmId: 200,
    ipv4Cidr: '198.18.0.31/24',
    gateway: '198.18.0.1',
    dnsServers: ['198.18.0.2'],
    dnsDomain: 'fixture.test',
    bridge: 'vmbr0',
    templateFileId: 'local:vztmpl/ubuntu-24.04.tar.zst',
    diskDatastoreId: 'local-lvm',
    sshAuthorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKtest op@example'],
    sshPrivateKey: key.stringValue,
    cloudConfig: new CloudConfig({ hostname: 'lb-1', fqdn: 'lb-1.fixture.test' }),
    ...overrides,
  });
  after?.(lxc);
  const json = JSON.parse(Testing.synth(stack, true));
  return {
    ct: Object.values(json.resource.proxmox_virtual_environment_container)[0] as TfJson,
    provision: Object.values(json.resource.terraform_data).find((d) => (d as TfJson).provisioner) as TfJson,
    json,
  };
}

describe('ProxmoxLxc', () => {
  test('defaults: unprivileged, nesting only, small, static address, root keys', () => {
    const { ct } = synthLxc();
    expect(ct).toMatchObject({
      node_name: 'pve-a', vm_id: 200, unprivileged: true, start_on_boot: true, started: true,
      features: { nesting: true },
      operating_system: { template_file_id: 'local:vztmpl/ubuntu-24.04.tar.zst', type: 'ubuntu' },
      cpu: { cores: 1 },
      memory: { dedicated: 512, swap: 0 },
      disk: { datastore_id: 'local-lvm', size: 8 },
      network_interface: [{ name: 'eth0', bridge: 'vmbr0' }],
    });
    expect(ct.initialization).toEqual({
      hostname: 'lb-1',
      ip_config: [{ ipv4: { address: '198.18.0.31/24', gateway: '198.18.0.1' } }],
      dns: { domain: 'fixture.test', servers: ['198.18.0.2'] },
      user_account: { keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKtest op@example'] },
    });
  });

  test('a role can ask for more features and a privileged container; VLAN tag on the NIC', () => {
    const { ct } = synthLxc({ features: { keyctl: true }, unprivileged: false, vlanId: 20, cores: 2, memoryMiB: 1024 });
    expect(ct.features).toEqual({ keyctl: true, nesting: true });
    expect(ct.unprivileged).toBe(false);
    expect(ct.network_interface).toEqual([{ name: 'eth0', bridge: 'vmbr0', vlan_id: 20 }]);
    expect(ct.cpu.cores).toBe(2);
  });

  test('the provisioning script is uploaded and run over SSH with the private key from a sensitive variable', () => {
    const { provision, json } = synthLxc({}, (lxc) => lxc.cloudConfig.addPackages('load-balancer', 'haproxy'));
    expect(provision.connection).toEqual({ type: 'ssh', host: '198.18.0.31', user: 'root', private_key: '${var.private_key}', timeout: '10m' });
    expect(json.variable.private_key.sensitive).toBe(true);
    const [prepare, upload, run] = provision.provisioner;
    expect(prepare['remote-exec'].inline).toEqual(['umask 077 && mkdir -p /root/.proxmox-k3s-ha && chmod 0700 /root/.proxmox-k3s-ha']);
    expect(upload.file.destination).toBe('/root/.proxmox-k3s-ha/converge.sh');
    expect(upload.file.content).toMatch(/^#!\/bin\/sh\n/);
    expect(upload.file.content).toContain("  apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confold 'haproxy'");
    expect(run['remote-exec'].inline).toEqual(['sh /root/.proxmox-k3s-ha/converge.sh']);
    expect(provision.depends_on).toEqual([expect.stringMatching(/^proxmox_virtual_environment_container\.Lb_[0-9A-F]{8}$/)]);
  });

  test('a changed script changes the trigger, so it re-runs on the existing container', () => {
    const a = synthLxc().provision.triggers_replace.configuration;
    const b = synthLxc({}, (lxc) => lxc.cloudConfig.addCommand('r', 'true')).provision.triggers_replace.configuration;
    expect(a).toMatch(/^[0-9a-f]{12}$/);
    expect(b).not.toBe(a);
  });
});
