import { DatastoreKind, HostRole, SiteSpec } from '../constructs';
import { UBUNTU_2404_CLOUD_IMAGE } from './common';

const database = { roles: [HostRole.DATASTORE, HostRole.LOAD_BALANCER] };
const server = { roles: [HostRole.K3S_SERVER] };

/**
 * Seed 000, "K3s High-Availability Cluster": two PostgreSQL nodes (primary/replica) that also run HAProxy +
 * Keepalived with the VIP 10.10.10.150, three K3s servers on that external datastore, Cilium with Hubble.
 * Addresses from the seed's IP table (its diagram disagrees with it; the table is authoritative): pg-node-1 .151,
 * pg-node-2 .152, cp1–cp3 .153–.155.
 *
 * Invented where the seed is silent: gateway and resolver 10.10.10.1, the zone homelab.internal, the Proxmox
 * endpoint, node names, VM ids and datastores.
 */
const homelab: SiteSpec = {
  name: 'homelab',
  description: 'K3s homelab: 3 servers on an external PostgreSQL primary/replica; HAProxy + Keepalived (VIP 10.10.10.150) on the database nodes; Cilium + Hubble',
  network: { cidr: '10.10.10.0/24', gateway: '10.10.10.1', dnsServers: ['10.10.10.1'], searchDomain: 'homelab.internal' },
  proxmox: {
    endpoint: 'https://pve1.homelab.internal:8006/',
    nodes: ['pve1', 'pve2'],
    bridge: 'vmbr0',
    datastores: { disks: 'local-lvm', snippets: 'local', images: 'local' },
    cloudImage: UBUNTU_2404_CLOUD_IMAGE,
  },
  hosts: [
    { name: 'pg-node-1', ip: '10.10.10.151', vmId: 151, proxmoxNode: 'pve1', ...database },
    { name: 'pg-node-2', ip: '10.10.10.152', vmId: 152, proxmoxNode: 'pve2', ...database },
    { name: 'cp1', ip: '10.10.10.153', vmId: 153, proxmoxNode: 'pve1', ...server },
    { name: 'cp2', ip: '10.10.10.154', vmId: 154, proxmoxNode: 'pve2', ...server },
    { name: 'cp3', ip: '10.10.10.155', vmId: 155, proxmoxNode: 'pve1', ...server },
  ],
  apiEndpoint: { vip: '10.10.10.150', port: 6443, dnsName: 'api.homelab.internal' },
  controlPlane: { datastore: DatastoreKind.POSTGRES },
};

export default homelab;
