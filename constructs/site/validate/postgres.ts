import { isIntegerInRange, isPort } from '../../core/names';
import { ProblemCollector } from '../../core/problems';
import { DEFAULT_POSTGRES_FAILOVER } from '../defaults';
import { HostRole } from '../spec';
import { expectObject, reportUnknownKeys } from './shape';

const SQL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const hasRole = (host: Record<string, unknown>, role: HostRole) => Array.isArray(host.roles) && host.roles.includes(role);

/**
 * The host of the etcd witness: `postgres.witness` when given, else the first load balancer that is not a
 * datastore node, else the first K3s server that is not one. None when the number of datastore nodes is odd (they
 * make a quorum on their own) or no host qualifies (reported by {@link validatePostgres}).
 */
export function defaultDatastoreWitness(hosts: readonly Record<string, unknown>[], witness: unknown): string | undefined {
  const datastores = hosts.filter((host) => hasRole(host, HostRole.DATASTORE)).length;
  if (datastores % 2 === 1 || datastores === 0) {
    return undefined;
  }
  if (typeof witness === 'string') {
    return witness;
  }
  const candidates = hosts.filter((host) => !hasRole(host, HostRole.DATASTORE));
  const pick = candidates.find((host) => hasRole(host, HostRole.LOAD_BALANCER)) ?? candidates.find((host) => hasRole(host, HostRole.K3S_SERVER));
  return typeof pick?.name === 'string' ? pick.name : undefined;
}

/** Checks the `postgres` settings: names, ports, Patroni's synchronous mode and timing, the etcd witness. */
export function validatePostgres(problems: ProblemCollector, postgres: Record<string, unknown>, hosts: readonly Record<string, unknown>[]): void {
  if (!expectObject(problems, 'postgres', postgres)) {
    return;
  }
  reportUnknownKeys(problems, 'postgres', postgres,
    ['version', 'port', 'writerPort', 'synchronousCommit', 'synchronousModeStrict', 'database', 'user', 'tls', 'witness', 'failover']);
  if (postgres.version !== undefined) {
    problems.check(isIntegerInRange(postgres.version, 13, 30), 'postgres.version', postgres.version, 'a PostgreSQL major version from 13');
  }
  for (const key of ['port', 'writerPort'] as const) {
    if (postgres[key] !== undefined) {
      problems.check(isPort(postgres[key]), `postgres.${key}`, postgres[key], 'a TCP port from 1 to 65535');
    }
  }
  for (const key of ['synchronousCommit', 'synchronousModeStrict', 'tls'] as const) {
    if (postgres[key] !== undefined) {
      problems.check(typeof postgres[key] === 'boolean', `postgres.${key}`, postgres[key], 'true or false');
    }
  }
  if (postgres.synchronousModeStrict === true) {
    problems.check(postgres.synchronousCommit !== false, 'postgres.synchronousModeStrict', true, 'false while postgres.synchronousCommit is false (strict mode needs synchronous mode)');
  }
  for (const key of ['database', 'user'] as const) {
    if (postgres[key] !== undefined) {
      problems.check(typeof postgres[key] === 'string' && SQL_NAME.test(postgres[key] as string), `postgres.${key}`, postgres[key],
        'a lower-case SQL identifier of letters, digits and _');
    }
  }
  validateFailover(problems, postgres.failover);
  validateWitness(problems, postgres.witness, hosts);
}

function validateFailover(problems: ProblemCollector, failover: unknown): void {
  if (failover === undefined || !expectObject(problems, 'postgres.failover', failover)) {
    return;
  }
  reportUnknownKeys(problems, 'postgres.failover', failover, ['ttlSeconds', 'loopWaitSeconds', 'retryTimeoutSeconds']);
  const limits = { ttlSeconds: [5, 3600], loopWaitSeconds: [1, 600], retryTimeoutSeconds: [3, 600] } as const;
  let valid = true;
  for (const [key, [min, max]] of Object.entries(limits)) {
    if (failover[key] !== undefined) {
      valid = problems.check(isIntegerInRange(failover[key], min, max), `postgres.failover.${key}`, failover[key], `whole seconds from ${min} to ${max}`) && valid;
    }
  }
  if (valid) {
    const value = { ...DEFAULT_POSTGRES_FAILOVER, ...failover } as { ttlSeconds: number; loopWaitSeconds: number; retryTimeoutSeconds: number };
    problems.check(value.loopWaitSeconds + 2 * value.retryTimeoutSeconds <= value.ttlSeconds, 'postgres.failover', failover,
      `loopWaitSeconds + 2 × retryTimeoutSeconds ≤ ttlSeconds (${value.loopWaitSeconds} + 2 × ${value.retryTimeoutSeconds} > ${value.ttlSeconds}): `
      + 'otherwise a primary may still think it leads after its key expired');
  }
}

function validateWitness(problems: ProblemCollector, witness: unknown, hosts: readonly Record<string, unknown>[]): void {
  const datastores = hosts.filter((host) => hasRole(host, HostRole.DATASTORE)).length;
  if (witness !== undefined) {
    const host = hosts.find((h) => h.name === witness);
    if (!problems.check(typeof witness === 'string' && host !== undefined, 'postgres.witness', witness, 'the name of a host of the site')) {
      return;
    }
    problems.check(!hasRole(host!, HostRole.DATASTORE), 'postgres.witness', witness, 'a host that is not a datastore node (the witness is the third etcd member beside them)');
    problems.check(datastores % 2 === 0, 'postgres.witness', witness, `no witness: ${datastores} datastore nodes are an odd number of etcd members already`);
    return;
  }
  if (datastores > 0 && datastores % 2 === 0) {
    problems.check(defaultDatastoreWitness(hosts, undefined) !== undefined, 'postgres.witness', witness,
      `a host for the third etcd member: ${datastores} datastore nodes alone lose the etcd quorum with one failure, and no load balancer or K3s server outside them can host it`);
  }
}
