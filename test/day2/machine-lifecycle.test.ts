import { defineSite } from '../../constructs';
import prod from '../../sites/prod';
import { resourcesByPath, synthSite } from '../support/synth';

describe('machines are never replaced by a configuration change', () => {
  const { json } = synthSite(defineSite(prod));
  const vm = resourcesByPath(json, 'proxmox_virtual_environment_vm')['prod/k3s-prod-cp-01/Resource'];
  const file = resourcesByPath(json, 'proxmox_virtual_environment_file')['prod/k3s-prod-cp-01/UserData'];

  test('the VM ignores changes of its user data file, which keeps one name', () => {
    expect(vm.lifecycle.ignore_changes).toEqual(['initialization[0].user_data_file_id', 'initialization[0].meta_data_file_id']);
    expect(file.source_raw.file_name).toBe('k3s-prod-cp-01-user-data.yaml');
  });

  test('a rebuild on purpose: the machine is replaced when its generation resource changes', () => {
    // A bare address: Terraform rejects an interpolation in lifecycle entries.
    expect(vm.lifecycle.replace_triggered_by).toEqual([expect.stringMatching(/^terraform_data\.k3s-prod-cp-01_Generation_[0-9A-F]+$/)]);
    const generation = resourcesByPath(json, 'terraform_data')['prod/k3s-prod-cp-01/Generation'];
    expect(generation.input).toEqual({ generation: 0 });
    const rebuilt = synthSite(defineSite({ ...prod, hosts: prod.hosts.map((h) => (h.name === 'k3s-prod-cp-01' ? { ...h, generation: 2 } : h)) })).json;
    expect(resourcesByPath(rebuilt, 'terraform_data')['prod/k3s-prod-cp-01/Generation'].input).toEqual({ generation: 2 });
    const container = resourcesByPath(json, 'proxmox_virtual_environment_container')['prod/k3s-prod-lb-01/Resource'];
    expect(container.lifecycle.replace_triggered_by).toEqual([expect.stringMatching(/^terraform_data\.k3s-prod-lb-01_Generation_[0-9A-F]+$/)]);
  });

  test('the converge step connects as the admin user to VMs and as root to containers, with the key from a sensitive variable', () => {
    const converge = resourcesByPath(json, 'terraform_data');
    expect(converge['prod/k3s-prod-cp-01/Converge/Resource'].connection).toEqual({ type: 'ssh', host: '192.168.0.201', user: 'k3sadmin', private_key: '${var.ssh_private_key}', timeout: '10m' });
    expect(converge['prod/k3s-prod-lb-01/Converge/Resource'].connection.user).toBe('root');
    expect(json.variable.ssh_private_key.sensitive).toBe(true);
    const provisioners = converge['prod/k3s-prod-cp-01/Converge/Resource'].provisioner as Record<string, { inline?: string[] }>[];
    expect(provisioners.map((p) => Object.keys(p)[0])).toEqual(['local-exec', 'remote-exec', 'file', 'remote-exec']);
    expect(provisioners[3]['remote-exec'].inline).toEqual(['sudo sh /home/k3sadmin/.proxmox-k3s-ha/converge.sh']);
  });

  test('the change record holds fingerprints, never file contents or secrets', () => {
    const record = resourcesByPath(json, 'terraform_data')['prod/k3s-prod-cp-01/Converge/Resource'].input;
    expect(Object.values(record.files).every((fp) => /^[0-9a-f]{12}$/.test(fp as string))).toBe(true);
    expect(JSON.stringify(record)).not.toContain('random_password');
  });
});
