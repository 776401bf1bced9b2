import { ProblemCollector } from '../../core/problems';
import { calendarIntervalProblem } from '../../monitoring/calendar-interval';
import { DatastoreKind, Distribution } from '../spec';
import { expectObject, isObject, reportUnknownKeys } from './shape';

/** An S3 bucket name: 3–63 lower-case letters, digits, `.` and `-`, starting and ending with a letter or digit. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** A region as S3-compatible stores name them (`us-east-1`, `garage`, `fr-par`). */
const REGION = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** Folders separated by `/`, each of letters, digits, `.`, `_`, `-` (not `.` or `..`). */
const PREFIX_SEGMENT = /^[A-Za-z0-9._-]{1,100}$/;
/** One or more PEM certificates. */
const PEM_BUNDLE = /^\s*(-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*)+$/;
/** systemd.time(7) shorthands. */
const CALENDAR_SHORTHANDS = ['minutely', 'hourly', 'daily', 'weekly', 'monthly', 'yearly', 'annually', 'quarterly', 'semiannually'];
/**
 * A systemd.time(7) calendar event, restricted to the usual shape: optional weekdays, optional date, then time
 * (`Mon..Fri *-*-* 02:30:00`, `*-*-* 00/6:00`); `systemd-analyze calendar` accepts every one (test/backup).
 */
const CALENDAR = /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)(?:(?:,|\.\.)(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun))*\s+)?(?:(?:\*|\d{4}(?:\.\.\d{4})?)-(?:\*|\d{1,2}(?:(?:,|\.\.)\d{1,2})*(?:\/\d{1,2})?)-(?:\*|\d{1,2}(?:(?:,|\.\.)\d{1,2})*(?:\/\d{1,2})?)\s+)?(?:\*|\d{1,2}(?:(?:,|\.\.)\d{1,2})*(?:\/\d{1,2})?):(?:\*|\d{1,2}(?:(?:,|\.\.)\d{1,2})*(?:\/\d{1,2})?)(?::(?:\*|\d{1,2}(?:(?:,|\.\.)\d{1,2})*(?:\/\d{1,2})?))?$/;

/** True for `http(s)://host[:port]` with an optional trailing `/` and nothing else. */
function isEndpointUrl(value: unknown): value is string {
  if (typeof value !== 'string' || !/^https?:\/\/[^/?#@\s]+\/?$/.test(value)) {
    return false;
  }
  try {
    const url = new URL(value);
    return url.hostname.length > 0 && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

/** True for a systemd calendar expression of the shape {@link CALENDAR} or a shorthand. */
export function isBackupCalendar(value: unknown): value is string {
  if (typeof value !== 'string' || CALENDAR_SHORTHANDS.includes(value)) {
    return typeof value === 'string';
  }
  if (!CALENDAR.test(value)) {
    return false;
  }
  // The shape is right; every number must be in its field's range too (systemd refuses `25:00`).
  const words = value.split(/\s+/);
  const [hour, minute, second = '0'] = words[words.length - 1].split(':');
  const date = words.find((word) => /^[*\d.]+-/.test(word));
  const [, month = '*', day = '*'] = date ? date.split('-') : [];
  const inRange = (field: string, max: number, min = 0) => (field.match(/\d+/g) ?? []).every((n, i, all) => (field.includes('/') && i === all.length - 1 ? Number(n) >= 1 : Number(n) >= min) && Number(n) <= max);
  return inRange(hour, 23) && inRange(minute, 59) && inRange(second, 59) && inRange(month, 12, 1) && inRange(day, 31, 1);
}

function validateTarget(problems: ProblemCollector, target: unknown): void {
  const path = 'backup.target';
  if (!expectObject(problems, path, target)) {
    return;
  }
  reportUnknownKeys(problems, path, target, ['endpoint', 'bucket', 'region', 'prefix', 'pathStyle', 'caBundle']);
  const endpointOk = problems.check(isEndpointUrl(target.endpoint), `${path}.endpoint`, target.endpoint, 'the object store\'s URL as https://host[:port] (or http://), without path or credentials');
  problems.check(typeof target.bucket === 'string' && BUCKET.test(target.bucket) && !target.bucket.includes('..'), `${path}.bucket`, target.bucket,
    'an S3 bucket name: 3–63 lower-case letters, digits, "." and "-", starting and ending with a letter or digit');
  if (target.region !== undefined) {
    problems.check(typeof target.region === 'string' && REGION.test(target.region), `${path}.region`, target.region, 'a region name such as "us-east-1" (letters, digits, "-", "_")');
  }
  if (target.prefix !== undefined) {
    const segments = typeof target.prefix === 'string' ? target.prefix.split('/') : [];
    problems.check(segments.length > 0 && segments.length <= 8 && segments.every((s) => PREFIX_SEGMENT.test(s) && s !== '.' && s !== '..'), `${path}.prefix`, target.prefix,
      'folders separated by "/" (letters, digits, ".", "_", "-"; no leading or trailing "/", no "." or "..")');
  }
  if (target.pathStyle !== undefined) {
    problems.check(typeof target.pathStyle === 'boolean', `${path}.pathStyle`, target.pathStyle, 'true or false');
  }
  if (target.caBundle !== undefined) {
    const pem = typeof target.caBundle === 'string' && PEM_BUNDLE.test(target.caBundle);
    // The value is a certificate, not a secret; shown shortened.
    const shown = typeof target.caBundle === 'string' && target.caBundle.length > 60 ? `${target.caBundle.slice(0, 60)}…` : target.caBundle;
    problems.check(pem, `${path}.caBundle`, shown, 'one or more PEM certificates (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)');
    if (pem && endpointOk && (target.endpoint as string).startsWith('http://')) {
      problems.add(`${path}.caBundle`, shown, 'no CA bundle, or an https:// endpoint (a plain-text endpoint has no certificate to check)');
    }
  }
}

function validateEtcd(problems: ProblemCollector, etcd: unknown, site: Record<string, unknown>): void {
  const path = 'backup.etcd';
  if (!expectObject(problems, path, etcd)) {
    return;
  }
  reportUnknownKeys(problems, path, etcd, ['retention', 'calendar']);
  const controlPlane = isObject(site.controlPlane) ? site.controlPlane : {};
  if (controlPlane.datastore === DatastoreKind.POSTGRES) {
    problems.add(path, etcd, 'no etcd section: the cluster state is in the PostgreSQL datastore (controlPlane.datastore: postgres)');
    return;
  }
  if (etcd.retention !== undefined) {
    problems.check(Number.isInteger(etcd.retention) && (etcd.retention as number) >= 1 && (etcd.retention as number) <= 1000, `${path}.retention`, etcd.retention, 'a whole number of snapshots from 1 to 1000');
  }
  if (etcd.calendar !== undefined) {
    if (controlPlane.distribution !== Distribution.KUBEADM) {
      problems.add(`${path}.calendar`, etcd.calendar, 'no calendar on a K3s site: K3s takes its local and S3 snapshots on controlPlane.etcdSnapshotScheduleCron');
    } else {
      const shaped = problems.check(isBackupCalendar(etcd.calendar), `${path}.calendar`, etcd.calendar,
        `a systemd OnCalendar expression such as "*-*-* 00/6:00:00" or "Mon..Fri *-*-* 02:30:00", or one of ${CALENDAR_SHORTHANDS.join(', ')}`);
      // The BackupTooOld alert's bound is twice the schedule's longest gap (monitoring/calendar-interval.ts).
      const noInterval = shaped ? calendarIntervalProblem(etcd.calendar as string) : undefined;
      if (noInterval) {
        problems.add(`${path}.calendar`, etcd.calendar, `a schedule that recurs, so the backup alert can bound its age: ${noInterval}`);
      }
    }
  }
}

function validatePostgres(problems: ProblemCollector, postgres: unknown, site: Record<string, unknown>): void {
  const path = 'backup.postgres';
  if (!expectObject(problems, path, postgres)) {
    return;
  }
  reportUnknownKeys(problems, path, postgres, ['fullCalendar', 'differentialCalendar', 'retentionFull', 'archiveTimeoutSeconds']);
  const controlPlane = isObject(site.controlPlane) ? site.controlPlane : {};
  if (controlPlane.datastore !== DatastoreKind.POSTGRES) {
    problems.add(path, postgres, `no postgres section: the site has no PostgreSQL datastore (controlPlane.datastore: ${JSON.stringify(controlPlane.datastore ?? DatastoreKind.EMBEDDED_ETCD)}); it backs up etcd (backup.etcd)`);
  }
  for (const key of ['fullCalendar', 'differentialCalendar'] as const) {
    if (postgres[key] !== undefined) {
      problems.check(isBackupCalendar(postgres[key]), `${path}.${key}`, postgres[key],
        `a systemd OnCalendar expression such as "Sun *-*-* 01:00:00" or "Mon..Sat *-*-* 01:00:00", or one of ${CALENDAR_SHORTHANDS.join(', ')}`);
    }
  }
  if (postgres.retentionFull !== undefined) {
    problems.check(Number.isInteger(postgres.retentionFull) && (postgres.retentionFull as number) >= 1 && (postgres.retentionFull as number) <= 100, `${path}.retentionFull`, postgres.retentionFull,
      'a whole number of full backups kept, from 1 to 100');
  }
  if (postgres.archiveTimeoutSeconds !== undefined) {
    problems.check(Number.isInteger(postgres.archiveTimeoutSeconds) && (postgres.archiveTimeoutSeconds as number) >= 10 && (postgres.archiveTimeoutSeconds as number) <= 3600,
      `${path}.archiveTimeoutSeconds`, postgres.archiveTimeoutSeconds, 'a whole number of seconds from 10 to 3600 (the longest a committed write waits to be archived)');
  }
}

/** Checks the `backup` section: a target of the right shape, for etcd retention and (kubeadm) calendar, for postgres its schedules, retention and archive timeout. Every problem at once. */
export function validateBackup(problems: ProblemCollector, backup: unknown, site: Record<string, unknown>): void {
  if (backup === undefined || !expectObject(problems, 'backup', backup)) {
    return;
  }
  reportUnknownKeys(problems, 'backup', backup, ['target', 'etcd', 'postgres']);
  validateTarget(problems, backup.target);
  const controlPlane = isObject(site.controlPlane) ? site.controlPlane : {};
  const target = isObject(backup.target) ? backup.target : {};
  if (controlPlane.datastore === DatastoreKind.POSTGRES && isEndpointUrl(target.endpoint) && target.endpoint.startsWith('http://')) {
    // pgBackRest's S3 driver speaks HTTPS only (pgBackRest configuration reference, repo-s3-endpoint / repo-storage-verify-tls).
    problems.add('backup.target.endpoint', target.endpoint, 'an https:// endpoint: the PostgreSQL datastore\'s backups (pgBackRest) reach S3 over TLS only');
  }
  if (backup.etcd !== undefined) {
    validateEtcd(problems, backup.etcd, site);
  }
  if (backup.postgres !== undefined) {
    validatePostgres(problems, backup.postgres, site);
  }
}
