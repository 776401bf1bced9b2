import { HostRole, SiteSpec } from '../constructs';
import { UBUNTU_2404_CLOUD_IMAGE } from './common';

/**
 * Seed 002, "Lab: High-Availability k3s Cluster with Load Balancing": 3 servers that each run Keepalived, HAProxy
 * and K3s (API on 8443 → 6443, since K3s already owns 6443 there), 2 agents, VIP 192.168.168.100, zone
 * k3s.test.local.
 *
 * Invented where the seed is silent: Bind9 runs on the two agents (primary and secondary; the seed says only that a
 * Bind9 server is available), gateway 192.168.168.1 (also the upstream resolver), the Proxmox endpoint and node names,
 * VM ids (chosen to match the last octet), datastores and bridge. The seed asks for VRRP authentication, but
 * VRRPv3's sub-second adverts have none: the lab uses unicast VRRPv3 (see loadBalancer.vrrpAuthentication).
 */
const lab: SiteSpec = {
  name: 'lab',
  description: 'HA K3s lab: Keepalived + HAProxy + K3s on every server, 2 agents, Bind9 zone k3s.test.local',
  network: {
    cidr: '192.168.168.0/24',
    gateway: '192.168.168.1',
    // Hosts resolve through the corporate resolver (reachable before the lab's own Bind9 exists), which delegates
    // k3s.test.local to the Bind9 servers on the agents.
    dnsServers: ['192.168.168.1'],
    searchDomain: 'k3s.test.local',
  },
  proxmox: {
    endpoint: 'https://pve1.k3s.test.local:8006/',
    nodes: ['pve1', 'pve2', 'pve3'],
    bridge: 'vmbr0',
    datastores: { disks: 'local-lvm', snippets: 'local', images: 'local' },
    cloudImage: UBUNTU_2404_CLOUD_IMAGE,
  },
  hosts: [
    { name: 'lx-k3s-server-01', ip: '192.168.168.111', vmId: 111, proxmoxNode: 'pve1', roles: [HostRole.K3S_SERVER, HostRole.LOAD_BALANCER] },
    { name: 'lx-k3s-server-02', ip: '192.168.168.112', vmId: 112, proxmoxNode: 'pve2', roles: [HostRole.K3S_SERVER, HostRole.LOAD_BALANCER] },
    { name: 'lx-k3s-server-03', ip: '192.168.168.113', vmId: 113, proxmoxNode: 'pve3', roles: [HostRole.K3S_SERVER, HostRole.LOAD_BALANCER] },
    { name: 'lx-k3s-agent-01', ip: '192.168.168.121', vmId: 121, proxmoxNode: 'pve1', roles: [HostRole.K3S_AGENT, HostRole.DNS] },
    { name: 'lx-k3s-agent-02', ip: '192.168.168.122', vmId: 122, proxmoxNode: 'pve2', roles: [HostRole.K3S_AGENT, HostRole.DNS] },
  ],
  apiEndpoint: { vip: '192.168.168.100', port: 8443, dnsName: 'api.k3s.test.local' },
  dns: { forwarders: ['192.168.168.1'] },
};

export default lab;
