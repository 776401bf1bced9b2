import { CloudConfig } from '../cloud-init/cloud-config';
import { HostPlan, SitePlan, hostsWithRole } from '../site/plan';
import { HostRole } from '../site/spec';
import type { HostConverge } from './lifecycle';
import type { ProxmoxLxc } from './proxmox-lxc';
import type { ProxmoxVm } from './proxmox-vm';

/** A host a role attaches to: its name and the builder the role adds to. */
export interface RoleHost {
  /** Host name, as in the site plan. */
  readonly name: string;
  /** The host's configuration builder; the role adds its packages, files and commands to it. */
  readonly cloudConfig: CloudConfig;
}

/** Throws unless `hosts` are exactly the site's hosts with `role`, in site order (roles depend on that order). */
export function requireSiteHosts(site: SitePlan, role: HostRole, hosts: readonly RoleHost[]): void {
  const expected = hostsWithRole(site, role).map((h) => h.name).join(', ');
  const given = hosts.map((h) => h.name).join(', ');
  if (expected !== given) {
    throw new Error(`hosts: ${JSON.stringify(given)} — the site's hosts with role ${role} in site order (${expected})`);
  }
}

/** A machine of the site: a VM or an LXC container, with the builder its roles add to. */
export interface SiteHost {
  /** The host as resolved in the site plan. */
  readonly plan: HostPlan;
  /** The host's configuration builder, with the base configuration applied; roles add to it. */
  readonly cloudConfig: CloudConfig;
  /** The Proxmox VM or LXC container the host runs on, by `plan.kind`; none for existing or unmanaged hosts. */
  readonly machine?: ProxmoxVm | ProxmoxLxc;
  /** The step that converges the host in place; none for unmanaged hosts. */
  readonly converge?: HostConverge;
}
