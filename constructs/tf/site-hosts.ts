import { CloudConfig } from '../cloud-init/cloud-config';
import { SitePlan, hostsWithRole } from '../site/plan';
import { HostRole } from '../site/spec';

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
