import { patroniSynchronousMode } from '../renderers/postgres/patroni';
import { HostPlan, SitePlan } from '../site/plan';

/**
 * The textfile metric the datastore nodes' timer writes (roles/assets/postgres-sync-metrics.sh): how many standbys
 * the primary's PostgreSQL waits for (`pg_stat_replication.sync_state = 'sync'`); the primary alone publishes it.
 */
export const POSTGRES_SYNCHRONOUS_STANDBYS_METRIC = 'pkh_postgres_synchronous_standbys';

/**
 * Whether `host` publishes {@link POSTGRES_SYNCHRONOUS_STANDBYS_METRIC}: every datastore node, when Patroni runs in
 * synchronous mode, whose promise (a failover loses no acknowledged write) rests on PostgreSQL waiting for the
 * standby Patroni names.
 */
export function publishesSynchronousStandbys(plan: SitePlan, host: HostPlan): boolean {
  const postgres = plan.postgres;
  return postgres !== undefined && patroniSynchronousMode(postgres) && postgres.nodes.some((node) => node.name === host.name);
}
