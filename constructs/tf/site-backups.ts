import { TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import { CloudConfig } from '../cloud-init/cloud-config';
import { BackupCredentials } from '../renderers/etcd-backup';
import { applyK3sRestoreCommand, applyKubeadmEtcdBackupRole, embeddedEtcdWithBackup } from '../roles/backup';
import { applyPostgresBackupRole } from '../roles/postgres-backup';
import { IK3sDatastore } from '../roles/k3s-datastore';
import { BACKUP_ACCESS_KEY_VARIABLE, BACKUP_SECRET_KEY_VARIABLE } from '../site/backup';
import { SitePlan, controlPlaneHosts } from '../site/plan';
import { DatastoreKind, Distribution } from '../site/spec';

/**
 * The target's credentials as sensitive Terraform variables (`TF_VAR_backup_s3_access_key`,
 * `TF_VAR_backup_s3_secret_key`), declared only when the site has a backup section with something to back up: the
 * site file never holds them.
 */
export function backupCredentialVariables(stack: TerraformStack, site: SitePlan): BackupCredentials | undefined {
  if (!site.backup) {
    return undefined;
  }
  const variable = (name: string, what: string) => new TerraformVariable(stack, name, {
    type: 'string',
    sensitive: true,
    // Written unquoted into a systemd environment file and rclone's configuration: an S3 key as issued.
    description: `${what} of the backup target ${site.backup!.target.url} (bucket ${site.backup!.target.bucket}): letters, digits, / + = . _ ~ -`,
    // No validation block: Terraform 1.11 prints a refused value in the error even for a sensitive variable (test/backup).
  }).stringValue;
  return { accessKey: variable(BACKUP_ACCESS_KEY_VARIABLE, 'access key'), secretKey: variable(BACKUP_SECRET_KEY_VARIABLE, 'secret key') };
}

/** The K3s datastore of a site on embedded etcd with a backup target; undefined otherwise (the plain one applies). */
export function embeddedEtcdBackupDatastore(site: SitePlan, credentials: BackupCredentials | undefined): IK3sDatastore | undefined {
  return credentials && site.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD ? embeddedEtcdWithBackup(site, credentials) : undefined;
}

/**
 * The etcd backups' host side: `restore-etcd` on every K3s server (embedded etcd) and a sensitive `k3s_token` output
 * (the restore needs the original token; with secrets from variables it is the `k3s_token` the operator set), or the
 * snapshot timer and `restore-etcd` on every kubeadm control plane.
 */
export function applySiteBackups(stack: TerraformStack, site: SitePlan, configs: ReadonlyMap<string, { readonly cloudConfig: CloudConfig }>,
  credentials: BackupCredentials | undefined, k3s: { readonly token?: string; readonly tokenFromVariable: boolean }): void {
  if (!site.backup || !credentials) {
    return;
  }
  if (site.backup.postgres && site.postgres) {
    // pgBackRest on both datastore nodes (the job backs up on whichever is the Patroni primary).
    site.postgres.nodes.filter((node) => configs.has(node.name)).forEach((node) => applyPostgresBackupRole(configs.get(node.name)!.cloudConfig, site, node.name, credentials));
    return;
  }
  const hosts = controlPlaneHosts(site).filter((host) => !host.decommission && configs.has(host.name));
  if (site.controlPlane.distribution === Distribution.KUBEADM) {
    hosts.forEach((host) => applyKubeadmEtcdBackupRole(configs.get(host.name)!.cloudConfig, site, host.name, credentials));
    return;
  }
  hosts.forEach((host) => applyK3sRestoreCommand(configs.get(host.name)!.cloudConfig, site, host.name));
  if (k3s.token && !k3s.tokenFromVariable) {
    new TerraformOutput(stack, 'k3s_token', {
      value: k3s.token,
      sensitive: true,
      description: 'the K3s cluster token: restoring an etcd snapshot (restore-etcd) needs the token of the cluster that took it; keep a copy with the backups\' credentials',
    });
  }
}
