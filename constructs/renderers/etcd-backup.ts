import { BackupPlan } from '../site/backup';
import { SitePlan, controlPlaneHosts } from '../site/plan';
import { DatastoreKind, Distribution } from '../site/spec';
import type { K3sConfig } from './k3s';
import { renderPostgresBackupDoc } from './postgres/pgbackrest';

/**
 * Pure renderings of the etcd backups (`backup` section): K3s's own `etcd-s3*` settings, and for kubeadm the
 * snapshot timer, its rclone configuration and the settings of the backup and restore scripts
 * (constructs/roles/assets/backup-etcd-kubeadm.sh, restore-etcd-*.sh).
 */

/** The target's CA bundle on a K3s server (`etcd-s3-endpoint-ca`) or kubeadm control plane (`RCLONE_CA_CERT`). */
export const BACKUP_CA_PATH = '/etc/proxmox-k3s-ha/backup-ca.pem';
/** Settings of the kubeadm backup and restore scripts (no secrets). */
export const ETCD_BACKUP_ENV_PATH = '/etc/proxmox-k3s-ha/etcd-backup.env';
/** Settings of the K3s restore script (no secrets). */
export const K3S_RESTORE_ENV_PATH = '/etc/proxmox-k3s-ha/restore-etcd.env';
/** rclone's configuration with the target's credentials (0600). */
export const BACKUP_RCLONE_CONFIG_PATH = '/etc/proxmox-k3s-ha/backup-rclone.conf';
/** Where the restore command is installed on every control-plane host. */
export const RESTORE_ETCD_PATH = '/usr/local/sbin/restore-etcd';
/** The kubeadm snapshot job. */
export const ETCD_BACKUP_SCRIPT_PATH = '/usr/local/sbin/backup-etcd';
export const ETCD_BACKUP_UNIT = 'pkh-etcd-backup';
/** The rclone remote the configuration defines. */
const RCLONE_REMOTE = 'site-backup';
/** kubeadm's etcd: its data directory, client port and the certificates kubeadm generates (kubeadm "PKI certificates and requirements"). */
const KUBEADM_ETCD = {
  dataDir: '/var/lib/etcd',
  staticPodDir: '/etc/kubernetes/manifests',
  endpoint: 'https://127.0.0.1:2379',
  ca: '/etc/kubernetes/pki/etcd/ca.crt',
  // The client certificate kubeadm makes for probing etcd (clientAuth, signed by the etcd CA).
  cert: '/etc/kubernetes/pki/etcd/healthcheck-client.crt',
  key: '/etc/kubernetes/pki/etcd/healthcheck-client.key',
};
const KUBEADM_ETCD_PEER_PORT = 2380;
const LOCAL_BACKUP_DIR = '/var/lib/etcd-backup';

/**
 * K3s's S3 snapshot settings (every key and type checked against the v1.36 flag reference,
 * ../shared/reference/k3s/cli-flags.json, in test/backup): K3s uploads each scheduled snapshot
 * (`etcd-snapshot-schedule-cron`) to the target and keeps `etcd-s3-retention` of them there. The credentials are not
 * here: K3s reads them from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (the `env` of `--etcd-s3-access-key` and
 * `--etcd-s3-secret-key`, ../shared/reference/k3s/cli-flags.md lines 74–75), written to the unit's 0600 environment
 * file. `etcd-s3-endpoint` is host[:port] (default `s3.amazonaws.com`, line 71), `etcd-s3-insecure` turns HTTPS off
 * (line 84), `etcd-s3-bucket-lookup-type` is one of auto, dns, path (line 78).
 */
export function k3sEtcdS3Config(plan: Pick<SitePlan, 'backup' | 'controlPlane'>): K3sConfig {
  const backup = plan.backup;
  if (!backup || plan.controlPlane.datastore !== DatastoreKind.EMBEDDED_ETCD) {
    return {};
  }
  const { target } = backup;
  return {
    'etcd-s3': true,
    'etcd-s3-endpoint': target.hostPort,
    'etcd-s3-bucket': target.bucket,
    'etcd-s3-region': target.region,
    'etcd-s3-folder': backup.etcd.folder,
    'etcd-s3-retention': backup.etcd.retention,
    ...(target.addressing !== 'auto' ? { 'etcd-s3-bucket-lookup-type': target.addressing } : {}),
    ...(target.tls ? {} : { 'etcd-s3-insecure': true }),
    ...(target.caBundle ? { 'etcd-s3-endpoint-ca': BACKUP_CA_PATH } : {}),
  };
}

/** The K3s unit's environment with the target's credentials (values: Terraform references to sensitive variables). */
export function k3sEtcdS3Environment(credentials: BackupCredentials): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: credentials.accessKey, AWS_SECRET_ACCESS_KEY: credentials.secretKey };
}

/** The target's access key pair, as references to the sensitive Terraform variables. */
export interface BackupCredentials {
  readonly accessKey: string;
  readonly secretKey: string;
}

/** `KEY='value'` lines for a file both sourced by sh and read by people; values here are plan-derived (no `'`). */
function shellAssignments(values: Readonly<Record<string, string | number | undefined>>): string {
  return Object.entries(values).filter(([, value]) => value !== undefined).map(([key, value]) => {
    const text = String(value);
    if (text.includes("'") || text.includes('\n')) {
      throw new Error(`${key}: ${JSON.stringify(text)} — expected a value without quotes or line breaks`);
    }
    return `${key}='${text}'\n`;
  }).join('');
}

/** The settings of the K3s restore script on one server: the other servers to rejoin, the token's Terraform output. */
export function renderK3sRestoreEnv(plan: SitePlan, serverName: string): string {
  const others = controlPlaneHosts(plan).filter((host) => host.name !== serverName && !host.decommission).map((host) => host.name);
  return `# Rendered by proxmox-k3s-ha for ${serverName}; do not edit by hand.\n${shellAssignments({ RESTORE_OTHER_SERVERS: others.join(' '), TOKEN_OUTPUT: 'k3s_token' })}`;
}

/** One etcd member as the restore needs it: its name and peer URL. */
export interface EtcdMember {
  readonly name: string;
  readonly peerUrl: string;
}

/** Where the kubeadm scripts find etcd, the backup target and the node_exporter directory. */
export interface KubeadmEtcdBackupSettings {
  /** This member and every member of the cluster (restore's `--initial-cluster`). */
  readonly member: EtcdMember;
  readonly members: readonly EtcdMember[];
  /** etcdctl's endpoint and TLS files (no files: plain text). */
  readonly endpoint: string;
  readonly tls?: { readonly ca: string; readonly cert: string; readonly key: string };
  /** rclone `remote:bucket/folder`, or a local folder. */
  readonly remote: string;
  readonly rcloneConfig?: string;
  readonly caBundlePath?: string;
  readonly retention: number;
  readonly backupDir: string;
  readonly dataDir: string;
  readonly staticPodDir: string;
  readonly textfileDir?: string;
}

/** The settings file of the kubeadm backup and restore scripts ({@link ETCD_BACKUP_ENV_PATH}); only set values are written. */
export function renderKubeadmEtcdBackupEnv(settings: KubeadmEtcdBackupSettings): string {
  return `# Rendered by proxmox-k3s-ha for ${settings.member.name}; do not edit by hand.\n${shellAssignments({
    ETCDCTL_ENDPOINTS: settings.endpoint,
    ETCDCTL_CACERT: settings.tls?.ca,
    ETCDCTL_CERT: settings.tls?.cert,
    ETCDCTL_KEY: settings.tls?.key,
    RCLONE_CONFIG: settings.rcloneConfig,
    RCLONE_CA_CERT: settings.caBundlePath,
    BACKUP_REMOTE: settings.remote,
    BACKUP_NAME: `etcd-snapshot-${settings.member.name}`,
    BACKUP_RETENTION: settings.retention,
    BACKUP_DIR: settings.backupDir,
    PKH_TEXTFILE_DIR: settings.textfileDir,
    RESTORE_MEMBER_NAME: settings.member.name,
    RESTORE_PEER_URL: settings.member.peerUrl,
    RESTORE_INITIAL_CLUSTER: settings.members.map((m) => `${m.name}=${m.peerUrl}`).join(','),
    RESTORE_OTHER_MEMBERS: settings.members.filter((m) => m.name !== settings.member.name).map((m) => m.name).join(' '),
    ETCD_DATA_DIR: settings.dataDir,
    STATIC_POD_DIR: settings.staticPodDir,
  })}`;
}

/**
 * The kubeadm control plane's settings from the plan: kubeadm names each stacked etcd member after its node and
 * advertises `https://<node address>:2380` to its peers (the member flags kubeadm writes into etcd.yaml).
 */
export function kubeadmEtcdBackupSettings(plan: SitePlan, hostName: string, textfileDir: string): KubeadmEtcdBackupSettings {
  const backup = requireBackup(plan);
  const members = controlPlaneHosts(plan).filter((host) => !host.decommission).map((host) => ({ name: host.name, peerUrl: `https://${host.ip}:${KUBEADM_ETCD_PEER_PORT}` }));
  const member = members.find((m) => m.name === hostName);
  if (!member) {
    throw new Error(`site ${plan.name}: host ${JSON.stringify(hostName)} is not a kubeadm control plane in service (${members.map((m) => m.name).join(', ')})`);
  }
  return {
    member,
    members,
    endpoint: KUBEADM_ETCD.endpoint,
    tls: { ca: KUBEADM_ETCD.ca, cert: KUBEADM_ETCD.cert, key: KUBEADM_ETCD.key },
    remote: `${RCLONE_REMOTE}:${backup.target.bucket}/${backup.etcd.folder}`,
    rcloneConfig: BACKUP_RCLONE_CONFIG_PATH,
    ...(backup.target.caBundle ? { caBundlePath: BACKUP_CA_PATH } : {}),
    retention: backup.etcd.retention,
    backupDir: LOCAL_BACKUP_DIR,
    dataDir: KUBEADM_ETCD.dataDir,
    staticPodDir: KUBEADM_ETCD.staticPodDir,
    textfileDir,
  };
}

function requireBackup(plan: SitePlan): BackupPlan {
  if (!plan.backup) {
    throw new Error(`site ${plan.name}: backup: undefined — expected a backup section (the backup roles apply only to sites with a target)`);
  }
  return plan.backup;
}

/** rclone's S3 remote for the target (rclone documentation, "Amazon S3 Storage Providers": `provider = Other`). */
export function renderRcloneConfig(backup: BackupPlan, credentials: BackupCredentials): string {
  return [
    '# Rendered by proxmox-k3s-ha; do not edit by hand.',
    `[${RCLONE_REMOTE}]`,
    'type = s3',
    'provider = Other',
    `access_key_id = ${credentials.accessKey}`,
    `secret_access_key = ${credentials.secretKey}`,
    `endpoint = ${backup.target.url}`,
    `region = ${backup.target.region}`,
    `force_path_style = ${backup.target.addressing !== 'dns'}`,
    // The bucket exists: the keys need no right to create one.
    'no_check_bucket = true',
    '',
  ].join('\n');
}

/** The oneshot service (failed when a run fails) and its timer on the site's calendar. */
export function renderEtcdBackupUnits(backup: BackupPlan): { service: string; timer: string } {
  return {
    service: '[Unit]\nDescription=etcd snapshot to the backup target (proxmox-k3s-ha)\nAfter=network-online.target\nWants=network-online.target\n\n'
      + `[Service]\nType=oneshot\nExecStart=${ETCD_BACKUP_SCRIPT_PATH}\nTimeoutStartSec=3600\n`,
    timer: `[Unit]\nDescription=etcd snapshot to the backup target, ${backup.etcd.calendar} (proxmox-k3s-ha)\n\n`
      + `[Timer]\nOnCalendar=${backup.etcd.calendar}\nPersistent=true\nRandomizedDelaySec=300\n\n[Install]\nWantedBy=timers.target\n`,
  };
}

/** The site page's "Backups" section: where the backups go and how to restore. */
export function renderBackupSection(plan: SitePlan): string[] {
  const backup = plan.backup;
  if (!backup) {
    return ['## Backups', '', 'None: the site has no `backup` target, so its cluster state has no off-site copy. Add '
      + '`backup: { target: { endpoint, bucket } }` to the site file and set `TF_VAR_backup_s3_access_key` and `TF_VAR_backup_s3_secret_key`; '
      + 'this section then says where the snapshots go and how to restore them.', ''];
  }
  const where = `\`${backup.target.url}\`, bucket \`${backup.target.bucket}\`, folder \`${backup.etcd.folder}/\``;
  if (plan.controlPlane.datastore === DatastoreKind.POSTGRES) {
    return ['## Backups', '', ...renderPostgresBackupDoc(plan),
      '- **Credentials:** the Terraform variables `backup_s3_access_key` and `backup_s3_secret_key` (sensitive), written only to pgbackrest.conf (0640 root:postgres) on the datastore nodes.', ''];
  }
  const kubeadm = plan.controlPlane.distribution === Distribution.KUBEADM;
  return [
    '## Backups',
    '',
    kubeadm
      ? `- **etcd:** every control plane takes a snapshot (\`${ETCD_BACKUP_UNIT}.timer\`, \`${backup.etcd.calendar}\`) and uploads it to ${where} as \`etcd-snapshot-<host>-<UTC time>.db\`, keeping ${backup.etcd.retention} per host.`
      : `- **etcd:** K3s uploads each scheduled snapshot (\`${plan.controlPlane.etcdSnapshotScheduleCron}\`) to ${where}, keeping ${backup.etcd.retention} there (and ${plan.controlPlane.etcdSnapshotRetention} on each server).`,
    `- **Credentials:** the Terraform variables \`backup_s3_access_key\` and \`backup_s3_secret_key\` (sensitive), written only to 0600 files on the ${kubeadm ? 'control planes' : 'servers'}.`,
    kubeadm
      ? `- **Watched:** a failed run leaves \`${ETCD_BACKUP_UNIT}.service\` failed (\`systemctl --failed\`); each success sets \`pkh_backup_last_success_timestamp_seconds{kind="etcd"}\` through node_exporter.`
      : '- **Watched:** the newest local snapshot is published as `k3s_etcd_snapshot_last_timestamp_seconds`; K3s uploads the same snapshot, and a failed upload is logged by the k3s unit.',
    kubeadm
      ? `- **Check:** \`systemctl is-failed ${ETCD_BACKUP_UNIT}.service\` says \`inactive\` (not \`failed\`) and \`systemctl list-timers ${ETCD_BACKUP_UNIT}.timer\` shows the next run, on every control plane.`
      : `- **Check:** \`sudo k3s etcd-snapshot list\` on a server lists snapshots at \`s3://${backup.target.bucket}/${backup.etcd.folder}/\`, the newest no older than the schedule.`,
    kubeadm
      ? '- **Restore:** list the snapshots (`rclone --config /etc/proxmox-k3s-ha/backup-rclone.conf lsf site-backup:<bucket>/<folder>`), then run `sudo restore-etcd <snapshot>` with the SAME snapshot on every control plane: it stops the API server and etcd static pods, restores the member with its name and peers, and starts them again.'
      : '- **Restore:** stop K3s on every server but one, then run `sudo restore-etcd <snapshot>` there; it resets the cluster from the snapshot and prints how the other servers rejoin, one at a time. **Keep the K3s token safe** (`terraform output -raw k3s_token`): a snapshot cannot be restored without the token of the cluster that took it.',
    '',
  ];
}
