import { readFileSync } from 'fs';
import { join } from 'path';
import { CloudConfig } from '../cloud-init/cloud-config';
import { ServiceChange } from '../cloud-init/service-step';
import { NODE_EXPORTER_TEXTFILE_DIR } from '../monitoring/ports';
import { BACKUP_CA_PATH, BackupCredentials } from '../renderers/etcd-backup';
import {
  PGBACKREST_CONFIG_PATH, POSTGRES_BACKUP_ENV_PATH, POSTGRES_BACKUP_SCRIPT_PATH, POSTGRES_BACKUP_TYPES, POSTGRES_BACKUP_UNIT, RESTORE_POSTGRES_PATH, pgbackrestSections,
  postgresBackupScriptSettings, renderPgbackrestConfig, renderPostgresBackupEnv, renderPostgresBackupUnits,
} from '../renderers/postgres/pgbackrest';
import { SitePlan } from '../site/plan';
import { withBackupMetric } from './backup-metric';

const ROLE = 'postgres-backup';

function asset(name: string): string {
  return readFileSync(join(__dirname, 'assets', name), 'utf8');
}

/** The backup job ({@link POSTGRES_BACKUP_SCRIPT_PATH}), ending with the shared metric write. */
export const POSTGRES_BACKUP_SCRIPT = withBackupMetric(asset('backup-postgres.sh'));
/** The restore command ({@link RESTORE_POSTGRES_PATH}). */
export const RESTORE_POSTGRES_SCRIPT = asset('restore-postgres.sh');

/**
 * pgBackRest on a datastore node (package pgbackrest): its configuration with the target's credentials (0640
 * root:postgres: PostgreSQL's archive_command runs as postgres and reads it), the target's CA, the backup job on a
 * full and a differential timer (on both nodes: the job backs up only on the Patroni primary), and
 * `restore-postgres`. Patroni's own part (archiving, create_replica_methods) is in its config.yml
 * (renderers/postgres/patroni.ts), which the datastore role writes.
 */
export function applyPostgresBackupRole(config: CloudConfig, plan: SitePlan, hostName: string, credentials: BackupCredentials): void {
  const backup = plan.backup!;
  config.addPackages(ROLE, 'pgbackrest', 'curl');
  config.addFile(ROLE, { path: PGBACKREST_CONFIG_PATH, content: renderPgbackrestConfig(pgbackrestSections(plan, credentials)), mode: '0640', owner: 'root:postgres' });
  if (backup.target.caBundle) {
    config.addFile(ROLE, { path: BACKUP_CA_PATH, content: backup.target.caBundle, mode: '0644' });
  }
  config.addFile(ROLE, { path: POSTGRES_BACKUP_ENV_PATH, content: renderPostgresBackupEnv(postgresBackupScriptSettings(plan, hostName, NODE_EXPORTER_TEXTFILE_DIR), hostName), mode: '0644' });
  config.addFile(ROLE, { path: POSTGRES_BACKUP_SCRIPT_PATH, content: POSTGRES_BACKUP_SCRIPT, mode: '0755' });
  config.addFile(ROLE, { path: RESTORE_POSTGRES_PATH, content: RESTORE_POSTGRES_SCRIPT, mode: '0755' });
  const units = renderPostgresBackupUnits(plan);
  const servicePath = `/etc/systemd/system/${POSTGRES_BACKUP_UNIT}@.service`;
  config.addFile(ROLE, { path: servicePath, content: units.service, mode: '0644' });
  for (const type of POSTGRES_BACKUP_TYPES) {
    const timerPath = `/etc/systemd/system/${POSTGRES_BACKUP_UNIT}-${type}.timer`;
    config.addFile(ROLE, { path: timerPath, content: units.timers[type], mode: '0644' });
    // The job reads its files at each run; only the timers are (re)started. A file is watched by one service only:
    // the shared service file by the full timer.
    config.addService(ROLE, { unit: `${POSTGRES_BACKUP_UNIT}-${type}.timer`, watches: type === 'full' ? [servicePath, timerPath] : [timerPath], onChange: ServiceChange.RESTART });
  }
}
