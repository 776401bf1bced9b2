import { execFileSync } from 'child_process';
import { parse } from 'yaml';
import { SiteSpec, defineSite } from '../../constructs';
import { CloudConfig } from '../../constructs/cloud-init/cloud-config';
import {
  PGBACKREST_CONFIG_PATH, POSTGRES_BACKUP_ENV_PATH, RESTORE_POSTGRES_PATH, pgbackrestSections, postgresBackupScriptSettings, renderPatroniConfig, renderPgbackrestConfig,
  renderPostgresBackupDoc, renderPostgresBackupEnv, renderPostgresBackupUnits,
} from '../../constructs/renderers/postgres';
import { applyPostgresBackupRole } from '../../constructs/roles/postgres-backup';
import { DEFAULT_POSTGRES_DIFFERENTIAL_CALENDAR, DEFAULT_POSTGRES_FULL_CALENDAR } from '../../constructs/site/backup';
import homelab from '../../sites/homelab';
import { vmSite } from '../fixtures/sites';
import { hasCommand } from '../support/tools';
import { validationErrorOf } from '../support/validation-error';

/** The `backup.postgres` section, its resolution and what the renderers and the role make of it. */
const TARGET = { endpoint: 'https://s3.backup.test:9000', bucket: 'site-backups' };
const withBackup = (site: SiteSpec, backup: unknown): SiteSpec => ({ ...site, backup } as SiteSpec);
/** What the Terraform variables look like in the rendered files: references, never values. */
const CREDENTIALS = { accessKey: '${var.backup_s3_access_key}', secretKey: '${var.backup_s3_secret_key}' };

describe('backup.postgres', () => {
  test('every problem at once: schedules, retention, archive timeout, unknown keys', () => {
    const error = validationErrorOf(withBackup(homelab, { target: TARGET, postgres: { fullCalendar: '0 1 * * 0', differentialCalendar: '25:00', retentionFull: 0, archiveTimeoutSeconds: 5, typo: 1 } }));
    const byPath = new Map(error.problems.map((p) => [p.path, p]));
    expect([...byPath.keys()].sort()).toEqual([
      'backup.postgres.archiveTimeoutSeconds', 'backup.postgres.differentialCalendar', 'backup.postgres.fullCalendar', 'backup.postgres.retentionFull', 'backup.postgres.typo',
    ]);
    expect(byPath.get('backup.postgres.fullCalendar')!.value).toBe('0 1 * * 0');
    expect(byPath.get('backup.postgres.fullCalendar')!.expected).toMatch(/OnCalendar/);
    expect(byPath.get('backup.postgres.retentionFull')!.expected).toMatch(/1 to 100/);
    expect(byPath.get('backup.postgres.archiveTimeoutSeconds')!.expected).toMatch(/10 to 3600/);
  });

  test('only on a site with the PostgreSQL datastore, and only with an https:// target', () => {
    const etcd = validationErrorOf(withBackup(vmSite, { target: TARGET, postgres: { retentionFull: 2 } }));
    expect(etcd.problems.map((p) => [p.path, p.expected])).toEqual([['backup.postgres', expect.stringMatching(/no PostgreSQL datastore .*embedded-etcd/)]]);
    const plain = validationErrorOf(withBackup(homelab, { target: { ...TARGET, endpoint: 'http://minio.backup.test:9000' } }));
    expect(plain.problems.map((p) => [p.path, p.value, p.expected])).toEqual([['backup.target.endpoint', 'http://minio.backup.test:9000', expect.stringMatching(/TLS only/)]]);
  });

  test('resolution: defaults, the repository under <prefix>/postgres; nothing on an etcd site', () => {
    const plan = defineSite(withBackup(homelab, { target: TARGET }));
    expect(plan.backup!.postgres).toEqual({
      folder: 'homelab/postgres', fullCalendar: DEFAULT_POSTGRES_FULL_CALENDAR, differentialCalendar: DEFAULT_POSTGRES_DIFFERENTIAL_CALENDAR, retentionFull: 2, archiveTimeoutSeconds: 60,
    });
    const custom = defineSite(withBackup(homelab, { target: { ...TARGET, prefix: 'dc1/k3s' }, postgres: { fullCalendar: 'daily', retentionFull: 7, archiveTimeoutSeconds: 30 } }));
    expect(custom.backup!.postgres).toMatchObject({ folder: 'dc1/k3s/postgres', fullCalendar: 'daily', retentionFull: 7, archiveTimeoutSeconds: 30 });
    expect(defineSite(withBackup(vmSite, { target: TARGET })).backup!.postgres).toBeUndefined();
  });

  test('Patroni: WAL archiving with the site\'s archive_timeout, replicas from the repository, restore_command; none of it without a target', () => {
    const plan = defineSite(withBackup(homelab, { target: TARGET, postgres: { archiveTimeoutSeconds: 30 } }));
    const postgresql = parse(renderPatroniConfig(plan, 'pg-node-1'), { version: '1.1' }).postgresql;
    expect(postgresql.parameters).toMatchObject({ archive_mode: 'on', archive_command: '/usr/bin/pgbackrest --stanza=k3s-datastore archive-push %p', archive_timeout: 30 });
    expect(postgresql.create_replica_methods).toEqual(['pgbackrest', 'basebackup']);
    expect(postgresql.pgbackrest).toEqual({ command: '/usr/bin/pgbackrest --stanza=k3s-datastore --delta restore', keep_data: true, no_params: true });
    expect(postgresql.recovery_conf).toEqual({ restore_command: '/usr/bin/pgbackrest --stanza=k3s-datastore archive-get %f "%p"' });
    const without = parse(renderPatroniConfig(defineSite(homelab), 'pg-node-1'), { version: '1.1' }).postgresql;
    expect([without.parameters.archive_mode, without.create_replica_methods, without.recovery_conf]).toEqual([undefined, undefined, undefined]);
  });

  test('pgbackrest.conf: the target as pgBackRest options, the credentials as Terraform references only', () => {
    const plan = defineSite(withBackup(homelab, { target: { ...TARGET, pathStyle: true, region: 'garage', caBundle: undefined } }));
    const text = renderPgbackrestConfig(pgbackrestSections(plan, CREDENTIALS));
    expect(text).toContain('[global]\nrepo1-type=s3\nrepo1-path=/homelab/postgres\nrepo1-s3-endpoint=s3.backup.test\nrepo1-storage-port=9000\nrepo1-s3-bucket=site-backups\nrepo1-s3-region=garage\nrepo1-s3-uri-style=path\n');
    expect(text).toContain('repo1-s3-key=${var.backup_s3_access_key}\nrepo1-s3-key-secret=${var.backup_s3_secret_key}\nrepo1-retention-full=2\n');
    expect(text).toContain('[k3s-datastore]\npg1-path=/var/lib/postgresql/16/main\npg1-port=5432\npg1-socket-path=/var/run/postgresql\n'.replace('16', String(plan.postgres!.version)));
    expect(text).not.toContain('repo1-storage-ca-file');
    expect(() => renderPgbackrestConfig({ global: { 'repo1-s3-key': 'a\nrepo1-type=posix' } })).toThrow(/repo1-s3-key: "a\\nrepo1-type=posix" — expected a value on one line/);
    const dns = renderPgbackrestConfig(pgbackrestSections(defineSite(withBackup(homelab, { target: { ...TARGET, endpoint: 'https://s3.example.test', pathStyle: false } })), CREDENTIALS));
    expect(dns).toMatch(/repo1-s3-uri-style=host\n/);
    expect(dns).not.toMatch(/repo1-storage-port/);
  });

  test('the role: pgbackrest.conf 0640 root:postgres, the jobs on both timers, the restore command; the scripts\' settings from the plan', () => {
    const plan = defineSite(withBackup(homelab, { target: TARGET }));
    const config = new CloudConfig({ hostname: 'pg-node-1', fqdn: 'pg-node-1.homelab.test' });
    applyPostgresBackupRole(config, plan, 'pg-node-1', CREDENTIALS);
    const files = new Map(config.files.map((f) => [f.path, f]));
    expect(files.get(PGBACKREST_CONFIG_PATH)).toMatchObject({ mode: '0640', owner: 'root:postgres' });
    expect(files.get(RESTORE_POSTGRES_PATH)!.mode).toBe('0755');
    expect(config.packages).toContain('pgbackrest');
    expect(config.services.map((s) => s.unit).sort()).toEqual(['pkh-postgres-backup-diff.timer', 'pkh-postgres-backup-full.timer']);
    const env = files.get(POSTGRES_BACKUP_ENV_PATH)!.content;
    expect(env).toContain("PATRONI_PRIMARY_URL='https://10.10.10.151:8008/primary'");
    expect(env).toContain("OTHER_NODES='pg-node-2'");
    expect(env).toContain("OTHER_NODE_URLS='https://10.10.10.152:8008'");
    expect(() => renderPostgresBackupEnv({ ...postgresBackupScriptSettings(plan, 'pg-node-1', '/t'), dataDir: "/x'y" }, 'pg-node-1')).toThrow(/PGDATA: "\/x'y" — expected a value without quotes/);
    const units = renderPostgresBackupUnits(plan);
    expect(units.timers.full).toContain(`OnCalendar=${DEFAULT_POSTGRES_FULL_CALENDAR}\n`);
    expect(units.timers.diff).toContain('Unit=pkh-postgres-backup@diff.service\n');
    expect(units.service).toContain('ExecStart=/usr/local/sbin/backup-postgres %i\n');
    expect(renderPostgresBackupDoc(plan).join('\n')).toMatch(/folder `homelab\/postgres\/`.*at most 60 s/);
  });

  (hasCommand('systemd-analyze') ? test : test.skip)('systemd-analyze calendar accepts the default schedules [needs systemd-analyze]', () => {
    for (const calendar of [DEFAULT_POSTGRES_FULL_CALENDAR, DEFAULT_POSTGRES_DIFFERENTIAL_CALENDAR]) {
      expect(() => execFileSync('systemd-analyze', ['calendar', calendar], { stdio: 'pipe', timeout: 10_000 })).not.toThrow();
    }
  });
});
