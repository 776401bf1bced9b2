import { Testing } from 'cdk8s';
import { CniKind, HostRole, SiteChart, SiteChartProps, SitePlan, TlsCertificateSource, defineSite, hostsWithRole } from '../../constructs';
import { chartManifestFileNames, ciliumCniPropsForSite } from '../../constructs/k8s';
import lab from '../../sites/lab';
import { loadSites } from '../../sites';
import { lxcSite, vmSite } from '../fixtures/sites';
import { schemaErrors } from '../support/k8s-schema';
import { Manifest, helmValues, ofKind, one, taintOf, untolerated } from './manifests';

function synthSite(site: SitePlan, props: Omit<SiteChartProps, 'site'> = {}): Manifest[] {
  return Testing.synth(new SiteChart(Testing.app(), site.name, { site, ...props }));
}

describe('SiteChart', () => {
  const manifests = synthSite(defineSite(lab));

  test('publishes the site facts from the plan in a kube-system ConfigMap', () => {
    const configMap = one(manifests, 'ConfigMap', 'proxmox-k3s-ha-site');
    expect(configMap).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'proxmox-k3s-ha-site', namespace: 'kube-system', labels: { 'app.kubernetes.io/managed-by': 'proxmox-k3s-ha' } },
      data: { site: 'lab', apiEndpoint: 'https://api.k3s.test.local:8443', apiAddress: '192.168.168.100:8443', searchDomain: 'k3s.test.local' },
    });
  });

  test('composes Cilium, the ingress controller and the TLS demo app', () => {
    const chart = new SiteChart(Testing.app(), 'lab', { site: defineSite(lab) });
    expect(chart.cilium).toBeDefined();
    expect(chart.ingressController.ingressClassName).toBe('nginx');
    expect(chart.tlsDemoApp?.host).toBe('nginx.k3s.test.local');
    expect(ofKind(manifests, 'HelmChart').map((m) => m.metadata.name)).toEqual(['cilium', 'kube-prometheus-stack']);
    expect(ofKind(manifests, 'DaemonSet')).toHaveLength(1);
    expect(ofKind(manifests, 'Ingress')).toHaveLength(1);
  });

  describe('the lab (seed 002)', () => {
    test('the ingress DaemonSet targets the control-plane role (the three K3s servers) and tolerates its taints', () => {
      const pod = one(manifests, 'DaemonSet').spec.template.spec;
      expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([{ matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] }]);
      expect(pod.tolerations.map((t: Manifest) => t.key)).toEqual(['node-role.kubernetes.io/control-plane', 'CriticalAddonsOnly']);
      expect(hostsWithRole(defineSite(lab), HostRole.K3S_SERVER).map((h) => h.name)).toEqual(['lx-k3s-server-01', 'lx-k3s-server-02', 'lx-k3s-server-03']);
    });

    test('the IngressClass nginx is the default', () => {
      expect(one(manifests, 'IngressClass').metadata.annotations).toEqual({ 'ingressclass.kubernetes.io/is-default-class': 'true' });
    });

    test('NodePorts 30080 and 30443', () => {
      expect(one(manifests, 'Service', 'nginx-ingress-controller').spec.ports.map((p: Manifest) => p.nodePort)).toEqual([30080, 30443]);
    });

    test('Ingress status reports the VIP the load balancers serve 80/443 on', () => {
      expect(one(manifests, 'ConfigMap', 'nginx-ingress').data['external-status-address']).toBe('192.168.168.100');
    });

    test('the TLS demo app serves nginx.k3s.test.local over TLS', () => {
      const ingress = one(manifests, 'Ingress');
      expect(ingress.spec.tls).toEqual([{ hosts: ['nginx.k3s.test.local'], secretName: 'nginx-demo-tls' }]);
      expect(ingress.spec.ingressClassName).toBe('nginx');
      expect(one(manifests, 'Certificate', 'nginx-demo-tls').spec.dnsNames).toEqual(['nginx.k3s.test.local']);
      expect(one(manifests, 'Deployment', 'nginx-demo')).toBeDefined();
    });

    test('Cilium: kube-proxy replacement, the K3s pod CIDR, node-local API, two operator replicas', () => {
      expect(helmValues(one(manifests, 'HelmChart', 'cilium'))).toMatchObject({
        kubeProxyReplacement: true,
        k8sServiceHost: '127.0.0.1',
        k8sServicePort: 6444,
        ipam: { mode: 'cluster-pool', operator: { clusterPoolIPv4PodCIDRList: ['10.42.0.0/16'] } },
        operator: { replicas: 2 },
      });
    });
  });

  test('includeTlsDemoApp false leaves the demo app out', () => {
    const without = synthSite(defineSite(lab), { includeTlsDemoApp: false });
    expect(ofKind(without, 'Deployment')).toEqual([]);
    expect(ofKind(without, 'Ingress')).toEqual([]);
    expect(without.filter((m) => m.apiVersion.startsWith('cert-manager.io/'))).toEqual([]);
    expect(ofKind(without, 'DaemonSet')).toHaveLength(1);
  });

  test('tlsCertificateSource existing-secret: no cert-manager objects, the Ingress still takes its certificate from nginx-demo-tls', () => {
    const chart = new SiteChart(Testing.app(), 'lab', { site: defineSite(lab), tlsCertificateSource: TlsCertificateSource.EXISTING_SECRET });
    const existing: Manifest[] = Testing.synth(chart);
    expect(existing.filter((m) => m.apiVersion.startsWith('cert-manager.io/'))).toEqual([]);
    expect(chartManifestFileNames(chart).filter((file) => /^(Issuer|Certificate)\./.test(file))).toEqual([]);
    expect(chart.tlsDemoApp?.certificate).toBeUndefined();
    expect(one(existing, 'Ingress').spec.tls).toEqual([{ hosts: ['nginx.k3s.test.local'], secretName: 'nginx-demo-tls' }]);
    // With the default, the same Secret is cert-manager's to write.
    expect(one(manifests, 'Certificate', 'nginx-demo-tls').spec.secretName).toBe('nginx-demo-tls');
    expect(existing.flatMap(schemaErrors)).toEqual([]);
  });

  test('the demo app is served from the DNS zone when it differs from the search domain', () => {
    const site = defineSite({ ...lab, dns: { ...lab.dns, zone: 'apps.example.test' } });
    expect(site.network.searchDomain).toBe('k3s.test.local');
    const zoned = synthSite(site);
    expect(one(zoned, 'Ingress').spec.rules.map((rule: Manifest) => rule.host)).toEqual(['nginx.apps.example.test']);
    expect(one(zoned, 'Certificate', 'nginx-demo-tls').spec.dnsNames).toEqual(['nginx.apps.example.test']);
  });

  test('a site without DNS servers serves the demo app from its search domain', () => {
    const site = defineSite(vmSite);
    expect(site.dns).toBeUndefined();
    expect(one(synthSite(site), 'Ingress').spec.rules[0].host).toBe('nginx.fixture.test');
  });

  test('a custom taint on a K3s server is tolerated; an agent\'s is not (the load balancers send no ingress there)', () => {
    const site = defineSite({
      ...lab,
      hosts: lab.hosts.map((host) => (host.name === 'lx-k3s-server-02' ? { ...host, nodeTaints: ['dedicated=ingress:NoSchedule'] }
        : host.name === 'lx-k3s-agent-01' ? { ...host, nodeTaints: ['gpu=true:NoSchedule'] } : host)),
    });
    const tolerations = one(synthSite(site), 'DaemonSet').spec.template.spec.tolerations;
    expect(tolerations).toContainEqual({ key: 'dedicated', operator: 'Equal', value: 'ingress', effect: 'NoSchedule' });
    expect(untolerated(tolerations, [taintOf('dedicated=ingress:NoSchedule'), taintOf('gpu=true:NoSchedule')])).toEqual([taintOf('gpu=true:NoSchedule')]);
    expect(tolerations).toHaveLength(3);
  });

  test('a flannel site gets no Cilium HelmChart', () => {
    const flannel = synthSite(defineSite({ ...lab, cluster: { cni: CniKind.FLANNEL } }));
    expect(ofKind(flannel, 'HelmChart').map((m) => m.metadata.name)).toEqual(['kube-prometheus-stack']);
    expect(ofKind(flannel, 'DaemonSet')).toHaveLength(1);
  });

  test('a site without ingress frontends on its load balancers reports no Ingress status', () => {
    const site = defineSite({ ...lab, loadBalancer: { ingressFrontends: false } });
    const ingressManifests = synthSite(site);
    expect(one(ingressManifests, 'ConfigMap', 'nginx-ingress').data).toEqual({ 'server-tokens': 'false' });
  });

  test('ciliumCniPropsForSite: one operator replica per K3s node, up to two', () => {
    expect(ciliumCniPropsForSite(defineSite(lab))).toEqual({ podCidr: '10.42.0.0/16', kubeProxyReplacement: true, operatorReplicas: 2 });
    expect(ciliumCniPropsForSite(defineSite({ ...vmSite, hosts: [vmSite.hosts[0]], apiEndpoint: { port: 8443 } })).operatorReplicas).toBe(1);
    expect(ciliumCniPropsForSite(defineSite({ ...lxcSite, cluster: { podCidr: '10.200.0.0/16', kubeProxyReplacement: false } })))
      .toEqual({ podCidr: '10.200.0.0/16', kubeProxyReplacement: false, operatorReplicas: 2 });
  });

  describe.each(loadSites().map((site) => [site.name, site] as const))('site %s', (_name, site) => {
    test('snapshot (tripwire)', () => {
      expect(synthSite(site)).toMatchSnapshot();
    });
  });
});
