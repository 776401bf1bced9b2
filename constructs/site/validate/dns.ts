import { isDnsName, isIpv4 } from '../../core';
import { ProblemCollector } from '../../core/problems';
import { expectObject, reportUnknownKeys } from './shape';

/** Checks `dns`: a valid zone name and forwarder addresses. */
export function validateDns(problems: ProblemCollector, dns: unknown): void {
  if (dns === undefined || !expectObject(problems, 'dns', dns)) {
    return;
  }
  reportUnknownKeys(problems, 'dns', dns, ['zone', 'wildcardToEndpoint', 'forwarders']);
  if (dns.zone !== undefined) {
    problems.check(isDnsName(dns.zone) && (dns.zone as string).includes('.'), 'dns.zone', dns.zone, 'a DNS zone name such as "k3s.test.local"');
  }
  if (dns.wildcardToEndpoint !== undefined) {
    problems.check(typeof dns.wildcardToEndpoint === 'boolean', 'dns.wildcardToEndpoint', dns.wildcardToEndpoint, 'true or false');
  }
  if (dns.forwarders !== undefined && problems.check(Array.isArray(dns.forwarders), 'dns.forwarders', dns.forwarders, 'a list of IPv4 addresses')) {
    (dns.forwarders as unknown[]).forEach((f, i) => problems.check(isIpv4(f), `dns.forwarders[${i}]`, f, 'an IPv4 address in dotted-decimal form'));
  }
}
