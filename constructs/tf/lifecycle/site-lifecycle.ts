import { dependable } from 'cdktf';
import { Construct } from 'constructs';
import { K3S_KUBECTL } from '../../renderers/k3s';
import { KUBEADM_INIT_CONFIG_PATH, KUBEADM_KUBECTL } from '../../renderers/kubeadm';
import { HostPlan, SitePlan, controlPlaneHosts, hasRole } from '../../site/plan';
import { DatastoreKind, Distribution, HostRole } from '../../site/spec';
import { ConvergeConnection } from './host-converge';
import { KubeadmJoinPreparation, NodeDecommission, NodeDrain, NodeRebuildDrain, NodeRejoinCleanup, restartTrigger } from './node-lifecycle';
import { DatastoreMemberRejoin } from './datastore-rejoin';
import type { SiteHost } from '../site-hosts';

/*
 * What a site stack adds around its hosts' converge steps over the site's life: the facts the change report reads,
 * K3s drains and decommissioning, kubeadm join preparation.
 */

/** What the change report needs to know of a host besides its files: its machine and versions. */
export function convergeFacts(site: SitePlan, host: HostPlan): Record<string, string | number> {
  const kubernetesNode = [HostRole.K3S_SERVER, HostRole.K3S_AGENT, HostRole.CONTROL_PLANE, HostRole.WORKER].some((role) => hasRole(host, role));
  return {
    roles: host.roles.join(','),
    kind: host.kind,
    vmId: host.vmId,
    proxmoxNode: host.proxmoxNode,
    generation: host.generation,
    ...(kubernetesNode ? (site.controlPlane.distribution === Distribution.K3S ? { k3s: site.versions.k3s } : { kubernetes: site.versions.kubernetes }) : {}),
    // The datastore's etcd: its nodes and the witness (K3s's embedded etcd is told by embeddedEtcd below).
    ...(hasRole(host, HostRole.DATASTORE) || site.postgres?.witness?.name === host.name ? { etcdMember: 1 } : {}),
    ...(controlPlaneHosts(site).includes(host) ? {
      embeddedEtcd: site.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD || site.controlPlane.distribution === Distribution.KUBEADM ? 1 : 0,
      allowUnsafeServerRemoval: site.rollout.allowUnsafeServerRemoval ? 1 : 0,
    } : {}),
  };
}

/** A host of the site this stack neither makes nor configures (`unmanagedHosts`). */
function unmanagedHost(host: SiteHost): boolean {
  return !host.machine && !host.converge && !host.plan.decommission;
}

/**
 * K3s nodes this stack manages: agents are drained around a converge that restarts k3s-agent, every VM node around
 * a converge that restarts its machine (`machine-restart.ts`), every node before its machine is destroyed for a
 * rebuild (and cleaned up before the new one joins), and a node marked `decommission` is taken out of the cluster
 * from another server. Needs a second server to act from; a single-server site gets none of this.
 */
export function addNodeLifecycle(scope: Construct, site: SitePlan, hosts: ReadonlyMap<string, SiteHost>, connections: ReadonlyMap<string, ConvergeConnection>): void {
  const servers = site.hosts.filter((host) => hasRole(host, HostRole.K3S_SERVER) && hosts.get(host.name)!.converge);
  for (const host of site.hosts) {
    const siteHost = hosts.get(host.name)!;
    const server = hasRole(host, HostRole.K3S_SERVER);
    const peer = servers.find((candidate) => candidate.name !== host.name);
    if (!peer || !(server || hasRole(host, HostRole.K3S_AGENT)) || unmanagedHost(siteHost)) {
      continue;
    }
    const via = { connection: connections.get(peer.name)!, kubectl: K3S_KUBECTL };
    if (host.decommission) {
      new NodeDecommission(scope, `${host.name}-Decommission`, {
        node: host.name,
        via,
        nodeConnection: connections.get(host.name)!,
        unit: server ? 'k3s' : 'k3s-agent',
        etcdMember: server && site.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD,
        machines: [siteHost.machine?.resource, hosts.get(peer.name)!.machine?.resource].filter((m): m is NonNullable<typeof m> => m !== undefined),
        record: { host: host.name, files: {}, services: [], position: 0, after: [], facts: { ...convergeFacts(site, host), decommissioned: 1 } },
      });
    } else if (!server || siteHost.converge?.restartFingerprint !== undefined) {
      // Agents around a k3s-agent restart or a machine restart; servers (whose k3s restarts are gated by etcd and
      // the API instead) around a machine restart only.
      new NodeDrain(scope, `${host.name}-Drain`, { node: host.name, via, converge: siteHost.converge!, restartTrigger: restartTrigger(siteHost.converge!, server ? undefined : 'k3s-agent') });
    }
    if (!host.decommission && siteHost.machine) {
      // Exists from the first build, so a later rebuild runs its destroy-time drain.
      new NodeRebuildDrain(scope, `${host.name}-RebuildDrain`, { node: host.name, machine: siteHost.machine, via, viaMachine: hosts.get(peer.name)!.machine?.resource });
    }
    if (host.generation > 0 && !host.decommission && siteHost.machine) {
      const cleanup = new NodeRejoinCleanup(scope, `${host.name}-RejoinCleanup`, {
        node: host.name,
        nodeIp: host.ip,
        generation: host.generation,
        etcdMember: server && site.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD,
        via,
        distribution: Distribution.K3S,
        after: [hosts.get(peer.name)!.machine?.resource].filter((m): m is NonNullable<typeof m> => m !== undefined),
      });
      siteHost.machine.resource.dependsOn = [...(siteHost.machine.resource.dependsOn ?? []), dependable(cleanup.resource)];
    }
  }
}

/**
 * kubeadm nodes that join after the first control plane: the token (and, for control planes, the uploaded
 * certificates) are made valid again on the first control plane before the node's machine is created (or, for an
 * existing host, before its converge step), so a node added or rebuilt months later still joins.
 */
export function addKubeadmJoinPreparation(scope: Construct, site: SitePlan, hosts: ReadonlyMap<string, SiteHost>, connections: ReadonlyMap<string, ConvergeConnection>): void {
  const first = controlPlaneHosts(site)[0];
  const firstConverge = hosts.get(first.name)?.converge;
  if (!firstConverge) {
    return;
  }
  for (const host of site.hosts.filter((h) => h !== first && (hasRole(h, HostRole.CONTROL_PLANE) || hasRole(h, HostRole.WORKER)))) {
    const siteHost = hosts.get(host.name)!;
    if (!siteHost.converge) {
      continue;
    }
    const preparation = new KubeadmJoinPreparation(scope, `${host.name}-JoinPreparation`, {
      node: host.name,
      controlPlane: hasRole(host, HostRole.CONTROL_PLANE),
      firstControlPlane: connections.get(first.name)!,
      initConfigPath: KUBEADM_INIT_CONFIG_PATH,
      generation: host.generation,
      after: firstConverge.resource,
    });
    const waiting = siteHost.machine?.resource ?? siteHost.converge.resource;
    waiting.dependsOn = [...(waiting.dependsOn ?? []), dependable(preparation.resource)];
  }
}

/**
 * kubeadm workers, rebuilt like K3s agents from the first control plane: drained before the old machine is
 * destroyed (`NodeRebuildDrain`), and, for a rebuild on purpose, their old Node deleted before the new machine joins
 * (`NodeRejoinCleanup`), which `kubeadm join` needs: it refuses a name whose Node is still Ready. Control planes
 * are not rebuilt this way: their stacked etcd member would stay behind, and the first one would run `kubeadm init`
 * again (the change report refuses their rebuild).
 */
export function addKubeadmWorkerRebuilds(scope: Construct, site: SitePlan, hosts: ReadonlyMap<string, SiteHost>, connections: ReadonlyMap<string, ConvergeConnection>): void {
  const first = controlPlaneHosts(site)[0];
  const firstMachine = hosts.get(first.name)?.machine?.resource;
  if (!hosts.get(first.name)?.converge) {
    return;
  }
  const via = { connection: connections.get(first.name)!, kubectl: KUBEADM_KUBECTL };
  for (const host of site.hosts.filter((h) => hasRole(h, HostRole.WORKER))) {
    const machine = hosts.get(host.name)?.machine;
    if (!machine) {
      continue;
    }
    new NodeRebuildDrain(scope, `${host.name}-RebuildDrain`, { node: host.name, machine, via, viaMachine: firstMachine });
    if (host.generation > 0) {
      const cleanup = new NodeRejoinCleanup(scope, `${host.name}-RejoinCleanup`, {
        node: host.name, nodeIp: host.ip, generation: host.generation, etcdMember: false, via, distribution: Distribution.KUBEADM,
        after: [firstMachine].filter((m): m is NonNullable<typeof m> => m !== undefined),
      });
      machine.resource.dependsOn = [...(machine.resource.dependsOn ?? []), dependable(cleanup.resource)];
    }
  }
}

/**
 * Datastore etcd members (datastore nodes and the witness) rebuilt on purpose: each new machine waits for its member
 * to be replaced in the running etcd cluster, from the first other member.
 */
export function addDatastoreRejoin(scope: Construct, site: SitePlan, hosts: ReadonlyMap<string, SiteHost>, connections: ReadonlyMap<string, ConvergeConnection>): void {
  const members = site.postgres?.etcdMembers ?? [];
  for (const member of members) {
    const host = site.hosts.find((h) => h.name === member.name)!;
    const machine = hosts.get(host.name)?.machine;
    // Only one member is rebuilt per apply (the change report refuses more), so any other one stays.
    const via = members.map((m) => site.hosts.find((h) => h.name === m.name)!).find((other) => other !== host && hosts.get(other.name)?.converge);
    if (host.generation === 0 || host.decommission || !machine || !via) {
      continue;
    }
    const rejoin = new DatastoreMemberRejoin(scope, `${host.name}-DatastoreRejoin`, {
      site,
      member: host.name,
      via: via.name,
      viaConnection: connections.get(via.name)!,
      after: [hosts.get(via.name)!.machine?.resource].filter((m): m is NonNullable<typeof m> => m !== undefined),
    });
    machine.resource.dependsOn = [...(machine.resource.dependsOn ?? []), dependable(rejoin.resource)];
  }
}
