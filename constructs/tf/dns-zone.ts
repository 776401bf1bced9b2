import { Annotations } from 'cdktf';
import { Construct } from 'constructs';
import { CloudConfig } from '../cloud-init/cloud-config';
import { dnsResolverWarning, renderBind9Zones, requireDns } from '../renderers/bind9';
import { applyDnsRole } from '../roles/dns';
import { SitePlan } from '../site/plan';

/** A host the DNS role attaches to. */
export interface DnsServerHost {
  /** The host's name in the site (a host with role `dns`). */
  readonly name: string;
  /** The host's configuration builder; the role adds Bind9's packages, files, ports and commands to it. */
  readonly cloudConfig: CloudConfig;
}

/** Properties of a {@link DnsZone}. */
export interface DnsZoneProps {
  /** The validated site; its `dns` plan, hosts and API endpoint are every record of the zones. */
  readonly site: SitePlan;
  /** The hosts with role `dns`, in site order: the first is the primary, the others its secondaries. */
  readonly hosts: readonly DnsServerHost[];
}

/**
 * The site's DNS zone served by Bind9 on the hosts with role `dns`: the forward zone (every host, the API name, a
 * wildcard to the API endpoint) and the reverse zone(s) of the site network, primary on the first DNS server and
 * secondary on the others. Creates no Terraform resources: it adds to the hosts' cloud-init, which the hosts
 * render at synthesis.
 *
 * The zone files are identical on every DNS server and their SOA serial is a hash of the records, so a changed
 * record changes every DNS host's user data (and, by default, replaces those hosts together).
 */
export class DnsZone extends Construct {
  /** The forward zone, e.g. `k3s.test.local`. */
  public readonly zoneName: string;
  /** The reverse zones, e.g. `168.168.192.in-addr.arpa`, in address order. */
  public readonly reverseZoneNames: readonly string[];
  /** Addresses of the DNS servers, primary first: what clients put into their resolver list. */
  public readonly nameServerAddresses: readonly string[];

  constructor(scope: Construct, id: string, props: DnsZoneProps) {
    super(scope, id);
    const dns = requireDns(props.site);
    const expected = dns.servers.map((s) => s.name).join(', ');
    const given = props.hosts.map((h) => h.name).join(', ');
    if (expected !== given) {
      throw new Error(`hosts: ${JSON.stringify(given)} — expected the site's dns servers in site order (${expected})`);
    }
    const zones = renderBind9Zones(props.site);
    this.zoneName = dns.zone;
    this.reverseZoneNames = zones.slice(1).map((z) => z.zone);
    this.nameServerAddresses = dns.servers.map((s) => s.ip);
    for (const host of props.hosts) {
      applyDnsRole(host.cloudConfig, props.site, host.name);
    }
    const resolverWarning = dnsResolverWarning(props.site);
    if (resolverWarning) {
      Annotations.of(this).addWarning(resolverWarning);
    }
  }
}
