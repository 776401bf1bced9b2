import { DatastoreKind, Distribution } from './spec';

/**
 * The site's `backup` section: copies of the cluster state that leave the site, on an S3-compatible object store.
 *
 * One `target` is shared by every kind of backup; each kind has its own section beside it: `etcd` (under
 * `<prefix>/etcd`) and `postgres` for the PostgreSQL datastore (pgBackRest's repository under `<prefix>/postgres`).
 * Credentials are never part of the site: they are the sensitive Terraform variables `backup_s3_access_key` and
 * `backup_s3_secret_key`, declared only when a site has a backup section.
 */
export interface BackupSpec {
  /** Where the backups go. */
  readonly target: BackupTargetSpec;
  /**
   * Snapshots of the cluster's etcd (K3s embedded etcd or kubeadm stacked etcd).
   *
   * @default - retention as `controlPlane.etcdSnapshotRetention`, kubeadm every 6 hours
   */
  readonly etcd?: EtcdBackupSpec;
  /**
   * pgBackRest backups of the PostgreSQL datastore (`controlPlane.datastore: postgres` only): continuous WAL
   * archiving plus scheduled full and differential backups.
   *
   * @default - weekly full, daily differential, 2 full backups kept, archive_timeout 60 s
   */
  readonly postgres?: PostgresBackupSpec;
}

/** The PostgreSQL datastore's backups (pgBackRest). */
export interface PostgresBackupSpec {
  /** When the full backup runs (systemd `OnCalendar`). @default 'Sun *-*-* 01:00:00' */
  readonly fullCalendar?: string;
  /** When a differential backup (changes since the last full) runs (systemd `OnCalendar`). @default 'Mon..Sat *-*-* 01:00:00' */
  readonly differentialCalendar?: string;
  /** Full backups kept (pgBackRest `repo1-retention-full`; older ones and their WAL expire after a successful backup). @default 2 */
  readonly retentionFull?: number;
  /**
   * The recovery-point bound: PostgreSQL's `archive_timeout`, the longest a committed write waits before its WAL
   * segment is archived (10 to 3600). @default 60
   */
  readonly archiveTimeoutSeconds?: number;
}

/** An S3-compatible bucket. */
export interface BackupTargetSpec {
  /** The service's URL, `https://host[:port]` (or `http://` for a plain-text endpoint), without path or credentials. */
  readonly endpoint: string;
  /** The bucket (3–63 lower-case letters, digits, `.` and `-`); it must exist. */
  readonly bucket: string;
  /** The bucket's region. @default 'us-east-1' */
  readonly region?: string;
  /** Folder inside the bucket every backup of the site goes under (`a/b`, no leading or trailing `/`). @default - the site's name */
  readonly prefix?: string;
  /**
   * Path-style addressing (`https://host/bucket/key`), which most self-hosted stores need; false: virtual-host style
   * (`https://bucket.host/key`).
   *
   * @default - each tool's automatic choice (K3s `auto`, rclone path style)
   */
  readonly pathStyle?: boolean;
  /** PEM certificates (one or more) that sign a self-hosted endpoint's certificate; only with `https://`. @default - the system's trust store */
  readonly caBundle?: string;
}

/** etcd snapshot backups. */
export interface EtcdBackupSpec {
  /** Snapshots kept on the target, per server (older ones are deleted after a successful upload). @default - `controlPlane.etcdSnapshotRetention` */
  readonly retention?: number;
  /**
   * kubeadm sites only: when each control plane takes and uploads a snapshot, as a systemd `OnCalendar` expression
   * (e.g. `*-*-* 00/6:00:00`, `daily`). K3s sites take theirs on `controlPlane.etcdSnapshotScheduleCron`, which K3s
   * uses for local and S3 snapshots alike.
   *
   * @default '*-*-* 00/6:00:00'
   */
  readonly calendar?: string;
}

/** How the bucket is addressed: each tool's own choice, path style or virtual-host (DNS) style. */
export type BucketAddressing = 'auto' | 'path' | 'dns';

/** The resolved backup target. */
export interface BackupTargetPlan {
  /** The endpoint URL as the site gave it, without a trailing `/`. */
  readonly url: string;
  /** `host[:port]` of the endpoint (what K3s's `etcd-s3-endpoint` takes). */
  readonly hostPort: string;
  /** False for an `http://` endpoint. */
  readonly tls: boolean;
  readonly bucket: string;
  readonly region: string;
  /** Folder of the site's backups in the bucket. */
  readonly prefix: string;
  readonly addressing: BucketAddressing;
  /** PEM bundle for a self-hosted endpoint. */
  readonly caBundle?: string;
}

/** The resolved `backup` section; absent when the site has none. */
export interface BackupPlan {
  readonly target: BackupTargetPlan;
  readonly etcd: {
    /** Folder of the etcd snapshots in the bucket: `<prefix>/etcd`. */
    readonly folder: string;
    readonly retention: number;
    /** systemd `OnCalendar` of the kubeadm snapshot timer (unused on K3s sites). */
    readonly calendar: string;
  };
  /** The PostgreSQL datastore's backups; present on a site with the PostgreSQL datastore. */
  readonly postgres?: PostgresBackupPlan;
}

/** The resolved `backup.postgres`. */
export interface PostgresBackupPlan {
  /** pgBackRest's repository folder in the bucket: `<prefix>/postgres`. */
  readonly folder: string;
  readonly fullCalendar: string;
  readonly differentialCalendar: string;
  readonly retentionFull: number;
  readonly archiveTimeoutSeconds: number;
}

/** The default kubeadm snapshot calendar: every 6 hours, like K3s's default `0 *\/6 * * *`. */
export const DEFAULT_ETCD_BACKUP_CALENDAR = '*-*-* 00/6:00:00';
/** Weekly full backups, Sunday 01:00 (the differential calendar leaves Sunday out: both at once would collide on pgBackRest's lock). */
export const DEFAULT_POSTGRES_FULL_CALENDAR = 'Sun *-*-* 01:00:00';
export const DEFAULT_POSTGRES_DIFFERENTIAL_CALENDAR = 'Mon..Sat *-*-* 01:00:00';
export const DEFAULT_POSTGRES_RETENTION_FULL = 2;
export const DEFAULT_POSTGRES_ARCHIVE_TIMEOUT_SECONDS = 60;
/** K3s's and rclone's default region. */
export const DEFAULT_BACKUP_REGION = 'us-east-1';
/** The sensitive Terraform variables holding the target's credentials. */
export const BACKUP_ACCESS_KEY_VARIABLE = 'backup_s3_access_key';
export const BACKUP_SECRET_KEY_VARIABLE = 'backup_s3_secret_key';

/** The fields of a site the resolution reads (the spec is validated already). */
interface SiteForBackup {
  readonly name: string;
  readonly backup?: BackupSpec;
  readonly controlPlane?: { readonly etcdSnapshotRetention?: number; readonly datastore?: DatastoreKind };
}

/** The resolved `backup` entry of the site plan, as a spread: `{ backup }`, or nothing without a section. */
export function resolveBackupEntry(spec: SiteForBackup): { backup?: BackupPlan } {
  if (!spec.backup) {
    return {};
  }
  const { target, etcd, postgres } = spec.backup;
  const url = target.endpoint.replace(/\/$/, '');
  const parsed = new URL(url);
  const prefix = target.prefix ?? spec.name;
  return {
    backup: {
      target: {
        url,
        hostPort: parsed.host,
        tls: parsed.protocol === 'https:',
        bucket: target.bucket,
        region: target.region ?? DEFAULT_BACKUP_REGION,
        prefix,
        addressing: target.pathStyle === undefined ? 'auto' : target.pathStyle ? 'path' : 'dns',
        ...(target.caBundle ? { caBundle: target.caBundle } : {}),
      },
      etcd: {
        folder: `${prefix}/etcd`,
        retention: etcd?.retention ?? spec.controlPlane?.etcdSnapshotRetention ?? 12,
        calendar: etcd?.calendar ?? DEFAULT_ETCD_BACKUP_CALENDAR,
      },
      ...(spec.controlPlane?.datastore === DatastoreKind.POSTGRES ? {
        postgres: {
          folder: `${prefix}/postgres`,
          fullCalendar: postgres?.fullCalendar ?? DEFAULT_POSTGRES_FULL_CALENDAR,
          differentialCalendar: postgres?.differentialCalendar ?? DEFAULT_POSTGRES_DIFFERENTIAL_CALENDAR,
          retentionFull: postgres?.retentionFull ?? DEFAULT_POSTGRES_RETENTION_FULL,
          archiveTimeoutSeconds: postgres?.archiveTimeoutSeconds ?? DEFAULT_POSTGRES_ARCHIVE_TIMEOUT_SECONDS,
        },
      } : {}),
    },
  };
}

/** The plan fields the backup warnings read. */
interface PlanForBackupWarnings {
  readonly backup?: BackupPlan;
  readonly controlPlane: { readonly distribution: Distribution; readonly datastore: DatastoreKind };
}

/** The warning of a site whose cluster state has no copy off its own machines. */
export function backupWarnings(plan: PlanForBackupWarnings): { path: string; message: string }[] {
  if (!plan.backup) {
    return [{ path: 'backup', message: 'no backup target: the cluster state has no off-site copy (losing the control-plane machines loses the cluster); add a backup section' }];
  }
  return [];
}
