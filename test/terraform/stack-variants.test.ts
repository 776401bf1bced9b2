// Variants of a seed site's stack (SiteStack props) pass terraform init, validate and plan with the stand-in
// providers, and the plan creates exactly the resources of the JSON.
import { loadSites } from '../../sites';
import { StandinHome, createStandinHome } from '../support/terraform-cli';
import { describeWithTools } from '../support/tools';
import { expectPlanCreatesExactly, synthStack } from './stacks';

const lab = loadSites().find((site) => site.name === 'lab');

describeWithTools(['terraform'], 'stack variants through the Terraform CLI', () => {
  let home: StandinHome;

  beforeAll(() => {
    home = createStandinHome();
  });

  afterAll(() => home?.dispose());

  describe('stack variants through terraform init, validate and plan (stand-in providers)', () => {
    if (!lab) throw new Error('the seed site lab is missing');

    test('existingHosts: no Proxmox resource, every host converged over SSH', async () => {
      const actions = await expectPlanCreatesExactly(synthStack(lab, { existingHosts: true }), home);
      expect(Object.keys(actions).filter((address) => address.startsWith('proxmox_'))).toEqual([]);
      expect(Object.keys(actions).length).toBeGreaterThan(0);
    }, 120_000);

    test('secrets: "variables": no random_password, the secrets are sensitive variables', async () => {
      const json = synthStack(lab, { secrets: 'variables' });
      const actions = await expectPlanCreatesExactly(json, home);
      expect(Object.keys(actions).filter((address) => address.startsWith('random_'))).toEqual([]);
      expect(json.variable.k3s_token).toMatchObject({ sensitive: true });
    }, 120_000);

    test('unmanagedHosts: every host, so nothing is made or converged', async () => {
      const json = synthStack(lab, { unmanagedHosts: lab.hosts.map((host) => host.name) });
      const actions = await expectPlanCreatesExactly(json, home);
      expect(Object.keys(actions).filter((address) => /^proxmox_virtual_environment_(vm|container)\./.test(address))).toEqual([]);
    }, 120_000);
  });
});
