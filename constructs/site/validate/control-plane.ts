import { isIntegerInRange } from '../../core/names';
import { ProblemCollector } from '../../core/problems';
import { DatastoreKind, Distribution, HostRole } from '../spec';
import { snapshotScheduleProblem } from './cron';
import { validatePostgres } from './postgres';
import { HostEntry } from './host-paths';
import { expectObject, reportUnknownKeys } from './shape';

function countWithRole(hosts: readonly Record<string, unknown>[], role: HostRole): number {
  return hosts.filter((host) => Array.isArray(host.roles) && host.roles.includes(role)).length;
}

/** Checks `controlPlane` and `postgres`: quorum-safe server counts, a datastore for the external mode. */
export function validateControlPlane(problems: ProblemCollector, controlPlane: unknown, postgres: unknown, entries: readonly HostEntry[]): void {
  const hosts = entries.map((entry) => entry.host);
  const spec = controlPlane ?? {};
  if (!expectObject(problems, 'controlPlane', spec)) {
    return;
  }
  reportUnknownKeys(problems, 'controlPlane', spec,
    ['distribution', 'datastore', 'allowEvenServerCount', 'dedicatedServers', 'etcdSnapshotScheduleCron', 'etcdSnapshotRetention', 'secretsEncryption', 'joinApiWaitMinutes']);
  const distribution = spec.distribution ?? Distribution.K3S;
  if (!problems.check(Object.values(Distribution).includes(distribution as Distribution), 'controlPlane.distribution', spec.distribution,
    `one of ${Object.values(Distribution).join(', ')}`)) {
    return;
  }
  // Each distribution has its own node roles, so a site file says plainly what runs on each host.
  const [own, foreign] = distribution === Distribution.K3S
    ? [[HostRole.K3S_SERVER, HostRole.K3S_AGENT], [HostRole.CONTROL_PLANE, HostRole.WORKER]]
    : [[HostRole.CONTROL_PLANE, HostRole.WORKER], [HostRole.K3S_SERVER, HostRole.K3S_AGENT]];
  entries.forEach(({ host, path }) => (Array.isArray(host.roles) ? host.roles : []).forEach((role: unknown, j: number) => {
    const index = foreign.indexOf(role as HostRole);
    problems.check(index < 0, `${path}.roles[${j}]`, role, `role ${own[Math.max(index, 0)]}: the site's distribution is ${distribution}`);
  }));
  if (distribution === Distribution.KUBEADM) {
    problems.check(spec.datastore === undefined || spec.datastore === DatastoreKind.EMBEDDED_ETCD, 'controlPlane.datastore', spec.datastore,
      'embedded-etcd (kubeadm sites run stacked etcd)');
  }
  const datastore = spec.datastore ?? DatastoreKind.EMBEDDED_ETCD;
  if (!problems.check(Object.values(DatastoreKind).includes(datastore as DatastoreKind), 'controlPlane.datastore', spec.datastore,
    `one of ${Object.values(DatastoreKind).join(', ')}`)) {
    return;
  }
  for (const key of ['allowEvenServerCount', 'dedicatedServers', 'secretsEncryption'] as const) {
    if (spec[key] !== undefined) {
      problems.check(typeof spec[key] === 'boolean', `controlPlane.${key}`, spec[key], 'true or false');
    }
  }
  if (spec.etcdSnapshotScheduleCron !== undefined) {
    const schedule = spec.etcdSnapshotScheduleCron;
    const problem = typeof schedule === 'string' ? snapshotScheduleProblem(schedule) : 'a text';
    problems.check(problem === undefined, 'controlPlane.etcdSnapshotScheduleCron', schedule,
      `a five-field cron schedule (or @-descriptor) K3s's snapshot scheduler reads, e.g. "0 */6 * * *": ${problem} (K3s ignores one it cannot read and takes no snapshots)`);
  }
  if (spec.etcdSnapshotRetention !== undefined) {
    problems.check(isIntegerInRange(spec.etcdSnapshotRetention, 1, 1000), 'controlPlane.etcdSnapshotRetention', spec.etcdSnapshotRetention,
      'a number of snapshots from 1 to 1000');
  }
  if (spec.joinApiWaitMinutes !== undefined) {
    problems.check(isIntegerInRange(spec.joinApiWaitMinutes, 1, 1440), 'controlPlane.joinApiWaitMinutes', spec.joinApiWaitMinutes,
      'a whole number of minutes from 1 to 1440');
  }
  const servers = countWithRole(hosts, HostRole.K3S_SERVER) + countWithRole(hosts, HostRole.CONTROL_PLANE);
  if (datastore === DatastoreKind.EMBEDDED_ETCD && servers > 2 && servers % 2 === 0) {
    problems.check(spec.allowEvenServerCount === true, 'hosts[*].roles', `${servers} control-plane hosts`,
      `an odd number of embedded etcd servers (${servers} tolerate as many failures as ${servers - 1}), or controlPlane.allowEvenServerCount: true`);
  }
  const datastores = countWithRole(hosts, HostRole.DATASTORE);
  if (datastore === DatastoreKind.POSTGRES) {
    problems.check(datastores >= 1, 'controlPlane.datastore', datastore, `at least one host with role ${HostRole.DATASTORE} for the external PostgreSQL datastore`);
    // K3s reaches the primary through the writer endpoint on the load balancers (renderers/postgres/writer-endpoint.ts
    // postgresWriterAddress); only a single datastore node can be reached directly.
    problems.check(datastores <= 1 || countWithRole(hosts, HostRole.LOAD_BALANCER) > 0, 'controlPlane.datastore', datastore,
      `at least one host with role ${HostRole.LOAD_BALANCER} as well: with ${datastores} datastore nodes K3s reaches the current primary through the writer endpoint the load balancers run`);
  } else {
    problems.check(datastores === 0, 'controlPlane.datastore', spec.datastore,
      `"${DatastoreKind.POSTGRES}", since ${datastores} hosts have role ${HostRole.DATASTORE} (or remove that role)`);
    problems.check(postgres === undefined, 'postgres', postgres, `no postgres settings unless controlPlane.datastore is "${DatastoreKind.POSTGRES}"`);
  }
  if (postgres !== undefined && expectObject(problems, 'postgres', postgres)) {
    validatePostgres(problems, postgres, hosts);
  } else if (postgres === undefined && datastore === DatastoreKind.POSTGRES) {
    // The defaults still need a witness for an even number of datastore nodes.
    validatePostgres(problems, {}, hosts);
  }
}
