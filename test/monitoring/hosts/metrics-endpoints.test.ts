import { HostRole, SitePlan, SiteSpec, defineSite } from '../../../constructs';
import { MetricsEndpoint, MetricsJob, metricsEndpoints } from '../../../constructs/monitoring/metrics-endpoints';
import { SITE_SPECS, loadSites } from '../../../sites';
import { vmSite } from '../../fixtures/sites';

const PLANS = loadSites();

/** Endpoints per job, counted by hand from the site files (sites/*.ts). */
const EXPECTED_COUNTS: Readonly<Record<string, Readonly<Record<MetricsJob, number>>>> = {
  homelab: { node: 5, haproxy: 2, patroni: 2, 'datastore-etcd': 3, 'cluster-etcd': 0, bind: 0 },
  prod: { node: 6, haproxy: 3, patroni: 0, 'datastore-etcd': 0, 'cluster-etcd': 3, bind: 0 },
  lab: { node: 5, haproxy: 3, patroni: 0, 'datastore-etcd': 0, 'cluster-etcd': 3, bind: 2 },
  'kubeadm-stacked': { node: 6, haproxy: 1, patroni: 0, 'datastore-etcd': 0, 'cluster-etcd': 3, bind: 0 },
  'kubeadm-multi': { node: 5, haproxy: 1, patroni: 0, 'datastore-etcd': 0, 'cluster-etcd': 2, bind: 0 },
};

/** The same counts derived from the raw site specifications' roles, not from the plan. */
function countsFromSpec(spec: SiteSpec): Record<MetricsJob, number> {
  const withRole = (role: HostRole) => spec.hosts.filter((host) => host.roles.includes(role)).length;
  const postgres = spec.controlPlane?.datastore === 'postgres';
  const datastores = withRole(HostRole.DATASTORE);
  return {
    node: spec.hosts.length,
    haproxy: withRole(HostRole.LOAD_BALANCER),
    patroni: datastores,
    // An even number of datastore nodes gets an etcd witness.
    'datastore-etcd': postgres ? datastores + (datastores % 2 === 0 ? 1 : 0) : 0,
    'cluster-etcd': (postgres ? 0 : withRole(HostRole.K3S_SERVER)) + withRole(HostRole.CONTROL_PLANE),
    bind: withRole(HostRole.DNS),
  };
}

function countsOf(endpoints: readonly MetricsEndpoint[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(Object.values(MetricsJob).map((job) => [job, 0]));
  endpoints.forEach((endpoint) => { counts[endpoint.job] += 1; });
  return counts;
}

test('the table covers every seed site', () => {
  expect(PLANS.map((plan) => plan.name).sort()).toEqual(Object.keys(EXPECTED_COUNTS).sort());
});

describe.each(PLANS.map((plan) => [plan.name, plan] as const))('seed site %s', (name, plan: SitePlan) => {
  const endpoints = metricsEndpoints(plan);
  const spec = SITE_SPECS.find((candidate) => candidate.name === name)!;

  test('has as many endpoints per job as the site file has hosts of the matching roles', () => {
    expect(countsOf(endpoints)).toEqual(EXPECTED_COUNTS[name]);
    expect(countsOf(endpoints)).toEqual(countsFromSpec(spec));
  });

  test('every endpoint is on its host\'s own address, at the port of its job, once', () => {
    const ipOf = new Map(plan.hosts.map((host) => [host.name, host.ip]));
    const portOf: Record<MetricsJob, number> = {
      node: 9100, haproxy: plan.loadBalancer?.statsPort ?? -1, patroni: 8008, 'datastore-etcd': 2379, 'cluster-etcd': 2381, bind: 9119,
    };
    for (const endpoint of endpoints) {
      expect({ ...endpoint, ip: endpoint.ip, port: endpoint.port, path: endpoint.path })
        .toEqual({ ...endpoint, ip: ipOf.get(endpoint.host), port: portOf[endpoint.job], path: '/metrics' });
    }
    const keys = endpoints.map((endpoint) => `${endpoint.ip}:${endpoint.port}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test('lists hosts in site order, then jobs in enum order', () => {
    const jobOrder = Object.values(MetricsJob) as string[];
    const hostOrder = plan.hosts.map((host) => host.name);
    const rank = (endpoint: MetricsEndpoint) => hostOrder.indexOf(endpoint.host) * 100 + jobOrder.indexOf(endpoint.job);
    const ranks = endpoints.map(rank);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
  });

  test('speaks TLS exactly where the datastore does (Patroni and its etcd)', () => {
    const tls = plan.postgres?.tls === true;
    for (const endpoint of endpoints) {
      const datastore = endpoint.job === MetricsJob.PATRONI || endpoint.job === MetricsJob.DATASTORE_ETCD;
      expect(`${endpoint.job}@${endpoint.host}: ${endpoint.scheme}`).toBe(`${endpoint.job}@${endpoint.host}: ${datastore && tls ? 'https' : 'http'}`);
    }
  });
});

test('a host being decommissioned is no scrape target', () => {
  const plan = defineSite({
    ...vmSite,
    hosts: vmSite.hosts.map((host) => (host.name === 'agent-1' ? { ...host, decommission: true } : host)),
  });
  const hosts = new Set(metricsEndpoints(plan).map((endpoint) => endpoint.host));
  expect([...hosts]).toEqual(['server-1', 'server-2', 'server-3']);
  expect(metricsEndpoints(defineSite(vmSite)).filter((endpoint) => endpoint.host === 'agent-1').map((endpoint) => endpoint.job)).toEqual([MetricsJob.NODE]);
});
