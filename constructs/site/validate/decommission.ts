import { ProblemCollector } from '../../core/problems';
import { DatastoreKind, Distribution, HostRole } from '../spec';
import { HostEntry } from './host-paths';
import { defaultDatastoreWitness } from './postgres';
import { isObject } from './shape';

/**
 * `decommission: true` takes a K3s node out from another server (constructs/tf/site-lifecycle.ts addNodeLifecycle:
 * drain, stop its service, delete its Node and etcd member) and stops converging it. Nothing else is taken out:
 * a load balancer, DNS server or datastore node marked so would stay a VRRP peer, an NS record, a Patroni and etcd
 * member that is no longer maintained; a kubeadm node has no decommissioning step at all. So the flag is refused
 * where it would leave the host in use:
 * - on a host with a role other than k3s-server and k3s-agent, and on kubeadm sites;
 * - on the host the API endpoint is (no load balancer: the endpoint is that server's own address);
 * - on the datastore's etcd witness;
 * - when no K3s server would be left to run the decommissioning from (and to be the cluster).
 */
export function validateDecommission(problems: ProblemCollector, site: Readonly<Record<string, unknown>>, entries: readonly HostEntry[]): void {
  const leaving = entries.filter(({ host }) => host.decommission === true);
  if (leaving.length === 0) {
    return;
  }
  const controlPlane = isObject(site.controlPlane) ? site.controlPlane : {};
  const kubeadm = controlPlane.distribution === Distribution.KUBEADM;
  const roles = (host: Readonly<Record<string, unknown>>): unknown[] => (Array.isArray(host.roles) ? host.roles : []);
  const hasRole = (host: Readonly<Record<string, unknown>>, role: HostRole) => roles(host).includes(role);
  const endpoint = isObject(site.apiEndpoint) ? site.apiEndpoint : {};
  const balanced = entries.some(({ host }) => hasRole(host, HostRole.LOAD_BALANCER));
  const servers = entries.filter(({ host }) => hasRole(host, HostRole.K3S_SERVER));
  const witness = controlPlane.datastore === DatastoreKind.POSTGRES
    ? defaultDatastoreWitness(entries.map((entry) => entry.host) as Record<string, unknown>[], isObject(site.postgres) ? site.postgres.witness : undefined) : undefined;

  for (const { host, path } of leaving) {
    const at = `${path}.decommission`;
    if (kubeadm) {
      problems.add(at, true, 'false: kubeadm nodes have no decommissioning step (remove the node with kubeadm reset and kubectl delete node, then from the site)');
      continue;
    }
    const kept = roles(host).filter((role) => role !== HostRole.K3S_SERVER && role !== HostRole.K3S_AGENT);
    if (kept.length > 0) {
      problems.add(at, true, `false while the host has role ${kept.map(String).join(', ')}: only K3s servers and agents are taken out; `
        + 'move that role to another host first (it would stay in use, no longer maintained)');
      continue;
    }
    if (!balanced && endpoint.vip === undefined && servers[0]?.host === host) {
      problems.add(at, true, 'false: without a load balancer the API endpoint is this server\'s own address; add load balancers or keep the server');
      continue;
    }
    if (witness !== undefined && host.name === witness) {
      problems.add(at, true, 'false: the host is the datastore\'s etcd witness (postgres.witness); move the witness first (see the runbook)');
    }
  }
  const live = servers.filter(({ host }) => host.decommission !== true);
  if (servers.length > 0 && live.length === 0) {
    problems.add(`${servers[0].path}.decommission`, true, 'false for at least one K3s server: the cluster and the decommissioning run from a server that stays');
  }
}
