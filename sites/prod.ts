import { HostKind, HostRole, SiteSpec } from '../constructs';
import { UBUNTU_2404_CLOUD_IMAGE, UBUNTU_2404_LXC_TEMPLATE } from './common';

// 2 vCPU and 512 MB are the seed's; the 8 GiB root disk is invented (the seed gives no disk size).
const loadBalancer = { kind: HostKind.LXC, size: { cores: 2, memoryMiB: 512, diskGiB: 8 }, roles: [HostRole.LOAD_BALANCER] };
const server = { roles: [HostRole.K3S_SERVER] };

/**
 * Seed 001, "K3s Cluster Load Balancer": three LXC load balancers (2 vCPU, 512 MB, Ubuntu 24.04) with HAProxy +
 * Keepalived, priorities 200/150/100, VIP 192.168.0.210, in front of three K3s servers on embedded etcd
 * (192.168.0.201–203). The API stays on 6443: the load balancers are dedicated.
 *
 * Invented where the seed is silent: the load balancers' addresses (.211–.213) and 8 GiB disks, gateway and resolver
 * 192.168.0.1, the zone prod.internal, the Proxmox endpoint, node names, VM ids and datastores.
 */
const prod: SiteSpec = {
  name: 'prod',
  description: 'K3s prod: 3 LXC load balancers (HAProxy + Keepalived, VIP 192.168.0.210) in front of 3 servers on embedded etcd',
  network: { cidr: '192.168.0.0/24', gateway: '192.168.0.1', dnsServers: ['192.168.0.1'], searchDomain: 'prod.internal' },
  proxmox: {
    endpoint: 'https://pve1.prod.internal:8006/',
    nodes: ['pve1', 'pve2', 'pve3'],
    bridge: 'vmbr0',
    datastores: { disks: 'local-lvm', snippets: 'local', images: 'local' },
    cloudImage: UBUNTU_2404_CLOUD_IMAGE,
    lxcTemplate: UBUNTU_2404_LXC_TEMPLATE,
  },
  hosts: [
    { name: 'k3s-prod-lb-01', ip: '192.168.0.211', vmId: 211, proxmoxNode: 'pve1', ...loadBalancer },
    { name: 'k3s-prod-lb-02', ip: '192.168.0.212', vmId: 212, proxmoxNode: 'pve2', ...loadBalancer },
    { name: 'k3s-prod-lb-03', ip: '192.168.0.213', vmId: 213, proxmoxNode: 'pve3', ...loadBalancer },
    { name: 'k3s-prod-cp-01', ip: '192.168.0.201', vmId: 201, proxmoxNode: 'pve1', ...server },
    { name: 'k3s-prod-cp-02', ip: '192.168.0.202', vmId: 202, proxmoxNode: 'pve2', ...server },
    { name: 'k3s-prod-cp-03', ip: '192.168.0.203', vmId: 203, proxmoxNode: 'pve3', ...server },
  ],
  apiEndpoint: { vip: '192.168.0.210', port: 6443, dnsName: 'api.prod.internal' },
  loadBalancer: { vrrpPriorities: [200, 150, 100] },
};

export default prod;
