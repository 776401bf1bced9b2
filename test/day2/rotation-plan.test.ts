import { defineSite } from '../../constructs';
import homelab from '../../sites/homelab';
import { synthSite } from '../support/synth';
import { StandinHome, TerraformJson, TerraformWorkdir, changesByAddress, createReattachedStandinHome } from '../support/terraform-cli';
import { withoutProvisioners } from '../terraform/plan-table';

/**
 * A rotation planned by the real Terraform CLI (stand-in providers) against homelab's applied state: a generated
 * password replaced and the admin key rotated. The converge steps that use them are replaced (so they run again),
 * and nothing secret shows in the plan, neither in `terraform show -json` of the converge steps nor in the plan text.
 */
const ROTATED_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIRotatedKeyOfTheRotationTest rotation@test';

describe('rotating secrets and the admin key, planned by Terraform', () => {
  let home: StandinHome;
  let workdir: TerraformWorkdir;
  let secrets: string[];
  let plan: TerraformJson;
  let planText: string;
  const json = synthSite(defineSite(homelab)).json;
  const passwordAddress = `random_password.${Object.keys(json.resource.random_password).find((name) => name.startsWith('Datastore_ReplicationPassword_'))}`;
  const convergeOf = (host: string) => `terraform_data.${Object.keys(json.resource.terraform_data).find((name) => name.startsWith(`${host}_Converge_`))}`;

  beforeAll(async () => {
    home = await createReattachedStandinHome();
    workdir = await TerraformWorkdir.create(withoutProvisioners(json), { home, timeoutMs: 180_000 });
    await workdir.apply();
    // Every generated secret of the applied state: passwords, the token, private keys.
    const state = await workdir.stateJson();
    const resources = state.values.root_module.resources as { type: string; values: Record<string, unknown> }[];
    secrets = resources.flatMap((resource) => (resource.type === 'random_password' ? [resource.values.result as string]
      : resource.type === 'tls_private_key' ? [resource.values.private_key_pem as string] : []));
    const args = ['plan', '-input=false', '-lock=false', '-refresh=false', '-out=rotation.tfplan', `-replace=${passwordAddress}`];
    planText = (await workdir.run(args, { env: { TF_VAR_admin_ssh_public_key: ROTATED_KEY } })).stdout;
    plan = JSON.parse((await workdir.run(['show', '-json', 'rotation.tfplan'])).stdout);
  }, 600_000);
  afterAll(() => {
    workdir?.dispose();
    home?.dispose();
  });

  test('the secrets were found in the state (the checks below can fail)', () => {
    expect(secrets.length).toBeGreaterThanOrEqual(8);
    expect(secrets.every((secret) => secret.length >= 16)).toBe(true);
  });

  test('every converge step is replaced: the admin key is on every host, the password on the datastore nodes', () => {
    const changes = changesByAddress(plan);
    for (const host of ['cp1', 'cp2', 'cp3', 'pg-node-1', 'pg-node-2']) {
      expect({ host, actions: changes[convergeOf(host)]?.change.actions }).toEqual({ host, actions: ['delete', 'create'] });
      // Only the secrets trigger changed: the configuration's fingerprint and the machine are the same.
      const { before, after } = changes[convergeOf(host)].change as { before: { triggers_replace: Record<string, string> }; after: { triggers_replace: Record<string, string> } };
      expect({ ...after.triggers_replace, secrets: 'x' }).toEqual({ ...before.triggers_replace, secrets: 'x' });
      expect(after.triggers_replace.secrets).not.toBe(before.triggers_replace.secrets);
    }
    // Machines are not touched by a rotation.
    expect(Object.values(changes).filter((c) => c.type.startsWith('proxmox_virtual_environment_vm') && c.change.actions.join() !== 'no-op')).toEqual([]);
  });

  test('the trigger holds a SHA-256, never a value, and Terraform marks it sensitive', () => {
    const change = changesByAddress(plan)[convergeOf('cp1')].change as unknown as {
      before: { triggers_replace: { secrets: string } }; after: { triggers_replace: { secrets: string } };
      before_sensitive: { triggers_replace?: { secrets?: boolean } }; after_sensitive: { triggers_replace?: { secrets?: boolean } };
    };
    expect(change.before.triggers_replace.secrets).toMatch(/^[0-9a-f]{64}$/);
    expect(change.after.triggers_replace.secrets).toMatch(/^[0-9a-f]{64}$/);
    expect(change.after.triggers_replace.secrets).not.toBe(change.before.triggers_replace.secrets);
    expect(change.before_sensitive.triggers_replace?.secrets).toBe(true);
    expect(change.after_sensitive.triggers_replace?.secrets).toBe(true);
  });

  test('no secret appears in the converge steps of `terraform show -json` nor in the plan output', () => {
    const steps = JSON.stringify(Object.values(changesByAddress(plan)).filter((c) => c.type === 'terraform_data'));
    for (const secret of secrets) {
      // The PEM's body line, or the password: either would be the secret in plain text.
      const needle = secret.includes('\n') ? secret.split('\n')[1] : secret;
      expect(steps.includes(needle)).toBe(false);
      expect(planText.includes(needle)).toBe(false);
    }
    expect(planText).toMatch(/secrets\s+=\s+\(sensitive value\)/);
  });
});
