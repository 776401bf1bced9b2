import { defineSite } from '../../constructs';
import lab from '../../sites/lab';
import { lxcSite, vmSite } from '../fixtures/sites';
import { resourcesByPath, synthSite } from '../support/synth';
import { describeWithTools } from '../support/tools';
import { cloudInitSchema, interpolateForValidation, shellcheck } from '../support/validators';

const SITES = [defineSite(lab), defineSite(vmSite), defineSite(lxcSite)];

// The files as they reach the machines: taken from the synthesized JSON, with Terraform's interpolation applied.
const userData = SITES.flatMap((site) => Object.entries(resourcesByPath(synthSite(site).json, 'proxmox_virtual_environment_file'))
  .map(([path, file]) => [path, interpolateForValidation(file.source_raw.data)] as const));
const scripts = SITES.flatMap((site) => Object.entries(resourcesByPath(synthSite(site).json, 'terraform_data'))
  .map(([path, data]) => [path, interpolateForValidation(data.provisioner[0].file.content)] as const));

test('every site contributes files to check', () => {
  expect(userData.length).toBe(5 + 4 + 3);
  expect(scripts.length).toBe(2);
});

describeWithTools(['cloud-init'], 'cloud-init schema: every synthesized user-data snippet', () => {
  test.each(userData)('%s', (_, text) => {
    const result = cloudInitSchema(text);
    expect(result.output).toContain('Valid cloud-config');
    expect(result.ok).toBe(true);
  });
});

describeWithTools(['shellcheck'], 'shellcheck: every synthesized LXC provisioning script', () => {
  test.each(scripts)('%s', (_, text) => {
    const result = shellcheck(text);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });
});
