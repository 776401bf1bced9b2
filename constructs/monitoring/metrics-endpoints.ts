import { ETCD_CLIENT_PORT, PATRONI_API_PORT } from '../renderers/postgres/paths';
import { HostPlan, SitePlan, hasRole } from '../site/plan';
import { DatastoreKind, HostRole } from '../site/spec';
import { BIND_EXPORTER_PORT, ETCD_METRICS_PORT, NODE_EXPORTER_PORT } from './ports';

export * from './ports';

/**
 * The one list of what Prometheus scrapes outside the cluster: every metrics endpoint the site's hosts expose, derived
 * from the plan (never a hand-kept list). The host roles open these endpoints (constructs/roles/*.ts), the port model
 * (constructs/site/validate/ports.ts) claims their ports, and the in-cluster monitoring stack turns them into scrape
 * targets; all three read this module.
 */

/** Prometheus job names: alert rules and dashboards select on them. */
export enum MetricsJob {
  NODE = 'node',
  HAPROXY = 'haproxy',
  PATRONI = 'patroni',
  DATASTORE_ETCD = 'datastore-etcd',
  CLUSTER_ETCD = 'cluster-etcd',
  BIND = 'bind',
}

/** One scrape target: a host's metrics endpoint. */
export interface MetricsEndpoint {
  readonly job: MetricsJob;
  /** The host's name in the site (becomes the `instance` label). */
  readonly host: string;
  readonly ip: string;
  readonly port: number;
  readonly path: string;
  readonly scheme: 'http' | 'https';
}

/** Every metrics endpoint of the site, in site host order, then job order. Implemented with the host exporters. */
export type MetricsEndpointsOf = (plan: SitePlan) => readonly MetricsEndpoint[];

/** The order of a host's endpoints (the enum's order). */
const JOB_ORDER: readonly MetricsJob[] = Object.values(MetricsJob);

/** The endpoints one host exposes, in any order. */
function hostEndpoints(plan: SitePlan, host: HostPlan): MetricsEndpoint[] {
  const at = (job: MetricsJob, port: number, scheme: 'http' | 'https' = 'http'): MetricsEndpoint =>
    ({ job, host: host.name, ip: host.ip, port, path: '/metrics', scheme });
  // No job of their own, published through node_exporter's textfile collector: Keepalived's VRRP state
  // (`keepalived_vrrp_state`, its notify script) and K3s's etcd snapshots (`k3s_etcd_snapshot_*`, roles/host-exporters.ts).
  const endpoints = [at(MetricsJob.NODE, NODE_EXPORTER_PORT)];
  if (plan.loadBalancer && hasRole(host, HostRole.LOAD_BALANCER)) {
    // HAProxy's built-in exporter on the stats frontend (constructs/renderers/haproxy.ts).
    endpoints.push(at(MetricsJob.HAPROXY, plan.loadBalancer.statsPort));
  }
  const postgres = plan.postgres;
  if (postgres && hasRole(host, HostRole.DATASTORE)) {
    // Patroni's REST API serves TLS with the node's certificate when the datastore uses TLS (renderers/postgres/patroni.ts).
    endpoints.push(at(MetricsJob.PATRONI, PATRONI_API_PORT, postgres.tls ? 'https' : 'http'));
  }
  if (postgres?.etcdMembers.some((member) => member.name === host.name)) {
    // etcd's client port; with TLS it asks for a client certificate of the datastore CA (renderers/postgres/etcd.ts).
    endpoints.push(at(MetricsJob.DATASTORE_ETCD, ETCD_CLIENT_PORT, postgres.tls ? 'https' : 'http'));
  }
  const embeddedEtcd = plan.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD && hasRole(host, HostRole.K3S_SERVER);
  if (embeddedEtcd || hasRole(host, HostRole.CONTROL_PLANE)) {
    endpoints.push(at(MetricsJob.CLUSTER_ETCD, ETCD_METRICS_PORT));
  }
  if (hasRole(host, HostRole.DNS)) {
    endpoints.push(at(MetricsJob.BIND, BIND_EXPORTER_PORT));
  }
  return endpoints;
}

/**
 * Every metrics endpoint of the site, in site host order, then job order. A host being decommissioned is left out:
 * it has left the cluster and is converged no more, so its targets would only raise false alerts until it is removed.
 */
export const metricsEndpoints: MetricsEndpointsOf = (plan) => plan.hosts
  .filter((host) => !host.decommission)
  .flatMap((host) => hostEndpoints(plan, host).sort((a, b) => JOB_ORDER.indexOf(a.job) - JOB_ORDER.indexOf(b.job)));
