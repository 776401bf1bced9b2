import { createHash } from 'crypto';
import { HostPlan, SitePlan } from '../site/plan';
import { HostRole } from '../site/spec';
import { BIND_STATISTICS_PORT } from '../monitoring/ports';

/** Debian's paths: `/etc/bind/named.conf` includes these two (and the default zones). */
export const BIND_OPTIONS_PATH = '/etc/bind/named.conf.options';
/** `named.conf.local`: the site's zones ({@link renderNamedConfLocal}). */
export const BIND_LOCAL_PATH = '/etc/bind/named.conf.local';
/** named's working directory (Debian's default, kept because this file replaces Debian's options). */
export const BIND_WORKING_DIRECTORY = '/var/cache/bind';
/** Zone files live where named (user `bind`) may write: secondaries replace them after each transfer. */
export const BIND_ZONE_DIRECTORY = '/var/lib/bind';

/** Default TTL: five minutes, so a re-provisioned site's changes reach clients quickly. */
export const ZONE_DEFAULT_TTL = 300;
/**
 * SOA timers (seconds). Secondaries learn of changes by NOTIFY, so `refresh` is only the fallback; `expire` (two
 * weeks) keeps a secondary answering through a long outage of the primary.
 */
export const ZONE_SOA_TIMERS = { refresh: 3600, retry: 600, expire: 1_209_600, negativeTtl: 300 } as const;

/** The resolved DNS part of a site plan. */
export type SiteDnsPlan = NonNullable<SitePlan['dns']>;

/** One rendered zone file. */
export interface Bind9ZoneFile {
  /** Zone name without the trailing dot, e.g. `k3s.test.local` or `168.168.192.in-addr.arpa`. */
  readonly zone: string;
  /** Absolute path of the zone file on every DNS server. */
  readonly path: string;
  /** SOA serial, a hash of the records (see {@link zoneSerial}). */
  readonly serial: number;
  /** The zone file text (`$ORIGIN`, `$TTL`, SOA, then the records sorted). */
  readonly content: string;
}

interface ZoneRecord {
  /** Relative to the zone origin; `@` is the apex. */
  readonly owner: string;
  readonly type: 'NS' | 'A' | 'PTR';
  readonly data: string;
}

/** The DNS plan of a site, or an error saying the site has no DNS server. */
export function requireDns(plan: SitePlan): SiteDnsPlan {
  if (!plan.dns || plan.dns.servers.length === 0) {
    throw new Error(`site ${plan.name}: no host has role ${HostRole.DNS}; give at least one host role "${HostRole.DNS}" to serve the zone`);
  }
  return plan.dns;
}

/** The DNS server named `hostName`, or an error naming the site's DNS servers. */
export function requireDnsServer(plan: SitePlan, hostName: string): SiteDnsPlan['servers'][number] {
  const dns = requireDns(plan);
  const server = dns.servers.find((s) => s.name === hostName);
  if (!server) {
    const names = dns.servers.map((s) => s.name).join(', ');
    throw new Error(`site ${plan.name}: host ${JSON.stringify(hostName)} is not a dns server (dns servers: ${names})`);
  }
  return server;
}

/**
 * The finding when the site's resolvers (`network.dnsServers`) include none of its DNS servers: hosts then resolve
 * the zone only if those resolvers forward it to Bind9. Undefined when the site has no DNS server or a resolver is
 * one of them. `DnsZone` annotates it; the site page lists it.
 */
export function dnsResolverWarning(plan: SitePlan): string | undefined {
  if (!plan.dns || plan.dns.servers.length === 0) {
    return undefined;
  }
  const servers = plan.dns.servers.map((s) => s.ip);
  const resolvers = plan.network.dnsServers;
  if (servers.some((ip) => resolvers.includes(ip))) {
    return undefined;
  }
  return `network.dnsServers (${resolvers.join(', ')}) lists none of the site's dns servers (${servers.join(', ')}): `
    + `hosts resolve ${plan.dns.zone} only if those resolvers forward it to them (or list them in network.dnsServers)`;
}

/** `name` relative to `zone` (`@` for the apex), or undefined when it lies outside the zone. */
function relativeTo(name: string, zone: string): string | undefined {
  if (name === zone) {
    return '@';
  }
  return name.endsWith(`.${zone}`) ? name.slice(0, -(zone.length + 1)) : undefined;
}

/**
 * The name a host has in the zone: its FQDN when that lies in the zone (the usual case, zone = search domain),
 * otherwise `<name>.<zone>`. A and PTR records use the same name, so forward and reverse lookups agree.
 */
export function hostNameInZone(plan: SitePlan, host: Pick<HostPlan, 'name'>): string {
  const { zone } = requireDns(plan);
  const fqdn = plan.hosts.find((h) => h.name === host.name)?.fqdn ?? `${host.name}.${zone}`;
  return relativeTo(fqdn, zone) !== undefined ? fqdn : `${host.name}.${zone}`;
}

function octets(ip: string): number[] {
  return ip.split('.').map(Number);
}

function ipToNumber(ip: string): number {
  return octets(ip).reduce((sum, octet) => sum * 256 + octet, 0);
}

/**
 * How many leading octets name the reverse zones of the site network: 1, 2 or 3. Octet-aligned prefixes (/8,
 * /16, /24) map to exactly one zone. A /9–/23 network is split into the zones of the next octet boundary that
 * hold records (a /22 with hosts in two /24s gets two `c.b.a` zones) rather than rounded up to the enclosing
 * /8 or /16, which would answer authoritatively — NXDOMAIN — for other networks' addresses. A /25–/32 network
 * has no octet-aligned zone of its own and gets its enclosing /24 (RFC 2317 delegation needs the parent zone's
 * owner), so this server also answers for the rest of that /24.
 */
function reverseZoneOctets(plan: SitePlan): number {
  const prefix = plan.network.prefixLength;
  if (!Number.isInteger(prefix) || prefix < 8 || prefix > 32) {
    throw new Error(`site ${plan.name}: network.cidr ${JSON.stringify(plan.network.cidr)} has prefix length /${prefix}; reverse zones need /8 to /32 `
      + '(/8, /16 and /24 are one in-addr.arpa zone each, other lengths use the octet-aligned zones that hold the hosts)');
  }
  return Math.min(3, Math.ceil(prefix / 8));
}

function reverseZoneOf(ip: string, zoneOctets: number): string {
  return `${octets(ip).slice(0, zoneOctets).reverse().join('.')}.in-addr.arpa`;
}

function reverseOwnerOf(ip: string, zoneOctets: number): string {
  return octets(ip).slice(zoneOctets).reverse().join('.');
}

/** Reverse-zone owners (`111`, `111.168`) in address order: most significant label, the last, first. */
function compareReverseOwners(a: string, b: string): number {
  const [la, lb] = [a.split('.').reverse().map(Number), b.split('.').reverse().map(Number)];
  for (let i = 0; i < Math.min(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) {
      return la[i] - lb[i];
    }
  }
  return la.length - lb.length;
}

/**
 * Apex first, numeric owners in address order, other owners by code point (not locale: the output must not depend
 * on the machine), then type and data.
 */
function compareRecords(a: ZoneRecord, b: ZoneRecord): number {
  if (a.owner !== b.owner) {
    if (a.owner === '@' || b.owner === '@') {
      return a.owner === '@' ? -1 : 1;
    }
    const numeric = /^\d+(\.\d+)*$/;
    if (numeric.test(a.owner) && numeric.test(b.owner)) {
      return compareReverseOwners(a.owner, b.owner);
    }
    return a.owner < b.owner ? -1 : 1;
  }
  if (a.type !== b.type) {
    return a.type < b.type ? -1 : 1;
  }
  return a.data < b.data ? -1 : a.data > b.data ? 1 : 0;
}

function soaFields(plan: SitePlan): { mname: string; rname: string } {
  const dns = requireDns(plan);
  return { mname: `${hostNameInZone(plan, dns.servers[0])}.`, rname: `hostmaster.${dns.zone}.` };
}

/**
 * The SOA serial of a zone: the first 32 bits of SHA-256 over the zone's data (name, SOA fields but the serial,
 * records), mapped into 1..2^31−1.
 *
 * Why a content hash rather than a date or a counter: synthesis has no state, and re-synthesizing unchanged
 * records must not change the serial (nor the cloud-init, which would replace the DNS hosts), while any changed
 * record must change it. The price: a changed serial is as likely to go down as up in RFC 1982 serial
 * arithmetic, and a secondary ignores a primary whose serial looks older. Secondaries therefore do not depend on
 * the serial order: every DNS server gets the same zone files, with the same serial, from the same synthesis
 * through its own cloud-init (secondaries keep them as their initial copy); a record change changes every DNS
 * host's user data at once (VMs are replaced together, LXC scripts re-run); and a secondary waits, bounded, until
 * the primary serves those serials before it starts named (see the dns role), so it never transfers the previous
 * records from a primary not yet updated. Whoever edits a zone on a running primary by hand must run
 * `rndc retransfer <zone>` on the secondaries.
 */
export function zoneSerial(zone: string, data: readonly string[]): number {
  const digest = createHash('sha256').update([zone, ...data].join('\n')).digest();
  return (digest.readUInt32BE(0) % 0x7fffffff) + 1;
}

function renderZone(plan: SitePlan, zone: string, records: readonly ZoneRecord[]): Bind9ZoneFile {
  const { mname, rname } = soaFields(plan);
  const { refresh, retry, expire, negativeTtl } = ZONE_SOA_TIMERS;
  const sorted = [...records].sort((a, b) => {
    // NS records first: they describe the zone, the rest is its content.
    if ((a.type === 'NS') !== (b.type === 'NS')) {
      return a.type === 'NS' ? -1 : 1;
    }
    return compareRecords(a, b);
  });
  const width = Math.max(...sorted.map((r) => r.owner.length), 1);
  const lines = sorted.map((r) => `${r.owner.padEnd(width)} IN ${r.type.padEnd(3)} ${r.data}`);
  const serial = zoneSerial(zone, [`$TTL ${ZONE_DEFAULT_TTL}`, `SOA ${mname} ${rname} ${refresh} ${retry} ${expire} ${negativeTtl}`, ...lines]);
  const content = [
    `; Rendered by proxmox-k3s-ha for site ${plan.name}; do not edit by hand.`,
    '; The serial is a hash of the records: unchanged records keep it (see zoneSerial in renderers/bind9.ts).',
    `$ORIGIN ${zone}.`,
    `$TTL ${ZONE_DEFAULT_TTL}`,
    `@ IN SOA ${mname} ${rname} (`,
    `    ${serial} ; serial`,
    `    ${refresh} ; refresh`,
    `    ${retry} ; retry`,
    `    ${expire} ; expire`,
    `    ${negativeTtl} ) ; negative-caching TTL`,
    ...lines,
    '',
  ].join('\n');
  return { zone, path: `${BIND_ZONE_DIRECTORY}/db.${zone}`, serial, content };
}

function nsRecords(plan: SitePlan): ZoneRecord[] {
  return requireDns(plan).servers.map((server) => ({ owner: '@', type: 'NS', data: `${hostNameInZone(plan, server)}.` }));
}

/**
 * The forward zone `plan.dns.zone`: NS for every DNS server, an A record for every host (DNS servers included),
 * an A record for the API endpoint's DNS name when it lies in the zone, and `*` → the endpoint address when
 * `wildcardToEndpoint` (ingress host names through the load balancers; names that exist are not covered by it).
 */
export function renderForwardZone(plan: SitePlan): Bind9ZoneFile {
  const dns = requireDns(plan);
  const records: ZoneRecord[] = [...nsRecords(plan)];
  const owners = new Map<string, string>();
  const addA = (name: string, address: string, what: string) => {
    const owner = relativeTo(name, dns.zone)!;
    const clash = owners.get(owner);
    if (clash) {
      throw new Error(`site ${plan.name}: dns name ${JSON.stringify(name)} is used by ${clash} and by ${what}; expected one address per name`);
    }
    owners.set(owner, what);
    records.push({ owner, type: 'A', data: address });
  };
  for (const host of plan.hosts) {
    addA(hostNameInZone(plan, host), host.ip, `host ${host.name}`);
  }
  if (relativeTo(plan.apiEndpoint.dnsName, dns.zone) !== undefined) {
    addA(plan.apiEndpoint.dnsName, plan.apiEndpoint.address, 'apiEndpoint.dnsName');
  }
  if (dns.wildcardToEndpoint) {
    addA(`*.${dns.zone}`, plan.apiEndpoint.address, 'the wildcard record');
  }
  return renderZone(plan, dns.zone, records);
}

/** The names of the site's reverse zones, in address order (see the prefix rules on the renderer). */
export function reverseZoneNames(plan: SitePlan): readonly string[] {
  return renderReverseZones(plan).map((z) => z.zone);
}

/**
 * The reverse zone(s) of the site network: a PTR for every host (→ its name in the zone) and for the API endpoint
 * address (→ `apiEndpoint.dnsName`) unless that address is a host's own (no VIP), which keeps one PTR per address.
 *
 * Zones by prefix length: /8 → `a.in-addr.arpa`, /16 → `b.a.in-addr.arpa`, /24 → `c.b.a.in-addr.arpa`; /9–/23 →
 * the zones of the next octet boundary that hold records; /25–/32 → the enclosing /24. Below /8 is an error.
 */
export function renderReverseZones(plan: SitePlan): readonly Bind9ZoneFile[] {
  requireDns(plan);
  const zoneOctets = reverseZoneOctets(plan);
  const pointers: { ip: string; target: string }[] = plan.hosts.map((host) => ({ ip: host.ip, target: hostNameInZone(plan, host) }));
  if (!plan.hosts.some((host) => host.ip === plan.apiEndpoint.address)) {
    pointers.push({ ip: plan.apiEndpoint.address, target: plan.apiEndpoint.dnsName });
  }
  const prefix = plan.network.prefixLength;
  const networkAddress = plan.network.cidr.split('/')[0];
  const zones = new Map<string, string>();
  // Aligned and longer-than-/24 networks have exactly one zone, also when it would hold no PTR.
  if (prefix % 8 === 0 || prefix > 24) {
    zones.set(reverseZoneOf(networkAddress, zoneOctets), networkAddress);
  }
  for (const { ip } of [...pointers].sort((a, b) => ipToNumber(a.ip) - ipToNumber(b.ip))) {
    const zone = reverseZoneOf(ip, zoneOctets);
    if (!zones.has(zone)) {
      zones.set(zone, ip);
    }
  }
  return [...zones.entries()]
    .sort(([, a], [, b]) => ipToNumber(a) - ipToNumber(b))
    .map(([zone]) => {
      const inZone = pointers.filter((p) => reverseZoneOf(p.ip, zoneOctets) === zone);
      const ptrs = inZone.map((p): ZoneRecord => ({ owner: reverseOwnerOf(p.ip, zoneOctets), type: 'PTR', data: `${p.target}.` }));
      return renderZone(plan, zone, [...nsRecords(plan), ...ptrs]);
    });
}

/** Every zone file of the site: the forward zone first, then the reverse zones in address order. */
export function renderBind9Zones(plan: SitePlan): readonly Bind9ZoneFile[] {
  return [renderForwardZone(plan), ...renderReverseZones(plan)];
}

function list(items: readonly string[]): string {
  return items.length > 0 ? `{ ${items.map((item) => `${item};`).join(' ')} }` : '{ none; }';
}

/**
 * `named.conf.options` for one DNS server: listens on the host's address and 127.0.0.1 only (not every address:
 * Ubuntu's systemd-resolved stub owns 127.0.0.53:53), answers and recurses for the site network and localhost,
 * forwards to `plan.dns.forwarders` when given, validates DNSSEC, and refuses zone transfers unless a zone allows
 * them. Its statistics channel, for bind_exporter, listens on the host's address for the site network only.
 */
export function renderNamedConfOptions(plan: SitePlan, hostName: string): string {
  const dns = requireDns(plan);
  const server = requireDnsServer(plan, hostName);
  const options = [
    `directory "${BIND_WORKING_DIRECTORY}";`,
    `listen-on port 53 ${list([server.ip, '127.0.0.1'])};`,
    // The site model is IPv4-only.
    'listen-on-v6 { none; };',
    'allow-query { site_clients; };',
    'recursion yes;',
    'allow-recursion { site_clients; };',
    'allow-transfer { none; };',
    ...(dns.forwarders.length > 0 ? [
      `forwarders ${list(dns.forwarders)};`,
      // Forwarders are given for names only they know (corporate zones): falling back to the root would cache
      // NXDOMAIN for those.
      'forward only;',
    ] : []),
    'dnssec-validation auto;',
    'version none;',
  ];
  return [
    `// Rendered by proxmox-k3s-ha for ${server.name} (site ${plan.name}); do not edit by hand.`,
    `acl site_clients ${list([plan.network.cidr, 'localhost'])};`,
    '',
    'options {',
    ...options.map((line) => `    ${line}`),
    '};',
    '',
    // The statistics channel (XML/JSON) bind_exporter reads and turns into Prometheus metrics; the site network only.
    'statistics-channels {',
    `    inet ${server.ip} port ${BIND_STATISTICS_PORT} allow { site_clients; };`,
    '};',
    '',
  ].join('\n');
}

/**
 * `named.conf.local` for one DNS server: the forward and reverse zones, primary on the first DNS server and
 * secondary (from the first server) on the others. Each server allows transfers to the other DNS servers only.
 * Secondaries keep their zone files as text, so the copy cloud-init writes (the same files as the primary's) is
 * what they serve until the first transfer.
 */
export function renderNamedConfLocal(plan: SitePlan, hostName: string): string {
  const dns = requireDns(plan);
  const server = requireDnsServer(plan, hostName);
  const primary = dns.servers[0];
  const others = dns.servers.filter((s) => s.name !== server.name).map((s) => s.ip);
  const stanzas = renderBind9Zones(plan).map((zone) => {
    const lines = server.name === primary.name
      ? ['type primary;', `file "${zone.path}";`, `allow-transfer ${list(others)};`]
      : ['type secondary;', `primaries ${list([primary.ip])};`, `file "${zone.path}";`, 'masterfile-format text;', `allow-transfer ${list(others)};`];
    return [`zone "${zone.zone}" {`, ...lines.map((line) => `    ${line}`), '};'].join('\n');
  });
  return `// Rendered by proxmox-k3s-ha for ${server.name} (site ${plan.name}); do not edit by hand.\n${stanzas.join('\n\n')}\n`;
}
