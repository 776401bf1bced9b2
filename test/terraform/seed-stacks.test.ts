// The five seed sites' stacks, synthesized in-process, pass terraform init, validate and plan with the stand-in
// providers, and the plan creates exactly the resources of the JSON.
import { loadSites } from '../../sites';
import { StandinHome, createStandinHome } from '../support/terraform-cli';
import { describeWithTools } from '../support/tools';
import { expectPlanCreatesExactly, synthStack } from './stacks';

const SITES = new Map(loadSites().map((site) => [site.name, site]));

describeWithTools(['terraform'], 'seed stacks through the Terraform CLI', () => {
  let home: StandinHome;

  beforeAll(() => {
    home = createStandinHome();
  });

  afterAll(() => home?.dispose());

  function site(name: string) {
    const plan = SITES.get(name);
    if (!plan) throw new Error(`no seed site ${name} (have ${[...SITES.keys()].join(', ')})`);
    return plan;
  }

  /** How many planned creates there are of each resource type. */
  function typeCounts(actions: Record<string, string>): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const address of Object.keys(actions)) counts[address.split('.')[0]] = (counts[address.split('.')[0]] ?? 0) + 1;
    return counts;
  }

  describe('seed stacks through terraform init, validate and plan (stand-in providers)', () => {
    test('prod: VMs and LXC containers', async () => {
      const counts = typeCounts(await expectPlanCreatesExactly(synthStack(site('prod')), home));
      expect(counts).toMatchObject({ proxmox_virtual_environment_vm: 3, proxmox_virtual_environment_container: 3 });
    }, 120_000);

    test('lab: K3s on embedded etcd, Bind9 DNS', async () => {
      const counts = typeCounts(await expectPlanCreatesExactly(synthStack(site('lab')), home));
      expect(counts).toMatchObject({ proxmox_virtual_environment_vm: 5, random_password: 2 });
    }, 120_000);

    test('homelab: K3s on PostgreSQL with a TLS datastore CA', async () => {
      const counts = typeCounts(await expectPlanCreatesExactly(synthStack(site('homelab')), home));
      // The two datastore nodes and the witness, and Prometheus's client certificate for scraping them.
      expect(counts).toMatchObject({ tls_self_signed_cert: 1, tls_locally_signed_cert: 4 });
    }, 120_000);

    test.each(['kubeadm-stacked', 'kubeadm-multi'])('%s: kubeadm with stacked etcd', async (name) => {
      const counts = typeCounts(await expectPlanCreatesExactly(synthStack(site(name)), home));
      expect(counts).toMatchObject({ tls_private_key: 1, tls_self_signed_cert: 1, random_id: 1 });
    }, 120_000);
  });
});
