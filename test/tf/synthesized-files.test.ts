import { Distribution, HostKind, HostRole, SitePlan, defineSite, hostsWithRole } from '../../constructs';
import { K3S_INSTALL_SCRIPT_PATH, KUBEADM_NODE_PREP_SCRIPT_PATH } from '../../constructs/renderers';
import { renderShellScript } from '../../constructs/cloud-init';
import { loadSites } from '../../sites';
import { richCloudConfig } from '../cloud-init/fixtures';
import { lxcSite, vmSite } from '../fixtures/sites';
import { describeWithTools } from '../support/tools';
import { DeliveredHost, deliveredHosts, scriptFiles, scriptShell } from '../support/user-data';
import { cloudInitSchema, shellcheck } from '../support/validators';

// Every site the app synthesizes (exactly as infra/main.ts does), plus the two fixtures' shapes.
const SITES: readonly SitePlan[] = [...loadSites(), defineSite(vmSite), defineSite(lxcSite)];

// The files as they reach the machines: taken from the synthesized JSON, with Terraform's interpolation applied.
const HOSTS: readonly DeliveredHost[] = SITES.flatMap((site) => deliveredHosts(site));
const userData = HOSTS.filter((h) => h.host.kind === HostKind.VM).map((h) => [h.path, h.text] as const);
const scripts = HOSTS.filter((h) => h.host.kind === HostKind.LXC).map((h) => [h.path, h.text] as const);
// Scripts inside the user data and provisioning scripts: every written file that starts with `#!`.
const embedded = HOSTS.flatMap((h) => [...h.files]
  .filter(([, file]) => file.content.startsWith('#!'))
  .map(([path, file]) => [`${h.path}:${path}`, file.content, scriptShell(file.content)] as const));

const count = (site: SitePlan, list: readonly (readonly [string, ...unknown[]])[]) => list.filter(([path]) => path.startsWith(`${site.name}/`)).length;

test('all five seed sites are checked', () => {
  expect(SITES.map((s) => s.name)).toEqual(expect.arrayContaining(['homelab', 'prod', 'lab', 'kubeadm-stacked', 'kubeadm-multi']));
});

describe.each(SITES.map((site) => [site.name, site] as const))('site %s contributes files to check', (_, site) => {
  const vms = site.hosts.filter((h) => h.kind === HostKind.VM).length;
  const containers = site.hosts.filter((h) => h.kind === HostKind.LXC).length;

  test(`one user-data snippet per VM, one provisioning script per LXC container (${vms} + ${containers})`, () => {
    expect(vms + containers).toBeGreaterThan(0);
    expect([count(site, userData), count(site, scripts)]).toEqual([vms, containers]);
  });

  test('every cluster node carries its install or node-prep script; every floating-VIP load balancer its Keepalived notify script', () => {
    const kubeadm = site.controlPlane.distribution === Distribution.KUBEADM;
    const nodeRoles = kubeadm ? [HostRole.CONTROL_PLANE, HostRole.WORKER] : [HostRole.K3S_SERVER, HostRole.K3S_AGENT];
    const nodes = site.hosts.filter((h) => nodeRoles.some((role) => h.roles.includes(role)));
    const nodeScript = kubeadm ? KUBEADM_NODE_PREP_SCRIPT_PATH : K3S_INSTALL_SCRIPT_PATH;
    expect(nodes.length).toBeGreaterThan(0);
    expect(embedded.filter(([path]) => path.startsWith(`${site.name}/`) && path.endsWith(`:${nodeScript}`))).toHaveLength(nodes.length);
    const balancers = site.apiEndpoint.floating ? hostsWithRole(site, HostRole.LOAD_BALANCER).length : 0;
    expect(embedded.filter(([path]) => path.startsWith(`${site.name}/`) && path.endsWith(':/etc/keepalived/notify.sh'))).toHaveLength(balancers);
  });
});

test('the seeds\' shapes: homelab 5 VMs; prod 3 LXC load balancers and 3 VMs', () => {
  const [homelab, prod] = ['homelab', 'prod'].map((name) => SITES.find((s) => s.name === name)!);
  expect([count(homelab, userData), count(homelab, scripts), count(prod, userData), count(prod, scripts)]).toEqual([5, 0, 3, 3]);
});

test('files are read back from an LXC script exactly, quotes and all; shells are read from the #! line', () => {
  const config = richCloudConfig();
  const files = scriptFiles(renderShellScript(config));
  for (const file of config.files) {
    expect(files.get(file.path)).toEqual({ content: file.content, mode: file.mode });
  }
  expect([scriptShell('#!/bin/sh\n'), scriptShell('#!/usr/bin/env bash\n'), scriptShell('#!/usr/bin/python3\n'), scriptShell('global\n')]).toEqual(['sh', 'bash', undefined, undefined]);
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

describeWithTools(['shellcheck'], 'shellcheck: every script the user data and provisioning scripts write', () => {
  test.each(embedded)('%s', (_, text, shell) => {
    // A script in another language would slip past shellcheck: say so instead.
    expect(shell).toBeDefined();
    const result = shellcheck(text, shell);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });
});
