import { AnnotationMetadataEntryType, TerraformStack, Testing } from 'cdktf';
import { CloudConfig, CloudConfigConflictError, DnsZone, FileEncoding, Protocol, defineSite } from '../../constructs';
import { applyDnsRole } from '../../constructs/roles';
import { renderBind9Zones, renderNamedConfLocal, renderNamedConfOptions } from '../../constructs/renderers';
import lab from '../../sites/lab';
import { labWithDns, labWithTwoDns, labWithoutDns } from './sites';

const plan2 = defineSite(labWithTwoDns);
const configFor = (name: string) => new CloudConfig({ hostname: name, fqdn: `${name}.k3s.test.local` });

describe('applyDnsRole', () => {
  const config = configFor('lx-dns-02');
  applyDnsRole(config, plan2, 'lx-dns-02');

  test('installs bind9, its tools and dig', () => {
    expect(config.packages).toEqual(['bind9', 'bind9-dnsutils', 'bind9-utils']);
  });

  test('writes the rendered options, local config and every zone file at Debian\'s paths, readable by group bind', () => {
    const zones = renderBind9Zones(plan2);
    expect(config.files).toEqual([
      { path: '/etc/bind/named.conf.local', content: renderNamedConfLocal(plan2, 'lx-dns-02'), mode: '0644', owner: 'root:bind', encoding: FileEncoding.TEXT },
      { path: '/etc/bind/named.conf.options', content: renderNamedConfOptions(plan2, 'lx-dns-02'), mode: '0644', owner: 'root:bind', encoding: FileEncoding.TEXT },
      // Files come sorted by path: the reverse zone's file name sorts first.
      ...[...zones].reverse().map((z) => ({ path: z.path, content: z.content, mode: '0644', owner: 'root:bind', encoding: FileEncoding.TEXT })),
    ]);
    expect(zones.map((z) => z.path)).toEqual(['/var/lib/bind/db.k3s.test.local', '/var/lib/bind/db.168.168.192.in-addr.arpa']);
  });

  test('claims udp and tcp 53 on the host address and on 127.0.0.1 only', () => {
    expect(config.ports.map((p) => `${p.protocol} ${p.address}:${p.port}`)).toEqual([
      'udp 192.168.168.54:53', 'tcp 192.168.168.54:53', 'udp 127.0.0.1:53', 'tcp 127.0.0.1:53',
    ]);
    // systemd-resolved's stub address stays free; another listener on the host address does not.
    expect(() => config.claimPort('resolved', { port: 53, protocol: Protocol.UDP, address: '127.0.0.53', description: 'stub' })).not.toThrow();
    expect(() => config.claimPort('other', { port: 53, protocol: Protocol.TCP, description: 'dnsmasq' })).toThrow(CloudConfigConflictError);
  });

  const watched = "'/etc/bind/named.conf.options' '/etc/bind/named.conf.local' '/var/lib/bind/db.k3s.test.local' '/var/lib/bind/db.168.168.192.in-addr.arpa'";
  /** The service step: validate every file, then enable and reload or restart named, only when a watched file changed (or it is stopped). */
  const serviceStep = (apply: string) => [
    `if pkh_pending ${watched} || ! systemctl is-active --quiet named; then`,
    '  named-checkconf /etc/bind/named.conf',
    '  named-checkzone -i local k3s.test.local /var/lib/bind/db.k3s.test.local',
    '  named-checkzone -i local 168.168.192.in-addr.arpa /var/lib/bind/db.168.168.192.in-addr.arpa',
    '  systemctl enable named',
    `  ${apply}`,
    `  pkh_applied ${watched}`,
    'fi',
  ].join('\n');

  test('the primary checks the configuration and every zone before enabling and (re)loading named', () => {
    const primary = configFor('lx-dns-01');
    applyDnsRole(primary, plan2, 'lx-dns-01');
    expect(primary.commands).toEqual([serviceStep('systemctl reload-or-restart named')]);
    expect(primary.gates.map((gate) => gate.check)).toEqual([expect.stringContaining('@192.168.168.53 SOA k3s.test.local')]);
  });

  test('a secondary also waits, bounded, until the primary serves this synthesis\'s serials, then restarts named', () => {
    const [forward, reverse] = renderBind9Zones(plan2);
    expect(config.commands).toEqual([
      'i=0; until { '
        + `[ "$(dig +short +time=2 +tries=1 @192.168.168.53 SOA k3s.test.local | cut -d ' ' -f 3)" = ${forward.serial} ] && `
        + `[ "$(dig +short +time=2 +tries=1 @192.168.168.53 SOA 168.168.192.in-addr.arpa | cut -d ' ' -f 3)" = ${reverse.serial} ]; `
        + '} || [ "$i" -ge 60 ]; do i=$((i + 1)); sleep 5; done',
      serviceStep('systemctl restart named'),
    ]);
  });

  test('fails for a host that is not a DNS server', () => {
    expect(() => applyDnsRole(configFor('lx-k3s-agent-01'), plan2, 'lx-k3s-agent-01'))
      .toThrow('site lab-dns2: host "lx-k3s-agent-01" is not a dns server (dns servers: lx-dns-01, lx-dns-02)');
  });

  test('fails for a site without DNS servers', () => {
    expect(() => applyDnsRole(configFor('lx-k3s-agent-01'), defineSite(labWithoutDns), 'lx-k3s-agent-01')).toThrow('site lab: no host has role dns');
  });
});

describe('DnsZone', () => {
  const stack = () => new TerraformStack(Testing.app(), 'test');
  const hostsOf = (names: readonly string[]) => names.map((name) => ({ name, cloudConfig: configFor(name) }));

  test('attaches the role to every DNS host: primary and secondary configs, the same zone files on both', () => {
    const hosts = hostsOf(['lx-dns-01', 'lx-dns-02']);
    const zone = new DnsZone(stack(), 'Dns', { site: plan2, hosts });
    expect(zone.zoneName).toBe('k3s.test.local');
    expect(zone.reverseZoneNames).toEqual(['168.168.192.in-addr.arpa']);
    expect(zone.nameServerAddresses).toEqual(['192.168.168.53', '192.168.168.54']);
    const local = (i: number) => hosts[i].cloudConfig.files.find((f) => f.path === '/etc/bind/named.conf.local')!.content;
    expect(local(0)).toContain('type primary;');
    expect(local(1)).toContain('type secondary;');
    const zoneFiles = (i: number) => hosts[i].cloudConfig.files.filter((f) => f.path.startsWith('/var/lib/bind/'));
    expect(zoneFiles(0)).toEqual(zoneFiles(1));
    expect(zoneFiles(0)).toHaveLength(2);
  });

  test('warns when the hosts\' resolvers (network.dnsServers) are not the site\'s DNS servers', () => {
    const zone = new DnsZone(stack(), 'Dns', { site: defineSite(labWithDns), hosts: hostsOf(['lx-dns-01']) });
    expect(zone.node.metadata.filter((m) => m.type === AnnotationMetadataEntryType.WARN).map((m) => m.data)).toEqual([
      'network.dnsServers (192.168.168.1) lists none of the site\'s dns servers (192.168.168.53): hosts resolve k3s.test.local only if those resolvers forward it to them (or list them in network.dnsServers)',
    ]);
    const served = defineSite({ ...labWithDns, network: { ...labWithDns.network, dnsServers: ['192.168.168.53'] } });
    const quiet = new DnsZone(stack(), 'Dns', { site: served, hosts: hostsOf(['lx-dns-01']) });
    expect(quiet.node.metadata.filter((m) => m.type === AnnotationMetadataEntryType.WARN)).toEqual([]);
  });

  test('fails when the hosts are not the site\'s DNS servers in site order', () => {
    expect(() => new DnsZone(stack(), 'Dns', { site: plan2, hosts: hostsOf(['lx-dns-02', 'lx-dns-01']) }))
      .toThrow('hosts: "lx-dns-02, lx-dns-01" — expected the site\'s dns servers in site order (lx-dns-01, lx-dns-02)');
    expect(() => new DnsZone(stack(), 'Dns', { site: plan2, hosts: hostsOf(['lx-dns-01']) })).toThrow(/^hosts: "lx-dns-01" — expected/);
  });

  test('fails for a site without DNS servers', () => {
    expect(() => new DnsZone(stack(), 'Dns', { site: defineSite(labWithoutDns), hosts: [] })).toThrow('site lab: no host has role dns');
  });
});
