// What the stand-in bpg/proxmox refuses, through the real Terraform CLI: Terraform's own schema check against the
// served schema, and the stand-in's errors for what it does not emulate (never a guess).
import { readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { StandinHome, TerraformJson, TerraformWorkdir, createStandinHome } from '../support/terraform-cli';
import { describeWithTools } from '../support/tools';

const PROVIDER = {
  terraform: { required_providers: { proxmox: { source: 'bpg/proxmox', version: '0.111.1' } } },
  provider: { proxmox: [{ endpoint: 'https://pve1.example.test:8006/', api_token: 'fake@pve!standin=not-a-secret' }] },
};

function config(resource: TerraformJson): TerraformJson {
  return { ...PROVIDER, resource };
}

const SNIPPET = { node_name: 'pve1', datastore_id: 'local', content_type: 'snippets', source_raw: { data: '#cloud-config\n', file_name: 'a.yaml' } };

describeWithTools(['terraform'], 'stand-in refusals through the Terraform CLI', () => {
  let home: StandinHome;
  const workdirs: TerraformWorkdir[] = [];

  async function workdir(resource: TerraformJson): Promise<TerraformWorkdir> {
    const work = await TerraformWorkdir.create(config(resource), { home });
    workdirs.push(work);
    return work;
  }

  beforeAll(() => {
    home = createStandinHome();
  });

  afterAll(() => {
    workdirs.forEach((work) => work.dispose());
    home?.dispose();
  });

  describe('bpg/proxmox stand-in refusals', () => {
    test('an attribute the schema does not have fails terraform validate', async () => {
      const work = await workdir({ proxmox_virtual_environment_file: { a: { ...SNIPPET, not_an_attribute: true } } });
      const run = await work.run(['validate'], { allowFailure: true });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/Extraneous JSON object property[\s\S]*No argument or block type is named "not_an_attribute"/);
    }, 60_000);

    test('a resource type of the schema without a model fails validate with the stand-in\'s error naming it', async () => {
      const work = await workdir({ proxmox_virtual_environment_hagroup: { g: { group: 'g1', nodes: { pve1: 1 } } } });
      const run = await work.run(['validate'], { allowFailure: true });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('the stand-in does not emulate resource type proxmox_virtual_environment_hagroup of registry.terraform.io/bpg/proxmox');
    }, 60_000);

    test('import is refused', async () => {
      const work = await workdir({ proxmox_virtual_environment_file: { a: SNIPPET } });
      const run = await work.run(['import', '-input=false', '-lock=false', 'proxmox_virtual_environment_file.a', 'local:snippets/a.yaml'], { allowFailure: true });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('the stand-in does not emulate import (terraform import / import blocks) of proxmox_virtual_environment_file "local:snippets/a.yaml"');
    }, 60_000);

    test('state in the legacy flatmap form is refused, not guessed', async () => {
      const work = await workdir({ proxmox_virtual_environment_file: { a: SNIPPET } });
      await work.apply();
      const stateFile = join(work.dir, 'terraform.tfstate');
      const state = JSON.parse(readFileSync(stateFile, 'utf8'));
      const instance = state.resources[0].instances[0];
      instance.attributes_flat = { id: instance.attributes.id, node_name: 'pve1', datastore_id: 'local' };
      delete instance.attributes;
      state.serial += 1;
      writeFileSync(stateFile, JSON.stringify(state));
      const run = await work.run(['plan', '-input=false', '-lock=false'], { allowFailure: true });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('proxmox_virtual_environment_file: the stand-in reads only JSON state, not the legacy flatmap format');
    }, 60_000);
  });
});
