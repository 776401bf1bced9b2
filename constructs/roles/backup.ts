import { readFileSync } from 'fs';
import { join } from 'path';
import { CloudConfig } from '../cloud-init/cloud-config';
import { ServiceChange } from '../cloud-init/service-step';
import { NODE_EXPORTER_TEXTFILE_DIR } from '../monitoring/ports';
import {
  BACKUP_CA_PATH, BACKUP_RCLONE_CONFIG_PATH, BackupCredentials, ETCD_BACKUP_ENV_PATH, ETCD_BACKUP_SCRIPT_PATH, ETCD_BACKUP_UNIT, K3S_RESTORE_ENV_PATH,
  RESTORE_ETCD_PATH, k3sEtcdS3Environment, kubeadmEtcdBackupSettings, renderEtcdBackupUnits, renderK3sRestoreEnv, renderKubeadmEtcdBackupEnv, renderRcloneConfig,
} from '../renderers/etcd-backup';
import { SitePlan } from '../site/plan';
import { DatastoreKind } from '../site/spec';
import { withBackupMetric } from './backup-metric';
import { IK3sDatastore, K3sDatastoreBinding } from './k3s-datastore';

const ROLE = 'etcd-backup';

/** A shipped, shellchecked asset script. */
function asset(name: string): string {
  return readFileSync(join(__dirname, 'assets', name), 'utf8');
}

/** The restore command of a K3s server ({@link RESTORE_ETCD_PATH}). */
export const K3S_RESTORE_SCRIPT = asset('restore-etcd-k3s.sh');
/** The kubeadm snapshot job ({@link ETCD_BACKUP_SCRIPT_PATH}), ending with the shared metric write. */
export const KUBEADM_BACKUP_SCRIPT = withBackupMetric(asset('backup-etcd-kubeadm.sh'));
/** The restore command of a kubeadm control plane ({@link RESTORE_ETCD_PATH}). */
export const KUBEADM_RESTORE_SCRIPT = asset('restore-etcd-kubeadm.sh');

/**
 * Embedded etcd with K3s's S3 snapshots: the K3s unit's 0600 environment file gets the target's credentials (K3s
 * reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY for `etcd-s3-access-key` / `etcd-s3-secret-key`,
 * ../shared/reference/k3s/cli-flags.md lines 74–75), and the CA bundle of a self-hosted target is written beside it; the
 * non-secret `etcd-s3*` keys are in `config.yaml` (renderers/etcd-backup.ts). K3s restarts when either changes.
 */
export function embeddedEtcdWithBackup(plan: SitePlan, credentials: BackupCredentials): IK3sDatastore {
  const binding: K3sDatastoreBinding = {
    serverConfig: {},
    serverEnvironment: k3sEtcdS3Environment(credentials),
    serverFiles: plan.backup?.target.caBundle ? [{ path: BACKUP_CA_PATH, content: plan.backup.target.caBundle, mode: '0644' }] : [],
  };
  return { kind: DatastoreKind.EMBEDDED_ETCD, bind: () => binding };
}

/** `restore-etcd <snapshot>` on a K3s server, with the names of the servers that rejoin after it. */
export function applyK3sRestoreCommand(config: CloudConfig, plan: SitePlan, hostName: string): void {
  config.addFile(ROLE, { path: RESTORE_ETCD_PATH, content: K3S_RESTORE_SCRIPT, mode: '0755' });
  config.addFile(ROLE, { path: K3S_RESTORE_ENV_PATH, content: renderK3sRestoreEnv(plan, hostName), mode: '0644' });
}

/**
 * A kubeadm control plane's etcd backups: `etcdctl` (package etcd-client) and `rclone` (package rclone: one static
 * binary that speaks S3 with path or virtual-host addressing, a custom CA and retries, configured by one file), the
 * snapshot job on a systemd timer (a failed run leaves the service failed; the last success goes to node_exporter),
 * the rclone configuration with the credentials (0600), and `restore-etcd <snapshot>`.
 */
export function applyKubeadmEtcdBackupRole(config: CloudConfig, plan: SitePlan, hostName: string, credentials: BackupCredentials): void {
  const backup = plan.backup!;
  config.addPackages(ROLE, 'etcd-client', 'rclone');
  const settings = kubeadmEtcdBackupSettings(plan, hostName, NODE_EXPORTER_TEXTFILE_DIR);
  config.addFile(ROLE, { path: ETCD_BACKUP_ENV_PATH, content: renderKubeadmEtcdBackupEnv(settings), mode: '0644' });
  config.addFile(ROLE, { path: BACKUP_RCLONE_CONFIG_PATH, content: renderRcloneConfig(backup, credentials), mode: '0600' });
  if (backup.target.caBundle) {
    config.addFile(ROLE, { path: BACKUP_CA_PATH, content: backup.target.caBundle, mode: '0644' });
  }
  config.addFile(ROLE, { path: ETCD_BACKUP_SCRIPT_PATH, content: KUBEADM_BACKUP_SCRIPT, mode: '0755' });
  config.addFile(ROLE, { path: RESTORE_ETCD_PATH, content: KUBEADM_RESTORE_SCRIPT, mode: '0755' });
  const units = renderEtcdBackupUnits(backup);
  const servicePath = `/etc/systemd/system/${ETCD_BACKUP_UNIT}.service`;
  const timerPath = `/etc/systemd/system/${ETCD_BACKUP_UNIT}.timer`;
  config.addFile(ROLE, { path: servicePath, content: units.service, mode: '0644' });
  config.addFile(ROLE, { path: timerPath, content: units.timer, mode: '0644' });
  // The job reads its files at each run; only the timer is (re)started.
  config.addService(ROLE, { unit: `${ETCD_BACKUP_UNIT}.timer`, watches: [servicePath, timerPath], onChange: ServiceChange.RESTART });
}
