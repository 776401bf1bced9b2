// Synthesis is pure: it never starts a process. cdktf's DataResource ran `terraform version` once per instance at
// each synthesis (about 60 ms each, a quarter of a second per host); the stacks use TerraformData instead, and
// state the Terraform version they need once, for Terraform to enforce.
import childProcess = require('child_process');
import { TERRAFORM_REQUIRED_VERSION } from '../../constructs/tf/terraform-data';
import { loadSites } from '../../sites';
import { synthSite } from '../support/synth';

const PROCESS_STARTERS = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;

describe.each(loadSites().map((site) => [site.name, site] as const))('synthesizing %s', (_name, site) => {
  test('starts no child process, validations included', () => {
    const spies = PROCESS_STARTERS.map((name) => jest.spyOn(childProcess, name));
    try {
      const { json } = synthSite(site);
      expect(Object.keys(json.resource.terraform_data ?? {}).length).toBeGreaterThan(0);
      expect(spies.filter((spy) => spy.mock.calls.length > 0).map((spy) => `${spy.getMockName()}: ${JSON.stringify(spy.mock.calls[0])}`)).toEqual([]);
    } finally {
      spies.forEach((spy) => spy.mockRestore());
    }
  });

  test(`requires Terraform ${TERRAFORM_REQUIRED_VERSION}, once, in the terraform block`, () => {
    const { json } = synthSite(site);
    expect(json.terraform.required_version).toBe(TERRAFORM_REQUIRED_VERSION);
  });
});
