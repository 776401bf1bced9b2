import { Testing } from 'cdk8s';
import { parse } from 'yaml';
import { CniKind, Distribution, HostRole, SiteChart, SitePlan, controlPlaneHosts, defineSite, hostsWithRole } from '../../constructs';
import { k3sServerConfig, kubeadmInitConfiguration, kubeadmJoinConfiguration, renderForwardZone, renderHaproxyConfig } from '../../constructs/renderers';
import { chartManifestFileNames, renderCiliumBootstrapManifest } from '../../constructs/k8s';
import { loadSites } from '../../sites';
import kubeadmStacked from '../../sites/kubeadm-stacked';
import { lxcSite, vmSite } from '../fixtures/sites';
import { ciliumValuesErrors, isBuiltInKind, isKnownCustomResource, isNamespacedKind, schemaErrors, unknownCiliumValueKeys } from '../support/k8s-schema';
import { describeWithTools } from '../support/tools';
import { runOnFile } from '../support/validators';
import { Manifest, Taint, certManagerProblems, helmValues, one, taintOf, untolerated } from './manifests';

// Every site's GitOps folder, checked against the schemas and against the rest of the site: the same plan feeds
// HAProxy, K3s and these manifests, so the facts they share must agree. The fixtures add shapes the real sites
// lack (no VIP on dedicated LXC load balancers, a single server, custom taints, a DNS zone other than the search
// domain).
const sites: readonly SitePlan[] = [
  ...loadSites(),
  defineSite(vmSite),
  defineSite(lxcSite),
  defineSite({ ...vmSite, name: 'fixture-single', hosts: [vmSite.hosts[0]], apiEndpoint: { port: 8443 } }),
  defineSite({ ...vmSite, name: 'fixture-flannel', cluster: { cni: CniKind.FLANNEL } }),
  defineSite({
    ...vmSite,
    name: 'fixture-taints',
    controlPlane: { dedicatedServers: true },
    hosts: vmSite.hosts.map((host, i) => ({ ...host, nodeTaints: [['dedicated=ingress:NoSchedule'], ['example.com/edge:NoExecute', 'spot=true:PreferNoSchedule'], [], ['gpu=true:NoSchedule']][i] })),
  }),
  defineSite({
    ...kubeadmStacked,
    name: 'fixture-kubeadm-taints',
    hosts: kubeadmStacked.hosts.map((host) => (host.name === 'controlplane2' ? { ...host, nodeTaints: ['dedicated=etcd:NoSchedule'] } : host)),
  }),
  defineSite({
    ...vmSite,
    name: 'fixture-zone',
    hosts: [...vmSite.hosts, { name: 'dns-1', ip: '198.18.0.41', vmId: 1041, proxmoxNode: 'pve-b', roles: [HostRole.DNS] }],
    dns: { zone: 'apps.fixture-zone.test' },
  }),
];

// Test inputs in the shape of kubeadm's secrets (the stack passes Terraform references).
const KUBEADM_SECRETS = { bootstrapToken: 'k8s0a1.b2c3d4e5f6g7h8i9', certificateKey: '0123456789abcdef'.repeat(4) };
/** kubeadm's taint on a control plane whose `nodeRegistration.taints` is unset. */
const KUBEADM_DEFAULT_CONTROL_PLANE_TAINTS: readonly Taint[] = [{ key: 'node-role.kubernetes.io/control-plane', value: '', effect: 'NoSchedule' }];

/** The taints a control-plane node registers with, read from its rendered K3s `config.yaml` or kubeadm configuration. */
function registeredTaints(site: SitePlan, hostName: string): readonly Taint[] {
  if (site.controlPlane.distribution === Distribution.K3S) {
    return ((k3sServerConfig(site, hostName)['node-taint'] ?? []) as readonly string[]).map(taintOf);
  }
  const first = hostsWithRole(site, HostRole.CONTROL_PLANE)[0].name === hostName;
  const registration = first ? kubeadmInitConfiguration(site, hostName, KUBEADM_SECRETS).nodeRegistration
    : kubeadmJoinConfiguration(site, hostName, KUBEADM_SECRETS).nodeRegistration;
  return registration.taints?.map(({ key, value, effect }) => ({ key, value: value ?? '', effect })) ?? KUBEADM_DEFAULT_CONTROL_PLANE_TAINTS;
}

/** The `ip:port` targets of one HAProxy backend section. */
function haproxyBackendTargets(haproxy: string, backend: string): string[] {
  const section = haproxy.split(`\nbackend ${backend}\n`)[1].split(/\n(?=\S)/)[0];
  return [...section.matchAll(/^\s+server \S+ (\S+):(\d+)/gm)].map(([, ip, port]) => `${ip}:${port}`);
}

/** Canonical zone records (`named-checkzone -D`) as [owner, type, data], owners absolute with the trailing dot. */
function canonicalRecords(zone: string, content: string): string[][] {
  const result = runOnFile('named-checkzone', ['-q', '-D', '-o', '-', '-i', 'local', zone], content, 'zone.db');
  expect(result).toMatchObject({ ok: true });
  return result.output.split('\n').filter((line) => line.trim() !== '').map((line) => {
    const [owner, , , type, ...data] = line.trim().split(/\s+/);
    return [owner, type, data.join(' ')];
  });
}

describe.each(sites.map((site) => [site.name, site] as const))('site %s', (_name, site) => {
  const chart = new SiteChart(Testing.app(), site.name, { site });
  const manifests: Manifest[] = Testing.synth(chart);
  const helmChart = manifests.find((m) => m.kind === 'HelmChart' && m.metadata.name === 'cilium');

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
          expect(haproxyBackendTargets(haproxy, backend)).toEqual(servers.map((ip) => `${ip}:${nodePort}`));
        }
        // The controller runs on the control-plane nodes, the K3s servers HAProxy sends to.
        expect(one(manifests, 'DaemonSet').spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms)
          .toEqual([{ matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] }]);
      }
    });

    test('a controller pod can run on every node the load balancers send ingress to: each taint the machine registers is tolerated', () => {
      const tolerations = one(manifests, 'DaemonSet').spec.template.spec.tolerations;
      // The ingress backends' addresses when HAProxy has them, else the control planes the DaemonSet selects.
      const haproxy = site.loadBalancer?.ingressFrontends ? renderHaproxyConfig(site, site.loadBalancer.nodes[0].name, 'not-a-secret') : undefined;
      const ingressIps = haproxy ? haproxyBackendTargets(haproxy, 'ingress_https').map((target) => target.split(':')[0]) : controlPlaneHosts(site).map((host) => host.ip);
      const nodes = site.hosts.filter((host) => ingressIps.includes(host.ip));
      expect(nodes.map((host) => host.ip)).toEqual(ingressIps);
      for (const node of nodes) {
        expect({ node: node.name, untolerated: untolerated(tolerations, registeredTaints(site, node.name)) }).toEqual({ node: node.name, untolerated: [] });
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

    test('the demo Ingress host lies in the zone the site\'s Bind9 servers serve (the search domain without DNS servers)', () => {
      const ingress = one(manifests, 'Ingress');
      const hosts = [...ingress.spec.rules.map((r: Manifest) => r.host), ...ingress.spec.tls.flatMap((t: Manifest) => t.hosts)];
      expect(hosts.length).toBeGreaterThan(0);
      const zone = site.dns ? renderForwardZone(site).zone : site.network.searchDomain;
      for (const host of hosts) {
        expect({ host, inZone: host.endsWith(`.${zone}`) }).toEqual({ host, inZone: true });
      }
    });
  });

  if (site.dns) {
    describeWithTools(['named-checkzone'], 'the demo host in the zone file', () => {
      test('resolves to the address the load balancers serve 80/443 on (named-checkzone\'s canonical records)', () => {
        const forward = renderForwardZone(site);
        const records = canonicalRecords(forward.zone, forward.content);
        const host = `${one(manifests, 'Ingress').spec.rules[0].host}.`;
        const own = records.filter(([owner, type]) => owner === host && type === 'A');
        // A name without records of its own is answered by the wildcard one label up (RFC 4592).
        const answers = own.length > 0 ? own : records.filter(([owner, type]) => owner === `*.${host.split('.').slice(1).join('.')}` && type === 'A');
        expect(answers.map(([, , address]) => address)).toEqual([site.apiEndpoint.address]);
      });
    });
  }
});
