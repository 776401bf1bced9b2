import { HostRole, SitePlan, defineSite } from '../../constructs';
import {
  ZONE_SOA_TIMERS, renderBind9Zones, renderForwardZone, renderNamedConfLocal, renderNamedConfOptions, renderReverseZones, reverseZoneNames, zoneSerial,
} from '../../constructs/renderers';
import lab from '../../sites/lab';
import { labWithDns, labWithTwoDns, renumbered, labWithoutDns } from './sites';

const plan = defineSite(labWithDns);
const plan2 = defineSite(labWithTwoDns);

/** The resource records of a zone file as `owner TYPE data`, in file order (SOA, directives and comments left out). */
function records(content: string): string[] {
  const body = content.slice(content.indexOf(') ; negative-caching TTL') + 1);
  return body.split('\n').slice(1).filter((line) => line.trim() && !line.startsWith(';'))
    .map((line) => line.trim().split(/\s+/)).map(([owner, klass, type, ...data]) => {
      expect(klass).toBe('IN');
      return `${owner} ${type} ${data.join(' ')}`;
    });
}

/** The SOA of a zone file: mname, rname and the five numbers. */
function soa(content: string): { mname: string; rname: string; numbers: number[] } {
  const match = /@ IN SOA (\S+) (\S+) \(([^)]*)\)/.exec(content);
  if (!match) {
    throw new Error(`no SOA in\n${content}`);
  }
  const numbers = match[3].split('\n').map((line) => line.replace(/;.*/, '').trim()).filter(Boolean).map(Number);
  return { mname: match[1], rname: match[2], numbers };
}

describe('renderForwardZone', () => {
  const zone = renderForwardZone(plan);
  const rrs = records(zone.content);

  test('is the zone k3s.test.local in /var/lib/bind', () => {
    expect(zone.zone).toBe('k3s.test.local');
    expect(zone.path).toBe('/var/lib/bind/db.k3s.test.local');
    expect(zone.content).toContain('$ORIGIN k3s.test.local.\n$TTL 300\n');
  });

  test('has an A record for every node, the DNS server included', () => {
    for (const host of plan.hosts) {
      expect(rrs).toContain(`${host.name} A ${host.ip}`);
    }
    expect(rrs).toEqual(expect.arrayContaining([
      'lx-k3s-server-01 A 192.168.168.111', 'lx-k3s-server-02 A 192.168.168.112', 'lx-k3s-server-03 A 192.168.168.113',
      'lx-k3s-agent-01 A 192.168.168.121', 'lx-k3s-agent-02 A 192.168.168.122', 'lx-dns-01 A 192.168.168.53',
    ]));
  });

  test('points the API name and the wildcard at the VIP 192.168.168.100', () => {
    expect(rrs).toContain('api A 192.168.168.100');
    expect(rrs).toContain('* A 192.168.168.100');
  });

  test('has no wildcard when wildcardToEndpoint is false', () => {
    const rendered = records(renderForwardZone(defineSite({ ...labWithDns, dns: { wildcardToEndpoint: false } })).content);
    expect(rendered.filter((r) => r.startsWith('*'))).toEqual([]);
    expect(rendered).toContain('api A 192.168.168.100');
  });

  test('SOA: the first DNS server is the primary, hostmaster is the contact, timers are sensible', () => {
    expect(soa(zone.content)).toEqual({
      mname: 'lx-dns-01.k3s.test.local.',
      rname: 'hostmaster.k3s.test.local.',
      numbers: [zone.serial, 3600, 600, 1_209_600, 300],
    });
    const { refresh, retry, expire, negativeTtl } = ZONE_SOA_TIMERS;
    expect(retry).toBeLessThan(refresh);
    expect(expire).toBeGreaterThanOrEqual(7 * refresh);
    expect(negativeTtl).toBeLessThanOrEqual(3600);
  });

  test('NS records name every DNS server, in the zone, before the other records', () => {
    expect(rrs.slice(0, 1)).toEqual(['@ NS lx-dns-01.k3s.test.local.']);
    const two = renderForwardZone(plan2);
    expect(records(two.content).slice(0, 2)).toEqual(['@ NS lx-dns-01.k3s.test.local.', '@ NS lx-dns-02.k3s.test.local.']);
    expect(soa(two.content).mname).toBe('lx-dns-01.k3s.test.local.');
  });

  test('records are sorted: NS, then owners by code point, whatever the site order of the hosts', () => {
    expect(rrs.map((r) => r.split(' ')[0])).toEqual(['@', '*', 'api', 'lx-dns-01', 'lx-k3s-agent-01', 'lx-k3s-agent-02', 'lx-k3s-server-01', 'lx-k3s-server-02', 'lx-k3s-server-03']);
    const shuffled = defineSite({ ...labWithDns, hosts: [...labWithDns.hosts].reverse() });
    expect(renderForwardZone(shuffled).content).toBe(zone.content);
  });

  test('an API name outside the zone gets no A record (its PTR stays)', () => {
    const outside = defineSite({ ...labWithDns, apiEndpoint: { ...lab.apiEndpoint, dnsName: 'k8s.example.net' } });
    expect(records(renderForwardZone(outside).content).filter((r) => r.startsWith('api') || r.includes('example.net'))).toEqual([]);
    expect(records(renderReverseZones(outside)[0].content)).toContain('100 PTR k8s.example.net.');
  });

  test('a zone above the search domain holds the hosts under their FQDNs', () => {
    const parent = defineSite({ ...labWithDns, dns: { zone: 'test.local' } });
    const rendered = records(renderForwardZone(parent).content);
    expect(rendered).toEqual(expect.arrayContaining(['lx-k3s-server-01.k3s A 192.168.168.111', 'api.k3s A 192.168.168.100', '* A 192.168.168.100']));
    expect(soa(renderForwardZone(parent).content).mname).toBe('lx-dns-01.k3s.test.local.');
  });

  test('a zone apart from the search domain names the hosts <name>.<zone>, and the PTRs agree', () => {
    const apart = defineSite({ ...labWithDns, dns: { zone: 'lab.example.org' } });
    const rendered = records(renderForwardZone(apart).content);
    expect(rendered).toContain('lx-k3s-server-01 A 192.168.168.111');
    expect(rendered.filter((r) => r.startsWith('api '))).toEqual([]);
    expect(records(renderReverseZones(apart)[0].content)).toEqual(expect.arrayContaining([
      '111 PTR lx-k3s-server-01.lab.example.org.', '100 PTR api.k3s.test.local.',
    ]));
  });
});

describe('renderReverseZones', () => {
  test('a /24 network gets the c.b.a.in-addr.arpa zone with a PTR for every host and the VIP, in address order', () => {
    const zones = renderReverseZones(plan);
    expect(zones.map((z) => [z.zone, z.path])).toEqual([['168.168.192.in-addr.arpa', '/var/lib/bind/db.168.168.192.in-addr.arpa']]);
    expect(records(zones[0].content)).toEqual([
      '@ NS lx-dns-01.k3s.test.local.',
      '53 PTR lx-dns-01.k3s.test.local.',
      '100 PTR api.k3s.test.local.',
      '111 PTR lx-k3s-server-01.k3s.test.local.',
      '112 PTR lx-k3s-server-02.k3s.test.local.',
      '113 PTR lx-k3s-server-03.k3s.test.local.',
      '121 PTR lx-k3s-agent-01.k3s.test.local.',
      '122 PTR lx-k3s-agent-02.k3s.test.local.',
    ]);
    expect(soa(zones[0].content)).toMatchObject({ mname: 'lx-dns-01.k3s.test.local.', rname: 'hostmaster.k3s.test.local.' });
  });

  test('without a VIP the endpoint address is a host\'s own and keeps the host\'s PTR only', () => {
    const noVip = defineSite({
      ...labWithDns,
      name: 'lab-novip',
      hosts: labWithDns.hosts.map((h, i) => (h.roles.includes(HostRole.LOAD_BALANCER) && i > 0 ? { ...h, roles: [HostRole.K3S_SERVER] } : h)),
      apiEndpoint: { port: 8443 },
    });
    expect(noVip.apiEndpoint.address).toBe('192.168.168.111');
    const rendered = records(renderReverseZones(noVip)[0].content);
    expect(rendered.filter((r) => r.startsWith('111 '))).toEqual(['111 PTR lx-k3s-server-01.k3s.test.local.']);
    expect(records(renderForwardZone(noVip).content)).toEqual(expect.arrayContaining(['api A 192.168.168.111', '* A 192.168.168.111']));
  });

  test('a /16 network gets the b.a.in-addr.arpa zone with two-label owners', () => {
    const site = defineSite(renumbered(labWithDns, 'lab-16', '10.20.0.0/16', '10.20.0.1', '10.20.0.100', (i) => `10.20.${i + 1}.${10 + i}`));
    const zones = renderReverseZones(site);
    expect(zones.map((z) => z.zone)).toEqual(['20.10.in-addr.arpa']);
    expect(records(zones[0].content)).toEqual(expect.arrayContaining(['100.0 PTR api.k3s.test.local.', '10.1 PTR lx-k3s-server-01.k3s.test.local.', '15.6 PTR lx-dns-01.k3s.test.local.']));
  });

  test('a /8 network gets the a.in-addr.arpa zone', () => {
    // Not 10/8: the K3s pod and service CIDRs (10.42/16, 10.43/16) may not overlap the site network.
    const site = defineSite(renumbered(labWithDns, 'lab-8', '100.0.0.0/8', '100.0.0.1', '100.99.0.100', (i) => `100.${i}.0.${10 + i}`));
    expect(reverseZoneNames(site)).toEqual(['100.in-addr.arpa']);
    expect(records(renderReverseZones(site)[0].content)).toContain('100.0.99 PTR api.k3s.test.local.');
  });

  test('a /22 network gets the /24 zones that hold its hosts, not the enclosing /16 (which would shadow other networks)', () => {
    const site = defineSite(renumbered(labWithDns, 'lab-22', '10.20.4.0/22', '10.20.4.1', '10.20.4.100', (i) => `10.20.${i < 3 ? 5 : 6}.${10 + i}`));
    const zones = renderReverseZones(site);
    expect(zones.map((z) => z.zone)).toEqual(['4.20.10.in-addr.arpa', '5.20.10.in-addr.arpa', '6.20.10.in-addr.arpa']);
    expect(records(zones[0].content)).toEqual(['@ NS lx-dns-01.k3s.test.local.', '100 PTR api.k3s.test.local.']);
    expect(records(zones[1].content).filter((r) => r.includes('PTR'))).toHaveLength(3);
    expect(records(zones[2].content).filter((r) => r.includes('PTR'))).toHaveLength(3);
  });

  test('a /26 network gets its enclosing /24 zone', () => {
    const site = defineSite(renumbered(labWithDns, 'lab-26', '192.168.168.64/26', '192.168.168.65', '192.168.168.100', (i) => `192.168.168.${70 + i}`));
    expect(reverseZoneNames(site)).toEqual(['168.168.192.in-addr.arpa']);
    expect(records(renderReverseZones(site)[0].content)).toContain('70 PTR lx-k3s-server-01.k3s.test.local.');
  });

  test('fails for a prefix length no in-addr.arpa zone can hold, naming network.cidr and what is supported', () => {
    const hand: SitePlan = { ...plan, network: { ...plan.network, cidr: '10.0.0.0/7', prefixLength: 7 } };
    expect(() => renderReverseZones(hand)).toThrow(
      'site lab-dns: network.cidr "10.0.0.0/7" has prefix length /7; reverse zones need /8 to /32 (/8, /16 and /24 are one in-addr.arpa zone each, other lengths use the octet-aligned zones that hold the hosts)');
  });
});

describe('SOA serial', () => {
  const serials = (site: SitePlan) => renderBind9Zones(site).map((z) => z.serial);

  test('is in 1..2^31-1 and equals the serial written in the file', () => {
    for (const zone of renderBind9Zones(plan)) {
      expect(zone.serial).toBeGreaterThanOrEqual(1);
      expect(zone.serial).toBeLessThan(2 ** 31);
      expect(soa(zone.content).numbers[0]).toBe(zone.serial);
    }
  });

  test('is stable: the same records give the same serial, also from a separately defined plan or another description', () => {
    expect(serials(defineSite(labWithDns))).toEqual(serials(plan));
    expect(serials(defineSite({ ...labWithDns, name: 'other-name', description: 'changed', versions: { k3s: 'v1.35.1+k3s1' } }))).toEqual(serials(plan));
  });

  test('changes when a record changes', () => {
    const moved = defineSite({ ...labWithDns, hosts: labWithDns.hosts.map((h) => (h.name === 'lx-k3s-agent-02' ? { ...h, ip: '192.168.168.123' } : h)) });
    const [forward, reverse] = serials(moved);
    expect(forward).not.toBe(serials(plan)[0]);
    expect(reverse).not.toBe(serials(plan)[1]);
    const noWildcard = serials(defineSite({ ...labWithDns, dns: { wildcardToEndpoint: false } }));
    expect(noWildcard[0]).not.toBe(serials(plan)[0]);
    // The wildcard is not in the reverse zone.
    expect(noWildcard[1]).toBe(serials(plan)[1]);
  });

  test('zoneSerial is a function of the zone name and data only', () => {
    expect(zoneSerial('a.test', ['x A 1.2.3.4'])).toBe(zoneSerial('a.test', ['x A 1.2.3.4']));
    expect(zoneSerial('a.test', ['x A 1.2.3.4'])).not.toBe(zoneSerial('a.test', ['x A 1.2.3.5']));
    expect(zoneSerial('a.test', ['x A 1.2.3.4'])).not.toBe(zoneSerial('b.test', ['x A 1.2.3.4']));
  });
});

describe('renderNamedConfOptions', () => {
  const options = renderNamedConfOptions(plan, 'lx-dns-01');
  const lines = options.split('\n').map((l) => l.trim());

  test('listens on the host address and 127.0.0.1, IPv4 only', () => {
    expect(lines).toContain('listen-on port 53 { 192.168.168.53; 127.0.0.1; };');
    expect(lines).toContain('listen-on-v6 { none; };');
  });

  test('answers and recurses for the site network and localhost only, transfers nothing by default, validates DNSSEC', () => {
    expect(lines).toContain('acl site_clients { 192.168.168.0/24; localhost; };');
    expect(lines).toEqual(expect.arrayContaining([
      'allow-query { site_clients; };', 'recursion yes;', 'allow-recursion { site_clients; };', 'allow-transfer { none; };',
      'dnssec-validation auto;', 'directory "/var/cache/bind";',
    ]));
  });

  test('forwards only when forwarders are given', () => {
    expect(options).not.toContain('forward');
    const withForwarders = renderNamedConfOptions(defineSite({ ...labWithDns, dns: { forwarders: ['192.168.168.1', '9.9.9.9'] } }), 'lx-dns-01');
    expect(withForwarders).toContain('    forwarders { 192.168.168.1; 9.9.9.9; };\n    forward only;\n');
  });

  test('fails for a host that is not a DNS server, naming it and the DNS servers', () => {
    expect(() => renderNamedConfOptions(plan, 'lx-k3s-server-01')).toThrow('site lab-dns: host "lx-k3s-server-01" is not a dns server (dns servers: lx-dns-01)');
  });
});

describe('renderNamedConfLocal', () => {
  test('a single server is primary for every zone and transfers to nobody', () => {
    expect(renderNamedConfLocal(plan, 'lx-dns-01')).toBe([
      '// Rendered by proxmox-k3s-ha for lx-dns-01 (site lab-dns); do not edit by hand.',
      'zone "k3s.test.local" {',
      '    type primary;',
      '    file "/var/lib/bind/db.k3s.test.local";',
      '    allow-transfer { none; };',
      '};',
      '',
      'zone "168.168.192.in-addr.arpa" {',
      '    type primary;',
      '    file "/var/lib/bind/db.168.168.192.in-addr.arpa";',
      '    allow-transfer { none; };',
      '};',
      '',
    ].join('\n'));
  });

  test('the first of two servers is primary and transfers to the second only', () => {
    const local = renderNamedConfLocal(plan2, 'lx-dns-01');
    expect(local.match(/type primary;/g)).toHaveLength(2);
    expect(local.match(/allow-transfer \{ 192\.168\.168\.54; \};/g)).toHaveLength(2);
  });

  test('the second server is secondary from the first, keeps text zone files, and transfers to the first only', () => {
    const local = renderNamedConfLocal(plan2, 'lx-dns-02');
    expect(local).toContain([
      'zone "k3s.test.local" {',
      '    type secondary;',
      '    primaries { 192.168.168.53; };',
      '    file "/var/lib/bind/db.k3s.test.local";',
      '    masterfile-format text;',
      '    allow-transfer { 192.168.168.53; };',
      '};',
    ].join('\n'));
    expect(local.match(/type secondary;/g)).toHaveLength(2);
    expect(local).not.toContain('type primary;');
  });
});

describe('a site without DNS servers', () => {
  const noDns = defineSite(labWithoutDns);
  test.each([
    ['renderForwardZone', () => renderForwardZone(noDns)],
    ['renderReverseZones', () => renderReverseZones(noDns)],
    ['renderNamedConfOptions', () => renderNamedConfOptions(noDns, 'lx-k3s-server-01')],
    ['renderNamedConfLocal', () => renderNamedConfLocal(noDns, 'lx-k3s-server-01')],
  ])('fails in %s, saying no host has role dns', (_, render) => {
    expect(render).toThrow('site lab: no host has role dns; give at least one host role "dns" to serve the zone');
  });
});
