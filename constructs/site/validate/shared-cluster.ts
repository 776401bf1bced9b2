import { ProblemCollector } from '../../core/problems';
import { SitePlan } from '../plan';
import { HostKind } from '../spec';
import { hostPaths } from './host-paths';
import { reportDuplicates } from './shape';

/**
 * Sites of one app on one Proxmox VE cluster (the same API endpoint) share its VM ids and, on each node, its
 * datastores' files. A second VM with an id fails to create; two sites managing one file (the same cloud image,
 * LXC template or snippet name on the same node and datastore) fail on the second download or upload, and destroying
 * either site deletes the file the other still boots from. Each collision is reported at the later site's field.
 */
export function validateSharedProxmox(problems: ProblemCollector, plans: readonly SitePlan[]): void {
  const clusterOf = (plan: SitePlan) => new URL(plan.proxmox.endpoint).host;
  reportDuplicates(problems, plans.flatMap((plan) => plan.hosts.map((host, i) => ({
    path: `${plan.name}: ${hostPaths(plan.hosts)[i]}.vmId`,
    value: `${host.vmId} on ${clusterOf(plan)}`,
  }))), 'VM id on this Proxmox VE cluster');

  // Downloads: one per Proxmox node that runs a host of the kind, into the images datastore.
  const downloads = plans.flatMap((plan) => {
    const sections = [['proxmox.cloudImage.fileName', HostKind.VM, plan.proxmox.cloudImage], ['proxmox.lxcTemplate.fileName', HostKind.LXC, plan.proxmox.lxcTemplate]] as const;
    return sections.flatMap(([path, kind, download]) => (download === undefined ? [] : [...new Set(plan.hosts.filter((host) => host.kind === kind).map((host) => host.proxmoxNode))]
      .map((node) => ({ path: `${plan.name}: ${path}`, value: `${download.fileName} in ${plan.proxmox.datastores.images} on node ${node} of ${clusterOf(plan)}` }))));
  });
  reportDuplicates(problems, downloads, 'file name on this node and datastore (two sites would manage one file: the second download fails, and destroying either site deletes it)');

  // A VM's user-data and meta-data snippets are named after the host, in the snippets datastore of its node.
  const snippets = plans.flatMap((plan) => plan.hosts.map((host, i) => ({ host, path: `${plan.name}: ${hostPaths(plan.hosts)[i]}.name`, plan }))
    .filter(({ host }) => host.kind === HostKind.VM)
    .map(({ host, path, plan }) => ({ path, value: `${host.name}-user-data.yaml in ${plan.proxmox.datastores.snippets} on node ${host.proxmoxNode} of ${clusterOf(plan)}` })));
  reportDuplicates(problems, snippets, 'VM name on this node and snippets datastore (its user-data and meta-data snippets are named after it: two sites would overwrite and delete each other\'s)');
}

