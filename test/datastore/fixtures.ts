import { DatastoreKind, HostRole, SiteSpec } from '../../constructs';
import { UBUNTU_2404_CLOUD_IMAGE } from '../../sites/common';

/**
 * Seed 000 ("K3s HA cluster" homelab): 2 PostgreSQL nodes that also run HAProxy + Keepalived (VIP 10.10.10.150),
 * 3 K3s servers on the external datastore. The seed's IP table is authoritative (its diagram disagrees).
 */
export const pgHomelabSite: SiteSpec = {
  name: 'pg-homelab',
  network: { cidr: '10.10.10.0/24', gateway: '10.10.10.1', dnsServers: ['10.10.10.1'], searchDomain: 'homelab.test' },
  proxmox: {
    endpoint: 'https://pve.homelab.test:8006/',
    nodes: ['pve1', 'pve2'],
    bridge: 'vmbr0',
    datastores: { disks: 'local-lvm', snippets: 'local', images: 'local' },
    cloudImage: UBUNTU_2404_CLOUD_IMAGE,
  },
  hosts: [
    { name: 'pg-node-1', ip: '10.10.10.151', vmId: 151, proxmoxNode: 'pve1', roles: [HostRole.DATASTORE, HostRole.LOAD_BALANCER] },
    { name: 'pg-node-2', ip: '10.10.10.152', vmId: 152, proxmoxNode: 'pve2', roles: [HostRole.DATASTORE, HostRole.LOAD_BALANCER] },
    { name: 'cp1', ip: '10.10.10.153', vmId: 153, proxmoxNode: 'pve1', roles: [HostRole.K3S_SERVER] },
    { name: 'cp2', ip: '10.10.10.154', vmId: 154, proxmoxNode: 'pve2', roles: [HostRole.K3S_SERVER] },
    { name: 'cp3', ip: '10.10.10.155', vmId: 155, proxmoxNode: 'pve1', roles: [HostRole.K3S_SERVER] },
  ],
  apiEndpoint: { vip: '10.10.10.150' },
  controlPlane: { datastore: DatastoreKind.POSTGRES },
};

/**
 * K3s servers that also balance (seed 002 shape) with two dedicated 4 GiB datastore VMs: a K3s server's address
 * is also a load balancer's, so pg_hba must list it once.
 */
export const colocatedSite: SiteSpec = {
  name: 'pg-colocated',
  network: { cidr: '198.18.0.0/24', gateway: '198.18.0.1', dnsServers: ['198.18.0.2'], searchDomain: 'fixture.test' },
  proxmox: pgHomelabSite.proxmox,
  hosts: [
    { name: 'server-1', ip: '198.18.0.11', vmId: 1011, proxmoxNode: 'pve1', roles: [HostRole.K3S_SERVER, HostRole.LOAD_BALANCER] },
    { name: 'server-2', ip: '198.18.0.12', vmId: 1012, proxmoxNode: 'pve2', roles: [HostRole.K3S_SERVER, HostRole.LOAD_BALANCER] },
    { name: 'server-3', ip: '198.18.0.13', vmId: 1013, proxmoxNode: 'pve1', roles: [HostRole.K3S_SERVER, HostRole.LOAD_BALANCER] },
    { name: 'db-1', ip: '198.18.0.41', vmId: 1041, proxmoxNode: 'pve1', roles: [HostRole.DATASTORE], size: { memoryMiB: 4096, diskGiB: 100 } },
    { name: 'db-2', ip: '198.18.0.42', vmId: 1042, proxmoxNode: 'pve2', roles: [HostRole.DATASTORE], size: { memoryMiB: 4096, diskGiB: 100 } },
  ],
  apiEndpoint: { vip: '198.18.0.10', port: 8443 },
  controlPlane: { datastore: DatastoreKind.POSTGRES },
  postgres: { version: 16, port: 5432, writerPort: 15432, database: 'kine', user: 'kine_user' },
};

/** One datastore VM and no load balancer: K3s connects to the only node directly. */
export const singleNodeSite: SiteSpec = {
  ...colocatedSite,
  name: 'pg-single',
  hosts: [
    { name: 'server-1', ip: '198.18.0.11', vmId: 1011, proxmoxNode: 'pve1', roles: [HostRole.K3S_SERVER] },
    { name: 'db-1', ip: '198.18.0.41', vmId: 1041, proxmoxNode: 'pve1', roles: [HostRole.DATASTORE] },
  ],
  apiEndpoint: {},
  postgres: undefined,
};
