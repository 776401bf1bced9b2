import { readFileSync } from 'fs';
import { join } from 'path';
import { gunzipSync } from 'zlib';
import { SiteSpec, defineSite } from '../../constructs';
import { compareSyntheses, renderMetaData } from '../../constructs/tf';
import homelab from '../../sites/homelab';
import prod from '../../sites/prod';
import { resourcesByPath, synthSite } from '../support/synth';
import { StandinHome, TerraformJson, TerraformWorkdir, createReattachedStandinHome } from '../support/terraform-cli';
import { changedPaths, terraformActions, withoutProvisioners } from '../terraform/plan-table';

/**
 * Upgrading a running site to this version of the library: the seed sites as the previous version synthesized
 * them (fixtures: `git archive e1e7b2a`, built, `synthSite` of sites/prod and sites/homelab, gzipped) are applied
 * with the stand-in providers, then the current synthesis is planned against that state. The meta-data snippets
 * (ForceNew on a VM), the ignored container keys and template, the secrets trigger and the certificates' early
 * renewal must not replace or restart any machine; the converge steps run again, in rollout order.
 */
const fixture = (name: string): TerraformJson => JSON.parse(gunzipSync(new Uint8Array(readFileSync(join(__dirname, 'fixtures', `${name}-e1e7b2a.tf.json.gz`)))).toString('utf8'));
const MACHINES = /^proxmox_virtual_environment_(vm|container)\./;

describe.each([prod, homelab] as SiteSpec[])('$name: the previous version\'s applied state, planned with this version', (spec) => {
  let home: StandinHome;
  let workdir: TerraformWorkdir;
  let actions: Record<string, string>;
  let plan: TerraformJson;
  const before = fixture(spec.name);
  const after = synthSite(defineSite(spec)).json;

  beforeAll(async () => {
    home = await createReattachedStandinHome();
    workdir = await TerraformWorkdir.create(withoutProvisioners(before), { home, timeoutMs: 180_000 });
    await workdir.apply();
    workdir.setConfig(after);
    plan = await workdir.planJson(['-refresh=false']);
    actions = terraformActions(plan);
  }, 600_000);
  afterAll(() => {
    workdir?.dispose();
    home?.dispose();
  });

  test('the fixture is the previous version: no meta-data snippet, no secrets trigger', () => {
    expect(JSON.stringify(before)).not.toContain('meta_data_file_id');
    expect(JSON.stringify(before)).not.toContain('"secrets"');
    expect(JSON.stringify(after)).toContain('meta_data_file_id');
  });

  test('no machine is replaced or restarted; the VMs are updated in place only to migrate on a node change and to leave restarts to the rollout from now on', () => {
    expect(Object.entries(actions).filter(([address, action]) => MACHINES.test(address) && !(address.startsWith('proxmox_virtual_environment_vm.') && action === 'update'))).toEqual([]);
    const vmUpdates = (plan.resource_changes as { address: string; change: { actions: string[]; before: unknown; after: unknown; after_unknown?: unknown } }[])
      .filter((rc) => rc.address.startsWith('proxmox_virtual_environment_vm.') && rc.change.actions.join() === 'update');
    expect(vmUpdates).toHaveLength(Object.keys(after.resource.proxmox_virtual_environment_vm ?? {}).length);
    for (const rc of vmUpdates) {
      // `migrate` and `reboot_after_update` only tell the provider what to do on a later change (vm.go dvMigrate 109,
      // reboot_after_update 350-357): no API call, no restart.
      expect({ vm: rc.address, changed: changedPaths(rc.change.before, rc.change.after, rc.change.after_unknown).map((p) => p.join('.')) })
        .toEqual({ vm: rc.address, changed: ['migrate', 'reboot_after_update'] });
    }
  });

  test('the meta-data snippets are created, every converge step runs again, and the change report predicts it all', () => {
    const vms = Object.keys(after.resource.proxmox_virtual_environment_vm ?? {}).length;
    expect(Object.entries(actions).filter(([address, action]) => address.includes('_MetaData_') && action === 'create')).toHaveLength(vms);
    const steps = Object.entries(after.resource.terraform_data as Record<string, { input?: { files?: unknown } }>).filter(([, r]) => r.input?.files).map(([name]) => `terraform_data.${name}`);
    expect(steps.every((address) => actions[address] === 'replace')).toBe(true);
    const report = compareSyntheses(spec.name, before, after);
    expect(Object.fromEntries(report.resources.map((r) => [r.address, r.action]))).toEqual(actions);
    expect(report.problems).toEqual([]);
  });
});

describe('one cloud-init instance per machine generation', () => {
  const json = synthSite(defineSite(prod)).json;
  const vm = resourcesByPath(json, 'proxmox_virtual_environment_vm')['prod/k3s-prod-cp-01/Resource'];
  const metaData = resourcesByPath(json, 'proxmox_virtual_environment_file')['prod/k3s-prod-cp-01/MetaData'];

  test('the VM boots with a meta-data snippet of a fixed instance-id, whose later changes it ignores', () => {
    expect(metaData.source_raw).toEqual({ file_name: 'k3s-prod-cp-01-meta-data.yaml', data: 'instance-id: k3s-prod-cp-01-g0\nlocal-hostname: k3s-prod-cp-01\n' });
    expect(vm.initialization.meta_data_file_id).toMatch(/^\$\{proxmox_virtual_environment_file\.k3s-prod-cp-01_MetaData_[0-9A-F]+\.id\}$/);
    expect(vm.lifecycle.ignore_changes).toEqual(['initialization[0].user_data_file_id', 'initialization[0].meta_data_file_id']);
  });

  test('a configuration change keeps the instance-id; a generation bump is a new instance (and a new machine)', () => {
    const changed = synthSite(defineSite({ ...prod, versions: { ...prod.versions, k3s: 'v1.36.4+k3s1' } })).json;
    expect(resourcesByPath(changed, 'proxmox_virtual_environment_file')['prod/k3s-prod-cp-01/MetaData'].source_raw).toEqual(metaData.source_raw);
    expect(renderMetaData('k3s-prod-cp-01', 1)).toBe('instance-id: k3s-prod-cp-01-g1\nlocal-hostname: k3s-prod-cp-01\n');
    const rebuilt = synthSite(defineSite({ ...prod, hosts: prod.hosts.map((h) => (h.name === 'k3s-prod-cp-01' ? { ...h, generation: 1 } : h)) })).json;
    const report = compareSyntheses('prod', json, rebuilt);
    const actionOf = (path: string) => report.resources.find((r) => r.address.includes(path))?.action;
    expect(actionOf('k3s-prod-cp-01_MetaData_')).toBe('replace');
    expect(actionOf('proxmox_virtual_environment_vm.k3s-prod-cp-01_')).toBe('replace');
  });

  test('host keys of a VM that runs since before its meta-data survive a new instance (cloud-init keeps them)', () => {
    const script = (resourcesByPath(json, 'terraform_data')['prod/k3s-prod-cp-01/Converge/Resource'].provisioner as { file?: { content: string } }[]).find((p) => p.file)!.file!.content;
    expect(script).toContain("printf '%s' 'ssh_deletekeys: false\n' | install_file '/etc/cloud/cloud.cfg.d/90-proxmox-k3s-ha-identity.cfg'");
  });
});
