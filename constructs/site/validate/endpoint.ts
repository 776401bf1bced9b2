import { Ipv4Cidr, isIpv4 } from '../../core/ipv4';
import { isFqdn, isPort } from '../../core/names';
import { ProblemCollector } from '../../core/problems';
import { DEFAULT_API_PORT } from '../defaults';
import { HostRole } from '../spec';
import { expectObject, reportUnknownKeys } from './shape';

/** Where K3s's own API server listens on every server. */
const K3S_API_SERVER_PORT = 6443;

export interface EndpointContext {
  readonly searchDomain?: unknown;
  readonly cidr?: Ipv4Cidr;
  readonly gateway?: unknown;
  readonly hosts: readonly Record<string, unknown>[];
}

/** Checks `apiEndpoint` against the hosts: a VIP must float among load balancers and never be a host's own address. */
export function validateApiEndpoint(problems: ProblemCollector, endpoint: unknown, context: EndpointContext): void {
  if (!expectObject(problems, 'apiEndpoint', endpoint)) {
    return;
  }
  reportUnknownKeys(problems, 'apiEndpoint', endpoint, ['vip', 'port', 'dnsName']);
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
    // With no valid hosts the hosts problem is reported already; a missing load balancer would only repeat it.
    problems.check(loadBalancers.length > 0 || context.hosts.length === 0, 'apiEndpoint.vip', vip,
      `at least one host with role ${HostRole.LOAD_BALANCER} to hold the VIP`);
  } else {
    problems.check(loadBalancers.length <= 1, 'apiEndpoint.vip', vip,
      `a VIP, since ${loadBalancers.length} hosts have role ${HostRole.LOAD_BALANCER} and clients need one address that moves between them`);
  }
  const port = endpoint.port ?? DEFAULT_API_PORT;
  if (problems.check(isPort(port), 'apiEndpoint.port', endpoint.port, 'a TCP port from 1 to 65535') && port === K3S_API_SERVER_PORT) {
    // HAProxy's API frontend and K3s's own API server would both listen on 6443.
    const shared = loadBalancers.filter((host) => Array.isArray(host.roles) && (host.roles.includes(HostRole.K3S_SERVER) || host.roles.includes(HostRole.CONTROL_PLANE)));
    problems.check(shared.length === 0, 'apiEndpoint.port', port,
      `a port other than ${K3S_API_SERVER_PORT}, e.g. 8443: hosts ${shared.map((h) => JSON.stringify(h.name)).join(', ')} run both the load balancer and a K3s server, whose API server already listens on ${K3S_API_SERVER_PORT}`);
  }
  if (endpoint.dnsName !== undefined) {
    if (problems.check(isFqdn(endpoint.dnsName), 'apiEndpoint.dnsName', endpoint.dnsName, 'a fully qualified DNS name, e.g. "api.k3s.test.local"')) {
      const clash = context.hosts.find((host) => `${String(host.name)}.${String(context.searchDomain)}` === endpoint.dnsName);
      problems.check(clash === undefined, 'apiEndpoint.dnsName', endpoint.dnsName,
        `a name no host has (it is the FQDN of host ${JSON.stringify(clash?.name)}, but it must resolve to the API endpoint)`);
    }
  }
}
