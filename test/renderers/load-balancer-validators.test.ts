import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ApiHealthCheck, HostKind, HostRole, SitePlan, VrrpVersion, defineSite, hostsWithRole } from '../../constructs';
import { HAPROXY_DATASTORE_CA_PATH, KEEPALIVED_SCRIPT_USER, renderHaproxyConfig, renderKeepalivedConfig } from '../../constructs/renderers';
import { createLabCa } from '../datastore/harness';
import { loadSites } from '../../sites';
import lab from '../../sites/lab';
import { lxcSite, vmSite } from '../fixtures/sites';
import { ensureSystemUser, withInterfaceNamespace } from '../support/netns';
import { describeWithTools } from '../support/tools';
import { deliveredHosts } from '../support/user-data';
import { runOnFile } from '../support/validators';

const PLANS: SitePlan[] = [
  defineSite(lab),
  defineSite(vmSite),
  defineSite(lxcSite),
  defineSite({ ...lab, name: 'lab-v2-auth', loadBalancer: { vrrpVersion: VrrpVersion.V2, vrrpAuthentication: true, vrrpMulticast: true, apiHealthCheck: ApiHealthCheck.PING } }),
  defineSite({ ...lab, name: 'lab-nopreempt', loadBalancer: { vrrpNopreempt: true, apiHealthCheck: ApiHealthCheck.TCP, ingressFrontends: false, vrrpInterface: 'ens18' } }),
];
const CASES = PLANS.flatMap((plan) => plan.loadBalancer!.nodes.map((node) => [`${plan.name}/${node.name}`, plan, node.name] as const));

const HAPROXY_CFG = '/etc/haproxy/haproxy.cfg';
const KEEPALIVED_CONF = '/etc/keepalived/keepalived.conf';

// Every site as the app synthesizes it: the files in its user data and LXC provisioning scripts, interpolated.
const DELIVERED = loadSites().map((site) => [site, deliveredHosts(site)] as const);
const synthesized = (file: string) => DELIVERED.flatMap(([site, hosts]) => hosts.filter((h) => h.files.has(file))
  .map((h) => [`${h.path}:${file}`, site, h.files.get(file)!.content] as const));
const SYNTHESIZED_HAPROXY = synthesized(HAPROXY_CFG);
const SYNTHESIZED_KEEPALIVED = synthesized(KEEPALIVED_CONF);

describe.each(DELIVERED.map(([site]) => [site.name, site] as const))('site %s as synthesized', (_, site) => {
  const balancers = hostsWithRole(site, HostRole.LOAD_BALANCER);
  const on = (list: readonly (readonly [string, SitePlan, string])[]) => list.filter(([, s]) => s === site).map(([path]) => path.split('/')[1]);

  test('every load balancer gets a haproxy.cfg, and a keepalived.conf when the endpoint is a floating VIP', () => {
    expect(balancers.length).toBeGreaterThan(0);
    expect(on(SYNTHESIZED_HAPROXY)).toEqual(balancers.map((h) => h.name));
    expect(on(SYNTHESIZED_KEEPALIVED)).toEqual(site.apiEndpoint.floating ? balancers.map((h) => h.name) : []);
  });
});

test('the files read back from an LXC provisioning script are the rendered ones (seed 001\'s load balancers)', () => {
  const [prod, hosts] = DELIVERED.find(([site]) => site.name === 'prod')!;
  const containers = hosts.filter((h) => h.host.kind === HostKind.LXC);
  expect(containers).toHaveLength(3);
  containers.forEach((h) => expect(h.files.get(KEEPALIVED_CONF)?.content).toBe(renderKeepalivedConfig(prod, h.host.name)));
});

describeWithTools(['haproxy'], 'haproxy -c accepts every rendered haproxy.cfg', () => {
  let caDir: string | undefined;
  const labCa = () => {
    caDir ??= mkdtempSync(join(tmpdir(), 'pkh-lb-ca-'));
    return createLabCa(caDir, 'a stand-in datastore CA');
  };
  afterAll(() => caDir && rmSync(caDir, { recursive: true, force: true }));

  test.each(CASES)('%s', (_, plan, node) => {
    const result = runOnFile('haproxy', ['-c', '-f'], renderHaproxyConfig(plan, node, 'S3cretFromTerraform'), 'haproxy.cfg');
    expect(result.output).toContain('Configuration file is valid');
    expect(result.ok).toBe(true);
  });

  test.each(SYNTHESIZED_HAPROXY)('%s', (_, __, text) => {
    // The writer endpoint's checks verify Patroni against the datastore CA, which Terraform generates: haproxy -c
    // opens the file, so a real CA stands in for it.
    const result = runOnFile('haproxy', ['-c', '-f'], text.split(HAPROXY_DATASTORE_CA_PATH).join(labCa()), 'haproxy.cfg');
    expect(result.output).toContain('Configuration file is valid');
    expect(result.ok).toBe(true);
  });

  test('the check can fail: an unknown keyword is rejected', () => {
    const broken = renderHaproxyConfig(PLANS[0], 'lx-k3s-server-01', 'pw').replace('balance leastconn', 'balance nosuchalgorithm');
    expect(runOnFile('haproxy', ['-c', '-f'], broken, 'haproxy.cfg').ok).toBe(false);
  });
});

describeWithTools(['keepalived', 'ip', 'unshare'], 'keepalived -t accepts every rendered keepalived.conf (in a namespace with the named interface)', () => {
  let removeUser: () => void = () => undefined;
  beforeAll(() => {
    removeUser = ensureSystemUser(KEEPALIVED_SCRIPT_USER);
  });
  afterAll(() => removeUser());

  // keepalived -t only exits with its verdict in a PID namespace of its own (otherwise it signals itself).
  const keepalivedTest = (namespace: string, text: string) =>
    runOnFile('ip', ['netns', 'exec', namespace, 'unshare', '--pid', '--fork', '--mount-proc', 'keepalived', '-t', '-f'], text, 'keepalived.conf');

  test.each(CASES)('%s', (_, plan, node) => {
    const text = renderKeepalivedConfig(plan, node, plan.loadBalancer!.vrrpAuthentication ? 'Ab3dEf7h' : undefined);
    const result = withInterfaceNamespace(plan.loadBalancer!.vrrpInterface, (namespace) => keepalivedTest(namespace, text));
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });

  test.each(SYNTHESIZED_KEEPALIVED)('%s', (_, site, text) => {
    const result = withInterfaceNamespace(site.loadBalancer!.vrrpInterface, (namespace) => keepalivedTest(namespace, text));
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });

  test('the check can fail: an unknown keyword and a missing interface are rejected', () => {
    const text = renderKeepalivedConfig(PLANS[0], 'lx-k3s-server-01');
    withInterfaceNamespace('eth0', (namespace) => {
      expect(keepalivedTest(namespace, text.replace('advert_int 0.25', 'advert_int 0.25\n    no_such_keyword 1')).ok).toBe(false);
      expect(keepalivedTest(namespace, text.split('eth0').join('eth7')).ok).toBe(false);
    });
  });
}, { needsRoot: true });
