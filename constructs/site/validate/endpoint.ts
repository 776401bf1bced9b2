import { Ipv4Cidr, isIpv4 } from '../../core/ipv4';
import { isFqdn, isPort } from '../../core/names';
import { ProblemCollector } from '../../core/problems';
import { HostRole } from '../spec';
import { expectObject } from './shape';

export interface EndpointContext {
  readonly cidr?: Ipv4Cidr;
  readonly gateway?: unknown;
  readonly hosts: readonly Record<string, unknown>[];
}

/** Checks `apiEndpoint` against the hosts: a VIP must float among load balancers and never be a host's own address. */
export function validateApiEndpoint(problems: ProblemCollector, endpoint: unknown, context: EndpointContext): void {
  if (!expectObject(problems, 'apiEndpoint', endpoint)) {
    return;
  }
  const loadBalancers = context.hosts.filter((host) => Array.isArray(host.roles) && host.roles.includes(HostRole.LOAD_BALANCER));
  const vip = endpoint.vip;
  if (vip !== undefined) {
    if (problems.check(isIpv4(vip), 'apiEndpoint.vip', vip, 'an IPv4 address in dotted-decimal form') && context.cidr) {
      problems.check(context.cidr.isUsableHostAddress(vip as string), 'apiEndpoint.vip', vip,
        `an address inside network.cidr ${context.cidr.toString()} (Keepalived moves the VIP within one layer-2 network)`);
      problems.check(vip !== context.gateway, 'apiEndpoint.vip', vip, 'an address other than network.gateway');
      context.hosts.forEach((host) => problems.check(host.ip !== vip, 'apiEndpoint.vip', vip,
        `an address no host uses (host ${JSON.stringify(host.name)} has it as its own IP)`));
    }
    problems.check(loadBalancers.length > 0, 'apiEndpoint.vip', vip, `at least one host with role ${HostRole.LOAD_BALANCER} to hold the VIP`);
  } else {
    problems.check(loadBalancers.length <= 1, 'apiEndpoint.vip', vip,
      `a VIP, since ${loadBalancers.length} hosts have role ${HostRole.LOAD_BALANCER} and clients need one address that moves between them`);
  }
  if (endpoint.port !== undefined) {
    problems.check(isPort(endpoint.port), 'apiEndpoint.port', endpoint.port, 'a TCP port from 1 to 65535');
  }
  if (endpoint.dnsName !== undefined) {
    problems.check(isFqdn(endpoint.dnsName), 'apiEndpoint.dnsName', endpoint.dnsName, 'a fully qualified DNS name, e.g. "api.k3s.test.local"');
  }
}
