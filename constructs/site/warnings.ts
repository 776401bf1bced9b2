import { HostPlan, SitePlan, SiteWarning, controlPlaneHosts, hostsWithRole } from './plan';
import { DatastoreKind, Distribution, HostRole } from './spec';

function allOnOneProxmoxNode(hosts: readonly HostPlan[]): string | undefined {
  const nodes = new Set(hosts.map((host) => host.proxmoxNode));
  return hosts.length > 1 && nodes.size === 1 ? [...nodes][0] : undefined;
}

/** Non-fatal findings: the site synthesizes, but it is less available than it looks. */
export function siteWarnings(plan: Omit<SitePlan, 'warnings'>): SiteWarning[] {
  const sitePlan = { ...plan, warnings: [] };
  const warnings: SiteWarning[] = [];
  const servers = controlPlaneHosts(sitePlan);
  const loadBalancers = hostsWithRole(sitePlan, HostRole.LOAD_BALANCER);

  const serverNode = allOnOneProxmoxNode(servers);
  if (servers.length === 2 && plan.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD) {
    warnings.push({ path: 'hosts', message: `2 ${plan.controlPlane.distribution === Distribution.KUBEADM ? 'stacked' : 'embedded'} etcd members tolerate no failure: losing either control-plane node stops the cluster (use 3)` });
  }
  if (serverNode) {
    warnings.push({ path: 'hosts', message: `all ${servers.length} k3s servers (the quorum members) run on Proxmox node "${serverNode}": losing that node stops the control plane` });
  }
  const balancerNode = allOnOneProxmoxNode(loadBalancers);
  if (balancerNode) {
    warnings.push({ path: 'hosts', message: `all ${loadBalancers.length} load balancers run on Proxmox node "${balancerNode}": losing that node takes the API endpoint down` });
  }
  // Voters of the cluster's etcd: K3s servers on embedded etcd or kubeadm control planes, those staying in the site.
  const voters = plan.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD || plan.controlPlane.distribution === Distribution.KUBEADM
    ? servers.filter((host) => !host.decommission).length : 0;
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
  if (plan.postgres && plan.postgres.etcdMembers.length > 1) {
    const members = plan.postgres.etcdMembers.map((member) => plan.hosts.find((host) => host.name === member.name)!);
    const memberNode = allOnOneProxmoxNode(members);
    if (memberNode) {
      warnings.push({ path: 'postgres.witness', message: `all ${members.length} etcd members of the datastore (${members.map((m) => m.name).join(', ')}) run on Proxmox node "${memberNode}": losing that node stops automatic failover and demotes the primary` });
    }
  }
  const downloads = [['proxmox.cloudImage', plan.proxmox.cloudImage], ['proxmox.lxcTemplate', plan.proxmox.lxcTemplate]] as const;
  for (const [path, download] of downloads) {
    if (download && !download.checksum) {
      warnings.push({ path: `${path}.checksum`, message: `no checksum: Proxmox does not verify ${download.fileName} after downloading it` });
    }
  }
  return warnings;
}
