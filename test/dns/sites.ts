import { HostRole, SiteSpec } from '../../constructs';
import lab from '../../sites/lab';
import { vmSite } from '../fixtures/sites';

/** Seed 002's lab with one dedicated Bind9 server instead of the site's own placement on the agents. */
export const labWithDns: SiteSpec = {
  ...lab,
  name: 'lab-dns',
  dns: undefined,
  hosts: [
    ...lab.hosts.map((host) => ({ ...host, roles: host.roles.filter((role) => role !== HostRole.DNS) })),
    { name: 'lx-dns-01', ip: '192.168.168.53', vmId: 153, proxmoxNode: 'pve1', roles: [HostRole.DNS] },
  ],
};

/** The lab with a primary and a secondary DNS server. */
export const labWithTwoDns: SiteSpec = {
  ...labWithDns,
  name: 'lab-dns2',
  hosts: [...labWithDns.hosts, { name: 'lx-dns-02', ip: '192.168.168.54', vmId: 154, proxmoxNode: 'pve2', roles: [HostRole.DNS] }],
};

/**
 * A site on 198.18.0.0/24 (RFC 2544 benchmarking range, used only inside the test's network namespaces) with a
 * primary and a secondary DNS server, so the real named runs with the generated files unchanged but for paths.
 */
export const namespaceDnsSite: SiteSpec = {
  ...vmSite,
  name: 'fixture-dns',
  hosts: [
    ...vmSite.hosts,
    { name: 'dns-1', ip: '198.18.0.53', vmId: 1053, proxmoxNode: 'pve-a', roles: [HostRole.DNS] },
    { name: 'dns-2', ip: '198.18.0.54', vmId: 1054, proxmoxNode: 'pve-b', roles: [HostRole.DNS] },
  ],
};

/** `spec` moved into another network: host i gets `address(i)`; the gateway is also the hosts' resolver. */
export function renumbered(spec: SiteSpec, name: string, cidr: string, gateway: string, vip: string, address: (index: number) => string): SiteSpec {
  return {
    ...spec,
    name,
    network: { ...spec.network, cidr, gateway, dnsServers: [gateway] },
    hosts: spec.hosts.map((host, i) => ({ ...host, ip: address(i) })),
    apiEndpoint: { ...spec.apiEndpoint, vip },
  };
}

/** The lab without any DNS server, for the "no host has role dns" errors. */
export const labWithoutDns: SiteSpec = {
  ...lab,
  dns: undefined,
  hosts: lab.hosts.map((host) => ({ ...host, roles: host.roles.filter((role) => role !== HostRole.DNS) })),
};
