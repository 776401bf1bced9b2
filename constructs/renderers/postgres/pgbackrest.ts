import { BackupPlan, PostgresBackupPlan } from '../../site/backup';
import { SitePlan } from '../../site/plan';
import type { BackupCredentials } from '../etcd-backup';
import { BACKUP_CA_PATH } from '../etcd-backup';
import { PATRONI_API_PORT, PATRONI_CONFIG_PATH, PATRONI_SCOPE, POSTGRES_TLS_CA_PATH, postgresPaths, requireDatastoreNode, requirePostgres } from './paths';

/**
 * pgBackRest for the PostgreSQL datastore (`backup.postgres`): its configuration, what Patroni adds for it (WAL
 * archiving, replicas restored from the repository) and the settings of the backup and restore scripts
 * (constructs/roles/assets/backup-postgres.sh, restore-postgres.sh). Option names are pgBackRest 2.45's
 * (Debian 12's package; "pgBackRest Configuration Reference", pgbackrest.org/configuration.html), each one parsed by
 * pgBackRest itself in test/backup/pgbackrest-render.test.ts.
 */

/** pgBackRest's default configuration file (option `config`); Debian's old /etc/pgbackrest.conf is then ignored. */
export const PGBACKREST_CONFIG_PATH = '/etc/pgbackrest/pgbackrest.conf';
/** The stanza is the Patroni scope: one cluster, one stanza. */
export const PGBACKREST_STANZA = PATRONI_SCOPE;
/** Debian's pgbackrest binary. */
export const PGBACKREST_BIN = '/usr/bin/pgbackrest';
/** The backup job (argument `full` or `diff`). */
export const POSTGRES_BACKUP_SCRIPT_PATH = '/usr/local/sbin/backup-postgres';
/** The restore command. */
export const RESTORE_POSTGRES_PATH = '/usr/local/sbin/restore-postgres';
/** Settings of both scripts (no secrets). */
export const POSTGRES_BACKUP_ENV_PATH = '/etc/proxmox-k3s-ha/postgres-backup.env';
/** The templated oneshot service (`@full`, `@diff`) and the timers `pkh-postgres-backup-full.timer`, `-diff.timer`. */
export const POSTGRES_BACKUP_UNIT = 'pkh-postgres-backup';
/** The backup types the job takes: pgBackRest's `--type` values. */
export const POSTGRES_BACKUP_TYPES = ['full', 'diff'] as const;
export type PostgresBackupType = (typeof POSTGRES_BACKUP_TYPES)[number];

/** pgbackrest.conf as sections of options, so the lab can adapt paths before {@link renderPgbackrestConfig}. */
export type PgbackrestSections = Record<string, Record<string, string | number>>;

function requirePostgresBackup(plan: SitePlan): { backup: BackupPlan; postgres: PostgresBackupPlan } {
  const backup = plan.backup;
  if (!backup?.postgres) {
    throw new Error(`site ${plan.name}: backup.postgres: undefined — expected a backup target on a site with the PostgreSQL datastore`);
  }
  return { backup, postgres: backup.postgres };
}

/**
 * The repository on the site's S3 target under `<prefix>/postgres` (`repo1-path` is the key prefix in the bucket).
 * pgBackRest speaks S3 over TLS only (the validation refuses an http:// target on a PostgreSQL site);
 * `repo1-s3-uri-style` is `host` unless told `path` (its default is host); `repo1-storage-port` when the endpoint
 * has a port; `repo1-storage-ca-file` for a self-hosted target's CA. The keys are Terraform references to the
 * sensitive variables, never values (the file is 0640 root:postgres: PostgreSQL's archive_command reads it).
 */
export function pgbackrestSections(plan: SitePlan, credentials: BackupCredentials): PgbackrestSections {
  const { backup, postgres: settings } = requirePostgresBackup(plan);
  const { target } = backup;
  const url = new URL(target.url);
  const paths = postgresPaths(plan);
  const postgres = requirePostgres(plan);
  return {
    global: {
      'repo1-type': 's3',
      'repo1-path': `/${settings.folder}`,
      'repo1-s3-endpoint': url.hostname,
      ...(url.port ? { 'repo1-storage-port': Number(url.port) } : {}),
      'repo1-s3-bucket': target.bucket,
      'repo1-s3-region': target.region,
      ...(target.addressing === 'path' ? { 'repo1-s3-uri-style': 'path' } : target.addressing === 'dns' ? { 'repo1-s3-uri-style': 'host' } : {}),
      ...(target.caBundle ? { 'repo1-storage-ca-file': BACKUP_CA_PATH } : {}),
      'repo1-s3-key': credentials.accessKey,
      'repo1-s3-key-secret': credentials.secretKey,
      // Full backups kept; their differentials and WAL expire with them, only after a successful backup (expire-auto).
      'repo1-retention-full': settings.retentionFull,
      'repo1-retention-full-type': 'count',
      // The backup starts at once (an immediate checkpoint) instead of waiting for the next spread one.
      'start-fast': 'y',
      'compress-type': 'lz4',
      'process-max': 2,
      'log-level-console': 'info',
      'log-level-file': 'detail',
    },
    [PGBACKREST_STANZA]: {
      'pg1-path': paths.dataDir,
      'pg1-port': postgres.port,
      'pg1-socket-path': paths.socketDir,
    },
  };
}

/** `key=value` lines per `[section]`; a value with a line break would inject options. */
export function renderPgbackrestConfig(sections: PgbackrestSections, header = '# Rendered by proxmox-k3s-ha; do not edit by hand.'): string {
  const lines = [header];
  for (const [section, options] of Object.entries(sections)) {
    lines.push('', `[${section}]`);
    for (const [key, value] of Object.entries(options)) {
      if (/[\r\n]/.test(String(value))) {
        throw new Error(`pgbackrest.conf [${section}] ${key}: ${JSON.stringify(value)} — expected a value on one line`);
      }
      lines.push(`${key}=${value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * What Patroni's node configuration gets for pgBackRest, or nothing without `backup.postgres`:
 * - `postgresql.parameters`: `archive_mode`, `archive_command` (pgBackRest user guide, "Configure Archiving":
 *   `pgbackrest --stanza=<s> archive-push %p`), `archive_timeout` (the recovery-point bound; PostgreSQL docs,
 *   "Write Ahead Log: Archiving").
 * - `postgresql.create_replica_methods: [pgbackrest, basebackup]` with `pgbackrest: {command, keep_data, no_params}`
 *   (Patroni docs, replica_bootstrap.html "Building replicas": a replica is restored from the repository, falling
 *   back to pg_basebackup when there is no backup yet; `--delta` reuses what the data directory still holds).
 * - `postgresql.recovery_conf.restore_command` (Patroni docs, yaml_configuration.html "PostgreSQL": settings written
 *   to a replica's recovery configuration), so a replica behind its primary's kept WAL catches up from the archive.
 */
export function patroniPgbackrestSettings(plan: SitePlan): { parameters: Record<string, string | number>; postgresql: Record<string, unknown> } | undefined {
  const settings = plan.backup?.postgres;
  if (!settings || !plan.postgres) {
    return undefined;
  }
  const pgbackrest = `${PGBACKREST_BIN} --stanza=${PGBACKREST_STANZA}`;
  return {
    parameters: {
      archive_mode: 'on',
      archive_command: `${pgbackrest} archive-push %p`,
      archive_timeout: settings.archiveTimeoutSeconds,
    },
    postgresql: {
      create_replica_methods: ['pgbackrest', 'basebackup'],
      pgbackrest: { command: `${pgbackrest} --delta restore`, keep_data: true, no_params: true },
      recovery_conf: { restore_command: `${pgbackrest} archive-get %f "%p"` },
    },
  };
}

/** Settings of the backup and restore scripts on one datastore node ({@link POSTGRES_BACKUP_ENV_PATH}). */
export interface PostgresBackupScriptSettings {
  readonly stanza: string;
  readonly scope: string;
  /** This node's Patroni `GET /primary` URL and the CA its certificate is checked with. */
  readonly primaryUrl: string;
  readonly caFile?: string;
  /** The other datastore nodes' names and their Patroni REST base URLs (the restore refuses while one answers). */
  readonly otherNodes: readonly { readonly name: string; readonly url: string }[];
  readonly dataDir: string;
  readonly binDir: string;
  readonly patroniConfig: string;
  readonly textfileDir?: string;
}

/** The script settings of a datastore node from the plan. */
export function postgresBackupScriptSettings(plan: SitePlan, hostName: string, textfileDir: string): PostgresBackupScriptSettings {
  requirePostgresBackup(plan);
  const { postgres, host } = requireDatastoreNode(plan, hostName);
  const scheme = postgres.tls ? 'https' : 'http';
  const paths = postgresPaths(plan);
  return {
    stanza: PGBACKREST_STANZA,
    scope: PATRONI_SCOPE,
    primaryUrl: `${scheme}://${host.ip}:${PATRONI_API_PORT}/primary`,
    ...(postgres.tls ? { caFile: POSTGRES_TLS_CA_PATH } : {}),
    otherNodes: postgres.nodes.filter((node) => node.name !== hostName).map((node) => ({ name: node.name, url: `${scheme}://${node.ip}:${PATRONI_API_PORT}` })),
    dataDir: paths.dataDir,
    binDir: paths.binDir,
    patroniConfig: PATRONI_CONFIG_PATH,
    textfileDir,
  };
}

/** `KEY='value'` lines, sourced by sh; values are plan-derived (no quotes, no line breaks). */
export function renderPostgresBackupEnv(settings: PostgresBackupScriptSettings, hostName: string): string {
  const values: Record<string, string | undefined> = {
    PGBACKREST_STANZA: settings.stanza,
    PATRONI_SCOPE: settings.scope,
    PATRONI_PRIMARY_URL: settings.primaryUrl,
    PATRONI_CA_FILE: settings.caFile,
    OTHER_NODES: settings.otherNodes.map((node) => node.name).join(' '),
    OTHER_NODE_URLS: settings.otherNodes.map((node) => node.url).join(' '),
    PGDATA: settings.dataDir,
    PG_BIN_DIR: settings.binDir,
    PATRONICTL_CONFIG_FILE: settings.patroniConfig,
    PKH_TEXTFILE_DIR: settings.textfileDir,
  };
  const lines = Object.entries(values).filter(([, value]) => value !== undefined).map(([key, value]) => {
    if (/['\r\n]/.test(value!)) {
      throw new Error(`${key}: ${JSON.stringify(value)} — expected a value without quotes or line breaks`);
    }
    return `${key}='${value}'`;
  });
  return `# Rendered by proxmox-k3s-ha for ${hostName}; do not edit by hand.\n${lines.join('\n')}\n`;
}

/**
 * The templated oneshot service (`@full`, `@diff`: a failed run leaves it failed) and one timer per type on the
 * site's calendars. The differential timer also fires 10 minutes after it starts (boot, first apply), so the stanza
 * exists and WAL archiving works soon after the cluster is created rather than at the first scheduled run
 * (pgBackRest takes a full backup when there is none to differ from).
 */
export function renderPostgresBackupUnits(plan: SitePlan): { service: string; timers: Record<PostgresBackupType, string> } {
  const { postgres } = requirePostgresBackup(plan);
  const timer = (type: PostgresBackupType, calendar: string, extra: string) => `[Unit]\nDescription=PostgreSQL ${type} backup with pgBackRest, ${calendar} (proxmox-k3s-ha)\n\n`
    + `[Timer]\nUnit=${POSTGRES_BACKUP_UNIT}@${type}.service\nOnCalendar=${calendar}\n${extra}Persistent=true\nRandomizedDelaySec=120\n\n[Install]\nWantedBy=timers.target\n`;
  return {
    service: '[Unit]\nDescription=PostgreSQL %i backup with pgBackRest on the Patroni primary (proxmox-k3s-ha)\nAfter=network-online.target patroni.service\nWants=network-online.target\n\n'
      + `[Service]\nType=oneshot\nExecStart=${POSTGRES_BACKUP_SCRIPT_PATH} %i\nTimeoutStartSec=14400\n`,
    timers: {
      full: timer('full', postgres.fullCalendar, ''),
      diff: timer('diff', postgres.differentialCalendar, 'OnActiveSec=10min\n'),
    },
  };
}

/** The datastore part of the site page's "Backups" section. */
export function renderPostgresBackupDoc(plan: SitePlan): string[] {
  const backup = plan.backup;
  if (!backup?.postgres) {
    return [];
  }
  const p = backup.postgres;
  const where = `\`${backup.target.url}\`, bucket \`${backup.target.bucket}\`, folder \`${p.folder}/\``;
  const nodes = requirePostgres(plan).nodes.map((node) => node.name).join(', ');
  return [
    `- **PostgreSQL datastore:** pgBackRest (stanza \`${PGBACKREST_STANZA}\`) archives every WAL segment to ${where} as it fills or after at most ${p.archiveTimeoutSeconds} s `
      + `(\`archive_timeout\`: the recovery point), takes a full backup on \`${p.fullCalendar}\` and a differential one on \`${p.differentialCalendar}\`, and keeps ${p.retentionFull} full backups (with their WAL).`,
    `- **Where it runs:** \`${POSTGRES_BACKUP_UNIT}-full.timer\` and \`${POSTGRES_BACKUP_UNIT}-diff.timer\` on ${nodes}; only the node that is the Patroni primary backs up, the other exits doing nothing. A failed run leaves \`${POSTGRES_BACKUP_UNIT}@<type>.service\` failed; each success sets \`pkh_backup_last_success_timestamp_seconds{kind="postgres"}\`. Replicas are rebuilt from the repository (\`create_replica_methods\`).`,
    `- **Check:** \`sudo -u postgres pgbackrest --stanza=${PGBACKREST_STANZA} info\` lists the backups and the WAL range; \`sudo -u postgres pgbackrest --stanza=${PGBACKREST_STANZA} check\` on the primary archives a segment end to end.`,
    `- **Restore:** \`sudo systemctl stop patroni\` on every datastore node, then \`sudo ${RESTORE_POSTGRES_PATH}\` (latest) or \`sudo ${RESTORE_POSTGRES_PATH} --time="2026-01-31 12:00:00+00"\` (point in time) on one of them: it clears the cluster from etcd, restores, recovers and starts Patroni there, then prints how the other node comes back as a replica.`,
  ];
}
