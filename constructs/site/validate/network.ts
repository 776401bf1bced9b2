import { Ipv4Cidr, isIpv4 } from '../../core/ipv4';
import { isDnsName } from '../../core/names';
import { ProblemCollector } from '../../core/problems';
import { expectNonEmptyArray, expectObject, reportUnknownKeys } from './shape';

/** Checks `network`; returns the parsed subnet when it is usable for the checks that depend on it. */
export function validateNetwork(problems: ProblemCollector, network: unknown): Ipv4Cidr | undefined {
  if (!expectObject(problems, 'network', network)) {
    return undefined;
  }
  reportUnknownKeys(problems, 'network', network, ['cidr', 'gateway', 'dnsServers', 'searchDomain', 'etcHosts']);
  if (network.etcHosts !== undefined) {
    problems.check(typeof network.etcHosts === 'boolean', 'network.etcHosts', network.etcHosts, 'true or false');
  }
  let cidr = Ipv4Cidr.tryParse(network.cidr);
  if (!cidr) {
    problems.add('network.cidr', network.cidr, 'an IPv4 network in CIDR notation, e.g. "192.168.168.0/24"');
  } else if (!cidr.isNetworkAddress) {
    problems.add('network.cidr', network.cidr, `the network address with host bits clear ("${cidr.toString()}")`);
  } else if (cidr.prefixLength < 8 || cidr.prefixLength > 30) {
    problems.add('network.cidr', network.cidr, 'a prefix length between /8 and /30');
    cidr = undefined;
  }

  if (problems.check(isIpv4(network.gateway), 'network.gateway', network.gateway, 'an IPv4 address in dotted-decimal form') && cidr) {
    problems.check(cidr.isUsableHostAddress(network.gateway as string), 'network.gateway', network.gateway,
      `a host address inside network.cidr ${cidr.toString()}`);
  }

  if (expectNonEmptyArray(problems, 'network.dnsServers', network.dnsServers, 'IPv4 addresses')) {
    network.dnsServers.forEach((server, i) =>
      problems.check(isIpv4(server), `network.dnsServers[${i}]`, server, 'an IPv4 address in dotted-decimal form'));
  }
  problems.check(isDnsName(network.searchDomain) && (network.searchDomain as string).includes('.'), 'network.searchDomain',
    network.searchDomain, 'a lower-case DNS domain of RFC 1123 labels with at least one dot, e.g. "k3s.test.local"');
  return cidr?.isNetworkAddress ? cidr : undefined;
}
