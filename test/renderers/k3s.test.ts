import { readFileSync } from 'fs';
import { resolve } from 'path';
import { parse } from 'yaml';
import { CniKind, DatastoreKind, Distribution, HostRole, SitePlan, SiteSpec, ValidationError, defineSite, hostsWithRole } from '../../constructs';
import {
  K3S_AUTH_CONFIG_PATH, K3S_CONFIG_PATH, K3S_ENV_PATH, criticalServerConfig, k3sAgentConfig, k3sServerConfig, renderK3sInstallScript, renderWaitForApiScript,
} from '../../constructs/renderers';
import { loadSites } from '../../sites';
import lab from '../../sites/lab';
import { lxcSite, vmSite } from '../fixtures/sites';
import { describeWithTools } from '../support/tools';
import { DeliveredHost, deliveredHosts } from '../support/user-data';
import { shellcheck } from '../support/validators';

interface FlagEntry { flag: string; type: string; aliases: string[]; env?: string[] }
const flags = JSON.parse(readFileSync(process.env.K3S_FLAGS ?? resolve(__dirname, '../../../shared/reference/k3s/cli-flags.json'), 'utf8')) as { server: FlagEntry[]; agent: FlagEntry[] };

/** Problems of a rendered config against the K3s v1.36 flag reference: unknown flags and wrong value types. */
function flagProblems(config: Record<string, unknown>, mode: 'server' | 'agent'): string[] {
  const known = new Map(flags[mode].map((f) => [f.flag.replace(/^--/, ''), f.type]));
  return Object.entries(config).flatMap(([key, value]) => {
    const type = known.get(key);
    if (type === undefined) {
      return [`${key}: not a k3s ${mode} flag`];
    }
    const ok = type.startsWith('string[]') ? Array.isArray(value) ? value.every((v) => typeof v === 'string') : typeof value === 'string'
      : type === 'bool' ? typeof value === 'boolean'
        : type === 'int' ? Number.isInteger(value)
          : typeof value === 'string';
    return ok ? [] : [`${key}: ${JSON.stringify(value)} is not of type ${type}`];
  });
}

const SITES: SitePlan[] = [
  // Every K3s site the app synthesizes: seed 000 (external PostgreSQL), 001 (LXC load balancers), 002.
  ...loadSites().filter((site) => site.controlPlane.distribution === Distribution.K3S),
  defineSite(vmSite),
  defineSite(lxcSite),
  defineSite({ ...vmSite, name: 'flannel', cluster: { cni: CniKind.FLANNEL }, controlPlane: { dedicatedServers: true, secretsEncryption: false } }),
  defineSite({ ...vmSite, name: 'cilium-kube-proxy', cluster: { cni: CniKind.CILIUM, kubeProxyReplacement: false } }),
];

/** Every K3s node's config.yaml as synthesized: read from its user data (with the datastore's entries), parsed. */
function synthesizedConfigs(delivered: readonly DeliveredHost[]): Map<string, Record<string, unknown>> {
  return new Map(delivered.filter((h) => h.files.has(K3S_CONFIG_PATH))
    .map((h) => [h.host.name, parse(h.files.get(K3S_CONFIG_PATH)!.content) as Record<string, unknown>]));
}

test('the K3s sites checked include both datastores, Flannel, and Cilium with and without kube-proxy replacement', () => {
  expect(SITES.map((s) => s.name)).toEqual(expect.arrayContaining(['homelab', 'prod', 'lab']));
  expect(SITES.filter((s) => s.controlPlane.datastore === DatastoreKind.POSTGRES).map((s) => s.name)).toEqual(['homelab']);
  expect(SITES.map((s) => [s.cluster.cni, s.cluster.kubeProxyReplacement])).toEqual(expect.arrayContaining([
    [CniKind.CILIUM, true], [CniKind.CILIUM, false], [CniKind.FLANNEL, false],
  ]));
});

describe.each(SITES.map((site) => [site.name, site] as const))('K3s configuration of site %s, as synthesized', (_, site) => {
  const delivered = deliveredHosts(site);
  const synthesized = synthesizedConfigs(delivered);
  const servers = hostsWithRole(site, HostRole.K3S_SERVER);
  const agents = hostsWithRole(site, HostRole.K3S_AGENT);
  const configs = servers.map((server) => synthesized.get(server.name)!);
  const agentConfigs = agents.map((agent) => synthesized.get(agent.name)!);
  const embedded = site.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD;

  test('every server and agent has a config.yaml, and only they', () => {
    expect([...synthesized.keys()].sort()).toEqual([...servers, ...agents].map((h) => h.name).sort());
    expect(servers.length).toBeGreaterThan(0);
  });

  test('every server and agent config uses only real K3s v1.36 flags with the right types', () => {
    expect(configs.flatMap((c) => flagProblems(c, 'server'))).toEqual([]);
    expect(agentConfigs.flatMap((c) => flagProblems(c, 'agent'))).toEqual([]);
  });

  test('the servers\' environment file sets only K3s server variables', () => {
    const env = new Set(flags.server.flatMap((f) => f.env ?? []));
    const variables = delivered.flatMap((h) => [...(h.files.get(K3S_ENV_PATH)?.content.matchAll(/^([A-Z][A-Z0-9_]*)=/gm) ?? [])].map((m) => m[1]));
    expect(variables.filter((v) => !env.has(v))).toEqual([]);
    expect(variables).toHaveLength(embedded ? 0 : servers.length);
  });

  test('the servers agree on every critical flag', () => {
    const critical = Object.keys(criticalServerConfig(site));
    const pick = (c: Record<string, unknown>) => Object.fromEntries(critical.map((k) => [k, c[k]]));
    configs.forEach((config) => expect(pick(config)).toEqual(pick(configs[0])));
    expect(critical).toEqual(expect.arrayContaining(['cluster-cidr', 'service-cidr', 'cluster-domain', 'disable', 'flannel-backend']));
  });

  if (embedded) {
    test('embedded etcd: exactly one server initializes it, the others join through the API endpoint, every server snapshots', () => {
      expect(configs.filter((c) => c['cluster-init'] === true)).toHaveLength(1);
      expect(configs[0]['cluster-init']).toBe(true);
      configs.slice(1).forEach((c) => expect(c.server).toBe(`https://${site.apiEndpoint.address}:${site.apiEndpoint.port}`));
      configs.forEach((c) => expect(c).toMatchObject({ 'etcd-snapshot-schedule-cron': site.controlPlane.etcdSnapshotScheduleCron, 'etcd-snapshot-retention': site.controlPlane.etcdSnapshotRetention }));
    });
  } else {
    test('PostgreSQL: no server initializes, joins or snapshots etcd; the DSN stays out of config.yaml; each verifies the datastore CA', () => {
      for (const c of configs) {
        expect(c['cluster-init']).toBeUndefined();
        expect(c.server).toBeUndefined();
        expect(Object.keys(c).filter((key) => key.startsWith('etcd-'))).toEqual([]);
        expect(c['datastore-endpoint']).toBeUndefined(); // it holds the password: environment file only
        expect(c['datastore-cafile']).toBe(site.postgres!.tls ? '/etc/rancher/k3s/datastore-ca.crt' : undefined);
      }
    });
  }

  test('agents register through the API endpoint with the token file', () => {
    agentConfigs.forEach((c) => expect(c).toMatchObject({ server: `https://${site.apiEndpoint.address}:${site.apiEndpoint.port}`, 'token-file': '/etc/rancher/k3s/token' }));
  });

  test('the VIP (or endpoint address), the API DNS name and every server address are in tls-san', () => {
    configs.forEach((c) => expect(c['tls-san']).toEqual(expect.arrayContaining([site.apiEndpoint.address, site.apiEndpoint.dnsName, ...servers.map((s) => s.ip)])));
  });

  test('CNI flags follow the site: Cilium → flannel none, no network policy; kube-proxy replacement ⇔ disable-kube-proxy', () => {
    for (const c of configs) {
      expect(c['flannel-backend']).toBe(site.cluster.cni === CniKind.CILIUM ? 'none' : 'vxlan');
      expect(c['disable-network-policy'] === true).toBe(site.cluster.cni === CniKind.CILIUM);
      expect(c['disable-kube-proxy'] === true).toBe(site.cluster.kubeProxyReplacement);
      expect(c['cluster-cidr']).toBe(site.cluster.podCidr);
      expect(c.disable).toEqual(['servicelb', 'traefik']);
      expect(c['token-file']).toBe('/etc/rancher/k3s/token');
      expect(c['write-kubeconfig-mode']).toBe('0600');
      expect(c.token).toBeUndefined();
    }
  });

  test('secrets-encryption: true exactly when the site keeps it on (the default)', () => {
    configs.forEach((c) => expect(c['secrets-encryption']).toBe(site.controlPlane.secretsEncryption ? true : undefined));
  });
});

test('Cilium without kube-proxy replacement: the servers keep kube-proxy, and flannel stays off', () => {
  const site = SITES.find((s) => s.name === 'cilium-kube-proxy')!;
  expect(site.cluster.kubeProxyReplacement).toBe(false);
  const configs = synthesizedConfigs(deliveredHosts(site));
  const servers = hostsWithRole(site, HostRole.K3S_SERVER).map((server) => configs.get(server.name)!);
  expect(servers).toHaveLength(3);
  for (const config of servers) {
    expect(config['flannel-backend']).toBe('none');
    expect(config).not.toHaveProperty('disable-kube-proxy');
  }
});

describe('K3s server details', () => {
  const plan = defineSite(lab);

  test('the readyz health check comes with the anonymous health-endpoint authentication config', () => {
    expect(k3sServerConfig(plan, 'lx-k3s-server-02')['kube-apiserver-arg']).toEqual([`authentication-config=${K3S_AUTH_CONFIG_PATH}`]);
    const tcp = defineSite({ ...lab, loadBalancer: { apiHealthCheck: 'tcp' as never } });
    expect(k3sServerConfig(tcp, 'lx-k3s-server-02')['kube-apiserver-arg']).toBeUndefined();
  });

  test('node labels and taints from the site; dedicated servers get CriticalAddonsOnly', () => {
    const spec: SiteSpec = { ...lab, controlPlane: { dedicatedServers: true },
      hosts: lab.hosts.map((h) => (h.name === 'lx-k3s-agent-01' ? { ...h, nodeLabels: { zone: 'a' }, nodeTaints: ['gpu=true:NoSchedule'] } : h)) };
    const site = defineSite(spec);
    expect(k3sServerConfig(site, 'lx-k3s-server-01')['node-taint']).toEqual(['CriticalAddonsOnly=true:NoExecute']);
    expect(k3sAgentConfig(site, 'lx-k3s-agent-01')).toMatchObject({ 'node-label': ['zone=a'], 'node-taint': ['gpu=true:NoSchedule'], 'node-ip': '192.168.168.121' });
  });

  test('etcd snapshot schedule and retention only with embedded etcd', () => {
    expect(k3sServerConfig(plan, 'lx-k3s-server-01')).toMatchObject({ 'etcd-snapshot-schedule-cron': '0 */6 * * *', 'etcd-snapshot-retention': 12 });
    const postgres = loadSites().find((s) => s.controlPlane.datastore === DatastoreKind.POSTGRES)!;
    const config = k3sServerConfig(postgres, hostsWithRole(postgres, HostRole.K3S_SERVER)[0].name);
    expect(config).not.toHaveProperty('etcd-snapshot-schedule-cron');
    expect(config).not.toHaveProperty('etcd-snapshot-retention');
  });

  test('fails for a host that is not a server or agent', () => {
    expect(() => k3sServerConfig(plan, 'lx-k3s-agent-01')).toThrow('host "lx-k3s-agent-01" is not a K3s server');
    expect(() => k3sAgentConfig(plan, 'lx-k3s-server-01')).toThrow('host "lx-k3s-server-01" is not a K3s agent');
  });
});

describe('control plane validation', () => {
  const problems = (spec: SiteSpec) => {
    try {
      defineSite(spec);
      return [];
    } catch (error) {
      return (error as ValidationError).problems.map((p) => `${p.path}: ${p.expected}`);
    }
  };
  const withServers = (count: number): SiteSpec => ({ ...vmSite, hosts: [
    ...Array.from({ length: count }, (_, i) => ({ name: `s${i}`, ip: `198.18.0.${30 + i}`, vmId: 300 + i, proxmoxNode: 'pve-a', roles: [HostRole.K3S_SERVER] })),
    { name: 'lb', ip: '198.18.0.9', vmId: 299, proxmoxNode: 'pve-b', roles: [HostRole.LOAD_BALANCER] },
  ], apiEndpoint: { vip: '198.18.0.10' } });

  test('fails on an even number of embedded etcd servers unless allowed', () => {
    expect(problems(withServers(4))).toEqual([expect.stringContaining('an odd number of embedded etcd servers (4 tolerate as many failures as 3)')]);
    expect(problems({ ...withServers(4), controlPlane: { allowEvenServerCount: true } })).toEqual([]);
  });

  test('fails on an external datastore without datastore hosts, and on datastore hosts without it', () => {
    expect(problems({ ...withServers(3), controlPlane: { datastore: DatastoreKind.POSTGRES } })).toEqual([expect.stringContaining('at least one host with role datastore')]);
    const withDatastoreHost = withServers(3);
    const datastoreHost = { name: 'db', ip: '198.18.0.41', vmId: 341, proxmoxNode: 'pve-b', roles: [HostRole.DATASTORE] };
    expect(problems({ ...withDatastoreHost, hosts: [...withDatastoreHost.hosts, datastoreHost] }))
      .toEqual(['controlPlane.datastore: "postgres", since 1 hosts have role datastore (or remove that role)']);
  });

  test('fails on a malformed snapshot schedule and K3s checksum', () => {
    expect(problems({ ...withServers(3), controlPlane: { etcdSnapshotScheduleCron: 'hourly' }, versions: { k3sSha256: 'abc' } }))
      .toEqual([expect.stringContaining('versions.k3sSha256: 64 hexadecimal digits'), expect.stringContaining('controlPlane.etcdSnapshotScheduleCron: a five-field cron schedule')]);
  });
});

describeWithTools(['shellcheck'], 'shellcheck accepts the K3s install and wait scripts', () => {
  test.each([
    ['install, release checksum', renderK3sInstallScript('v1.36.3+k3s1')],
    ['install, pinned checksum', renderK3sInstallScript('v1.36.3+k3s1', 'a'.repeat(64))],
    ['wait for the API', renderWaitForApiScript(defineSite(lab))],
  ])('%s', (_, script) => {
    const result = shellcheck(script);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });
});
