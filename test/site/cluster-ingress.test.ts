import { CniKind, SiteSpec, ValidationError, defineSite } from '../../constructs';
import { vmSite } from '../fixtures/sites';

function problemsOf(spec: SiteSpec) {
  try {
    defineSite(spec);
  } catch (error) {
    if (error instanceof ValidationError) {
      return error.problems.map((p) => ({ path: p.path, value: p.value, expected: p.expected }));
    }
    throw error;
  }
  return [];
}

describe('cluster and ingress settings', () => {
  test('defaults: K3s CIDRs, Cilium replacing kube-proxy, NodePorts 30080/30443', () => {
    const plan = defineSite(vmSite);
    expect(plan.cluster).toEqual({ podCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16', clusterDomain: 'cluster.local', cni: CniKind.CILIUM, kubeProxyReplacement: true });
    expect(plan.ingress).toEqual({ httpNodePort: 30080, httpsNodePort: 30443 });
  });

  test('flannel never gets kube-proxy replacement', () => {
    expect(defineSite({ ...vmSite, cluster: { cni: CniKind.FLANNEL } }).cluster.kubeProxyReplacement).toBe(false);
  });

  test.each([
    ['the pod CIDR overlaps the node network', { cluster: { podCidr: '198.18.0.0/16' } }, 'cluster.podCidr', '198.18.0.0/16', 'does not overlap network.cidr 198.18.0.0/24'],
    ['the service CIDR overlaps the pod CIDR', { cluster: { serviceCidr: '10.42.128.0/17' } }, 'cluster.serviceCidr', '10.42.128.0/17', 'does not overlap cluster.podCidr 10.42.0.0/16'],
    ['the pod CIDR has host bits set', { cluster: { podCidr: '10.42.0.1/16' } }, 'cluster.podCidr', '10.42.0.1/16', 'host bits clear'],
    ['kube-proxy replacement without Cilium', { cluster: { cni: CniKind.FLANNEL, kubeProxyReplacement: true } }, 'cluster.kubeProxyReplacement', true, 'only Cilium replaces kube-proxy'],
    ['an unknown CNI', { cluster: { cni: 'calico' } }, 'cluster.cni', 'calico', 'one of cilium, flannel'],
    ['an HTTP NodePort below the range', { ingress: { httpNodePort: 8080 } }, 'ingress.httpNodePort', 8080, 'a NodePort from 30000 to 32767'],
    ['an HTTPS NodePort above the range', { ingress: { httpsNodePort: 40443 } }, 'ingress.httpsNodePort', 40443, 'a NodePort from 30000 to 32767'],
    ['both NodePorts equal', { ingress: { httpNodePort: 30080, httpsNodePort: 30080 } }, 'ingress.httpsNodePort', 30080, 'other than ingress.httpNodePort'],
    ['a misspelled ingress key', { ingress: { httpNodeport: 30081 } }, 'ingress.httpNodeport', 30081, 'no such key here'],
  ])('fails when %s', (_, change, path, value, expected) => {
    const problems = problemsOf({ ...vmSite, ...change } as unknown as SiteSpec);
    expect(problems).toEqual([{ path, value, expected: expect.stringContaining(expected) }]);
  });
});
