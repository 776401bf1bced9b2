import { readFileSync } from 'fs';
import { join } from 'path';
import { CloudConfig, Protocol } from '../cloud-init/cloud-config';
import { ServiceChange } from '../cloud-init/service-step';
import { generatedCertificatePaths } from '../monitoring/certificate-expiry';
import { publishesSynchronousStandbys } from '../monitoring/postgres-synchronous';
import { BIND_EXPORTER_PORT, BIND_STATISTICS_PORT, NODE_EXPORTER_PORT, NODE_EXPORTER_TEXTFILE_DIR } from '../monitoring/ports';
import { K3S_ENV_PATH } from '../renderers/k3s';
import { postgresPaths } from '../renderers/postgres/paths';
import { withTextfileLibrary } from './textfile-metric';
import { HostPlan, SitePlan, hasRole } from '../site/plan';
import { DatastoreKind, HostRole } from '../site/spec';

const ROLE = 'host-exporters';

/** The Debian package's environment file: its unit runs `prometheus-node-exporter $ARGS`. */
export const NODE_EXPORTER_DEFAULTS_PATH = '/etc/default/prometheus-node-exporter';
/** The Debian package's environment file: its unit runs `prometheus-bind-exporter $ARGS`. */
export const BIND_EXPORTER_DEFAULTS_PATH = '/etc/default/prometheus-bind-exporter';

/** Publishes the newest scheduled etcd snapshot's time for the textfile collector (a shipped, shellchecked asset). */
export const ETCD_SNAPSHOT_METRICS_SCRIPT = readFileSync(join(__dirname, '../cloud-init/assets/etcd-snapshot-metrics.sh'), 'utf8');
export const ETCD_SNAPSHOT_METRICS_PATH = '/usr/local/lib/proxmox-k3s-ha/etcd-snapshot-metrics.sh';
const ETCD_SNAPSHOT_METRICS_UNIT = 'pkh-etcd-snapshot-metrics';
export const ETCD_SNAPSHOT_METRICS_SERVICE_PATH = `/etc/systemd/system/${ETCD_SNAPSHOT_METRICS_UNIT}.service`;
export const ETCD_SNAPSHOT_METRICS_TIMER_PATH = `/etc/systemd/system/${ETCD_SNAPSHOT_METRICS_UNIT}.timer`;

/** A shipped, shellchecked asset script of this role. */
function asset(name: string): string {
  return readFileSync(join(__dirname, 'assets', name), 'utf8');
}

/** Publishes the newest S3 etcd snapshot of a K3s server as the backup's last success (K3s publishes none itself). */
export const K3S_BACKUP_METRICS_SCRIPT = asset('k3s-backup-metrics.sh');
export const K3S_BACKUP_METRICS_PATH = '/usr/local/lib/proxmox-k3s-ha/k3s-backup-metrics.sh';
export const K3S_BACKUP_METRICS_UNIT = 'pkh-k3s-backup-metrics';
/** How often the K3s backup time is refreshed: each run lists the bucket, so not every minute. */
const K3S_BACKUP_METRICS_EVERY = '15min';
/** Publishes the end of validity of the certificates the site generated for the host. */
export const CERTIFICATE_EXPIRY_METRICS_SCRIPT = withTextfileLibrary(asset('certificate-expiry-metrics.sh'));
export const CERTIFICATE_EXPIRY_METRICS_PATH = '/usr/local/lib/proxmox-k3s-ha/certificate-expiry-metrics.sh';
export const CERTIFICATE_EXPIRY_METRICS_UNIT = 'pkh-certificate-expiry-metrics';

/** Publishes how many standbys the primary's PostgreSQL waits for (monitoring/postgres-synchronous.ts). */
export const POSTGRES_SYNC_METRICS_SCRIPT = withTextfileLibrary(asset('postgres-sync-metrics.sh'));
export const POSTGRES_SYNC_METRICS_PATH = '/usr/local/lib/proxmox-k3s-ha/postgres-sync-metrics.sh';
export const POSTGRES_SYNC_METRICS_UNIT = 'pkh-postgres-sync-metrics';

/** An exporter from the Debian/Ubuntu archive, configured through the `ARGS` of its environment file. */
function addPackagedExporter(config: CloudConfig, host: HostPlan, exporter: { pkg: string; defaultsPath: string; port: number; description: string; args: readonly string[] }): void {
  config.addPackages(ROLE, exporter.pkg);
  config.claimPort(ROLE, { port: exporter.port, protocol: Protocol.TCP, address: host.ip, description: exporter.description });
  config.addFile(ROLE, {
    path: exporter.defaultsPath,
    content: `# Rendered by proxmox-k3s-ha for ${host.name}; do not edit by hand.\nARGS="${exporter.args.join(' ')}"\n`,
    mode: '0644',
  });
  // The package starts it with its defaults (every address) when installed; the restart moves it to the host's own.
  config.addService(ROLE, { unit: exporter.pkg, watches: [exporter.defaultsPath], onChange: ServiceChange.RESTART });
}

/**
 * The metrics exporters a host runs, each on the host's own address only (the site network reaches them; a VIP or
 * the pod network address of the host does not):
 * - node_exporter on every host (package `prometheus-node-exporter`); its textfile collector reads
 *   {@link NODE_EXPORTER_TEXTFILE_DIR}, named explicitly though it is the package's default, where other roles
 *   publish their own metrics (Keepalived's VRRP state);
 * - bind_exporter on DNS servers (package `prometheus-bind-exporter`), reading named's statistics channel on the
 *   same address (renderers/bind9.ts, for the site network only);
 * - on K3s servers with embedded etcd, the backup job's last success: a timer publishes every minute when K3s last
 *   wrote a scheduled snapshot (`k3s_etcd_snapshot_last_timestamp_seconds`, through the textfile collector), and
 *   with a backup target every 15 minutes when this server's newest snapshot reached it
 *   (`pkh_backup_last_success_timestamp_seconds{kind="etcd"}`, as the kubeadm snapshot job writes it);
 * - on hosts holding certificates the site generated (monitoring/certificate-expiry.ts), a daily timer publishes
 *   their end of validity (`pkh_certificate_expiry_timestamp_seconds{path}`);
 * - on datastore nodes in Patroni's synchronous mode, a timer publishes every minute how many standbys the primary's
 *   PostgreSQL waits for (`pkh_postgres_synchronous_standbys`, monitoring/postgres-synchronous.ts).
 */
export function applyHostExporters(config: CloudConfig, plan: SitePlan, host: HostPlan): void {
  addPackagedExporter(config, host, {
    pkg: 'prometheus-node-exporter',
    defaultsPath: NODE_EXPORTER_DEFAULTS_PATH,
    port: NODE_EXPORTER_PORT,
    description: 'node_exporter metrics',
    args: [`--web.listen-address=${host.ip}:${NODE_EXPORTER_PORT}`, `--collector.textfile.directory=${NODE_EXPORTER_TEXTFILE_DIR}`],
  });
  if (hasRole(host, HostRole.DNS)) {
    config.claimPort(ROLE, { port: BIND_STATISTICS_PORT, protocol: Protocol.TCP, address: host.ip, description: 'bind9 statistics channel' });
    addPackagedExporter(config, host, {
      pkg: 'prometheus-bind-exporter',
      defaultsPath: BIND_EXPORTER_DEFAULTS_PATH,
      port: BIND_EXPORTER_PORT,
      description: 'bind_exporter metrics',
      args: [`--web.listen-address=${host.ip}:${BIND_EXPORTER_PORT}`, `--bind.stats-url=http://${host.ip}:${BIND_STATISTICS_PORT}/`],
    });
  }
  if (hasRole(host, HostRole.K3S_SERVER) && plan.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD) {
    publishEtcdSnapshotAge(config);
    if (plan.backup) {
      config.addPackages(ROLE, 'jq');
      addTextfileTimer(config, {
        unit: K3S_BACKUP_METRICS_UNIT,
        script: K3S_BACKUP_METRICS_SCRIPT,
        scriptPath: K3S_BACKUP_METRICS_PATH,
        args: [host.name],
        what: 'when this K3s server\'s newest etcd snapshot reached the backup target',
        // The K3s CLI reads the server's token from K3s's own environment file when the config does not hold it.
        environmentFile: K3S_ENV_PATH,
        schedule: { every: K3S_BACKUP_METRICS_EVERY },
      });
    }
  }
  if (publishesSynchronousStandbys(plan, host)) {
    const paths = postgresPaths(plan);
    addTextfileTimer(config, {
      unit: POSTGRES_SYNC_METRICS_UNIT,
      script: POSTGRES_SYNC_METRICS_SCRIPT,
      scriptPath: POSTGRES_SYNC_METRICS_PATH,
      args: [paths.psql, paths.socketDir, String(plan.postgres!.port)],
      what: 'how many standbys the primary PostgreSQL waits for',
      schedule: { every: '1min' },
    });
  }
  const certificates = generatedCertificatePaths(plan, host);
  if (certificates.length > 0) {
    addTextfileTimer(config, {
      unit: CERTIFICATE_EXPIRY_METRICS_UNIT,
      script: CERTIFICATE_EXPIRY_METRICS_SCRIPT,
      scriptPath: CERTIFICATE_EXPIRY_METRICS_PATH,
      args: certificates,
      what: 'when the certificates the site generated for this host expire',
      schedule: { calendar: 'daily' },
    });
  }
}

/** A oneshot service running a textfile script and its timer (every `every` from boot, or on a calendar, caught up after downtime). */
function addTextfileTimer(config: CloudConfig, job: {
  unit: string; script: string; scriptPath: string; args: readonly string[]; what: string; environmentFile?: string; schedule: { every: string } | { calendar: string };
}): void {
  const servicePath = `/etc/systemd/system/${job.unit}.service`;
  const timerPath = `/etc/systemd/system/${job.unit}.timer`;
  config.addFile(ROLE, { path: job.scriptPath, content: job.script, mode: '0755' });
  config.addFile(ROLE, {
    path: servicePath,
    content: `[Unit]\nDescription=Publish ${job.what}, for node_exporter (proxmox-k3s-ha)\n\n`
      + `[Service]\nType=oneshot\n${job.environmentFile ? `EnvironmentFile=-${job.environmentFile}\n` : ''}ExecStart=${[job.scriptPath, ...job.args].join(' ')}\n`,
    mode: '0644',
  });
  const when = 'every' in job.schedule
    ? `OnBootSec=2min\nOnUnitActiveSec=${job.schedule.every}\n`
    : `OnBootSec=2min\nOnCalendar=${job.schedule.calendar}\nPersistent=true\n`;
  config.addFile(ROLE, {
    path: timerPath,
    content: `[Unit]\nDescription=Publish ${job.what} (proxmox-k3s-ha)\n\n[Timer]\n${when}\n[Install]\nWantedBy=timers.target\n`,
    mode: '0644',
  });
  config.addService(ROLE, { unit: `${job.unit}.timer`, watches: [job.scriptPath, servicePath, timerPath], onChange: ServiceChange.RESTART });
}

/** The timer that runs {@link ETCD_SNAPSHOT_METRICS_SCRIPT} every minute (a new snapshot shows within a minute). */
function publishEtcdSnapshotAge(config: CloudConfig): void {
  config.addFile(ROLE, { path: ETCD_SNAPSHOT_METRICS_PATH, content: ETCD_SNAPSHOT_METRICS_SCRIPT, mode: '0755' });
  config.addFile(ROLE, {
    path: ETCD_SNAPSHOT_METRICS_SERVICE_PATH,
    content: `[Unit]\nDescription=Publish when K3s last took a scheduled etcd snapshot, for node_exporter (proxmox-k3s-ha)\n\n`
      + `[Service]\nType=oneshot\nExecStart=${ETCD_SNAPSHOT_METRICS_PATH}\n`,
    mode: '0644',
  });
  config.addFile(ROLE, {
    path: ETCD_SNAPSHOT_METRICS_TIMER_PATH,
    content: `[Unit]\nDescription=Publish when K3s last took a scheduled etcd snapshot, every minute (proxmox-k3s-ha)\n\n`
      + '[Timer]\nOnBootSec=1min\nOnUnitActiveSec=1min\n\n[Install]\nWantedBy=timers.target\n',
    mode: '0644',
  });
  config.addService(ROLE, {
    unit: `${ETCD_SNAPSHOT_METRICS_UNIT}.timer`,
    watches: [ETCD_SNAPSHOT_METRICS_PATH, ETCD_SNAPSHOT_METRICS_SERVICE_PATH, ETCD_SNAPSHOT_METRICS_TIMER_PATH],
    onChange: ServiceChange.RESTART,
  });
}
