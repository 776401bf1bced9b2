// The stand-in bpg/proxmox model through the real Terraform CLI: apply a small baseline, change one attribute, and
// read the planned action from `terraform show -json`. One case per row of shared/providers/bpg-proxmox/BEHAVIOUR.md
// as the library's constructs/tf/provider-behaviour.ts states it.
import { TerraformJson, TerraformWorkdir, StandinHome, changesByAddress, createStandinHome } from '../support/terraform-cli';
import { describeWithTools } from '../support/tools';

const VM = 'proxmox_virtual_environment_vm.vm';
const CT = 'proxmox_virtual_environment_container.ct';
const SNIPPET = 'proxmox_virtual_environment_file.user_data';
const IMAGE = 'proxmox_download_file.image';
const TEMPLATE = 'proxmox_download_file.template';

/** Every key of the VM's network_device object: JSON syntax needs them all (bpg-proxmox/README.md). */
const NIC = { bridge: 'vmbr0', disconnected: null, enabled: null, firewall: null, mac_address: null, model: 'virtio', mtu: null, queues: null, rate_limit: null, trunks: null, vlan_id: null };

function baseline(): TerraformJson {
  return {
    terraform: { required_providers: { proxmox: { source: 'bpg/proxmox', version: '0.111.1' } } },
    provider: { proxmox: [{ endpoint: 'https://pve1.example.test:8006/', api_token: 'fake@pve!standin=not-a-secret' }] },
    resource: {
      proxmox_download_file: {
        image: { node_name: 'pve1', content_type: 'import', datastore_id: 'local', url: 'https://images.example.test/noble.qcow2', file_name: 'noble.qcow2', checksum: 'ab'.repeat(32), checksum_algorithm: 'sha256' },
        template: { node_name: 'pve1', content_type: 'vztmpl', datastore_id: 'local', url: 'https://images.example.test/ubuntu-24.04.tar.zst' },
      },
      proxmox_virtual_environment_file: {
        user_data: { node_name: 'pve1', datastore_id: 'local', content_type: 'snippets', source_raw: { data: '#cloud-config\nhostname: vm1\n', file_name: 'vm1.yaml' } },
      },
      proxmox_virtual_environment_vm: {
        vm: {
          node_name: 'pve1', name: 'vm1', vm_id: 101,
          cpu: { cores: 2 }, memory: { dedicated: 2048 },
          disk: [{ interface: 'scsi0', datastore_id: 'local-lvm', import_from: `\${${IMAGE}.id}`, size: 20 }],
          initialization: { user_data_file_id: `\${${SNIPPET}.id}`, ip_config: [{ ipv4: { address: '198.18.0.11/24', gateway: '198.18.0.1' } }] },
          network_device: [NIC],
        },
      },
      proxmox_virtual_environment_container: {
        ct: {
          node_name: 'pve1', vm_id: 201, unprivileged: true,
          operating_system: { template_file_id: `\${${TEMPLATE}.id}`, type: 'ubuntu' },
          initialization: { hostname: 'ct1', user_account: { keys: ['ssh-ed25519 AAAAfake standin@example'] } },
          memory: { dedicated: 512 }, disk: { datastore_id: 'local-lvm', size: 8 },
          network_interface: [{ name: 'eth0', bridge: 'vmbr0' }],
        },
      },
    },
  };
}

/** The baseline with one change made by `edit` on a copy. */
function changed(edit: (resource: TerraformJson) => void): TerraformJson {
  const config = baseline();
  edit(config.resource);
  return config;
}

describeWithTools(['terraform'], 'the bpg/proxmox stand-in through the Terraform CLI', () => {
  let home: StandinHome;
  let work: TerraformWorkdir;

  beforeAll(async () => {
    home = createStandinHome();
    work = await TerraformWorkdir.create(baseline(), { home });
    await work.apply();
  }, 180_000);

  afterAll(() => {
    work?.dispose();
    home?.dispose();
  });

  /** Plans `config` against the applied baseline → the actions per address. */
  async function actionsFor(config: TerraformJson): Promise<Record<string, string>> {
    work.setConfig(config);
    const changes = changesByAddress(await work.planJson());
    return Object.fromEntries(Object.entries(changes).map(([address, change]) => [address, change.change.actions.join('+')]));
  }

  const REPLACE = 'delete+create';

  describe('bpg/proxmox stand-in: state after apply', () => {
    test('the apply filled computed values deterministically (ids, MACs) and a second plan is a no-op', async () => {
      work.setConfig(baseline());
      const resources = (await work.stateJson()).values.root_module.resources as { address: string; values: TerraformJson }[];
      const values = Object.fromEntries(resources.map((r) => [r.address, r.values]));
      expect(values[VM]).toMatchObject({ id: '101', mac_addresses: [expect.stringMatching(/^BC:24:11(:[0-9A-F]{2}){3}$/)] });
      expect(values[VM].disk[0]).toMatchObject({ import_from: 'local:import/noble.qcow2', path_in_datastore: 'vm-101-disk-0' });
      expect(values[VM].initialization[0].user_data_file_id).toBe('local:snippets/vm1.yaml');
      expect(values[CT]).toMatchObject({ id: '201' });
      expect(values[CT].operating_system[0].template_file_id).toBe('local:vztmpl/ubuntu-24.04.tar.zst');
      expect(values[SNIPPET]).toMatchObject({ id: 'local:snippets/vm1.yaml', file_size: 28 });
      expect(Object.values(await actionsFor(baseline()))).toEqual(['no-op', 'no-op', 'no-op', 'no-op', 'no-op']);
    }, 60_000);
  });

  describe('bpg/proxmox stand-in: what a change plans (BEHAVIOUR.md)', () => {
    test.each<[string, (r: TerraformJson) => void, Record<string, string>]>([
      ['VM node_name → replace', (r) => { r.proxmox_virtual_environment_vm.vm.node_name = 'pve2'; }, { [VM]: REPLACE }],
      ['VM node_name with migrate = true → update in place (migration)', (r) => { Object.assign(r.proxmox_virtual_environment_vm.vm, { node_name: 'pve2', migrate: true }); }, { [VM]: 'update' }],
      ['VM vm_id → replace', (r) => { r.proxmox_virtual_environment_vm.vm.vm_id = 102; }, { [VM]: REPLACE }],
      ['VM initialization.user_data_file_id → replace', (r) => { r.proxmox_virtual_environment_vm.vm.initialization.user_data_file_id = 'local:snippets/other.yaml'; }, { [VM]: REPLACE }],
      ['VM disk import_from after create → no-op (ignored)', (r) => { r.proxmox_virtual_environment_vm.vm.disk[0].import_from = 'local:import/jammy.qcow2'; }, { [VM]: 'no-op' }],
      ['VM memory → update in place', (r) => { r.proxmox_virtual_environment_vm.vm.memory.dedicated = 4096; }, { [VM]: 'update' }],
      ['VM cpu cores → update in place', (r) => { r.proxmox_virtual_environment_vm.vm.cpu.cores = 4; }, { [VM]: 'update' }],
      ['container node_name → replace', (r) => { r.proxmox_virtual_environment_container.ct.node_name = 'pve2'; }, { [CT]: REPLACE }],
      ['container template_file_id → replace', (r) => { r.proxmox_virtual_environment_container.ct.operating_system.template_file_id = 'local:vztmpl/debian-12.tar.zst'; }, { [CT]: REPLACE }],
      ['container user_account keys → replace', (r) => { r.proxmox_virtual_environment_container.ct.initialization.user_account.keys = ['ssh-ed25519 AAAAother standin@example']; }, { [CT]: REPLACE }],
      ['container memory → update in place', (r) => { r.proxmox_virtual_environment_container.ct.memory.dedicated = 1024; }, { [CT]: 'update' }],
      ['file source_raw.data → replace, and the VM using its id with it', (r) => { r.proxmox_virtual_environment_file.user_data.source_raw.data = '#cloud-config\nhostname: vm1-new\n'; }, { [SNIPPET]: REPLACE, [VM]: REPLACE }],
      ['download url → replace (the VM ignores the new import_from)', (r) => { r.proxmox_download_file.image.url = 'https://images.example.test/noble-2.qcow2'; }, { [IMAGE]: REPLACE, [VM]: 'no-op' }],
      ['download checksum → replace', (r) => { r.proxmox_download_file.image.checksum = 'cd'.repeat(32); }, { [IMAGE]: REPLACE }],
      ['download file_name → replace', (r) => { r.proxmox_download_file.image.file_name = 'noble-2.qcow2'; }, { [IMAGE]: REPLACE }],
      ['download node_name → replace', (r) => { r.proxmox_download_file.image.node_name = 'pve2'; }, { [IMAGE]: REPLACE }],
      ['download datastore_id → replace', (r) => { r.proxmox_download_file.image.datastore_id = 'shared'; }, { [IMAGE]: REPLACE }],
      ['template download content_type → replace, and the container using it', (r) => { r.proxmox_download_file.template.content_type = 'import'; }, { [TEMPLATE]: REPLACE, [CT]: REPLACE }],
    ])('%s', async (_name, edit, expected) => {
      const actions = await actionsFor(changed(edit));
      const others = Object.keys(actions).filter((address) => !(address in expected));
      expect(Object.fromEntries(Object.keys(expected).map((address) => [address, actions[address]]))).toEqual(expected);
      expect(others.map((address) => [address, actions[address]])).toEqual(others.map((address) => [address, 'no-op']));
    }, 60_000);

    test('a replace names the attribute that forces it (replace_paths)', async () => {
      work.setConfig(changed((r) => { r.proxmox_virtual_environment_vm.vm.vm_id = 102; }));
      expect(changesByAddress(await work.planJson())[VM].change.replace_paths).toEqual([['vm_id']]);
    }, 60_000);
  });

  describe('bpg/proxmox stand-in: applying an update', () => {
    test('a memory change applies in place and logs the restart a real apply does; the next plan is a no-op', async () => {
      const config = changed((r) => { r.proxmox_virtual_environment_vm.vm.memory.dedicated = 3072; });
      work.setConfig(config);
      // The provider's stderr reaches Terraform's log only.
      const run = await work.run(['apply', '-input=false', '-lock=false', '-auto-approve'], { env: { TF_LOG: 'debug' } });
      expect(run.stdout).toContain('Resources: 0 added, 1 changed, 0 destroyed');
      expect(run.stderr).toContain('[stand-in bpg/proxmox] would restart guest vm1: memory');
      const next = await work.run(['plan', '-input=false', '-lock=false']);
      expect(next.stdout).toContain('No changes.');
    }, 120_000);

    test('with reboot_after_update = false the memory change is left pending: no restart during the apply', async () => {
      work.setConfig(changed((r) => { r.proxmox_virtual_environment_vm.vm.reboot_after_update = false; }));
      expect((await work.run(['apply', '-input=false', '-lock=false', '-auto-approve'])).stdout).toContain('1 changed');
      work.setConfig(changed((r) => {
        r.proxmox_virtual_environment_vm.vm.reboot_after_update = false;
        r.proxmox_virtual_environment_vm.vm.memory.dedicated = 6144;
      }));
      const run = await work.run(['apply', '-input=false', '-lock=false', '-auto-approve'], { env: { TF_LOG: 'debug' } });
      expect(run.stdout).toContain('Resources: 0 added, 1 changed, 0 destroyed');
      expect(run.stderr).toContain('[stand-in bpg/proxmox] would leave a restart pending for guest vm1: memory');
      expect(run.stderr).not.toContain('would restart guest');
    }, 120_000);
  });
});
