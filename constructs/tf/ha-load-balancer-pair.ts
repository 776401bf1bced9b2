import { Password } from '@cdktf/provider-random/lib/password';
import { Construct } from 'constructs';
import { CloudConfig } from '../cloud-init/cloud-config';
import { requireLoadBalancer } from '../renderers/haproxy';
import { LoadBalancerService, addLoadBalancerService, applyLoadBalancerRole } from '../roles/load-balancer';
import { SitePlan } from '../site/plan';

/** A host the load balancer role attaches to. */
export interface LoadBalancerHost {
  /** Host name, as in the site plan. */
  readonly name: string;
  /** The host's configuration builder; the role adds HAProxy and Keepalived to it. */
  readonly cloudConfig: CloudConfig;
}

/** Properties of a {@link HaLoadBalancerPair}. */
export interface HaLoadBalancerPairProps {
  /** The validated site; its `loadBalancer` plan, API endpoint and K3s servers drive every rendered file. */
  readonly site: SitePlan;
  /** The hosts with role `load-balancer`, wherever the site puts them (VMs, LXC, K3s servers, datastore nodes). */
  readonly hosts: readonly LoadBalancerHost[];
  /**
   * The stats page password, as a reference to a sensitive variable (letters and digits only).
   *
   * @default - generated (`random_password`, 24 letters and digits)
   */
  readonly statsPassword?: string;
  /**
   * The VRRPv2 `auth_pass` when the site turns authentication on, as a reference (8 letters and digits).
   *
   * @default - generated (`random_password`)
   */
  readonly vrrpAuthPass?: string;
}

/**
 * HAProxy + Keepalived with a floating VIP in front of the K3s API servers (and the ingress NodePorts), on 1..n
 * hosts despite the name.
 *
 * Generates the stats page password (and the VRRPv2 `auth_pass`, when the site asks for authentication) as
 * `random_password` resources; the rendered files reference them, so no secret is a literal in the synthesized
 * JSON. With a single load balancer there is no VIP and no Keepalived, and the stack warns about the single point
 * of failure. The stack must configure the `random` provider.
 */
export class HaLoadBalancerPair extends Construct {
  /** The address clients use: the VIP, or the only load balancer's address. */
  public readonly apiEndpointAddress: string;
  /** The port of HAProxy's API frontend (`apiEndpoint.port`). */
  public readonly apiEndpointPort: number;
  /** Password of the stats page user `admin` (a Terraform reference; sensitive). */
  public readonly statsPassword: string;
  /** The VRRPv2 auth pass (a Terraform reference), when enabled. */
  public readonly vrrpAuthPass?: string;
  private readonly site: SitePlan;
  private readonly hosts: readonly LoadBalancerHost[];
  private readonly services: LoadBalancerService[] = [];

  constructor(scope: Construct, id: string, props: HaLoadBalancerPairProps) {
    super(scope, id);
    const lb = requireLoadBalancer(props.site);
    const expected = lb.nodes.map((n) => n.name).join(', ');
    const given = props.hosts.map((h) => h.name).join(', ');
    if (expected !== given) {
      throw new Error(`hosts: ${JSON.stringify(given)} — the site's load balancers in site order (${expected})`);
    }
    this.apiEndpointAddress = props.site.apiEndpoint.address;
    this.apiEndpointPort = props.site.apiEndpoint.port;
    // Letters and digits only: the value is written into haproxy.cfg and keepalived.conf unquoted.
    this.statsPassword = props.statsPassword ?? new Password(this, 'StatsPassword', { length: 24, special: false }).result;
    if (lb.vrrpAuthentication) {
      // keepalived silently truncates auth_pass after 8 characters.
      this.vrrpAuthPass = props.vrrpAuthPass ?? new Password(this, 'VrrpAuthPass', { length: 8, special: false }).result;
    }
    this.site = props.site;
    this.hosts = props.hosts;
    for (const host of props.hosts) {
      applyLoadBalancerRole(host.cloudConfig, props.site, host.name, {
        statsPassword: this.statsPassword,
        vrrpAuthPass: this.vrrpAuthPass,
      });
    }
  }

  /**
   * Lets a service add what it needs on every load balancer beyond its HAProxy sections and files (packages,
   * commands), e.g. the PostgreSQL writer endpoint's start state; `configure` runs once per host, in site order.
   */
  public configureEachHost(configure: (config: CloudConfig, hostName: string) => void): void {
    for (const host of this.hosts) {
      configure(host.cloudConfig, host.name);
    }
  }

  /**
   * Puts a TCP service on every load balancer: its port is claimed on each host and its HAProxy sections are
   * appended to haproxy.cfg (the PostgreSQL datastore adds its writer endpoint this way).
   */
  public addTcpService(service: LoadBalancerService): void {
    this.services.push(service);
    for (const host of this.hosts) {
      addLoadBalancerService(host.cloudConfig, this.site, host.name, { statsPassword: this.statsPassword, vrrpAuthPass: this.vrrpAuthPass }, this.services);
    }
  }
}
