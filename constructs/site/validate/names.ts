import { isDnsName, isRfc1123Label } from '../../core/names';
import { ProblemCollector } from '../../core/problems';
import { HostRole } from '../spec';
import { HostEntry } from './host-paths';
import { isObject } from './shape';

/**
 * Names the library derives from the site's names: construct ids in the Terraform stack, DNS records in the zone,
 * and fully qualified names that must stay within DNS's 253 characters. A site whose names collide there is refused
 * here, with the path of the name to change, instead of failing in `SiteStack` or `named`.
 */

/**
 * Construct ids `SiteStack` gives its own children beside the hosts (each host is a child named after it): the
 * Proxmox, random and tls providers and the state backend. A host of the same name cannot be added. Kept in step
 * with site-stack.ts by test/site/derived-names.test.ts, which reads the ids of synthesized stacks.
 */
export const RESERVED_HOST_NAMES: readonly string[] = ['proxmox', 'random', 'tls', 'backend'];

/** Longest DNS name in text form (255 octets on the wire, RFC 1035 §2.3.4). */
const MAX_DNS_NAME = 253;

/** The name the demo app is published at (constructs/k8s/site-chart.ts). */
const DEMO_APP_LABEL = 'nginx';
/** The SOA's responsible mailbox in the zone (renderers/bind9.ts). */
const ZONE_MAILBOX_LABEL = 'hostmaster';

/** Checks the names the library derives from host names, the search domain and the zone. */
export function validateDerivedNames(problems: ProblemCollector, site: Readonly<Record<string, unknown>>, entries: readonly HostEntry[]): void {
  const network = isObject(site.network) ? site.network : {};
  const searchDomain = isDnsName(network.searchDomain) ? network.searchDomain : undefined;
  const endpoint = isObject(site.apiEndpoint) ? site.apiEndpoint : {};
  const named = entries.filter((entry): entry is HostEntry & { host: { name: string } } => isRfc1123Label(entry.host.name));

  for (const { host, path } of named) {
    problems.check(!RESERVED_HOST_NAMES.includes(host.name), `${path}.name`, host.name,
      `a host name other than ${RESERVED_HOST_NAMES.join(', ')} (the Terraform stack's own constructs have those names)`);
    // The host's Terraform resources are named after it, and Terraform names start with a letter or underscore.
    problems.check(/^[a-z]/.test(host.name), `${path}.name`, host.name,
      'a host name starting with a letter (the host\'s Terraform resources are named after it, and Terraform names cannot start with a digit)');
  }
  if (!searchDomain) {
    return;
  }
  // Host names, the API endpoint's default name and the demo app's name live in the search domain (and the SOA
  // mailbox too, when the zone is the search domain).
  const longest = Math.max('api'.length, DEMO_APP_LABEL.length, ZONE_MAILBOX_LABEL.length, ...named.map(({ host }) => host.name.length));
  problems.check(longest + 1 + searchDomain.length <= MAX_DNS_NAME, 'network.searchDomain', searchDomain,
    `a domain short enough for the names in it (${longest} characters + "." + the domain, at most ${MAX_DNS_NAME})`);
  const dnsName = endpoint.dnsName === undefined ? `api.${searchDomain}` : endpoint.dnsName;
  if (endpoint.dnsName === undefined) {
    // With a given dnsName, validateApiEndpoint compares it with the hosts' names.
    const clash = named.find(({ host }) => `${host.name}.${searchDomain}` === dnsName);
    if (clash) {
      problems.add(`${clash.path}.name`, clash.host.name, `a name other than "api": apiEndpoint.dnsName defaults to ${dnsName}, which must resolve to the API endpoint`);
    }
  }

  const zone = dnsZone(site, entries, searchDomain);
  if (!zone) {
    return;
  }
  if (zone !== searchDomain) {
    const longestLabel = Math.max(DEMO_APP_LABEL.length, ZONE_MAILBOX_LABEL.length, ...named.map(({ host }) => host.name.length));
    problems.check(longestLabel + 1 + zone.length <= MAX_DNS_NAME, 'dns.zone', zone,
      `a zone short enough for the names in it (${longestLabel} characters + "." + the zone, at most ${MAX_DNS_NAME})`);
  }
  // renderers/bind9.ts hostNameInZone: a host's FQDN when it lies in the zone, else <name>.<zone>.
  if (typeof dnsName === 'string' && (dnsName === zone || dnsName.endsWith(`.${zone}`))) {
    const clash = named.find(({ host }) => {
      const fqdn = `${host.name}.${searchDomain}`;
      const inZone = fqdn === zone || fqdn.endsWith(`.${zone}`) ? fqdn : `${host.name}.${zone}`;
      return inZone === dnsName && fqdn !== dnsName;
    });
    if (clash) {
      problems.add('apiEndpoint.dnsName', dnsName, `a name no host has in the zone ${zone} (it is the record of ${clash.path}, but it must resolve to the API endpoint)`);
    }
  }
}

/** The zone the site's DNS servers serve, when it has any and the zone name is usable. */
function dnsZone(site: Readonly<Record<string, unknown>>, entries: readonly HostEntry[], searchDomain: string): string | undefined {
  if (!entries.some(({ host }) => Array.isArray(host.roles) && host.roles.includes(HostRole.DNS))) {
    return undefined;
  }
  const zone = isObject(site.dns) && site.dns.zone !== undefined ? site.dns.zone : searchDomain;
  return isDnsName(zone) ? zone : undefined;
}
