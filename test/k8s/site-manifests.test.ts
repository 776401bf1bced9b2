import { Testing } from 'cdk8s';
import { parse } from 'yaml';
import {
  CniKind, HostRole, SiteChart, k3sServerConfig, SitePlan, chartManifestFileNames, defineSite, hostsWithRole, renderCiliumBootstrapManifest, renderHaproxyConfig,
} from '../../constructs';
import { loadSites } from '../../sites';
import { lxcSite, vmSite } from '../fixtures/sites';
import { ciliumValuesErrors, isBuiltInKind, isKnownCustomResource, isNamespacedKind, schemaErrors, unknownCiliumValueKeys } from '../support/k8s-schema';
import { Manifest, certManagerProblems, helmValues, one } from './manifests';

// Every site's GitOps folder, checked against the schemas and against the rest of the site: the same plan feeds
// HAProxy, K3s and these manifests, so the facts they share must agree. The fixtures add shapes the real sites
// lack (no VIP on dedicated LXC load balancers, a single server).
const sites: readonly SitePlan[] = [
  ...loadSites(),
  defineSite(vmSite),
  defineSite(lxcSite),
  defineSite({ ...vmSite, name: 'fixture-single', hosts: [vmSite.hosts[0]], apiEndpoint: { port: 8443 } }),
  defineSite({ ...vmSite, name: 'fixture-flannel', cluster: { cni: CniKind.FLANNEL } }),
];

describe.each(sites.map((site) => [site.name, site] as const))('site %s', (_name, site) => {
  const chart = new SiteChart(Testing.app(), site.name, { site });
  const manifests: Manifest[] = Testing.synth(chart);
  const helmChart = manifests.find((m) => m.kind === 'HelmChart');

  test('every built-in object is valid against Kubernetes 1.36, unknown fields rejected', () => {
    const builtIn = manifests.filter(isBuiltInKind);
    expect(builtIn.length).toBeGreaterThan(10);
    for (const manifest of builtIn) {
      expect({ object: `${manifest.kind}/${manifest.metadata.name}`, errors: schemaErrors(manifest) }).toEqual({ object: `${manifest.kind}/${manifest.metadata.name}`, errors: [] });
    }
  });

  test('every custom resource is valid against its CRD; cert-manager objects have their required fields', () => {
    for (const manifest of manifests.filter((m) => !isBuiltInKind(m))) {
      const object = `${manifest.kind}/${manifest.metadata.name}`;
      if (isKnownCustomResource(manifest)) {
        expect({ object, errors: schemaErrors(manifest) }).toEqual({ object, errors: [] });
      } else {
        expect(manifest.apiVersion).toBe('cert-manager.io/v1');
        expect({ object, errors: certManagerProblems(manifest) }).toEqual({ object, errors: [] });
      }
    }
  });

  test('Cilium values are valid for chart 1.20.0 and use only keys the chart has', () => {
    if (site.cluster.cni !== CniKind.CILIUM) {
      expect(helmChart).toBeUndefined();
      return;
    }
    const values = helmValues(helmChart!);
    expect(ciliumValuesErrors(values)).toEqual([]);
    expect(unknownCiliumValueKeys(values)).toEqual([]);
  });

  test('namespaced objects name their namespace; cluster-scoped objects have none', () => {
    for (const manifest of manifests) {
      expect({ object: `${manifest.kind}/${manifest.metadata.name}`, namespaced: typeof manifest.metadata.namespace === 'string' })
        .toEqual({ object: `${manifest.kind}/${manifest.metadata.name}`, namespaced: isNamespacedKind(manifest) });
    }
  });

  test('every object gets its own file in the GitOps folder', () => {
    expect(chartManifestFileNames(chart)).toHaveLength(manifests.length);
  });

  describe('consistency with the machines', () => {
    test('the ingress Service NodePorts are the plan\'s, which HAProxy forwards 80/443 to on the servers the controller runs on', () => {
      const service = one(manifests, 'Service', 'nginx-ingress-controller');
      const nodePorts = Object.fromEntries(service.spec.ports.map((p: Manifest) => [p.port, p.nodePort]));
      expect(nodePorts).toEqual({ 80: site.ingress.httpNodePort, 443: site.ingress.httpsNodePort });
      if (site.loadBalancer?.ingressFrontends) {
        const haproxy = renderHaproxyConfig(site, site.loadBalancer.nodes[0].name, 'not-a-secret');
        const servers = hostsWithRole(site, HostRole.K3S_SERVER).map((host) => host.ip);
        for (const [backend, nodePort] of [['ingress_http', site.ingress.httpNodePort], ['ingress_https', site.ingress.httpsNodePort]] as const) {
          const section = haproxy.split(`\nbackend ${backend}\n`)[1].split(/\n(?=\S)/)[0];
          const targets = [...section.matchAll(/^\s+server \S+ (\S+):(\d+)/gm)].map(([, ip, port]) => `${ip}:${port}`);
          expect(targets).toEqual(servers.map((ip) => `${ip}:${nodePort}`));
        }
        // The controller runs on the control-plane nodes, the K3s servers HAProxy sends to.
        expect(one(manifests, 'DaemonSet').spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms)
          .toEqual([{ matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] }]);
      }
    });

    test('Cilium allocates pods from K3s\'s cluster CIDR and replaces kube-proxy exactly when K3s disables it', () => {
      if (site.cluster.cni !== CniKind.CILIUM) {
        expect(helmChart).toBeUndefined();
        return;
      }
      const values = helmValues(helmChart!);
      // Compared with what the K3s servers are actually configured with, not with the plan both read.
      for (const server of hostsWithRole(site, HostRole.K3S_SERVER)) {
        const k3s = k3sServerConfig(site, server.name);
        expect(values.ipam.operator.clusterPoolIPv4PodCIDRList).toEqual([k3s['cluster-cidr']]);
        expect(values.kubeProxyReplacement).toBe(k3s['disable-kube-proxy'] === true);
        expect(k3s['flannel-backend']).toBe('none');
      }
    });

    test('Cilium reaches the API server node-locally (127.0.0.1:6444) or through the API endpoint', () => {
      if (site.cluster.cni !== CniKind.CILIUM) {
        return;
      }
      const { k8sServiceHost, k8sServicePort } = helmValues(helmChart!);
      expect([['127.0.0.1', 6444], [site.apiEndpoint.address, site.apiEndpoint.port]]).toContainEqual([k8sServiceHost, k8sServicePort]);
    });

    test('the first server\'s bootstrap manifest holds the same HelmChart', () => {
      if (site.cluster.cni !== CniKind.CILIUM) {
        expect(() => renderCiliumBootstrapManifest(site)).toThrow(/expected "cilium"/);
        return;
      }
      expect(parse(renderCiliumBootstrapManifest(site).content)).toEqual(helmChart);
    });

    test('the demo Ingress host lies in the site\'s DNS zone', () => {
      const ingress = one(manifests, 'Ingress');
      for (const host of [...ingress.spec.rules.map((r: Manifest) => r.host), ...ingress.spec.tls.flatMap((t: Manifest) => t.hosts)]) {
        expect(host.endsWith(`.${site.network.searchDomain}`)).toBe(true);
      }
    });
  });
});
