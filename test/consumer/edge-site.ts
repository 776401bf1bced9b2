/**
 * The consumer project's own site (none of the seeds): three K3s servers on embedded etcd behind two LXC load
 * balancers, written as the `site.ts` a library user would write.
 */

export interface EdgeSiteVariant {
  /** `versions.k3s`. */
  readonly k3s: string;
  /** How many of the three servers stay (from the first). */
  readonly servers: 1 | 2 | 3;
  /** Replaces the last server's address (for a validation error). */
  readonly lastServerIp?: string;
}

export const EDGE_BASELINE: EdgeSiteVariant = { k3s: 'v1.36.3+k3s1', servers: 3 };

/** The text of `site.ts` for `variant`. */
export function edgeSiteFile(variant: EdgeSiteVariant): string {
  const servers = [1, 2, 3].slice(0, variant.servers).map((n) => {
    const ip = n === variant.servers && variant.lastServerIp ? variant.lastServerIp : `10.20.0.1${n}`;
    return `    { name: 'edge-cp-${n}', ip: '${ip}', vmId: 31${n}, proxmoxNode: 'pve${n}', roles: [HostRole.K3S_SERVER] },`;
  });
  return `import { HostKind, HostRole, SiteSpec } from 'proxmox-k3s-ha';

export const siteSpec: SiteSpec = {
  name: 'edge',
  network: { cidr: '10.20.0.0/24', gateway: '10.20.0.1', dnsServers: ['10.20.0.1'], searchDomain: 'edge.example.net' },
  proxmox: {
    endpoint: 'https://pve1.edge.example.net:8006/', nodes: ['pve1', 'pve2', 'pve3'], bridge: 'vmbr0',
    datastores: { disks: 'local-lvm', snippets: 'local', images: 'local' },
    cloudImage: { url: 'https://images.edge.example.net/noble-server-cloudimg-amd64.img', fileName: 'noble-server-cloudimg-amd64.qcow2' },
    lxcTemplate: { url: 'https://images.edge.example.net/ubuntu-24.04-standard_24.04-2_amd64.tar.zst', fileName: 'ubuntu-24.04-standard_24.04-2_amd64.tar.zst', osType: 'ubuntu' },
  },
  hosts: [
    { name: 'edge-lb-1', ip: '10.20.0.5', vmId: 305, proxmoxNode: 'pve1', kind: HostKind.LXC, roles: [HostRole.LOAD_BALANCER] },
    { name: 'edge-lb-2', ip: '10.20.0.6', vmId: 306, proxmoxNode: 'pve2', kind: HostKind.LXC, roles: [HostRole.LOAD_BALANCER] },
${servers.join('\n')}
  ],
  apiEndpoint: { vip: '10.20.0.10', port: 6443 },
  versions: { k3s: '${variant.k3s}' },
};
`;
}
