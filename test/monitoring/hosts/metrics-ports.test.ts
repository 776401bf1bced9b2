import { Protocol, SiteSpec } from '../../../constructs';
import { metricsEndpoints } from '../../../constructs/monitoring/metrics-endpoints';
import { SITE_SPECS, loadSites } from '../../../sites';
import { synthSite } from '../../support/synth';
import { validationErrorOf } from '../../support/validation-error';

/**
 * Every metrics port is claimed twice over: by the role that opens it (CloudConfig.claimPort, so two roles cannot
 * take one port) and in the site's port model (so a port the site file sets that collides is refused, with its path).
 */
/** A seed's specification as a mutable copy (the specs are deeply read-only). */
type Draft = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const seed = (name: string): Draft => structuredClone(SITE_SPECS.find((spec) => spec.name === name)!);

describe.each(loadSites().map((site) => [site.name, site] as const))('seed site %s, synthesized', (_, site) => {
  const { stack } = synthSite(site);

  test('each host claims the port of every metrics endpoint it serves, on its own address or on every address', () => {
    const endpoints = metricsEndpoints(site);
    expect(endpoints.length).toBeGreaterThan(0);
    for (const endpoint of endpoints) {
      const claims = stack.hosts.get(endpoint.host)!.cloudConfig.ports
        .filter((claim) => claim.protocol === Protocol.TCP && claim.port === endpoint.port && (claim.address === undefined || claim.address === endpoint.ip));
      expect(`${endpoint.job}@${endpoint.host}:${endpoint.port} claimed ${claims.length}`).toBe(`${endpoint.job}@${endpoint.host}:${endpoint.port} claimed 1`);
    }
  });
});

/** Each row: a change to a seed, the field refused, and a fragment of its message naming what already listens there. */
const COLLISIONS: readonly [string, string, (s: Draft) => void, string, string][] = [
  ['the stats page takes node_exporter\'s port', 'prod', (s) => {
    s.loadBalancer.statsPort = 9100;
  }, 'loadBalancer.statsPort', 'node_exporter (on every host) listens on 9100'],
  ['the API frontend takes the K3s etcd metrics port on a server that balances', 'lab', (s) => {
    s.apiEndpoint.port = 2381;
  }, 'apiEndpoint.port', 'etcd (metrics, etcd-expose-metrics) listens on 2381'],
  ['the API frontend takes kubeadm\'s etcd metrics port on a control plane that balances', 'kubeadm-stacked', (s) => {
    s.hosts[1].roles = ['control-plane', 'load-balancer'];
    s.apiEndpoint.port = 2381;
  }, 'apiEndpoint.port', 'etcd (metrics, listen-metrics-urls) listens on 2381'],
  ['the stats page takes the Bind9 statistics channel on a load balancer that serves DNS', 'lab', (s) => {
    s.hosts[0].roles = [...s.hosts[0].roles, 'dns'];
    s.loadBalancer = { statsPort: 8053 };
  }, 'loadBalancer.statsPort', 'the Bind9 statistics channel listens on 8053'],
  ['PostgreSQL takes bind_exporter\'s port on a datastore node that serves DNS', 'homelab', (s) => {
    s.hosts[0].roles = [...s.hosts[0].roles, 'dns'];
    s.postgres = { port: 9119 };
  }, 'postgres.port', 'bind_exporter listens on 9119'],
];

describe('a site port colliding with a metrics port is refused at its path', () => {
  test.each(COLLISIONS)('%s', (_, name, mutate, path, fragment) => {
    const spec = seed(name);
    mutate(spec);
    const problems = validationErrorOf(spec as SiteSpec).problems.filter((problem) => problem.path === path);
    expect(problems.map((problem) => problem.path)).toEqual([path]);
    expect(problems[0].expected).toContain(fragment);
  });
});
