// The names the library derives from a site's names: the construct ids SiteStack gives its own children beside
// the hosts must all be refused as host names (RESERVED_HOST_NAMES), and host names that Terraform cannot take as
// resource names are refused.
import { Testing } from 'cdktf';
import { SiteStack, defineSite, k3sServerManifests } from '../../constructs';
import { isRfc1123Label } from '../../constructs/core';
import { RESERVED_HOST_NAMES } from '../../constructs/site/validate/names';
import { SITE_SPECS } from '../../sites';
import { validationErrorOf } from '../support/validation-error';

describe('host names and the Terraform stack\'s own names', () => {
  test.each(SITE_SPECS.map((spec) => [spec.name, spec] as const))('%s: every child of SiteStack a host could be named like is a reserved host name', (_, spec) => {
    const site = defineSite(spec);
    const stack = new SiteStack(Testing.app(), site.name, { site, serverManifests: k3sServerManifests(site) });
    const hostNames = new Set(site.hosts.map((host) => host.name));
    const own = stack.node.children.map((child) => child.node.id).filter((id) => !hostNames.has(id));
    expect(own.length).toBeGreaterThan(5);
    expect(own.filter((id) => isRfc1123Label(id) && !RESERVED_HOST_NAMES.includes(id))).toEqual([]);
  });

  test.each(RESERVED_HOST_NAMES.map((name) => [name]))('a host named %s is refused at its name', (name) => {
    const spec = structuredClone(SITE_SPECS.find((s) => s.name === 'lab')!) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    spec.hosts[3].name = name;
    expect(validationErrorOf(spec).problems.map((p) => p.path)).toEqual([`hosts[${name}].name`]);
  });

  test('a host name starting with a digit is refused: Terraform names its resources after the host', () => {
    const spec = structuredClone(SITE_SPECS.find((s) => s.name === 'lab')!) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    spec.hosts[3].name = '0abc';
    spec.hosts[4].name = '123';
    expect(validationErrorOf(spec).problems.map((p) => `${p.path}: ${p.expected}`)).toEqual([
      'hosts[0abc].name: a host name starting with a letter (the host\'s Terraform resources are named after it, and Terraform names cannot start with a digit)',
      'hosts[4].name: a host name starting with a letter (the host\'s Terraform resources are named after it, and Terraform names cannot start with a digit)',
    ]);
  });
});
