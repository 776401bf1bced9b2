import { readFileSync } from 'fs';
import { resolve } from 'path';
import { Testing } from 'cdk8s';
import { parse } from 'yaml';
import { CiliumCni, CniKind, SiteChart, defineSite } from '../../constructs';
import { DEFAULT_CILIUM_CHART_VERSION, renderCiliumBootstrapManifest, renderCiliumValues } from '../../constructs/k8s';
import { CILIUM_METRICS_SERVICE_LABEL, HUBBLE_METRICS } from '../../constructs/k8s/cilium-cni';
import lab from '../../sites/lab';
import { vmSite } from '../fixtures/sites';
import { REFERENCE_DIR, ciliumValuesErrors, schemaErrors, unknownCiliumValueKeys } from '../support/k8s-schema';
import { helmValues, ofKind, one, synth, testChart } from './manifests';

describe('renderCiliumValues', () => {
  test('defaults: kube-proxy replacement, node-local API endpoint, cluster-pool IPAM over the pod CIDR, Hubble with relay and UI', () => {
    expect(renderCiliumValues({ podCidr: '10.42.0.0/16' })).toBe([
      'kubeProxyReplacement: true',
      'k8sServiceHost: 127.0.0.1',
      'k8sServicePort: 6444',
      'ipam:',
      '  mode: cluster-pool',
      '  operator:',
      '    clusterPoolIPv4PodCIDRList:',
      '      - 10.42.0.0/16',
      'operator:',
      '  replicas: 2',
      '  prometheus:',
      '    enabled: true',
      'prometheus:',
      '  enabled: true',
      'hubble:',
      '  enabled: true',
      '  relay:',
      '    enabled: true',
      '  ui:',
      '    enabled: true',
      '  metrics:',
      '    enabled:',
      '      - dns:query;ignoreAAAA',
      '      - drop',
      '      - tcp',
      '      - flow',
      '      - icmp',
      '      - http',
      'l2announcements:',
      '  enabled: false',
      '',
    ].join('\n'));
  });

  test('every value is valid for chart 1.20.0 and is a key the chart has', () => {
    for (const options of [
      { podCidr: '10.42.0.0/16' },
      { podCidr: '10.244.0.0/16', kubeProxyReplacement: false, hubble: false, operatorReplicas: 1 },
      { podCidr: '10.42.0.0/16', k8sServiceHost: '192.168.168.100', k8sServicePort: 8443, l2Announcements: true },
      { podCidr: '10.42.0.0/16', metrics: false },
    ]) {
      const values = parse(renderCiliumValues(options));
      expect(ciliumValuesErrors(values)).toEqual([]);
      expect(unknownCiliumValueKeys(values)).toEqual([]);
    }
  });

  test('metrics: on by default for the agents, the operator and Hubble; metrics false or hubble false leaves them out', () => {
    const on = parse(renderCiliumValues({ podCidr: '10.42.0.0/16' }));
    expect([on.prometheus, on.operator.prometheus, on.hubble.metrics]).toEqual([{ enabled: true }, { enabled: true }, { enabled: HUBBLE_METRICS }]);
    // The chart's own ServiceMonitors need the operator's CRDs at Cilium's install, before the monitoring stack exists.
    expect([on.prometheus.serviceMonitor, on.hubble.metrics.serviceMonitor]).toEqual([undefined, undefined]);
    const off = parse(renderCiliumValues({ podCidr: '10.42.0.0/16', metrics: false }));
    expect([off.prometheus, off.operator.prometheus, off.hubble.metrics]).toEqual([{ enabled: false }, { enabled: false }, undefined]);
    expect(parse(renderCiliumValues({ podCidr: '10.42.0.0/16', hubble: false })).hubble.metrics).toBeUndefined();
  });

  test('kubeProxyReplacement false', () => {
    expect(parse(renderCiliumValues({ podCidr: '10.42.0.0/16', kubeProxyReplacement: false })).kubeProxyReplacement).toBe(false);
  });

  test('k8sServiceHost and k8sServicePort: the VIP instead of the node-local endpoint', () => {
    const values = parse(renderCiliumValues({ podCidr: '10.42.0.0/16', k8sServiceHost: '192.168.168.100', k8sServicePort: 8443 }));
    expect([values.k8sServiceHost, values.k8sServicePort]).toEqual(['192.168.168.100', 8443]);
  });

  test('podCidr goes into the cluster-pool list unchanged', () => {
    expect(parse(renderCiliumValues({ podCidr: '10.100.0.0/17' })).ipam).toEqual({ mode: 'cluster-pool', operator: { clusterPoolIPv4PodCIDRList: ['10.100.0.0/17'] } });
  });

  test('operatorReplicas', () => {
    expect(parse(renderCiliumValues({ podCidr: '10.42.0.0/16', operatorReplicas: 1 })).operator).toEqual({ replicas: 1, prometheus: { enabled: true } });
  });

  test('hubble false turns relay and UI off too; hubbleUi false keeps the relay', () => {
    expect(parse(renderCiliumValues({ podCidr: '10.42.0.0/16', hubble: false })).hubble).toEqual({ enabled: false, relay: { enabled: false }, ui: { enabled: false } });
    expect(parse(renderCiliumValues({ podCidr: '10.42.0.0/16', hubbleUi: false })).hubble).toEqual({ enabled: true, relay: { enabled: true }, ui: { enabled: false }, metrics: { enabled: HUBBLE_METRICS } });
    expect(parse(renderCiliumValues({ podCidr: '10.42.0.0/16', hubbleRelay: false })).hubble).toEqual({ enabled: true, relay: { enabled: false }, ui: { enabled: false }, metrics: { enabled: HUBBLE_METRICS } });
  });

  test('l2Announcements', () => {
    expect(parse(renderCiliumValues({ podCidr: '10.42.0.0/16', l2Announcements: true })).l2announcements).toEqual({ enabled: true });
  });

  test('fails when podCidr is not a network in CIDR notation', () => {
    expect(() => renderCiliumValues({ podCidr: '10.42.0.1/16' })).toThrow(
      'cilium values has 1 problem:\n  - podCidr: "10.42.0.1/16" — an IPv4 network in CIDR notation with host bits clear, e.g. 10.42.0.0/16');
    expect(() => renderCiliumValues({ podCidr: 'ten' })).toThrow(/podCidr: "ten" — an IPv4 network/);
  });

  test('fails when k8sServiceHost or k8sServicePort is invalid', () => {
    expect(() => renderCiliumValues({ podCidr: '10.42.0.0/16', k8sServiceHost: 'https://api:6443', k8sServicePort: 0 })).toThrow(
      /k8sServiceHost: "https:\/\/api:6443" — an IPv4 address or a DNS name\n {2}- k8sServicePort: 0 — a port from 1 to 65535/);
  });

  test('fails when operatorReplicas is not a positive integer', () => {
    expect(() => renderCiliumValues({ podCidr: '10.42.0.0/16', operatorReplicas: 0 })).toThrow(/operatorReplicas: 0 — an integer from 1 to 10/);
    expect(() => renderCiliumValues({ podCidr: '10.42.0.0/16', operatorReplicas: 1.5 })).toThrow(/operatorReplicas: 1.5 — an integer from 1 to 10/);
  });

  test('fails when the Hubble UI or relay is asked for without what it needs', () => {
    expect(() => renderCiliumValues({ podCidr: '10.42.0.0/16', hubble: false, hubbleRelay: true })).toThrow(/hubbleRelay: true — false, or hubble: true/);
    expect(() => renderCiliumValues({ podCidr: '10.42.0.0/16', hubbleRelay: false, hubbleUi: true })).toThrow(/hubbleUi: true — false, or hubbleRelay: true/);
  });

  test('fails when L2 announcements are asked for without kube-proxy replacement', () => {
    expect(() => renderCiliumValues({ podCidr: '10.42.0.0/16', kubeProxyReplacement: false, l2Announcements: true }))
      .toThrow(/l2Announcements: true — false, or kubeProxyReplacement: true/);
  });
});

describe('CiliumCni', () => {
  test('defaults: a bootstrap HelmChart in kube-system, pinned to chart 1.20.0 from helm.cilium.io, and the metrics Services', () => {
    const cilium = new CiliumCni(testChart(), 'Cilium', { podCidr: '10.42.0.0/16' });
    const manifests = synth(cilium);
    expect(manifests[0]).toEqual({
      apiVersion: 'helm.cattle.io/v1',
      kind: 'HelmChart',
      metadata: { name: 'cilium', namespace: 'kube-system' },
      spec: {
        bootstrap: true,
        chart: 'cilium',
        repo: 'https://helm.cilium.io/',
        version: '1.20.0',
        targetNamespace: 'kube-system',
        valuesContent: renderCiliumValues({ podCidr: '10.42.0.0/16' }),
      },
    });
    expect(DEFAULT_CILIUM_CHART_VERSION).toBe('1.20.0');
    expect(cilium.loadBalancerIpPool).toBeUndefined();
    expect(cilium.l2AnnouncementPolicy).toBeUndefined();
    expect(schemaErrors(manifests[0])).toEqual([]);
    const services = manifests.slice(1);
    expect(services.map((service) => [service.kind, service.metadata.name, service.metadata.namespace, service.spec.selector, service.spec.ports[0].targetPort])).toEqual([
      ['Service', 'pkh-cilium-agent-metrics', 'kube-system', { 'k8s-app': 'cilium' }, 9962],
      ['Service', 'pkh-cilium-operator-metrics', 'kube-system', { 'io.cilium/app': 'operator' }, 9963],
      ['Service', 'pkh-cilium-hubble-metrics', 'kube-system', { 'k8s-app': 'cilium' }, 9965],
    ]);
    // The ports are the chart's defaults for the values this library leaves alone.
    const chartValues = parse(readFileSync(resolve(REFERENCE_DIR, 'cilium/chart-v1.20.0/values.yaml'), 'utf8'));
    expect([chartValues.prometheus.port, chartValues.operator.prometheus.port, chartValues.hubble.metrics.port]).toEqual([9962, 9963, 9965]);
    for (const service of services) {
      expect(schemaErrors(service)).toEqual([]);
      expect(service.spec.clusterIP).toBe('None');
      expect(service.metadata.labels).toEqual({ [CILIUM_METRICS_SERVICE_LABEL]: service.metadata.name.split('-')[2] });
    }
  });

  test('metrics false or hubble false: fewer metrics Services', () => {
    expect(synth(new CiliumCni(testChart(), 'Cilium', { podCidr: '10.42.0.0/16', metrics: false })).map((m) => m.kind)).toEqual(['HelmChart']);
    expect(synth(new CiliumCni(testChart(), 'Cilium', { podCidr: '10.42.0.0/16', hubble: false })).map((m) => m.metadata.name))
      .toEqual(['cilium', 'pkh-cilium-agent-metrics', 'pkh-cilium-operator-metrics']);
  });

  test('the HelmChart is the public primary child', () => {
    const cilium = new CiliumCni(testChart(), 'Cilium', { podCidr: '10.42.0.0/16' });
    expect(cilium.node.defaultChild).toBe(cilium.helmChart);
    expect(cilium.valuesContent).toBe(cilium.helmChart.toJson().spec.valuesContent);
  });

  test('passes the values options through', () => {
    const manifests = synth(new CiliumCni(testChart(), 'Cilium', { podCidr: '10.42.0.0/16', kubeProxyReplacement: false, operatorReplicas: 1, hubble: false }));
    expect(helmValues(one(manifests, 'HelmChart'))).toMatchObject({ kubeProxyReplacement: false, operator: { replicas: 1 }, hubble: { enabled: false } });
  });

  test('chartVersion and chartRepository', () => {
    const manifests = synth(new CiliumCni(testChart(), 'Cilium', { podCidr: '10.42.0.0/16', chartVersion: '1.19.6', chartRepository: 'https://charts.example.test/cilium/' }));
    expect(one(manifests, 'HelmChart').spec).toMatchObject({ version: '1.19.6', repo: 'https://charts.example.test/cilium/' });
  });

  test('loadBalancerIpBlocks: a cluster-scoped CiliumLoadBalancerIPPool', () => {
    const manifests = synth(new CiliumCni(testChart(), 'Cilium', { podCidr: '10.42.0.0/16', loadBalancerIpBlocks: ['192.168.168.224/28', '192.168.168.240/29'] }));
    const pool = one(manifests, 'CiliumLoadBalancerIPPool');
    expect(pool).toEqual({
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumLoadBalancerIPPool',
      metadata: { name: 'cilium-lb-ipam' },
      spec: { blocks: [{ cidr: '192.168.168.224/28' }, { cidr: '192.168.168.240/29' }] },
    });
    expect(schemaErrors(pool)).toEqual([]);
    expect(ofKind(manifests, 'CiliumL2AnnouncementPolicy')).toEqual([]);
  });

  test('l2Announcements: enables them in the values and creates a CiliumL2AnnouncementPolicy for LoadBalancer IPs', () => {
    const manifests = synth(new CiliumCni(testChart(), 'Cilium', { podCidr: '10.42.0.0/16', l2Announcements: true, l2AnnouncementInterfaces: ['^eth[0-9]+'] }));
    const policy = one(manifests, 'CiliumL2AnnouncementPolicy');
    expect(policy).toEqual({
      apiVersion: 'cilium.io/v2alpha1',
      kind: 'CiliumL2AnnouncementPolicy',
      metadata: { name: 'cilium-l2-announcements' },
      spec: { loadBalancerIPs: true, interfaces: ['^eth[0-9]+'] },
    });
    expect(schemaErrors(policy)).toEqual([]);
    expect(helmValues(one(manifests, 'HelmChart')).l2announcements).toEqual({ enabled: true });
    expect(ofKind(manifests, 'CiliumLoadBalancerIPPool')).toEqual([]);
  });

  test('fails when chartVersion is not a pinned version', () => {
    expect(() => new CiliumCni(testChart(), 'Cilium', { podCidr: '10.42.0.0/16', chartVersion: 'latest' }))
      .toThrow('CiliumCni test/Cilium has 1 problem:\n  - chartVersion: "latest" — a pinned chart version such as 1.20.0');
  });

  test('fails when chartRepository is not a URL', () => {
    expect(() => new CiliumCni(testChart(), 'Cilium', { podCidr: '10.42.0.0/16', chartRepository: 'helm.cilium.io' }))
      .toThrow(/chartRepository: "helm.cilium.io" — an http\(s\):\/\/ or oci:\/\/ repository URL/);
  });

  test('fails when loadBalancerIpBlocks is empty or holds a bad CIDR', () => {
    expect(() => new CiliumCni(testChart(), 'Cilium', { podCidr: '10.42.0.0/16', loadBalancerIpBlocks: [] }))
      .toThrow(/loadBalancerIpBlocks: \[\] — at least one CIDR/);
    expect(() => new CiliumCni(testChart(), 'Cilium', { podCidr: '10.42.0.0/16', loadBalancerIpBlocks: ['192.168.168.225/28'] }))
      .toThrow(/loadBalancerIpBlocks\[0\]: "192.168.168.225\/28" — an IPv4 network in CIDR notation with host bits clear/);
  });

  test('fails when l2AnnouncementInterfaces is given without l2Announcements or is not a regular expression', () => {
    expect(() => new CiliumCni(testChart(), 'Cilium', { podCidr: '10.42.0.0/16', l2AnnouncementInterfaces: ['eth0'] }))
      .toThrow(/l2AnnouncementInterfaces: \["eth0"\] — no interfaces, or l2Announcements: true/);
    expect(() => new CiliumCni(testChart(), 'Cilium', { podCidr: '10.42.0.0/16', l2Announcements: true, l2AnnouncementInterfaces: ['eth[0'] }))
      .toThrow(/l2AnnouncementInterfaces\[0\]: "eth\[0" — a regular expression/);
  });

  test('fails with every problem at once, values included', () => {
    expect(() => new CiliumCni(testChart(), 'Cilium', { podCidr: '10.42.0.0', chartVersion: 'v1', operatorReplicas: -1 }))
      .toThrow(/CiliumCni test\/Cilium has 3 problems:/);
  });
});

describe('renderCiliumBootstrapManifest', () => {
  const site = defineSite(lab);
  const manifest = renderCiliumBootstrapManifest(site);

  test('targets K3s\'s auto-deploy folder with a file named for a valid AddOn', () => {
    expect(manifest.path).toBe('/var/lib/rancher/k3s/server/manifests/cilium.yaml');
  });

  test('holds exactly the HelmChart of the site\'s GitOps folder', () => {
    const documents = manifest.content.split(/^---$/m).map((text) => parse(text));
    const gitOps = synth(new SiteChart(Testing.app(), 'lab', { site }));
    expect(documents).toEqual([one(gitOps, 'HelmChart', 'cilium')]);
    expect(manifest.content).toMatch(/^# Cilium for site lab, rendered by proxmox-k3s-ha/);
  });

  test('is valid against the HelmChart CRD and Cilium\'s values schema', () => {
    const helmChart = parse(manifest.content);
    expect(schemaErrors(helmChart)).toEqual([]);
    expect(ciliumValuesErrors(helmValues(helmChart))).toEqual([]);
  });

  test('is the same on every call (pure)', () => {
    expect(renderCiliumBootstrapManifest(site)).toEqual(manifest);
  });

  test('uses one operator replica on a single-node cluster', () => {
    const single = defineSite({ ...vmSite, hosts: [vmSite.hosts[0]], apiEndpoint: { port: 8443 } });
    expect(helmValues(parse(renderCiliumBootstrapManifest(single).content)).operator).toEqual({ replicas: 1, prometheus: { enabled: true } });
  });

  test('fails when the site does not run Cilium', () => {
    const flannel = defineSite({ ...lab, cluster: { cni: CniKind.FLANNEL } });
    expect(() => renderCiliumBootstrapManifest(flannel)).toThrow('site lab: cluster.cni: "flannel" — expected "cilium" for a Cilium bootstrap manifest');
  });
});
