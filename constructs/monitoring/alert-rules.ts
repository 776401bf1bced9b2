import { stringify } from 'yaml';
import { API_BACKEND } from '../renderers/haproxy';
import { PATRONI_CONFIG_PATH, etcdctlCommand, patroniSynchronousMode, postgresPaths } from '../renderers/postgres';
import { DEFAULT_SERVICE_DEADLINE_SECONDS } from '../site/defaults';
import { SitePlan, controlPlaneHosts, workerHosts } from '../site/plan';
import { DatastoreKind, Distribution } from '../site/spec';
import { BACKUP_LAST_SUCCESS_METRIC, BackupJob, backupJobs } from './backup-jobs';
import { CERTIFICATE_EXPIRY_BOUND_DAYS, CERTIFICATE_EXPIRY_METRIC, siteHasGeneratedCertificates } from './certificate-expiry';
import { POSTGRES_SYNCHRONOUS_STANDBYS_METRIC } from './postgres-synchronous';
import { longestScheduleGapSeconds } from './snapshot-schedule';
import { ETCD_METRICS_PORT, MetricsEndpoint, MetricsJob, NODE_EXPORTER_PORT, metricsEndpoints } from './metrics-endpoints';
import { NODE_EXPORTER_TEXTFILE_DIR } from './ports';

/**
 * Prometheus alert rules generated from the plan. Each alert states lost redundancy or a coming failure with the
 * site's own numbers ("2 of 3 load balancers up"), and its description ends with what to do. Only the rules that apply
 * to the site are generated (no Patroni rules on an embedded-etcd site). Pure: plan → data → YAML.
 *
 * Where the metric names come from:
 * - HAProxy's built-in exporter (2.6): `haproxy_backend_active_servers{proxy}`; etcd: `etcd_server_has_leader`;
 *   both checked against the real daemons in test/monitoring/cluster/metric-names.test.ts;
 * - Patroni 3.0.2's `/metrics` (patroni/api.py, do_GET_metrics): `patroni_primary`, `patroni_replica`,
 *   `patroni_sync_standby`, `patroni_postgres_running`, `patroni_postgres_timeline`, `patroni_xlog_location` (the
 *   primary's WAL position, 0 on replicas) and `patroni_xlog_replayed_location`, each with a `scope` label;
 * - bind_exporter 0.6.1 (Debian's): `bind_up`, and `bind_zone_serial{view, zone_name}` (added in 0.4.0, its changelog:
 *   "Add zone serial numbers as metrics #91");
 * - node_exporter's textfile collector: `keepalived_vrrp_state` (1 on the VIP holder; Keepalived's notify script,
 *   constructs/cloud-init/assets/keepalived-notify.sh; the instance name in its `vrrp_instance` label) and
 *   `k3s_etcd_snapshot_*` (constructs/cloud-init/assets/etcd-snapshot-metrics.sh), the backup jobs'
 *   `pkh_backup_last_success_timestamp_seconds{kind}` (monitoring/backup-jobs.ts) and the generated certificates'
 *   `pkh_certificate_expiry_timestamp_seconds{path}` (roles/assets/certificate-expiry-metrics.sh), and the primary's
 *   `pkh_postgres_synchronous_standbys` (roles/assets/postgres-sync-metrics.sh);
 * - kube-state-metrics (in kube-prometheus-stack): `kube_node_status_condition{node, condition, status}`.
 */

/** How urgent an alert is (the `severity` label Alertmanager routes on). */
export enum AlertSeverity {
  /** The site is down or one step from it: act now. */
  CRITICAL = 'critical',
  /** Redundancy is lost or a failure is coming: act within the working day. */
  WARNING = 'warning',
  /** The Watchdog: not a problem, a heartbeat. */
  NONE = 'none',
}

/** One alert rule with what the site docs show about it. */
export interface AlertRule {
  /** The alert's name, e.g. `LoadBalancersDown`. */
  readonly alert: string;
  /** The PromQL expression; every series it returns is a firing alert. */
  readonly expr: string;
  /** How long the expression must hold before the alert fires, in seconds (0: at once). */
  readonly forSeconds: number;
  readonly severity: AlertSeverity;
  /** One line with the site's numbers; may use `{{ $value }}` and `{{ $labels.<name> }}` only. */
  readonly summary: string;
  /** What the state means for the site and what to do (the runbook line); the same templating as `summary`. */
  readonly description: string;
  /** The threshold in words, for the alert table. */
  readonly threshold: string;
  /** A command that checks the same thing by hand, and where to run it. */
  readonly manualCheck: ManualCheck;
}

/** A command an operator runs to check an alert's condition by hand. */
export interface ManualCheck {
  readonly command: string;
  /** Where to run it, e.g. `a load balancer`. */
  readonly where: string;
}

/** A Prometheus rule group. */
export interface AlertRuleGroup {
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

/** An alert the issue asks for that this site does not get, and why. */
export interface OmittedAlert {
  readonly alert: string;
  readonly reason: string;
}

/**
 * How long a host may be out of rotation during a rolling update: a converge step gives up on a service restart
 * after {@link DEFAULT_SERVICE_DEADLINE_SECONDS} (constructs/site/defaults.ts), so longer than that is no rollout.
 */
export const ROLLOUT_BOUND_SECONDS = DEFAULT_SERVICE_DEADLINE_SECONDS;
/** Replication lag a replica may have for {@link REPLICATION_LAG_FOR_SECONDS}: one WAL segment (16 MiB) times four. */
export const REPLICATION_LAG_BOUND_BYTES = 64 * 1024 * 1024;
export const REPLICATION_LAG_FOR_SECONDS = 300;
/** How long the failover alert stays up after a new PostgreSQL timeline appears. */
export const FAILOVER_NOTICE_SECONDS = 900;
/** How long a DNS secondary may serve another serial than the primary: NOTIFY and transfer take seconds. */
export const DNS_SERIAL_BOUND_SECONDS = 900;
/** Filesystems the disk forecast ignores: memory-backed, read-only images and LXC's view of the host. */
const IGNORED_FILESYSTEMS = 'tmpfs|ramfs|squashfs|overlay|nsfs|fuse.lxcfs';

/** `90` → `1m30s`, as Prometheus durations read. */
export function promDuration(seconds: number): string {
  if (seconds === 0) {
    return '0s';
  }
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}

/** What the rules count on: the hosts with a scrape target of each job (the plan's, via metricsEndpoints). */
interface SiteCounts {
  /** Hosts with a target of `job`, in site order. */
  readonly hostsOf: (job: MetricsJob) => readonly string[];
}

function siteCounts(plan: SitePlan): SiteCounts {
  const endpoints: readonly MetricsEndpoint[] = metricsEndpoints(plan);
  return { hostsOf: (job) => endpoints.filter((endpoint) => endpoint.job === job).map((endpoint) => endpoint.host) };
}

/** `floor(n/2) + 1`: the members a Raft cluster of `n` needs to elect a leader. */
const quorumOf = (members: number): number => Math.floor(members / 2) + 1;

const plural = (count: number, one: string, many = `${one}s`): string => `${count} ${count === 1 ? one : many}`;

function metaRules(): AlertRule[] {
  return [
    {
      alert: 'Watchdog',
      expr: 'vector(1)',
      forSeconds: 0,
      severity: AlertSeverity.NONE,
      summary: 'The alerting pipeline works: this alert always fires.',
      description: 'Always firing, so its silence means Prometheus or Alertmanager is down. Do: route it to a dead man\'s switch; when it stops arriving, check the monitoring namespace (kubectl -n monitoring get pods).',
      threshold: 'always',
      manualCheck: { command: 'kubectl -n monitoring get pods', where: 'an admin workstation' },
    },
    {
      alert: 'HostMetricsDown',
      expr: `up{job="${MetricsJob.NODE}"} == 0`,
      forSeconds: 300,
      severity: AlertSeverity.WARNING,
      summary: 'Host {{ $labels.instance }} does not answer on node_exporter.',
      description: 'The host is down or node_exporter stopped: every other alert about this host is blind. Do: ssh to it and run systemctl status prometheus-node-exporter; if it does not answer, check the VM in Proxmox.',
      threshold: 'node_exporter unreachable for 5m',
      manualCheck: { command: `curl -s http://<host>:${NODE_EXPORTER_PORT}/metrics | head -3`, where: 'a host on the site network' },
    },
  ];
}

function loadBalancerRules(plan: SitePlan, counts: SiteCounts): AlertRule[] {
  const lb = plan.loadBalancer;
  if (!lb) {
    return [];
  }
  const balancers = counts.hostsOf(MetricsJob.HAPROXY).length;
  const servers = controlPlaneHosts(plan).filter((host) => !host.decommission).length;
  const rollout = promDuration(ROLLOUT_BOUND_SECONDS);
  const activeServers = (proxy: string): ManualCheck => ({ command: `curl -s http://<load balancer>:${lb.statsPort}/metrics | grep 'haproxy_backend_active_servers{proxy="${proxy}"'`, where: 'a host on the site network' });
  const rules: AlertRule[] = [{
    alert: 'LoadBalancersDown',
    expr: `(count(up{job="${MetricsJob.HAPROXY}"} == 1) or vector(0)) < ${balancers}`,
    forSeconds: 60,
    severity: balancers > 1 ? AlertSeverity.WARNING : AlertSeverity.CRITICAL,
    summary: `{{ $value }} of ${balancers} load balancers up.`,
    description: balancers > 1
      ? `A load balancer's HAProxy does not answer: the API endpoint ${plan.apiEndpoint.address}:${plan.apiEndpoint.port} runs on the others, one fault from an outage. Do: on the down one run systemctl status haproxy and haproxy -c -f /etc/haproxy/haproxy.cfg; restart it once the config checks.`
      : `The site's only load balancer does not answer: the API endpoint ${plan.apiEndpoint.address}:${plan.apiEndpoint.port} is down. Do: systemctl status haproxy on it; haproxy -c -f /etc/haproxy/haproxy.cfg, then restart.`,
    threshold: `fewer than ${balancers} HAProxy exporters up for 1m`,
    manualCheck: { command: `curl -s -o /dev/null -w '%{http_code}\\n' http://<load balancer>:${lb.statsPort}/metrics`, where: 'a host on the site network' },
  }];
  if (plan.apiEndpoint.floating) {
    const vip = plan.apiEndpoint.address;
    rules.push({
      alert: 'VipHasNoHolder',
      expr: `(sum(keepalived_vrrp_state{job="${MetricsJob.NODE}"}) or vector(0)) < 1`,
      forSeconds: 60,
      severity: AlertSeverity.CRITICAL,
      summary: `No load balancer holds the VIP ${vip}.`,
      description: `None of the ${balancers} load balancers reports VRRP MASTER: the API endpoint ${vip} is unreachable (or the holder's node_exporter is down). Do: ip -4 addr show ${lb.vrrpInterface} on each load balancer; journalctl -u keepalived -n 50 where it should be.`,
      threshold: 'no VRRP MASTER for 1m',
      manualCheck: { command: `ip -4 -br addr show ${lb.vrrpInterface} | grep -F ${vip}`, where: 'each load balancer' },
    }, {
      alert: 'VipHasTwoHolders',
      expr: `sum(keepalived_vrrp_state{job="${MetricsJob.NODE}"}) > 1`,
      forSeconds: 60,
      severity: AlertSeverity.CRITICAL,
      summary: `{{ $value }} load balancers hold the VIP ${vip} at once.`,
      description: `Split brain: the load balancers do not hear each other's VRRP adverts, so clients of ${vip} reach whichever answered ARP last. Do: check that VRRP (IP protocol 112) passes between the load balancers (tcpdump -ni ${lb.vrrpInterface} vrrp) and that the bridge forwards it; a keepalived killed without running its notify script leaves a stale MASTER state, so check systemctl status keepalived on each holder.`,
      threshold: 'more than one VRRP MASTER for 1m',
      manualCheck: { command: `ip -4 -br addr show ${lb.vrrpInterface} | grep -F ${vip}`, where: 'each load balancer' },
    });
  }
  rules.push({
    alert: 'ApiServersOutOfRotation',
    expr: `haproxy_backend_active_servers{job="${MetricsJob.HAPROXY}", proxy="${API_BACKEND}"} < ${servers}`,
    forSeconds: ROLLOUT_BOUND_SECONDS,
    severity: AlertSeverity.WARNING,
    summary: `{{ $value }} of ${servers} API servers in rotation on {{ $labels.instance }}.`,
    description: `An API server has failed its health check for longer than a rollout takes (${rollout}). Do: find it on the stats page (http://<load balancer>:${lb.statsPort}/), then on that server run systemctl status ${plan.controlPlane.distribution === Distribution.KUBEADM ? 'kubelet' : 'k3s'} and curl -k https://127.0.0.1:6443/readyz.`,
    threshold: `fewer than ${servers} API servers UP for ${rollout}`,
    manualCheck: activeServers(API_BACKEND),
  });
  if (lb.ingressFrontends) {
    rules.push({
      alert: 'IngressBackendsOutOfRotation',
      expr: `haproxy_backend_active_servers{job="${MetricsJob.HAPROXY}", proxy=~"ingress_http|ingress_https"} < ${servers}`,
      forSeconds: ROLLOUT_BOUND_SECONDS,
      severity: AlertSeverity.WARNING,
      summary: `{{ $value }} of ${servers} ingress controllers in rotation for {{ $labels.proxy }} on {{ $labels.instance }}.`,
      description: `An ingress controller's health page has failed for longer than a rollout takes (${rollout}). Do: kubectl -n nginx-ingress get pods -o wide, and curl http://<server>:${plan.ingress.httpNodePort}/nginx-health on the server that is down.`,
      threshold: `fewer than ${servers} ingress backends UP for ${rollout}`,
      manualCheck: activeServers('ingress_https'),
    });
  }
  return rules;
}

function etcdRules(job: MetricsJob, prefix: string, what: string, members: number, check: ManualCheck): AlertRule[] {
  if (members === 0) {
    return [];
  }
  const quorum = quorumOf(members);
  const rollout = promDuration(ROLLOUT_BOUND_SECONDS);
  const healthy = `(sum(etcd_server_has_leader{job="${job}"}) or vector(0))`;
  return [{
    alert: `${prefix}EtcdMembersMissing`,
    expr: `${healthy} < ${members}`,
    forSeconds: ROLLOUT_BOUND_SECONDS,
    severity: AlertSeverity.WARNING,
    summary: `{{ $value }} of ${members} ${what} etcd members are up with a leader (quorum needs ${quorum}).`,
    description: `A voting member has been missing for longer than a rollout takes (${rollout}); ${members - quorum === 0 ? 'the next failure stops' : `${members - quorum} more failure${members - quorum === 1 ? ' stops' : 's stop'}`} the ${what} etcd. Do: find the member without metrics (up{job="${job}"}), check its service and journal, and let it rejoin before touching another member.`,
    threshold: `fewer than ${members} members with a leader for ${rollout}`,
    manualCheck: check,
  }, {
    alert: `${prefix}EtcdQuorumLost`,
    expr: `${healthy} < ${quorum}`,
    forSeconds: 60,
    severity: AlertSeverity.CRITICAL,
    summary: `Only {{ $value }} of ${members} ${what} etcd members are up with a leader; quorum needs ${quorum}.`,
    description: `The ${what} etcd cannot elect a leader: writes stop. Do: bring members back one at a time (systemctl start on each down member); restore from a snapshot only if a majority is lost for good.`,
    threshold: `fewer than ${quorum} members with a leader for 1m`,
    manualCheck: check,
  }, {
    alert: `${prefix}EtcdNoLeader`,
    expr: `etcd_server_has_leader{job="${job}"} == 0`,
    forSeconds: 60,
    severity: AlertSeverity.CRITICAL,
    summary: `${what[0].toUpperCase()}${what.slice(1)} etcd member {{ $labels.instance }} has no leader.`,
    description: `This member is cut off from the leader or the cluster has none: writes through it fail. Do: check the network between the members and etcd's journal on {{ $labels.instance }}.`,
    threshold: 'a member without a leader for 1m',
    manualCheck: check,
  }];
}

function datastoreRules(plan: SitePlan, counts: SiteCounts): AlertRule[] {
  const postgres = plan.postgres;
  if (!postgres) {
    return [];
  }
  const nodes = counts.hostsOf(MetricsJob.PATRONI).length;
  const patroni = `job="${MetricsJob.PATRONI}"`;
  const check: ManualCheck = { command: `patronictl -c ${PATRONI_CONFIG_PATH} list`, where: 'a datastore node' };
  const lagMiB = REPLICATION_LAG_BOUND_BYTES / 1024 / 1024;
  const rules: AlertRule[] = [{
    alert: 'PatroniNoPrimary',
    expr: `(sum(patroni_primary{${patroni}}) or vector(0)) < 1`,
    forSeconds: 60,
    severity: AlertSeverity.CRITICAL,
    summary: `No PostgreSQL primary among the ${nodes} datastore nodes.`,
    description: `Patroni has no leader, so K3s cannot write its state. A failover takes about ${postgres.failover.ttlSeconds + 4} s; this has lasted 1m. Do: ${check.command}, and check the datastore etcd (its alerts) and PostgreSQL's log on each node.`,
    threshold: 'no primary for 1m',
    manualCheck: check,
  }, {
    alert: 'PatroniMembersMissing',
    expr: `(sum(patroni_postgres_running{${patroni}}) or vector(0)) < ${nodes}`,
    forSeconds: ROLLOUT_BOUND_SECONDS,
    severity: AlertSeverity.WARNING,
    summary: `{{ $value }} of ${nodes} PostgreSQL nodes run.`,
    description: `A datastore node's PostgreSQL (or its Patroni) has been down for longer than a rollout takes: one more failure and no replica is left to fail over to. Do: ${check.command}; systemctl status patroni on the missing node; patronictl reinit if it cannot rejoin.`,
    threshold: `fewer than ${nodes} nodes running PostgreSQL for ${promDuration(ROLLOUT_BOUND_SECONDS)}`,
    manualCheck: check,
  }];
  if (postgres.synchronousCommit) {
    const strict = postgres.synchronousModeStrict;
    rules.push({
      alert: 'PatroniNoSyncStandby',
      expr: `(sum(patroni_sync_standby{${patroni}}) or vector(0)) < 1`,
      forSeconds: strict ? 60 : 300,
      severity: strict ? AlertSeverity.CRITICAL : AlertSeverity.WARNING,
      summary: 'No synchronous standby for the PostgreSQL primary.',
      description: strict
        ? 'synchronous_mode_strict: commits wait for a synchronous standby that does not exist, so K3s writes stall. Do: bring a replica back (systemctl start patroni on it) and watch it become Sync Standby in patronictl list.'
        : 'The primary acknowledges writes alone: a failover now could lose acknowledged writes. Do: bring a replica back (systemctl start patroni on it) until patronictl list shows a Sync Standby.',
      threshold: `no sync standby for ${strict ? '1m' : '5m'}`,
      manualCheck: check,
    });
  }
  if (patroniSynchronousMode(postgres)) {
    const paths = postgresPaths(plan);
    rules.push({
      alert: 'PostgresNotSynchronous',
      expr: `(sum(patroni_sync_standby{${patroni}}) >= 1) and on() (max(${POSTGRES_SYNCHRONOUS_STANDBYS_METRIC}{job="${MetricsJob.NODE}"}) < 1)`,
      // Published every minute: a new primary's first sample may come before Patroni named its standby.
      forSeconds: 180,
      severity: AlertSeverity.CRITICAL,
      summary: 'Patroni names a synchronous standby that the primary PostgreSQL does not wait for.',
      description: 'patronictl list shows a Sync Standby, but the primary\'s PostgreSQL waits for none (synchronous_standby_names is empty): commits return before the standby has them, and a failover would still promote it and lose them. Patroni 3.0 leaves it so after it restarted beside its running primary (a crash of Patroni, or a restart while paused). Do: patronictl switchover to the Sync Standby (the new primary sets synchronous_standby_names again), then run the check on it.',
      threshold: 'a sync standby in Patroni, none in PostgreSQL, for 3m',
      manualCheck: { command: `runuser -u postgres -- ${paths.psql} -h ${paths.socketDir} -p ${postgres.port} -XAtc "SELECT application_name, sync_state FROM pg_stat_replication"`, where: 'the primary' },
    });
  }
  rules.push({
    alert: 'PatroniReplicationLag',
    expr: `((scalar(max(patroni_xlog_location{${patroni}})) - patroni_xlog_replayed_location{${patroni}}) > ${REPLICATION_LAG_BOUND_BYTES}) and on(instance) patroni_replica{${patroni}} == 1`,
    forSeconds: REPLICATION_LAG_FOR_SECONDS,
    severity: AlertSeverity.WARNING,
    summary: `Replica {{ $labels.instance }} has replayed more than ${lagMiB} MiB less WAL than the primary.`,
    description: `A replica that falls behind makes a failover slow (it must replay first) or, without synchronous mode, lossy. Do: compare Lag in MB in patronictl list; check the replica's disk (iostat) and the network to the primary.`,
    threshold: `replay lag over ${lagMiB} MiB for ${promDuration(REPLICATION_LAG_FOR_SECONDS)}`,
    manualCheck: check,
  }, {
    alert: 'PatroniFailover',
    // The lowest timeline of the notice window, not one sample `offset` back: that has no sample in the first window
    // of a Prometheus's history (a restarted Prometheus would miss a failover for that long).
    expr: `max(patroni_postgres_timeline{${patroni}}) > min_over_time(max(patroni_postgres_timeline{${patroni}})[${promDuration(FAILOVER_NOTICE_SECONDS)}:])`,
    forSeconds: 0,
    severity: AlertSeverity.WARNING,
    summary: 'PostgreSQL failed over (or restarted without a leader): the timeline is now {{ $value }}.',
    description: `The timeline rose in the last ${promDuration(FAILOVER_NOTICE_SECONDS)}: a replica was promoted, or the whole datastore restarted without a leader (Patroni promotes the old primary again). Do: patronictl history to see when and why; make sure the old primary rejoined as a replica (patronictl list) before the next maintenance.`,
    threshold: `timeline rose within ${promDuration(FAILOVER_NOTICE_SECONDS)}`,
    manualCheck: { command: `patronictl -c ${PATRONI_CONFIG_PATH} history`, where: 'a datastore node' },
  });
  return rules;
}

function dnsRules(plan: SitePlan, counts: SiteCounts): AlertRule[] {
  if (!plan.dns) {
    return [];
  }
  const servers = counts.hostsOf(MetricsJob.BIND);
  const primary = plan.dns.servers[0].name;
  const bind = `job="${MetricsJob.BIND}"`;
  const rules: AlertRule[] = [{
    alert: 'DnsServersDown',
    expr: `(sum(bind_up{${bind}}) or vector(0)) < ${servers.length}`,
    forSeconds: 300,
    severity: servers.length > 1 ? AlertSeverity.WARNING : AlertSeverity.CRITICAL,
    summary: `{{ $value }} of ${servers.length} DNS servers answer.`,
    description: `A Bind9 server (or its exporter) is down: ${servers.length > 1 ? 'the site\'s names resolve through the others, one fault from an outage' : 'the site\'s names do not resolve'}. Do: systemctl status named on it; named-checkconf, then start it.`,
    threshold: `fewer than ${servers.length} named up for 5m`,
    manualCheck: { command: `dig +short @<dns server> ${plan.apiEndpoint.dnsName}`, where: 'a host on the site network' },
  }];
  if (servers.length > 1) {
    rules.push({
      alert: 'DnsSecondaryZoneStale',
      expr: `bind_zone_serial{${bind}, instance!="${primary}"} != on(view, zone_name) group_left bind_zone_serial{${bind}, instance="${primary}"}`,
      forSeconds: DNS_SERIAL_BOUND_SECONDS,
      severity: AlertSeverity.WARNING,
      summary: `DNS secondary {{ $labels.instance }} serves zone {{ $labels.zone_name }} with another serial than the primary ${primary}.`,
      description: `The secondary did not take the primary's last zone transfer (serials are hashes of the zone, so any difference is stale data). Do: rndc retransfer {{ $labels.zone_name }} on {{ $labels.instance }}; check that ${primary} allows the transfer (journalctl -u named).`,
      threshold: `serial differs from the primary's for ${promDuration(DNS_SERIAL_BOUND_SECONDS)}`,
      manualCheck: { command: `dig +short SOA ${plan.dns.zone} @<dns server>`, where: 'a host on the site network, for each DNS server' },
    });
  }
  return rules;
}

function nodeRules(plan: SitePlan): AlertRule[] {
  const nodes = new Set([...controlPlaneHosts(plan), ...workerHosts(plan)].filter((host) => !host.decommission)).size;
  const rollout = promDuration(ROLLOUT_BOUND_SECONDS);
  return [{
    alert: 'NodeNotReady',
    expr: 'kube_node_status_condition{condition="Ready", status="true"} == 0',
    forSeconds: ROLLOUT_BOUND_SECONDS,
    severity: AlertSeverity.WARNING,
    summary: `Kubernetes node {{ $labels.node }} is NotReady (the site has ${plural(nodes, 'node')}).`,
    description: `The node has not been Ready for longer than a rollout takes (${rollout}); its pods are being evicted to the others. Do: kubectl describe node {{ $labels.node }}; on the host, systemctl status ${plan.controlPlane.distribution === Distribution.KUBEADM ? 'kubelet' : 'k3s (servers) or k3s-agent'} and its journal.`,
    threshold: `Ready false or unknown for ${rollout}`,
    manualCheck: { command: 'kubectl get nodes', where: 'an admin workstation' },
  }, {
    alert: 'DiskFillsWithin24h',
    expr: `predict_linear(node_filesystem_avail_bytes{job="${MetricsJob.NODE}", fstype!~"${IGNORED_FILESYSTEMS}"}[6h], 24 * 3600) < 0`,
    forSeconds: 3600,
    severity: AlertSeverity.WARNING,
    summary: 'Filesystem {{ $labels.mountpoint }} on {{ $labels.instance }} fills within 24 h at the rate of the last 6 h.',
    description: 'Do: du -xh --max-depth=2 {{ $labels.mountpoint }} | sort -h | tail on the host; prune old images (k3s crictl rmi --prune) or etcd snapshots, or grow the disk in the site file (size.diskGiB).',
    threshold: 'free space predicted below 0 within 24 h, for 1h',
    manualCheck: { command: 'df -h', where: 'the host' },
  }];
}

/**
 * K3s servers with embedded etcd publish when K3s last wrote a scheduled snapshot (roles/host-exporters.ts, through
 * node_exporter's textfile collector); a snapshot older than twice the schedule's longest gap means they stopped.
 */
function snapshotRules(plan: SitePlan): AlertRule[] {
  if (plan.controlPlane.distribution !== Distribution.K3S || plan.controlPlane.datastore !== DatastoreKind.EMBEDDED_ETCD) {
    return [];
  }
  const schedule = plan.controlPlane.etcdSnapshotScheduleCron;
  const bound = 2 * longestScheduleGapSeconds(schedule);
  const check: ManualCheck = { command: 'k3s etcd-snapshot list', where: 'a K3s server' };
  return [{
    alert: 'EtcdSnapshotTooOld',
    expr: `time() - k3s_etcd_snapshot_last_timestamp_seconds{job="${MetricsJob.NODE}"} > ${bound}`,
    forSeconds: 300,
    severity: AlertSeverity.WARNING,
    summary: `The newest etcd snapshot on {{ $labels.instance }} is older than ${promDuration(bound)}, twice the schedule "${schedule}".`,
    description: `K3s stopped taking its scheduled snapshots: a restore would lose everything since. Do: journalctl -u k3s | grep -i snapshot on {{ $labels.instance }}; check free space in /var/lib/rancher/k3s/server/db/snapshots; k3s etcd-snapshot save takes one by hand.`,
    threshold: `newest snapshot older than ${promDuration(bound)} for 5m`,
    manualCheck: check,
  }, {
    alert: 'EtcdSnapshotsMissing',
    expr: `k3s_etcd_snapshot_files{job="${MetricsJob.NODE}"} == 0`,
    forSeconds: bound,
    severity: AlertSeverity.WARNING,
    summary: `No scheduled etcd snapshot on {{ $labels.instance }} for ${promDuration(bound)}, twice the schedule "${schedule}".`,
    description: 'K3s has taken no scheduled snapshot on this server: there is nothing to restore from. Do: check etcd-snapshot-schedule-cron in /etc/rancher/k3s/config.yaml and K3s\'s journal; k3s etcd-snapshot save takes one by hand.',
    threshold: `no snapshot for ${promDuration(bound)}`,
    manualCheck: check,
  }];
}

/** How long a backup may be too old before the alert fires: the textfile is refreshed within minutes. */
export const BACKUP_TOO_OLD_FOR_SECONDS = 300;
/** A certificate's expiry is published daily; the bound is a month, so a short `for` only rides out a restart. */
export const CERTIFICATE_EXPIRY_FOR_SECONDS = 600;

/**
 * The off-site backup jobs of the site (monitoring/backup-jobs.ts): one rule over all kinds, each kind bounded at twice
 * the longest gap of its own schedule; a host that never completed one (wrong credentials from the start) has no
 * sample at all, which BackupNeverSucceeded catches once its node_exporter has answered for that long.
 */
function backupRules(plan: SitePlan): AlertRule[] {
  const jobs = backupJobs(plan);
  if (jobs.length === 0) {
    return [];
  }
  const bound = (intervalSeconds: number) => promDuration(2 * intervalSeconds);
  const last = (kind: string) => `${BACKUP_LAST_SUCCESS_METRIC}{job="${MetricsJob.NODE}", kind="${kind}"}`;
  // A job that runs on any one of its hosts is one alert for them all, named after them.
  const asOne = (job: BackupJob, expr: string) => `label_replace(${expr}, "instance", "${job.hosts.join(', ')}", "", "")`;
  const arm = (job: BackupJob) => (job.anyHost
    ? `(${asOne(job, `time() - max by (kind) (${last(job.kind)})`)} > ${2 * job.intervalSeconds})`
    : `(time() - ${last(job.kind)} > ${2 * job.intervalSeconds})`);
  const neverArm = (job: BackupJob) => (job.anyHost
    ? `(${asOne(job, `label_replace(count(up{job="${MetricsJob.NODE}", instance=~"${job.hosts.join('|')}"} == 1) > 0, "kind", "${job.kind}", "", "")`)} `
      + `unless on(kind) count by (kind) (${last(job.kind)}))`
    : `(label_replace(up{job="${MetricsJob.NODE}", instance=~"${job.hosts.join('|')}"} == 1, "kind", "${job.kind}", "", "") `
      + `unless on(instance, kind) ${last(job.kind)})`);
  return [{
    alert: 'BackupTooOld',
    expr: jobs.map(arm).join(' or '),
    forSeconds: BACKUP_TOO_OLD_FOR_SECONDS,
    severity: AlertSeverity.WARNING,
    summary: 'The last {{ $labels.kind }} backup from {{ $labels.instance }} reached the backup target more than twice its schedule ago.',
    description: `A backup job stopped reaching ${plan.backup!.target.url}/${plan.backup!.target.bucket}: a restore would lose everything since its last success. `
      + `${jobs.map((job) => `${job.kind}: older than ${bound(job.intervalSeconds)}, twice the schedule "${job.schedule}"`).join('; ')}. `
      + `Do: ${jobs.map((job) => (jobs.length > 1 ? `(${job.kind}) ${job.runbook}` : job.runbook)).join('; ')}.`,
    threshold: jobs.map((job) => `${job.kind}: last success older than ${bound(job.intervalSeconds)} for ${promDuration(BACKUP_TOO_OLD_FOR_SECONDS)}`).join('; '),
    manualCheck: {
      command: `for f in ${NODE_EXPORTER_TEXTFILE_DIR}/pkh-backup-*.prom; do echo "$f: $(date -d @$(awk '/^${BACKUP_LAST_SUCCESS_METRIC}/ {print $2}' "$f"))"; done`,
      where: jobs.map((job) => `${job.anyHost ? 'the newest of' : 'each of'} ${job.hosts.join(', ')} (${job.kind})`).join('; '),
    },
  }, {
    alert: 'BackupNeverSucceeded',
    // Hosts of the job whose node_exporter answers but publish no last success of the job's kind.
    expr: jobs.map(neverArm).join(' or '),
    forSeconds: 2 * Math.max(...jobs.map((job) => job.intervalSeconds)),
    severity: AlertSeverity.WARNING,
    summary: 'No {{ $labels.kind }} backup from {{ $labels.instance }} has reached the backup target yet.',
    description: `The host has run for twice its schedule without one successful backup to ${plan.backup!.target.url}/${plan.backup!.target.bucket} (credentials, endpoint, bucket or CA wrong from the start): there is nothing to restore from. `
      + `Do: ${jobs.map((job) => (jobs.length > 1 ? `(${job.kind}) ${job.runbook}` : job.runbook)).join('; ')}.`,
    threshold: jobs.map((job) => `${job.kind}: no success published`).join('; ') + ` for ${promDuration(2 * Math.max(...jobs.map((job) => job.intervalSeconds)))}`,
    manualCheck: { command: `ls -l ${NODE_EXPORTER_TEXTFILE_DIR}/pkh-backup-*.prom`, where: jobs.map((job) => `${job.hosts.join(', ')} (${job.kind})`).join('; ') },
  }];
}

/** The certificates the stack generated (monitoring/certificate-expiry.ts), published daily by each host holding one. */
function certificateRules(plan: SitePlan): AlertRule[] {
  if (!siteHasGeneratedCertificates(plan)) {
    return [];
  }
  const days = CERTIFICATE_EXPIRY_BOUND_DAYS;
  return [{
    alert: 'CertificateExpiresWithin30Days',
    expr: `${CERTIFICATE_EXPIRY_METRIC}{job="${MetricsJob.NODE}"} - time() < ${days * 86_400}`,
    forSeconds: CERTIFICATE_EXPIRY_FOR_SECONDS,
    severity: AlertSeverity.WARNING,
    summary: `The certificate {{ $labels.path }} on {{ $labels.instance }} expires within ${days} days.`,
    description: 'Past its end the host\'s TLS connections fail (PostgreSQL, Patroni, etcd, the API). '
      + 'Do: for a host certificate (server.crt, member.crt) run terraform plan and terraform apply: Terraform renews it from a year before its end (early_renewal_hours) and the hosts using it re-converge one at a time, so this alert means no apply ran for months; '
      + 'a CA (a path ending in ca.crt) is not renewed automatically: plan its rotation now (every host must trust the new CA before any presents a certificate from it).',
    threshold: `notAfter less than ${days} days away, for ${promDuration(CERTIFICATE_EXPIRY_FOR_SECONDS)}`,
    manualCheck: { command: 'openssl x509 -enddate -noout -in <path>', where: 'the host named in the alert' },
  }];
}

/** K3s's and kubeadm's etcd serve their metrics in plain HTTP on every member. */
function clusterEtcdCheck(): ManualCheck {
  return { command: `curl -s http://<control-plane node>:${ETCD_METRICS_PORT}/metrics | grep -E '^etcd_server_(has_leader|is_leader) '`, where: 'a host on the site network, for each member' };
}

/** The datastore's etcd answers etcdctl on each member with the member's client certificate. */
function datastoreEtcdCheck(plan: SitePlan, member: string): ManualCheck {
  return { command: `${etcdctlCommand(plan, member)} endpoint status --cluster -w table`, where: member };
}

/** The alert rule groups of a site: only the rules that apply to it, with its numbers. */
export function siteAlertRuleGroups(plan: SitePlan): AlertRuleGroup[] {
  const counts = siteCounts(plan);
  const clusterEtcd = counts.hostsOf(MetricsJob.CLUSTER_ETCD).length;
  const datastoreEtcd = counts.hostsOf(MetricsJob.DATASTORE_ETCD);
  const groups: AlertRuleGroup[] = [
    { name: 'meta', rules: metaRules() },
    { name: 'load-balancers', rules: loadBalancerRules(plan, counts) },
    { name: 'cluster-etcd', rules: [...etcdRules(MetricsJob.CLUSTER_ETCD, 'Cluster', 'cluster', clusterEtcd, clusterEtcdCheck()), ...snapshotRules(plan)] },
    { name: 'datastore', rules: [...datastoreRules(plan, counts), ...(datastoreEtcd.length > 0 ? etcdRules(MetricsJob.DATASTORE_ETCD, 'Datastore', 'datastore', datastoreEtcd.length, datastoreEtcdCheck(plan, datastoreEtcd[0])) : [])] },
    { name: 'dns', rules: dnsRules(plan, counts) },
    { name: 'nodes', rules: nodeRules(plan) },
    { name: 'backups', rules: backupRules(plan) },
    { name: 'certificates', rules: certificateRules(plan) },
  ];
  return groups.filter((group) => group.rules.length > 0).map((group) => ({ ...group, name: `${plan.name}-${group.name}` }));
}

/** Alerts of the issue this site does not get, with the reason (the site docs list them). */
export function omittedAlerts(plan: SitePlan): OmittedAlert[] {
  const omitted: OmittedAlert[] = [];
  if (!siteHasGeneratedCertificates(plan)) {
    omitted.push({ alert: 'CertificateExpiresWithin30Days', reason: 'the site generates no certificate (no datastore TLS, no kubeadm cluster CA)' });
  }
  if (backupJobs(plan).length === 0) {
    omitted.push({
      alert: 'BackupTooOld',
      reason: plan.backup
        ? 'the PostgreSQL datastore is not backed up to the target yet, so there is no backup job to watch'
        : 'the site has no backup section, so there is no off-site backup to watch',
    });
  }
  return omitted;
}

/** A rule as Prometheus (and the operator's PrometheusRule `spec.groups[].rules[]`) reads it. */
export interface PrometheusAlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: { readonly severity: string; readonly site: string };
  readonly annotations: { readonly summary: string; readonly description: string };
}

/** The `groups` of a Prometheus rule file (also a PrometheusRule's `spec.groups`). */
export function prometheusRuleGroups(plan: SitePlan): { name: string; rules: PrometheusAlertingRule[] }[] {
  return siteAlertRuleGroups(plan).map((group) => ({
    name: group.name,
    rules: group.rules.map((rule) => ({
      alert: rule.alert,
      expr: rule.expr,
      ...(rule.forSeconds > 0 ? { for: promDuration(rule.forSeconds) } : {}),
      labels: { severity: rule.severity, site: plan.name },
      annotations: { summary: rule.summary, description: rule.description },
    })),
  }));
}

/** The site's Prometheus rule file (`promtool check rules` reads it). */
export function renderAlertRules(plan: SitePlan): string {
  return stringify({ groups: prometheusRuleGroups(plan) }, { lineWidth: 0 });
}
