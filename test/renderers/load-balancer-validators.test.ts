import { ApiHealthCheck, KEEPALIVED_SCRIPT_USER, SitePlan, VrrpVersion, defineSite, renderHaproxyConfig, renderKeepalivedConfig } from '../../constructs';
import lab from '../../sites/lab';
import { lxcSite, vmSite } from '../fixtures/sites';
import { ensureSystemUser, withInterfaceNamespace } from '../support/netns';
import { describeWithTools } from '../support/tools';
import { runOnFile } from '../support/validators';

const PLANS: SitePlan[] = [
  defineSite(lab),
  defineSite(vmSite),
  defineSite(lxcSite),
  defineSite({ ...lab, name: 'lab-v2-auth', loadBalancer: { vrrpVersion: VrrpVersion.V2, vrrpAuthentication: true, vrrpMulticast: true, apiHealthCheck: ApiHealthCheck.PING } }),
  defineSite({ ...lab, name: 'lab-nopreempt', loadBalancer: { vrrpNopreempt: true, apiHealthCheck: ApiHealthCheck.TCP, ingressFrontends: false, vrrpInterface: 'ens18' } }),
];
const CASES = PLANS.flatMap((plan) => plan.loadBalancer!.nodes.map((node) => [`${plan.name}/${node.name}`, plan, node.name] as const));

describeWithTools(['haproxy'], 'haproxy -c accepts every rendered haproxy.cfg', () => {
  test.each(CASES)('%s', (_, plan, node) => {
    const result = runOnFile('haproxy', ['-c', '-f'], renderHaproxyConfig(plan, node, 'S3cretFromTerraform'), 'haproxy.cfg');
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

  test('the check can fail: an unknown keyword and a missing interface are rejected', () => {
    const text = renderKeepalivedConfig(PLANS[0], 'lx-k3s-server-01');
    withInterfaceNamespace('eth0', (namespace) => {
      expect(keepalivedTest(namespace, text.replace('advert_int 0.25', 'advert_int 0.25\n    no_such_keyword 1')).ok).toBe(false);
      expect(keepalivedTest(namespace, text.split('eth0').join('eth7')).ok).toBe(false);
    });
  });
}, { needsRoot: true });
