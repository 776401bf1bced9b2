import { isPort } from '../../core/names';
import { BIND_EXPORTER_PORT, BIND_STATISTICS_PORT, ETCD_METRICS_PORT, NODE_EXPORTER_PORT } from '../../monitoring/ports';
import { ProblemCollector } from '../../core/problems';
import { DEFAULT_API_PORT, DEFAULT_STATS_PORT, LOAD_BALANCER_HEALTH_PORT } from '../defaults';
import { DatastoreKind, HostRole } from '../spec';
import { HostEntry } from './host-paths';
import { defaultDatastoreWitness } from './postgres';
import { isObject } from './shape';

/**
 * Every socket the site's roles open on each host, so that a port of the site file that collides with another
 * service is refused here, with its path, instead of failing when the stack is built (two roles claiming one port,
 * constructs/roles/*.ts `claimPort`) or on the machine (a service that cannot bind, sshd's port taken, a frontend
 * inside the NodePort range that kube-proxy or Cilium take on every Kubernetes node).
 */

/** Where a socket binds: every address, the host's own address, or loopback. */
type Scope = 'any' | 'host' | 'loopback';

interface Listener {
  readonly port: number;
  readonly to?: number;
  readonly protocol: 'tcp' | 'udp';
  readonly scope: Scope;
  /** What listens, for the message. */
  readonly what: string;
  /** The site field that sets the port, when the site sets it. */
  readonly field?: string;
}

/** Kubernetes' default `--service-node-port-range`: kube-proxy (or Cilium's replacement) serves it on every node. */
const NODE_PORTS = { port: 30000, to: 32767 };
const PATRONI_API_PORT = 8008;

/** Configurable ports in the order their problems name them: a later one is reported against an earlier one. */
const FIELD_ORDER = ['apiEndpoint.port', 'postgres.port', 'postgres.writerPort', 'loadBalancer.statsPort'];

const tcp = (port: number, scope: Scope, what: string, field?: string): Listener => ({ port, protocol: 'tcp', scope, what, field });
const hasRole = (host: Readonly<Record<string, unknown>>, role: HostRole) => Array.isArray(host.roles) && host.roles.includes(role);

/** The ports the site file sets, when valid (an invalid one is reported by its own check). */
interface SitePorts {
  readonly api: number;
  readonly stats: number;
  readonly postgres?: number;
  readonly writer?: number;
  readonly embeddedEtcd: boolean;
  readonly ingressFrontends: boolean;
}

function portOr(value: unknown, fallback: number): number | undefined {
  const port = value ?? fallback;
  return isPort(port) ? port : undefined;
}

function sitePorts(site: Readonly<Record<string, unknown>>): SitePorts | undefined {
  const section = (key: string) => (isObject(site[key]) ? site[key] as Record<string, unknown> : {});
  const postgresSite = section('controlPlane').datastore === DatastoreKind.POSTGRES;
  const api = portOr(section('apiEndpoint').port, DEFAULT_API_PORT);
  const stats = portOr(section('loadBalancer').statsPort, DEFAULT_STATS_PORT);
  const postgres = postgresSite ? portOr(section('postgres').port, 5432) : undefined;
  const writer = postgresSite ? portOr(section('postgres').writerPort, 5433) : undefined;
  if (api === undefined || stats === undefined || (postgresSite && (postgres === undefined || writer === undefined))) {
    return undefined;
  }
  return {
    api, stats, postgres, writer,
    embeddedEtcd: !postgresSite,
    ingressFrontends: section('loadBalancer').ingressFrontends !== false,
  };
}

/** The sockets of one host (sources: constructs/roles/*.ts `claimPort`, and the daemons those roles start). */
function listenersOf(host: Readonly<Record<string, unknown>>, ports: SitePorts, witness: boolean): Listener[] {
  const listeners: Listener[] = [tcp(22, 'any', 'sshd (the converge steps log in over it)'),
    tcp(NODE_EXPORTER_PORT, 'host', 'node_exporter (on every host)')];
  const kubernetesNode = [HostRole.K3S_SERVER, HostRole.K3S_AGENT, HostRole.CONTROL_PLANE, HostRole.WORKER].some((role) => hasRole(host, role));
  if (kubernetesNode) {
    listeners.push(tcp(10250, 'any', 'the kubelet'), { ...NODE_PORTS, protocol: 'tcp', scope: 'any', what: 'the NodePort range 30000–32767 (kube-proxy or Cilium on every Kubernetes node)' });
  }
  if (hasRole(host, HostRole.K3S_SERVER)) {
    listeners.push(tcp(6443, 'any', 'the K3s supervisor and API server'), tcp(6444, 'loopback', 'the node-local kube-apiserver'));
    if (ports.embeddedEtcd) {
      listeners.push(tcp(2379, 'any', 'etcd (client)'), tcp(2380, 'any', 'etcd (peer)'),
        tcp(ETCD_METRICS_PORT, 'host', 'etcd (metrics, etcd-expose-metrics)'), tcp(ETCD_METRICS_PORT, 'loopback', 'etcd (metrics)'));
    }
  }
  if (hasRole(host, HostRole.CONTROL_PLANE)) {
    listeners.push(tcp(6443, 'any', 'the kube-apiserver'), tcp(2379, 'any', 'etcd (client)'), tcp(2380, 'any', 'etcd (peer)'),
      tcp(10257, 'loopback', 'the kube-controller-manager'), tcp(10259, 'loopback', 'the kube-scheduler'),
      tcp(ETCD_METRICS_PORT, 'any', 'etcd (metrics, listen-metrics-urls)'));
  }
  if (hasRole(host, HostRole.LOAD_BALANCER)) {
    listeners.push(tcp(ports.api, 'any', 'the HAProxy API frontend', 'apiEndpoint.port'),
      tcp(ports.stats, 'host', 'the HAProxy stats page', 'loadBalancer.statsPort'),
      tcp(LOAD_BALANCER_HEALTH_PORT, 'loopback', 'the HAProxy health page Keepalived reads'));
    if (ports.ingressFrontends) {
      listeners.push(tcp(80, 'any', 'the HAProxy ingress HTTP frontend'), tcp(443, 'any', 'the HAProxy ingress HTTPS frontend'));
    }
    if (ports.writer !== undefined) {
      listeners.push(tcp(ports.writer, 'any', 'the HAProxy PostgreSQL writer endpoint', 'postgres.writerPort'));
    }
  }
  if (hasRole(host, HostRole.DATASTORE) && ports.postgres !== undefined) {
    listeners.push(tcp(ports.postgres, 'host', 'PostgreSQL', 'postgres.port'), tcp(ports.postgres, 'loopback', 'PostgreSQL', 'postgres.port'),
      tcp(PATRONI_API_PORT, 'host', 'the Patroni REST API'));
  }
  if ((hasRole(host, HostRole.DATASTORE) || witness) && ports.postgres !== undefined) {
    listeners.push(tcp(2379, 'host', 'the datastore\'s etcd (client)'), tcp(2379, 'loopback', 'the datastore\'s etcd (client)'),
      tcp(2380, 'host', 'the datastore\'s etcd (peer)'));
  }
  if (hasRole(host, HostRole.DNS)) {
    for (const protocol of ['tcp', 'udp'] as const) {
      listeners.push({ port: 53, protocol, scope: 'host', what: 'Bind9' }, { port: 53, protocol, scope: 'loopback', what: 'Bind9' });
    }
    listeners.push(tcp(BIND_STATISTICS_PORT, 'host', 'the Bind9 statistics channel'), tcp(BIND_EXPORTER_PORT, 'host', 'bind_exporter'));
  }
  return listeners;
}

function overlap(a: Listener, b: Listener): boolean {
  const scopes = a.scope === 'any' || b.scope === 'any' || a.scope === b.scope;
  const ports = a.port <= (b.to ?? b.port) && b.port <= (a.to ?? a.port);
  return scopes && ports && a.protocol === b.protocol;
}

/**
 * Checks the ports the site file sets against every other socket on the same hosts. A collision is reported once
 * per field, at that field, naming the first host and what already listens there.
 */
export function validatePorts(problems: ProblemCollector, site: Readonly<Record<string, unknown>>, entries: readonly HostEntry[]): void {
  const ports = sitePorts(site);
  if (!ports) {
    return;
  }
  const hosts = entries.map((entry) => entry.host);
  const witnessName = ports.postgres !== undefined
    ? defaultDatastoreWitness(hosts as Record<string, unknown>[], isObject(site.postgres) ? site.postgres.witness : undefined) : undefined;
  const collisions = new Map<string, { value: number; hosts: string[]; what: string }>();
  for (const { host, path } of entries) {
    const listeners = listenersOf(host, ports, witnessName !== undefined && host.name === witnessName);
    listeners.forEach((listener, i) => {
      if (!listener.field) {
        return;
      }
      const other = listeners.find((candidate, j) => j !== i && candidate.field !== listener.field && overlap(listener, candidate)
        && (!candidate.field || FIELD_ORDER.indexOf(candidate.field) < FIELD_ORDER.indexOf(listener.field!))
        // The API frontend on a K3s or kubeadm API server's own 6443 is reported by validateApiEndpoint, with its fix.
        && !(listener.field === 'apiEndpoint.port' && candidate.port === 6443 && !candidate.field));
      if (other) {
        const known = collisions.get(listener.field);
        if (known) {
          known.hosts.push(path);
        } else {
          collisions.set(listener.field, { value: listener.port, hosts: [path], what: other.field ? `${other.what} (${other.field})` : other.what });
        }
      }
    });
  }
  for (const [field, { value, hosts: at, what }] of collisions) {
    const where = at.length === 1 ? at[0] : `${at[0]} and ${at.length - 1} more host${at.length > 2 ? 's' : ''}`;
    problems.add(field, value, `a port nothing else on the host listens on: on ${where} ${what} listens on ${value}`);
  }
}
