import { SiteService, StopCause, clusterEtcdVoters, lossOfHosts, proxmoxNodeLosses } from './node-loss';
import { SitePlan, SiteWarning, controlPlaneHosts, hostsWithRole } from './plan';
import { DatastoreKind, Distribution, HostRole } from './spec';
import { backupWarnings } from './backup';

/**
 * One warning per Proxmox node whose loss stops the API or the datastore for a reason no single host's loss gives
 * (a single load balancer, a lone server, 2 etcd members: those have their own warnings, or are the site's choice).
 * It names the node, what stops, why, and the members on the node.
 */
function proxmoxNodeLossWarnings(plan: SitePlan): SiteWarning[] {
  const rootCause = (cause: { service: SiteService; cause: StopCause }) =>
    (cause.service === SiteService.API || cause.service === SiteService.DATASTORE) && cause.cause !== StopCause.DATASTORE_STOPPED;
  const singleHostCauses = new Set(plan.hosts.flatMap((host) => lossOfHosts(plan, new Set([host.name])).stops.filter(rootCause).map((s) => s.cause)));
  const label = (name: string) => (name === plan.postgres?.witness?.name ? `the witness ${name}` : name);
  const warnings: SiteWarning[] = [];
  for (const loss of proxmoxNodeLosses(plan)) {
    const causes = loss.stops.filter((s) => rootCause(s) && !singleHostCauses.has(s.cause));
    if (causes.length === 0) {
      continue;
    }
    const stopped = loss.datastore && !loss.datastore.serving ? 'the datastore and the API' : 'the API';
    const said = new Set<string>();
    const reasons = causes.map((cause) => {
      const members = cause.hosts.map(label).join(', ');
      const first = !said.has(members);
      said.add(members);
      return first && members ? `${cause.reason} (on it: ${members})` : cause.reason;
    });
    warnings.push({ path: 'hosts', message: `losing Proxmox node "${loss.node}" stops ${stopped}: ${reasons.join('; ')}` });
  }
  return warnings;
}

/** Non-fatal findings: the site synthesizes, but it is less available than it looks. */
export function siteWarnings(plan: Omit<SitePlan, 'warnings'>): SiteWarning[] {
  const sitePlan = { ...plan, warnings: [] };
  const warnings: SiteWarning[] = [];
  const servers = controlPlaneHosts(sitePlan);
  const loadBalancers = hostsWithRole(sitePlan, HostRole.LOAD_BALANCER);

  if (servers.length === 2 && plan.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD) {
    warnings.push({ path: 'hosts', message: `2 ${plan.controlPlane.distribution === Distribution.KUBEADM ? 'stacked' : 'embedded'} etcd members tolerate no failure: losing either control-plane node stops the cluster (use 3)` });
  }
  const voters = clusterEtcdVoters(sitePlan).length;
  if (voters > 2 && voters % 2 === 0) {
    warnings.push({ path: 'hosts', message: `${voters} etcd members tolerate as many failures as ${voters - 1} (${voters / 2 - 1}), and every write waits for ${voters / 2 + 1} of them: an odd number is as safe with one server less` });
  }
  if (loadBalancers.length === 1 && plan.apiEndpoint.floating) {
    warnings.push({ path: 'apiEndpoint.vip', message: `the VIP ${plan.apiEndpoint.address} has a single load balancer ("${loadBalancers[0].name}") to hold it: Keepalived has no peer to move it to, and with no unicast peer it advertises by multicast` });
  }
  const ownDnsServers = (plan.dns?.forwarders ?? []).filter((forwarder) => plan.dns!.servers.some((server) => server.ip === forwarder));
  if (ownDnsServers.length > 0) {
    warnings.push({ path: 'dns.forwarders', message: `${ownDnsServers.join(', ')} ${ownDnsServers.length === 1 ? 'is' : 'are'} the site's own DNS server${ownDnsServers.length === 1 ? '' : 's'}: Bind9 would forward queries for other names to itself, and those names would not resolve` });
  }
  if (loadBalancers.length === 1) {
    warnings.push({ path: 'hosts', message: `a single load balancer ("${loadBalancers[0].name}") is a single point of failure for the API endpoint ${plan.apiEndpoint.address}:${plan.apiEndpoint.port}` });
  } else if (loadBalancers.length === 0 && servers.length > 1) {
    warnings.push({ path: 'apiEndpoint', message: `no load balancer: the API endpoint is server "${servers[0].name}" alone, so clients lose the API when it fails` });
  }
  warnings.push(...proxmoxNodeLossWarnings(sitePlan));
  warnings.push(...backupWarnings(plan));
  const downloads = [['proxmox.cloudImage', plan.proxmox.cloudImage], ['proxmox.lxcTemplate', plan.proxmox.lxcTemplate]] as const;
  for (const [path, download] of downloads) {
    if (download && !download.checksum) {
      warnings.push({ path: `${path}.checksum`, message: `no checksum: Proxmox does not verify ${download.fileName} after downloading it` });
    }
  }
  return warnings;
}
