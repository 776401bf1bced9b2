import { SitePlan, controlPlaneHosts } from '../site/plan';
import { DatastoreKind, Distribution } from '../site/spec';
import { calendarIntervalSeconds } from './calendar-interval';
import { longestScheduleGapSeconds } from './snapshot-schedule';

/**
 * The site's off-site backup jobs, each publishing `pkh_backup_last_success_timestamp_seconds{kind}` through
 * node_exporter's textfile collector on its hosts; the BackupTooOld alert bounds their age at twice the interval.
 * A new kind of backup (pgBackRest, kind="postgres") is one more entry here, from its own plan fields.
 */
export interface BackupJob {
  /** The `kind` label of its metric, e.g. `etcd`. */
  readonly kind: string;
  /** The longest time between two scheduled runs, in seconds. */
  readonly intervalSeconds: number;
  /** The hosts that run it and publish its metric, in site order. */
  readonly hosts: readonly string[];
  /** The schedule as the site gives it (shown in the alert), e.g. `*-*-* 00/6:00:00` or `0 *\/6 * * *`. */
  readonly schedule: string;
  /** What runs the job and how to run it by hand (the alert's runbook line). */
  readonly runbook: string;
  /**
   * The job backs up from one host at a time, whichever is the Patroni primary (a replica publishes nothing, a former
   * primary keeps its last success): the freshest success across `hosts` counts, not each host's.
   */
  readonly anyHost?: boolean;
}

/** The textfile metric every backup job writes on success. */
export const BACKUP_LAST_SUCCESS_METRIC = 'pkh_backup_last_success_timestamp_seconds';

/**
 * The backup jobs of a site with a `backup` section: the cluster's etcd snapshots, on every control plane (kubeadm:
 * the pkh-etcd-backup timer on `backup.etcd.calendar`; K3s embedded etcd: K3s's own S3 uploads on
 * `controlPlane.etcdSnapshotScheduleCron`, published by roles/host-exporters.ts). A K3s site on the PostgreSQL
 * datastore has no etcd to back up: its datastore's pgBackRest job runs on the Patroni primary (roles/postgres-backup.ts).
 */
export function backupJobs(plan: SitePlan): BackupJob[] {
  const backup = plan.backup;
  if (!backup) {
    return [];
  }
  const hosts = controlPlaneHosts(plan).filter((host) => !host.decommission).map((host) => host.name);
  const jobs: BackupJob[] = [];
  if (plan.controlPlane.distribution === Distribution.KUBEADM) {
    jobs.push({
      kind: 'etcd',
      intervalSeconds: calendarIntervalSeconds(backup.etcd.calendar),
      hosts,
      schedule: backup.etcd.calendar,
      runbook: 'systemctl status pkh-etcd-backup.service and journalctl -u pkh-etcd-backup -n 50 on {{ $labels.instance }}; systemctl start pkh-etcd-backup.service takes one now',
    });
  } else if (plan.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD) {
    jobs.push({
      kind: 'etcd',
      intervalSeconds: longestScheduleGapSeconds(plan.controlPlane.etcdSnapshotScheduleCron),
      hosts,
      schedule: plan.controlPlane.etcdSnapshotScheduleCron,
      runbook: 'journalctl -u k3s | grep -i s3 on {{ $labels.instance }} (credentials, endpoint, bucket); k3s etcd-snapshot save takes one now and uploads it',
    });
  }
  if (backup.postgres && plan.postgres) {
    jobs.push({
      kind: 'postgres',
      // The shorter of the two schedules' longest gaps: the union runs at least that often (a bound that never fires
      // early; with the defaults, differentials Monday to Saturday: 48 h).
      intervalSeconds: Math.min(calendarIntervalSeconds(backup.postgres.fullCalendar), calendarIntervalSeconds(backup.postgres.differentialCalendar)),
      hosts: plan.postgres.nodes.map((node) => node.name),
      schedule: `full "${backup.postgres.fullCalendar}", differential "${backup.postgres.differentialCalendar}"`,
      runbook: 'systemctl status pkh-postgres-backup@full.service pkh-postgres-backup@diff.service and pgbackrest info on the Patroni primary; systemctl start pkh-postgres-backup@full.service takes one now',
      anyHost: true,
    });
  }
  return jobs;
}
