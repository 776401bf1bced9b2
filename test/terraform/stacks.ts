// Shared by the seed-stack suites: synthesize a site's stack in-process (as test/support/synth.ts does, with
// SiteStack's variant props) and check it with terraform init, validate and plan on the stand-in providers.
import { Testing } from 'cdktf';
import { SitePlan, SiteStack, SiteStackProps, k3sServerManifests } from '../../constructs';
import { StandinHome, TerraformJson, TerraformWorkdir, changesByAddress, declaredResources } from '../support/terraform-cli';

/** The stack's Terraform JSON for a site and SiteStack's variant props. */
export function synthStack(site: SitePlan, props: Partial<Omit<SiteStackProps, 'site'>> = {}): TerraformJson {
  const stack = new SiteStack(Testing.app(), site.name, { site, serverManifests: k3sServerManifests(site), ...props });
  return JSON.parse(Testing.synth(stack, true));
}

/**
 * init, validate and plan (empty state, fake variables) → the plan's actions per address, after checking that the
 * plan creates exactly the resources the JSON declares and nothing else.
 */
export async function expectPlanCreatesExactly(json: TerraformJson, home: StandinHome): Promise<Record<string, string>> {
  const work = await TerraformWorkdir.create(json, { home });
  try {
    await work.validate();
    const changes = changesByAddress(await work.planJson());
    const actions = Object.fromEntries(Object.entries(changes).map(([address, change]) => [address, change.change.actions.join('+')]));
    const declared = declaredResources(json);
    expect(Object.keys(actions).sort()).toEqual(declared);
    expect(Object.entries(actions).filter(([, action]) => action !== 'create')).toEqual([]);
    return actions;
  } finally {
    work.dispose();
  }
}
