import { DataResource } from 'cdktf';
import { defineSite } from '../../constructs';
import { interpolatedLifecycleEntries } from '../../constructs/tf';
import { SITE_SPECS as seedSites } from '../../sites';
import { synthSite } from '../support/synth';

// Terraform rejects "${...}" in lifecycle entries before it does anything else (hashicorp/terraform-cdk issue 3196).
describe('lifecycle entries are bare references Terraform accepts', () => {
  test.each(seedSites.map((spec) => [spec.name, spec] as const))('%s: every replace_triggered_by names a resource of the stack, never an interpolation', (_name, spec) => {
    const { json } = synthSite(defineSite(spec));
    expect(interpolatedLifecycleEntries(json)).toEqual([]);
    const triggers = Object.values(json.resource as Record<string, Record<string, { lifecycle?: { replace_triggered_by?: string[] } }>>)
      .flatMap((resources) => Object.values(resources)).flatMap((resource) => resource.lifecycle?.replace_triggered_by ?? []);
    expect(triggers.length).toBeGreaterThan(0);
    for (const trigger of triggers) {
      const [type, name] = trigger.split('.');
      expect(json.resource[type]?.[name]).toBeDefined();
    }
  });

  test('the stack refuses to synthesize a lifecycle entry that cdktf rendered as an interpolation', () => {
    const spec = seedSites.find((site) => site.name === 'lab')!;
    const { stack } = synthSite(defineSite(spec));
    const vm = stack.hosts.values().next().value!.machine!.resource;
    vm.lifecycle = { replaceTriggeredBy: [new DataResource(stack, 'Trigger', { input: { trigger: 1 } })] };
    expect(() => stack.toTerraform()).toThrow(/lab: lifecycle entries must be bare references, Terraform rejects: proxmox_virtual_environment_vm\.[^ ]+\.lifecycle\.replace_triggered_by: "\$\{terraform_data\.Trigger\}"/);
  });

  test('the scan finds interpolations and template directives in any lifecycle key', () => {
    expect(interpolatedLifecycleEntries({ resource: { a: { x: { lifecycle: { ignore_changes: ['%{if true}tags%{endif}'] } }, y: { lifecycle: { replace_triggered_by: ['terraform_data.z'] } } } } }))
      .toEqual(['a.x.lifecycle.ignore_changes: "%{if true}tags%{endif}"']);
  });
});
