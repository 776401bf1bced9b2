import { Construct } from 'constructs';
import { CloudConfig } from '../cloud-init/cloud-config';
import { ConvergeDeadlines } from '../cloud-init/render-converge';
import { applyBaseHost } from '../roles/base-host';
import { applyK3sNodePrerequisites } from '../roles/k3s-node';
import { applyEtcHostsRole } from '../roles/kubeadm';
import { HostPlan, SitePlan, hasRole } from '../site/plan';
import { HostKind, HostRole } from '../site/spec';
import { ConvergeConnection, HostConverge, ProxmoxApiAccess, convergeFacts } from './lifecycle';
import { ProxmoxLxc, applyContainerRootKeys } from './proxmox-lxc';
import { ProxmoxVm } from './proxmox-vm';
import { SiteAccess } from './site-access';
import { SiteImageDownloads } from './site-image-downloads';
import { SiteHost } from './site-hosts';
import { SiteStackOptions } from './site-stack-options';

/** What every host's machine and converge step is made with. */
export interface SiteMachinesContext {
  readonly options: SiteStackOptions;
  readonly access: SiteAccess;
  /** The Proxmox API that VMs with pending changes are restarted through; none for existing hosts. */
  readonly proxmoxApi?: ProxmoxApiAccess;
  readonly deadlines: ConvergeDeadlines;
}

/** The site's hosts, by name in site order, and how their converge steps connect to each of them. */
export interface SiteMachines {
  readonly hosts: Map<string, SiteHost>;
  readonly connections: Map<string, ConvergeConnection>;
}

/** One host on its way to a machine: its base configuration, connection and converge facts. */
interface HostSetup {
  readonly host: HostPlan;
  readonly cloudConfig: CloudConfig;
  readonly connection: ConvergeConnection;
  readonly facts: Record<string, string | number>;
}

/**
 * Every host of the site with its base configuration: a Proxmox VM or LXC container, or only a converge step for
 * existing hosts, or neither for unmanaged ones (they keep their place in the plan).
 */
export function addSiteMachines(scope: Construct, site: SitePlan, context: SiteMachinesContext): SiteMachines {
  const downloads = new SiteImageDownloads(scope, site);
  const hosts = new Map<string, SiteHost>();
  const connections = new Map<string, ConvergeConnection>();
  for (const host of site.hosts) {
    const cloudConfig = baseCloudConfig(site, host, context.access.adminPublicKey);
    const connection = convergeConnection(site, host, context.access.sshPrivateKey);
    const setup: HostSetup = { host, cloudConfig, connection, facts: convergeFacts(site, host) };
    connections.set(host.name, connection);
    if (context.options.unmanagedHosts.has(host.name)) {
      hosts.set(host.name, { plan: host, cloudConfig });
    } else if (context.options.existingHosts) {
      hosts.set(host.name, existingHost(scope, site, setup, context));
    } else {
      hosts.set(host.name, proxmoxHost(scope, site, setup, context, downloads));
    }
  }
  return { hosts, connections };
}

/** The configuration every host starts from; roles add to it later. */
function baseCloudConfig(site: SitePlan, host: HostPlan, adminPublicKey: string): CloudConfig {
  const cloudConfig = new CloudConfig({ hostname: host.name, fqdn: host.fqdn });
  applyBaseHost(cloudConfig, site, host, [adminPublicKey]);
  if ([HostRole.K3S_SERVER, HostRole.K3S_AGENT, HostRole.CONTROL_PLANE, HostRole.WORKER].some((role) => hasRole(host, role))) {
    applyK3sNodePrerequisites(cloudConfig);
  }
  if (site.network.etcHosts) {
    applyEtcHostsRole(cloudConfig, site);
  }
  return cloudConfig;
}

function convergeConnection(site: SitePlan, host: HostPlan, sshPrivateKey: string): ConvergeConnection {
  return {
    host: host.ip,
    // VMs disable root logins (cloud-init); containers are provisioned as root.
    user: host.kind === HostKind.LXC ? 'root' : site.access.adminUser,
    privateKey: sshPrivateKey,
    ...(host.sshHostKey ? { hostKey: host.sshHostKey } : {}),
    ...(site.rollout.bastion ? { bastion: site.rollout.bastion } : {}),
  };
}

/** A host that exists already: only its converge step (none once it is decommissioned). */
function existingHost(scope: Construct, site: SitePlan, setup: HostSetup, context: SiteMachinesContext): SiteHost {
  const { host, cloudConfig, connection, facts } = setup;
  if (host.kind === HostKind.LXC) {
    // Logged in as root: the converge step keeps root's keys (a ProxmoxLxc does this itself).
    applyContainerRootKeys(cloudConfig, [context.access.adminPublicKey, ...site.access.sshAuthorizedKeys]);
  }
  const converge = host.decommission ? undefined
    : new HostConverge(scope, host.name, { hostName: host.name, cloudConfig, connection, waitForCloudInit: host.kind === HostKind.VM, facts, deadlines: context.deadlines });
  return { plan: host, cloudConfig, converge };
}

/** A host's Proxmox VM or LXC container, which converges it. */
function proxmoxHost(scope: Construct, site: SitePlan, setup: HostSetup, context: SiteMachinesContext, downloads: SiteImageDownloads): SiteHost {
  const { host, cloudConfig, connection, facts } = setup;
  const common = {
    name: host.name,
    nodeName: host.proxmoxNode,
    vmId: host.vmId,
    ipv4Cidr: host.ipCidr,
    gateway: site.network.gateway,
    dnsServers: site.network.dnsServers,
    dnsDomain: site.network.searchDomain,
    bridge: site.proxmox.bridge,
    vlanId: site.proxmox.vlanId,
    diskDatastoreId: site.proxmox.datastores.disks,
    cores: host.size.cores,
    memoryMiB: host.size.memoryMiB,
    diskGiB: host.size.diskGiB,
    cloudConfig,
    generation: host.generation,
    tags: ['proxmox-k3s-ha', site.name, ...host.roles],
    description: `${site.name}: ${host.roles.join(', ')} (managed by proxmox-k3s-ha)`,
  };
  const machine = host.kind === HostKind.VM
    ? new ProxmoxVm(scope, host.name, {
      ...common,
      imageFileId: downloads.fileIdOn(host.proxmoxNode, HostKind.VM),
      snippetsDatastoreId: site.proxmox.datastores.snippets,
      converge: host.decommission ? undefined : connection,
      convergeFacts: facts,
      convergeDeadlines: context.deadlines,
      restartThrough: context.proxmoxApi,
    })
    : new ProxmoxLxc(scope, host.name, {
      ...common,
      templateFileId: downloads.fileIdOn(host.proxmoxNode, HostKind.LXC),
      osType: site.proxmox.lxcTemplate?.osType,
      sshAuthorizedKeys: [context.access.adminPublicKey, ...site.access.sshAuthorizedKeys],
      sshPrivateKey: context.access.sshPrivateKey,
      convergeConnection: { hostKey: connection.hostKey, bastion: connection.bastion },
      decommissioned: host.decommission,
      convergeFacts: facts,
      convergeDeadlines: context.deadlines,
    });
  return { plan: host, cloudConfig, machine, converge: machine.converge };
}
