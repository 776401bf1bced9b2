import { isIntegerInRange, isPort } from '../../core/names';
import { ProblemCollector } from '../../core/problems';
import { ApiHealthCheck, HostRole, VrrpVersion } from '../spec';
import { expectObject, reportUnknownKeys } from './shape';

const MAX_LOAD_BALANCERS = 20;
/** Largest spread of VRRP priorities: keepalived track-script weights range over -253..253. */
const MAX_VRRP_PRIORITY_SPREAD = 252;

/** Checks `loadBalancer` against the hosts that carry role `load-balancer`. */
export function validateLoadBalancer(problems: ProblemCollector, loadBalancer: unknown, hosts: readonly Record<string, unknown>[]): void {
  const spec = loadBalancer ?? {};
  if (!expectObject(problems, 'loadBalancer', spec)) {
    return;
  }
  reportUnknownKeys(problems, 'loadBalancer', spec, ['vrrpRouterId', 'vrrpVersion', 'vrrpAdvertIntervalMs', 'vrrpMulticast', 'vrrpAuthentication',
    'vrrpPriorities', 'vrrpNopreempt', 'vrrpInterface', 'apiHealthCheck', 'statsPort', 'ingressFrontends', 'healthCheckFall', 'healthCheckRise']);
  for (const key of ['healthCheckFall', 'healthCheckRise'] as const) {
    if (spec[key] !== undefined) {
      problems.check(isIntegerInRange(spec[key], 1, 10), `loadBalancer.${key}`, spec[key], 'a number of health checks from 1 to 10');
    }
  }
  const count = hosts.filter((host) => Array.isArray(host.roles) && host.roles.includes(HostRole.LOAD_BALANCER)).length;
  problems.check(count <= MAX_LOAD_BALANCERS, 'hosts', `${count} load balancers`, `at most ${MAX_LOAD_BALANCERS} hosts with role ${HostRole.LOAD_BALANCER}`);

  if (spec.vrrpRouterId !== undefined) {
    problems.check(isIntegerInRange(spec.vrrpRouterId, 1, 255), 'loadBalancer.vrrpRouterId', spec.vrrpRouterId, 'a VRRP virtual_router_id from 1 to 255');
  }
  const version = spec.vrrpVersion ?? VrrpVersion.V3;
  const versionOk = problems.check(version === VrrpVersion.V2 || version === VrrpVersion.V3, 'loadBalancer.vrrpVersion', spec.vrrpVersion, 'VRRP version 2 or 3');
  if (spec.vrrpAdvertIntervalMs !== undefined && versionOk) {
    const advert = spec.vrrpAdvertIntervalMs;
    if (version === VrrpVersion.V2) {
      problems.check(isIntegerInRange(advert, 1000, 255_000) && (advert as number) % 1000 === 0, 'loadBalancer.vrrpAdvertIntervalMs', advert,
        'whole seconds from 1000 to 255000 ms (VRRPv2 has no sub-second adverts; use vrrpVersion 3 for those)');
    } else {
      problems.check(isIntegerInRange(advert, 100, 40_950) && (advert as number) % 10 === 0, 'loadBalancer.vrrpAdvertIntervalMs', advert,
        'a multiple of 10 ms from 100 to 40950 (VRRPv3 counts centiseconds; below 100 ms adverts flap on a busy hypervisor)');
    }
  }
  for (const key of ['vrrpMulticast', 'vrrpAuthentication', 'vrrpNopreempt', 'ingressFrontends'] as const) {
    if (spec[key] !== undefined) {
      problems.check(typeof spec[key] === 'boolean', `loadBalancer.${key}`, spec[key], 'true or false');
    }
  }
  if (spec.vrrpAuthentication === true && versionOk) {
    problems.check(version === VrrpVersion.V2, 'loadBalancer.vrrpAuthentication', spec.vrrpAuthentication,
      'false with VRRPv3, which has no authentication (isolate the VRRP network instead), or vrrpVersion 2');
  }
  if (spec.vrrpPriorities !== undefined) {
    if (problems.check(Array.isArray(spec.vrrpPriorities) && spec.vrrpPriorities.length === count, 'loadBalancer.vrrpPriorities', spec.vrrpPriorities,
      `a list of ${count} priorities, one per host with role ${HostRole.LOAD_BALANCER} in site order`)) {
      const priorities = spec.vrrpPriorities as unknown[];
      priorities.forEach((priority, i) => {
        if (problems.check(isIntegerInRange(priority, 1, 254), `loadBalancer.vrrpPriorities[${i}]`, priority,
          'a priority from 1 to 254 (255 is reserved for the address owner)')) {
          problems.check(priorities.indexOf(priority) === i, `loadBalancer.vrrpPriorities[${i}]`, priority,
            'a priority no other load balancer has (equal priorities make the election depend on addresses; use vrrpNopreempt instead)');
        }
      });
      const valid = priorities.filter((p): p is number => isIntegerInRange(p, 1, 254));
      if (valid.length === priorities.length) {
        // The no-backend track script lowers a node by the spread + 1 (renderers/keepalived.ts); keepalived's
        // weights stop at 253, so a wider spread could not move the VIP off a node without API servers.
        problems.check(Math.max(...valid) - Math.min(...valid) <= MAX_VRRP_PRIORITY_SPREAD, 'loadBalancer.vrrpPriorities', spec.vrrpPriorities,
          `priorities at most ${MAX_VRRP_PRIORITY_SPREAD} apart (a track script weight is at most 253)`);
      }
    }
  }
  if (spec.vrrpInterface !== undefined) {
    problems.check(typeof spec.vrrpInterface === 'string' && /^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/.test(spec.vrrpInterface), 'loadBalancer.vrrpInterface',
      spec.vrrpInterface, 'a network interface name of at most 15 characters, e.g. "eth0"');
  }
  if (spec.apiHealthCheck !== undefined) {
    problems.check(Object.values(ApiHealthCheck).includes(spec.apiHealthCheck as ApiHealthCheck), 'loadBalancer.apiHealthCheck', spec.apiHealthCheck,
      `one of ${Object.values(ApiHealthCheck).join(', ')}`);
  }
  if (spec.statsPort !== undefined) {
    problems.check(isPort(spec.statsPort), 'loadBalancer.statsPort', spec.statsPort, 'a TCP port from 1 to 65535');
  }
}
