import { execFileSync } from 'child_process';
import { DatastoreKind, Distribution, SiteSpec, defineSite } from '../../constructs';
import { DEFAULT_ETCD_BACKUP_CALENDAR } from '../../constructs/site/backup';
import { isBackupCalendar } from '../../constructs/site/validate/backup';
import kubeadmStacked from '../../sites/kubeadm-stacked';
import homelab from '../../sites/homelab';
import { vmSite } from '../fixtures/sites';
import { hasCommand } from '../support/tools';
import { validationErrorOf } from '../support/validation-error';

const CA = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGVGb3JUZXN0c09ubHkwCgYIKoZIzj0EAwIw\n-----END CERTIFICATE-----\n';
const TARGET = { endpoint: 'https://s3.backup.test:9000', bucket: 'site-backups' };
const withBackup = (site: SiteSpec, backup: unknown): SiteSpec => ({ ...site, backup } as SiteSpec);
const NO_COPY = /no off-site copy/;

describe('the backup section', () => {
  test('every problem at once, each with its path, value and what was expected', () => {
    const error = validationErrorOf(withBackup(vmSite, {
      target: { endpoint: 's3.backup.test', bucket: 'No_Such', region: 'us east', prefix: '/a//b', pathStyle: 'yes', caBundle: 'not a pem', extra: 1 },
      etcd: { retention: 0, calendar: 'daily', typo: true },
      postgres: {},
    }));
    const byPath = new Map(error.problems.map((p) => [p.path, p]));
    expect([...byPath.keys()].sort()).toEqual([
      'backup.etcd.calendar', 'backup.etcd.retention', 'backup.etcd.typo', 'backup.postgres', 'backup.target.bucket', 'backup.target.caBundle',
      'backup.target.endpoint', 'backup.target.extra', 'backup.target.pathStyle', 'backup.target.prefix', 'backup.target.region',
    ]);
    expect(byPath.get('backup.target.endpoint')!.value).toBe('s3.backup.test');
    expect(byPath.get('backup.target.endpoint')!.expected).toMatch(/https:\/\/host\[:port\]/);
    expect(byPath.get('backup.etcd.retention')!.expected).toMatch(/1 to 1000/);
    // K3s takes one schedule for local and S3 snapshots.
    expect(byPath.get('backup.etcd.calendar')!.expected).toMatch(/controlPlane\.etcdSnapshotScheduleCron/);
    expect(error.message).toContain('backup.target.bucket: "No_Such"');
  });

  test('a target is required, a CA bundle needs https, the etcd section needs etcd', () => {
    expect(validationErrorOf(withBackup(vmSite, {})).problems.map((p) => p.path)).toEqual(['backup.target']);
    const plain = validationErrorOf(withBackup(vmSite, { target: { ...TARGET, endpoint: 'http://10.0.0.5:9000', caBundle: CA } }));
    expect(plain.problems.map((p) => [p.path, p.expected])).toEqual([['backup.target.caBundle', expect.stringMatching(/https:\/\/ endpoint/)]]);
    const postgres = validationErrorOf(withBackup(homelab, { target: TARGET, etcd: { retention: 3 } }));
    expect(postgres.problems.map((p) => p.path)).toEqual(['backup.etcd']);
    const calendar = validationErrorOf(withBackup(kubeadmStacked, { target: TARGET, etcd: { calendar: '0 */6 * * *' } }));
    expect(calendar.problems.map((p) => [p.path, p.value])).toEqual([['backup.etcd.calendar', '0 */6 * * *']]);
  });

  test('resolution: defaults from the site, the endpoint split for K3s', () => {
    const plan = defineSite(withBackup({ ...vmSite, controlPlane: { etcdSnapshotRetention: 7 } }, { target: { ...TARGET, endpoint: 'http://minio.backup.test:9000/', pathStyle: true } }));
    expect(plan.backup).toEqual({
      target: { url: 'http://minio.backup.test:9000', hostPort: 'minio.backup.test:9000', tls: false, bucket: 'site-backups', region: 'us-east-1', prefix: 'fixture-vm', addressing: 'path' },
      etcd: { folder: 'fixture-vm/etcd', retention: 7, calendar: DEFAULT_ETCD_BACKUP_CALENDAR },
    });
    const kubeadm = defineSite(withBackup(kubeadmStacked, { target: { ...TARGET, prefix: 'dc1/k8s', pathStyle: false, caBundle: CA }, etcd: { retention: 4, calendar: 'Mon..Fri *-*-* 02:30:00' } }));
    expect(kubeadm.backup!.target).toMatchObject({ tls: true, addressing: 'dns', prefix: 'dc1/k8s', caBundle: CA });
    expect(kubeadm.backup!.etcd).toEqual({ folder: 'dc1/k8s/etcd', retention: 4, calendar: 'Mon..Fri *-*-* 02:30:00' });
  });

  test('a site without a target is warned that its cluster state has no off-site copy; one with a target is not', () => {
    for (const site of [vmSite, kubeadmStacked, homelab]) {
      expect(defineSite(site).warnings.filter((w) => w.path === 'backup').map((w) => w.message)).toEqual([expect.stringMatching(NO_COPY)]);
    }
    expect(defineSite(withBackup(vmSite, { target: TARGET })).warnings.filter((w) => w.path === 'backup')).toEqual([]);
    expect(defineSite(withBackup(kubeadmStacked, { target: TARGET })).warnings.filter((w) => w.path === 'backup')).toEqual([]);
    // The PostgreSQL datastore is backed up with pgBackRest as soon as the site has a target.
    const postgres = defineSite(withBackup(homelab, { target: TARGET }));
    expect(postgres.controlPlane.datastore).toBe(DatastoreKind.POSTGRES);
    expect(postgres.warnings.filter((w) => w.path === 'backup')).toEqual([]);
    expect(postgres.backup!.postgres).toMatchObject({ folder: 'homelab/postgres' });
    expect(defineSite(kubeadmStacked).controlPlane.distribution).toBe(Distribution.KUBEADM);
  });

  const calendars = [DEFAULT_ETCD_BACKUP_CALENDAR, 'daily', 'Mon..Fri *-*-* 02:30:00', '*-*-* 03:15', 'Sun *-*-01 04:00:00', '*-*-* 00/4:00:00'];
  test('calendar expressions: the accepted shapes and the refused ones', () => {
    calendars.forEach((calendar) => expect([calendar, isBackupCalendar(calendar)]).toEqual([calendar, true]));
    ['0 */6 * * *', '@daily', 'every 6h', '', '25:00', 'Mon *-*-* 02:30:00; rm -rf /'].forEach((calendar) => expect([calendar, isBackupCalendar(calendar)]).toEqual([calendar, false]));
  });

  (hasCommand('systemd-analyze') ? test : test.skip)('systemd-analyze calendar accepts every accepted shape [needs systemd-analyze]', () => {
    for (const calendar of calendars) {
      expect(() => execFileSync('systemd-analyze', ['calendar', calendar], { stdio: 'pipe', timeout: 10_000 })).not.toThrow();
    }
  });
});
