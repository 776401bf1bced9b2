import { predictResourceChanges, ruleFor } from '../../constructs/tf';

const VM = 'proxmox_virtual_environment_vm';
const vm = (extra: Record<string, unknown> = {}) => ({
  name: 'cp1', node_name: 'pve1', vm_id: 101, memory: { dedicated: 4096 }, cpu: { cores: 2 },
  disk: [{ interface: 'scsi0', import_from: '${proxmox_download_file.image.id}' }],
  initialization: { dns: { servers: ['10.0.0.2'] }, user_data_file_id: '${proxmox_virtual_environment_file.userdata.id}' },
  lifecycle: { ignore_changes: ['initialization[0].user_data_file_id'], replace_triggered_by: ['terraform_data.generation'] },
  ...extra,
});
const stack = (machine: Record<string, unknown>, others: Record<string, Record<string, unknown>> = {}) => ({
  resource: {
    [VM]: { cp1: machine },
    terraform_data: { generation: { input: { generation: 0 } }, converge: { input: { host: 'cp1' }, triggers_replace: { machine: `\${${VM}.cp1.id}` } } },
    proxmox_download_file: { image: { url: 'https://images.test/a.img', file_name: 'a.img', node_name: 'pve1' } },
    proxmox_virtual_environment_file: { userdata: { node_name: 'pve1', source_raw: { data: 'v1', file_name: 'cp1.yaml' } } },
    ...others,
  },
});
const actions = (changes: ReturnType<typeof predictResourceChanges>) => Object.fromEntries(changes.map((c) => [c.address, c.action]));

describe('the predicted plan of a stack change, from the provider behaviour rules', () => {
  const base = stack(vm());

  test('no change plans nothing', () => {
    expect(predictResourceChanges(base, stack(vm()))).toEqual([]);
  });

  test('memory and cores restart the VM (reboot_after_update defaults to true); with reboot_after_update = false they stay pending', () => {
    const [change] = predictResourceChanges(base, stack(vm({ memory: { dedicated: 8192 }, cpu: { cores: 4 } })));
    expect(change).toMatchObject({ address: `${VM}.cp1`, action: 'restart', changed: ['memory.dedicated', 'cpu.cores'] });
    expect(change.rules.map((rule) => rule.path).sort()).toEqual(['cpu', 'memory']);
    expect(actions(predictResourceChanges(base, stack(vm({ memory: { dedicated: 8192 }, reboot_after_update: false }))))[`${VM}.cp1`]).toBe('update');
  });

  test('a node change replaces the VM, and with migrate = true migrates it in place', () => {
    const moved = predictResourceChanges(base, stack(vm({ node_name: 'pve2' })));
    expect(actions(moved)).toEqual({ [`${VM}.cp1`]: 'replace', 'terraform_data.converge': 'replace' });
    const migrated = predictResourceChanges(base, stack(vm({ node_name: 'pve2', migrate: true })));
    expect(migrated.find((c) => c.address === `${VM}.cp1`)).toMatchObject({ action: 'update', migrates: true });
  });

  test('a new cloud image replaces the download but not the VM (import_from is ignored after creation)', () => {
    const next = stack(vm(), { proxmox_download_file: { image: { url: 'https://images.test/b.img', file_name: 'b.img', node_name: 'pve1' } } });
    expect(actions(predictResourceChanges(base, next))).toEqual({ 'proxmox_download_file.image': 'replace' });
  });

  test('new user data replaces the snippet; the VM ignores its file id (lifecycle.ignore_changes)', () => {
    const next = stack(vm(), { proxmox_virtual_environment_file: { userdata: { node_name: 'pve1', source_raw: { data: 'v2', file_name: 'cp1.yaml' } } } });
    expect(actions(predictResourceChanges(base, next))).toEqual({ 'proxmox_virtual_environment_file.userdata': 'replace' });
  });

  test('a raised generation replaces the VM through replace_triggered_by, and the converge step that references it', () => {
    const next = stack(vm(), { terraform_data: { generation: { input: { generation: 1 } }, converge: { input: { host: 'cp1' }, triggers_replace: { machine: `\${${VM}.cp1.id}` } } } });
    const changes = predictResourceChanges(base, next);
    expect(actions(changes)).toEqual({ 'terraform_data.generation': 'update', [`${VM}.cp1`]: 'replace', 'terraform_data.converge': 'replace' });
    expect(changes.find((c) => c.address === `${VM}.cp1`)!.trigger).toBe('replace_triggered_by terraform_data.generation');
  });

  test('a rotated variable and a -replace address change what references them', () => {
    const keyed = (key: string) => stack(vm(), { proxmox_virtual_environment_container: { lb: { node_name: 'pve1', initialization: { user_account: { keys: [key] } } } } });
    expect(actions(predictResourceChanges(keyed('${var.admin_ssh_public_key}'), keyed('${var.admin_ssh_public_key}'), { variables: ['admin_ssh_public_key'] })))
      .toEqual({ 'proxmox_virtual_environment_container.lb': 'replace' });
    const withSecret = stack(vm(), { random_password: { token: { length: 32 } }, terraform_data: { generation: { input: { generation: 0 } }, converge: { input: { token: '${sha256(random_password.token.result)}' } } } });
    expect(actions(predictResourceChanges(withSecret, withSecret, { replace: ['random_password.token'] })))
      .toEqual({ 'random_password.token': 'replace', 'terraform_data.converge': 'update' });
  });

  test('added and removed resources are created and destroyed; tls early_renewal_hours is the one in-place tls change', () => {
    const cert = (hours: number, validity = 8760) => ({ tls_self_signed_cert: { ca: { validity_period_hours: validity, early_renewal_hours: hours } } });
    expect(actions(predictResourceChanges(stack(vm(), cert(0)), stack(vm(), cert(720))))).toEqual({ 'tls_self_signed_cert.ca': 'update' });
    expect(actions(predictResourceChanges(stack(vm(), cert(0)), stack(vm(), cert(0, 17520))))).toEqual({ 'tls_self_signed_cert.ca': 'replace' });
    expect(actions(predictResourceChanges(stack(vm(), cert(0)), base))).toEqual({ 'tls_self_signed_cert.ca': 'destroy' });
    expect(actions(predictResourceChanges(base, stack(vm(), cert(0))))).toEqual({ 'tls_self_signed_cert.ca': 'create' });
  });

  test('the most specific rule wins: the container user account replaces, its DNS restarts, an unlisted attribute updates in place', () => {
    expect(ruleFor('proxmox_virtual_environment_container', ['initialization', 'user_account', 'keys'])?.effect).toBe('replace');
    expect(ruleFor('proxmox_virtual_environment_container', ['initialization', 'dns', 'servers'])?.effect).toBe('restart');
    expect(ruleFor(VM, ['initialization', 'user_data_file_id'])?.effect).toBe('replace');
    expect(ruleFor(VM, ['initialization', 'dns', 'servers'])?.effect).toBe('restart');
    expect(ruleFor(VM, ['description'])).toBeUndefined();
  });
});
