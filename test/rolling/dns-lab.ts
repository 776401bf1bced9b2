import { SiteSpec, defineSite } from '../../constructs';
import { ACCEPT_UNSAFE_ENV, UnsafeChangeError, unsafeChangeId } from '../../constructs/core';
import { renderBind9Zones } from '../../constructs/renderers/bind9';
import { LabHost } from './lab';
import { MachineRun } from './machine-lab';
import { DNS_SERVERS, dnsSiteSpec } from './rolling-site';

/**
 * The DNS rebuild lab (shared by dns-rebuild.test.ts and .bench.ts): the DNS site with its two Bind9 servers as
 * containers the stack creates, applied once by the real Terraform CLI with the stand-in providers, whose guest
 * hook acts a destroy out by wiping the zone files.
 */

export const [DNS_PRIMARY, DNS_SECONDARY] = DNS_SERVERS;

/** The DNS site with its two Bind9 servers as containers the stack creates, dns-2 at `secondaryGeneration`. */
export function rebuildSpec(hosts: ReadonlyMap<string, LabHost>, secondaryGeneration: number): SiteSpec {
  const spec = dnsSiteSpec(hosts, 0);
  return { ...spec, hosts: spec.hosts.map((host) => (host.name === DNS_SECONDARY.name ? { ...host, generation: secondaryGeneration } : host)) };
}

/**
 * Synthesizes `spec`; when the synth guard refuses changes as unsafe, again with exactly those accepted
 * (ACCEPT_UNSAFE_ENV, as an operator would). Returns the refused changes.
 */
export function synthAcceptingUnsafe(machines: MachineRun, spec: SiteSpec): readonly string[] {
  let refused: readonly string[] = [];
  try {
    machines.synthSpec(spec);
  } catch (error) {
    if (!(error instanceof UnsafeChangeError)) {
      throw error;
    }
    refused = error.problems;
  }
  if (refused.length === 0) {
    return refused;
  }
  process.env[ACCEPT_UNSAFE_ENV] = refused.map(unsafeChangeId).join(',');
  try {
    machines.synthSpec(spec);
  } finally {
    delete process.env[ACCEPT_UNSAFE_ENV];
  }
  return refused;
}

/** One zone file as named.conf.local keeps it (renderers/bind9.ts: BIND_ZONE_DIRECTORY/db.<zone>), and its serial. */
export interface ZoneFile { readonly zone: string; readonly path: string; readonly serial: number }

/**
 * Starts the lab with the two DNS servers as machines and applies the site (dns-2 at generation 1) once; throws
 * unless that apply succeeded and created exactly the two machines. The caller stops `machines`.
 */
export async function startDnsRebuildLab(): Promise<{ machines: MachineRun; zones: readonly ZoneFile[] }> {
  // The zone files do not depend on the hosts' SSH keys: render them before the lab exists, without keys.
  const zones = renderBind9Zones(defineSite(rebuildSpec(new Map(DNS_SERVERS.map((s) => [s.name, {} as LabHost])), 1)));
  // The destroy wipes the secondary's zone files (where named.conf.local keeps them), as a new machine has none.
  const machines = await MachineRun.start({ sshHosts: DNS_SERVERS, wipe: zones.map((z) => z.path) });
  try {
    machines.synthSpec(rebuildSpec(machines.run.loadBalancers, 1));
    await machines.run.init();
    const first = await machines.run.apply();
    if (first.status !== 0 || !first.output.includes('Apply complete!')) {
      throw new Error(`first apply of the DNS site exited ${first.status}, expected 0 with "Apply complete!":\n${first.output.slice(-3000)}`);
    }
    const created = machines.events().map((e) => `${e.event} ${e.host}`).sort();
    const expected = DNS_SERVERS.map((s) => `create ${s.name}`);
    if (created.join() !== expected.join()) {
      throw new Error(`first apply of the DNS site: guest events ${JSON.stringify(created)}, expected ${JSON.stringify(expected)}`);
    }
  } catch (error) {
    await machines.stop();
    throw error;
  }
  return { machines, zones };
}
