// Series that make each generated alert fire, and series on which it must stay silent (a healthy site, a rolling
// update), built from the site's own hosts and numbers. They become `promtool test rules` files.
import { stringify } from 'yaml';
import { AlertRule, REPLICATION_LAG_BOUND_BYTES, ROLLOUT_BOUND_SECONDS } from '../../../constructs/monitoring/alert-rules';
import { BackupJob, backupJobs } from '../../../constructs/monitoring/backup-jobs';
import { generatedCertificatePaths } from '../../../constructs/monitoring/certificate-expiry';
import { MetricsJob, metricsEndpoints } from '../../../constructs/monitoring/metrics-endpoints';
import { POSTGRES_SYNCHRONOUS_STANDBYS_METRIC } from '../../../constructs/monitoring/postgres-synchronous';
import { longestScheduleGapSeconds } from '../../../constructs/monitoring/snapshot-schedule';
import { SitePlan, controlPlaneHosts, workerHosts } from '../../../constructs/site/plan';

/** Scrape and rule evaluation interval of every scenario, in seconds. */
export const STEP = 15;

type Labels = Record<string, string>;

/** One input series: labels and promtool's expanding notation (`1x3 0x2 stale`). */
export interface Series {
  readonly metric: string;
  readonly labels: Labels;
  readonly values: string;
}

/** An alert expected to fire: its labels from the expression's result and its `$value`. */
export interface ExpectedAlert {
  readonly labels: Labels;
  readonly value?: number;
}

/** At `at` seconds exactly `alerts` of the rule fire. */
export interface Check {
  readonly at: number;
  readonly alerts: readonly ExpectedAlert[];
}

/** A named set of series with checks. */
export interface Scenario {
  readonly name: string;
  /** Seconds between samples and between rule evaluations. @default STEP */
  readonly step?: number;
  readonly series: readonly Series[];
  readonly checks: readonly Check[];
}

/** The scenarios of one alert: fires on its failure, silent on a healthy site and (when it applies) a rolling update. */
export interface AlertScenarios {
  readonly failing: Scenario;
  readonly healthy?: Scenario;
  readonly rolling?: Scenario;
  /** Why there is no healthy or rolling scenario. */
  readonly without?: string;
}

/** A value held for `seconds` (whole steps), or a stale marker (the target went away), or no sample (`_`). */
type Part = readonly [number | '_', number] | 'stale';

/** promtool notation for consecutive parts: `[1, 60]` is four samples of 1. */
export function samples(...parts: readonly Part[]): string {
  return samplesEvery(STEP, ...parts);
}

/** {@link samples} with `step` seconds between samples (long scenarios, whose rules look at hours). */
export function samplesEvery(step: number, ...parts: readonly Part[]): string {
  return parts.map((part) => {
    if (part === 'stale') {
      return 'stale';
    }
    const [value, seconds] = part;
    const count = Math.max(1, Math.round(seconds / step));
    return `${value}x${count - 1}`;
  }).join(' ');
}

const series = (metric: string, labels: Labels, values: string): Series => ({ metric, labels, values });

/** Evaluation times every `every` seconds from `from` to `to`, each expecting silence. */
function silentFrom(from: number, to: number, every = 120): Check[] {
  const checks: Check[] = [];
  for (let at = from; at <= to; at += every) {
    checks.push({ at, alerts: [] });
  }
  return checks;
}

/**
 * The failure scenario's checks: silent one step before `for` has passed since `onset`, firing once it has (plus one
 * step: the first evaluation that sees the failure starts the pending time).
 */
function firesAfterFor(rule: AlertRule, onset: number, alerts: readonly ExpectedAlert[], step = STEP): Check[] {
  const fire = onset + rule.forSeconds + step;
  return [
    ...(rule.forSeconds > 0 ? [{ at: onset + rule.forSeconds - step, alerts: [] }] : []),
    { at: fire, alerts },
  ];
}

/** Hosts (by name) with a scrape target of `job`. */
function hostsOf(plan: SitePlan, job: MetricsJob): string[] {
  return metricsEndpoints(plan).filter((endpoint) => endpoint.job === job).map((endpoint) => endpoint.host);
}

/** Each of `hosts` out for `outSeconds` in turn, `gapSeconds` apart; `value`/`outValue` build the series. */
function rollingSeries(hosts: readonly string[], outSeconds: number, gapSeconds: number, make: (host: string, parts: Part[]) => Series, outValue: number | 'stale', inValue: number): { series: Series[]; end: number } {
  const slot = outSeconds + gapSeconds;
  const series = hosts.map((host, i) => {
    const parts: Part[] = [[inValue, gapSeconds + i * slot]];
    parts.push(...(outValue === 'stale' ? ['stale' as const, ['_', outSeconds - STEP] as const] : [[outValue, outSeconds] as const]));
    parts.push([inValue, (hosts.length - i) * slot]);
    return make(host, parts);
  });
  return { series, end: gapSeconds + hosts.length * slot };
}

const ONSET = 300;
const LONG = 3600;

/** The scenarios of `rule` on `plan`; throws for an alert without scenarios, so a new rule cannot go untested. */
export function scenariosFor(plan: SitePlan, rule: AlertRule): AlertScenarios {
  const endOf = (rule.forSeconds > 0 ? rule.forSeconds : 60) + ONSET + 10 * STEP;
  const healthy = (name: string, all: Series[], to = endOf): Scenario => ({ name, series: all, checks: silentFrom(0, to) });
  const lbs = hostsOf(plan, MetricsJob.HAPROXY);
  const servers = controlPlaneHosts(plan).filter((host) => !host.decommission).length;
  switch (rule.alert) {
    case 'Watchdog':
      return {
        failing: { name: 'always fires', series: [series('up', { job: 'node', instance: plan.hosts[0].name }, samples([1, 120]))], checks: [{ at: 0, alerts: [{ labels: {} }] }, { at: 120, alerts: [{ labels: {} }] }] },
        without: 'the Watchdog fires on every series by design',
      };
    case 'HostMetricsDown': {
      const hosts = hostsOf(plan, MetricsJob.NODE);
      const up = (host: string, parts: Part[]) => series('up', { job: 'node', instance: host }, samples(...parts));
      const rolling = rollingSeries(hosts.slice(0, 3), 120, 120, up, 0, 1);
      return {
        failing: {
          name: `${hosts[0]}'s node_exporter stops answering`,
          series: hosts.map((host, i) => up(host, i === 0 ? [[1, ONSET], [0, LONG]] : [[1, ONSET + LONG]])),
          checks: firesAfterFor(rule, ONSET, [{ labels: { job: 'node', instance: hosts[0] } }]),
        },
        healthy: healthy('every host answers', hosts.map((host) => up(host, [[1, LONG]]))),
        rolling: { name: 'hosts restart node_exporter one at a time, 2m each', series: rolling.series, checks: silentFrom(0, rolling.end) },
      };
    }
    case 'LoadBalancersDown': {
      const up = (host: string, parts: Part[]) => series('up', { job: 'haproxy', instance: host }, samples(...parts));
      const rolling = rollingSeries(lbs, 30, 120, up, 0, 1);
      return {
        failing: {
          name: `${lbs[0]}'s HAProxy stops`,
          series: lbs.map((host, i) => up(host, i === 0 ? [[1, ONSET], [0, LONG]] : [[1, ONSET + LONG]])),
          checks: firesAfterFor(rule, ONSET, [{ labels: {}, value: lbs.length - 1 }]),
        },
        healthy: healthy('every HAProxy answers', lbs.map((host) => up(host, [[1, LONG]]))),
        rolling: { name: 'each HAProxy restarts for 30s in turn', series: rolling.series, checks: silentFrom(0, rolling.end, 30) },
      };
    }
    case 'VipHasNoHolder':
    case 'VipHasTwoHolders': {
      const state = (host: string, parts: Part[]) => series('keepalived_vrrp_state', { job: 'node', instance: host, vrrp_instance: 'VI_API' }, samples(...parts));
      const holderAlone = lbs.map((host, i) => state(host, [[i === 0 ? 1 : 0, LONG]]));
      // A failover: the holder drops and the next takes the VIP within one scrape, then the first takes it back (preemption).
      const failover = lbs.map((host, i) => state(host, i === 0 ? [[1, ONSET], [0, 60], [1, LONG]] : i === 1 ? [[0, ONSET], [1, 60], [0, LONG]] : [[0, ONSET + 60 + LONG]]));
      const failing = rule.alert === 'VipHasNoHolder'
        ? { name: `${lbs[0]} loses the VIP and no one takes it`, series: lbs.map((host, i) => state(host, i === 0 ? [[1, ONSET], [0, LONG]] : [[0, ONSET + LONG]])), alerts: [{ labels: {} }] }
        : { name: `${lbs[1] ?? lbs[0]} takes the VIP while ${lbs[0]} keeps it`, series: lbs.map((host, i) => state(host, i === 0 ? [[1, ONSET + LONG]] : i === 1 ? [[0, ONSET], [1, LONG]] : [[0, ONSET + LONG]])), alerts: [{ labels: {}, value: 2 }] };
      return {
        failing: { name: failing.name, series: failing.series, checks: firesAfterFor(rule, ONSET, failing.alerts) },
        healthy: healthy(`${lbs[0]} holds the VIP alone`, holderAlone),
        ...(lbs.length > 1 ? { rolling: { name: 'the VIP moves to the next load balancer for 1m and back', series: failover, checks: silentFrom(0, ONSET + 600, 15) } } : {}),
      };
    }
    case 'ApiServersOutOfRotation':
    case 'IngressBackendsOutOfRotation': {
      const proxy = rule.alert === 'ApiServersOutOfRotation' ? 'k3s_api' : 'ingress_https';
      const active = (host: string, parts: Part[]) => series('haproxy_backend_active_servers', { job: 'haproxy', instance: host, proxy }, samples(...parts));
      // A rolling update takes each server out for 8m (under the 10m bound), one after another.
      const out = ROLLOUT_BOUND_SECONDS - 120;
      const slots = Array.from({ length: servers }, (_, i) => i);
      const rollingParts: Part[] = [[servers, 60], ...slots.flatMap((): Part[] => [[servers - 1, out], [servers, 60]])];
      const end = 60 + servers * (out + 60);
      return {
        failing: {
          name: 'one server leaves rotation on every load balancer',
          series: lbs.map((host) => active(host, [[servers, ONSET], [servers - 1, 2 * ROLLOUT_BOUND_SECONDS]])),
          checks: firesAfterFor(rule, ONSET, lbs.map((host) => ({ labels: { job: 'haproxy', instance: host, proxy }, value: servers - 1 }))),
        },
        healthy: healthy('every server in rotation', lbs.map((host) => active(host, [[servers, 2 * ROLLOUT_BOUND_SECONDS]])), 2 * ROLLOUT_BOUND_SECONDS),
        rolling: { name: `each of ${servers} servers out for ${out / 60}m in turn`, series: lbs.map((host) => active(host, rollingParts)), checks: silentFrom(0, end, 60) },
      };
    }
    case 'ClusterEtcdMembersMissing':
    case 'ClusterEtcdQuorumLost':
    case 'ClusterEtcdNoLeader':
    case 'DatastoreEtcdMembersMissing':
    case 'DatastoreEtcdQuorumLost':
    case 'DatastoreEtcdNoLeader': {
      const job = rule.alert.startsWith('Cluster') ? MetricsJob.CLUSTER_ETCD : MetricsJob.DATASTORE_ETCD;
      const members = hostsOf(plan, job);
      const quorum = Math.floor(members.length / 2) + 1;
      const hasLeader = (host: string, parts: Part[]) => series('etcd_server_has_leader', { job, instance: host }, samples(...parts));
      const allUp = members.map((host) => hasLeader(host, [[1, 2 * LONG]]));
      // A rolling update restarts one member at a time: its target is gone for the restart.
      const restart = rule.alert.endsWith('MembersMissing') ? ROLLOUT_BOUND_SECONDS - 120 : 45;
      const rolling = rollingSeries(members, restart, 120, hasLeader, 'stale', 1);
      const rollingScenario = { name: `each member restarts for ${restart}s in turn`, series: rolling.series, checks: silentFrom(0, rolling.end, 60) };
      if (rule.alert.endsWith('NoLeader')) {
        return {
          failing: {
            name: `${members[0]} loses its leader`,
            series: members.map((host, i) => hasLeader(host, i === 0 ? [[1, ONSET], [0, LONG]] : [[1, ONSET + LONG]])),
            checks: firesAfterFor(rule, ONSET, [{ labels: { job, instance: members[0] } }]),
          },
          healthy: healthy('every member has a leader', allUp),
          rolling: { name: 'a restarted member has no leader for 30s', series: members.map((host, i) => hasLeader(host, i === 0 ? [[1, ONSET], [0, 30], [1, LONG]] : [[1, ONSET + LONG]])), checks: silentFrom(0, ONSET + 600, 15) },
        };
      }
      const lost = rule.alert.endsWith('MembersMissing') ? 1 : members.length - quorum + 1;
      const failing = members.map((host, i) => hasLeader(host, i < lost ? [[1, ONSET], 'stale'] : [[1, ONSET + 2 * LONG]]));
      return {
        failing: { name: `${lost} of ${members.length} members stop`, series: failing, checks: firesAfterFor(rule, ONSET, [{ labels: {}, value: members.length - lost }]) },
        healthy: healthy('every member up with a leader', allUp),
        // One member of an etcd of one or two is its quorum: a restart there is an outage, and the alert is right.
        ...(rule.alert.endsWith('QuorumLost') && members.length < 3 ? {} : { rolling: rollingScenario }),
      };
    }
    case 'PatroniNoPrimary':
    case 'PatroniMembersMissing':
    case 'PatroniNoSyncStandby':
    case 'PostgresNotSynchronous':
    case 'PatroniReplicationLag':
    case 'PatroniFailover':
      return patroniScenarios(plan, rule);
    case 'DnsServersDown':
    case 'DnsSecondaryZoneStale':
      return dnsScenarios(plan, rule);
    case 'NodeNotReady': {
      const nodes = [...new Set([...controlPlaneHosts(plan), ...workerHosts(plan)])].filter((host) => !host.decommission).map((host) => host.name);
      const ready = (node: string, parts: Part[]) => series('kube_node_status_condition', { condition: 'Ready', status: 'true', node }, samples(...parts));
      const rolling = rollingSeries(nodes, 120, 120, ready, 0, 1);
      return {
        failing: {
          name: `${nodes[0]} goes NotReady`,
          series: nodes.map((node, i) => ready(node, i === 0 ? [[1, ONSET], [0, 2 * ROLLOUT_BOUND_SECONDS]] : [[1, ONSET + 2 * ROLLOUT_BOUND_SECONDS]])),
          checks: firesAfterFor(rule, ONSET, [{ labels: { condition: 'Ready', status: 'true', node: nodes[0] } }]),
        },
        healthy: healthy('every node Ready', nodes.map((node) => ready(node, [[1, 2 * ROLLOUT_BOUND_SECONDS]]))),
        rolling: { name: 'each node restarts its kubelet (NotReady for 2m) in turn', series: rolling.series, checks: silentFrom(0, rolling.end, 60) },
      };
    }
    case 'EtcdSnapshotTooOld':
    case 'EtcdSnapshotsMissing':
      return snapshotScenarios(plan, rule);
    case 'BackupTooOld':
      return backupScenarios(plan, rule);
    case 'BackupNeverSucceeded':
      return backupNeverScenarios(plan, rule);
    case 'CertificateExpiresWithin30Days':
      return certificateScenarios(plan, rule);
    case 'DiskFillsWithin24h': {
      const host = plan.hosts[0].name;
      const fs = (mountpoint: string, fstype: string, values: string) => series('node_filesystem_avail_bytes', { job: 'node', instance: host, mountpoint, fstype, device: fstype === 'tmpfs' ? 'tmpfs' : '/dev/sda1' }, values);
      const hours = 8;
      // Hours of data: a sample and an evaluation a minute keep promtool quick.
      const step = 60;
      const count = (hours * 3600) / step;
      // 20 GB free, then 1 GB an hour less: at the last 6 h's rate it is gone within 24 h.
      const perStep = Math.round(1e9 / (3600 / step));
      const onset = 3600;
      return {
        failing: {
          name: `/ on ${host} loses 1 GB an hour with 20 GB left`,
          series: [fs('/', 'ext4', `20000000000x${3600 / step - 1} 20000000000-${perStep}x${count}`)],
          checks: [{ at: onset + step, alerts: [] }, { at: hours * 3600, alerts: [{ labels: { job: 'node', instance: host, mountpoint: '/', fstype: 'ext4', device: '/dev/sda1' } }] }],
          step,
        },
        healthy: {
          name: '/ steady; a tmpfs fills fast (ignored)',
          series: [fs('/', 'ext4', `20000000000x${count}`), fs('/run', 'tmpfs', `100000000-${Math.round(1e8 / count)}x${count}`)],
          checks: silentFrom(3600, hours * 3600, 1800),
          step,
        },
        without: 'a rolling update does not fill disks',
      };
    }
    default:
      throw new Error(`alert ${rule.alert} has no test scenarios: add them to test/monitoring/cluster/alert-scenarios.ts`);
  }
}

function patroniScenarios(plan: SitePlan, rule: AlertRule): AlertScenarios {
  const nodes = hostsOf(plan, MetricsJob.PATRONI);
  const labels = (host: string) => ({ job: 'patroni', instance: host, scope: plan.name });
  const metric = (name: string) => (host: string, parts: Part[]) => series(name, labels(host), samples(...parts));
  const end = ONSET + rule.forSeconds + 20 * STEP;
  const [primary, replica] = nodes;
  switch (rule.alert) {
    case 'PatroniNoPrimary': {
      const isPrimary = metric('patroni_primary');
      return {
        failing: { name: `${primary} stops being primary and no replica is promoted`, series: nodes.map((host, i) => isPrimary(host, i === 0 ? [[1, ONSET], [0, LONG]] : [[0, ONSET + LONG]])), checks: firesAfterFor(rule, ONSET, [{ labels: {} }]) },
        healthy: { name: `${primary} primary`, series: nodes.map((host, i) => isPrimary(host, [[i === 0 ? 1 : 0, LONG]])), checks: silentFrom(0, end) },
        rolling: {
          name: `switchover to ${replica}: 30s without a primary`,
          series: nodes.map((host, i) => isPrimary(host, i === 0 ? [[1, ONSET], [0, LONG]] : i === 1 ? [[0, ONSET + 30], [1, LONG]] : [[0, ONSET + LONG]])),
          checks: silentFrom(0, end, 15),
        },
      };
    }
    case 'PatroniMembersMissing': {
      const running = metric('patroni_postgres_running');
      const out = ROLLOUT_BOUND_SECONDS - 120;
      const rolling = rollingSeries(nodes, out, 120, running, 'stale', 1);
      return {
        failing: { name: `${replica}'s Patroni stops`, series: nodes.map((host, i) => running(host, i === 1 ? [[1, ONSET], 'stale'] : [[1, ONSET + LONG]])), checks: firesAfterFor(rule, ONSET, [{ labels: {}, value: nodes.length - 1 }]) },
        healthy: { name: 'every node runs PostgreSQL', series: nodes.map((host) => running(host, [[1, LONG]])), checks: silentFrom(0, end) },
        rolling: { name: `each node out for ${out / 60}m in turn`, series: rolling.series, checks: silentFrom(0, rolling.end, 60) },
      };
    }
    case 'PatroniNoSyncStandby': {
      const sync = metric('patroni_sync_standby');
      const restart = rule.forSeconds - 45;
      return {
        failing: { name: `${replica} stops being the sync standby`, series: nodes.map((host, i) => sync(host, i === 1 ? [[1, ONSET], [0, LONG]] : [[0, ONSET + LONG]])), checks: firesAfterFor(rule, ONSET, [{ labels: {} }]) },
        healthy: { name: `${replica} is the sync standby`, series: nodes.map((host, i) => sync(host, [[i === 1 ? 1 : 0, LONG]])), checks: silentFrom(0, end) },
        rolling: { name: `${replica} restarts: no sync standby for ${restart}s`, series: nodes.map((host, i) => sync(host, i === 1 ? [[1, ONSET], [0, restart], [1, LONG]] : [[0, ONSET + LONG]])), checks: silentFrom(0, end, 15) },
      };
    }
    case 'PostgresNotSynchronous': {
      const sync = metric('patroni_sync_standby');
      // The textfile metric comes through node_exporter; a replica publishes no sample.
      const waitsFor = (host: string, parts: Part[]) => series(POSTGRES_SYNCHRONOUS_STANDBYS_METRIC, { job: 'node', instance: host }, samples(...parts));
      const namedSync = nodes.map((host, i) => sync(host, [[i === 1 ? 1 : 0, ONSET + LONG]]));
      return {
        failing: {
          name: `${primary}'s Patroni restarts beside its running PostgreSQL: ${replica} stays Sync Standby, PostgreSQL waits for none`,
          series: [...namedSync, waitsFor(primary, [[1, ONSET], [0, LONG]])],
          checks: firesAfterFor(rule, ONSET, [{ labels: {} }]),
        },
        healthy: { name: `${primary} waits for ${replica}`, series: [...namedSync, waitsFor(primary, [[1, ONSET + LONG]])], checks: silentFrom(0, end) },
        rolling: {
          // The timer runs every minute and the scrape comes later: a 0 taken just before Patroni named the new standby
          // stays up to 90 s.
          name: `switchover to ${replica}: ${primary}'s sample goes, ${replica}'s 0 from before Patroni named ${primary} stays 90s`,
          series: [
            ...nodes.map((host, i) => sync(host, i === 0 ? [[0, ONSET + 15], [1, LONG]] : i === 1 ? [[1, ONSET], [0, LONG]] : [[0, ONSET + LONG]])),
            waitsFor(primary, [[1, ONSET], 'stale']),
            waitsFor(replica, [['_', ONSET], [0, 90], [1, LONG]]),
          ],
          checks: silentFrom(0, end, 15),
        },
      };
    }
    case 'PatroniReplicationLag': {
      const position = 10_000_000_000;
      const small = 1_000_000;
      const big = REPLICATION_LAG_BOUND_BYTES + 10_000_000;
      // Replicas report position 0 as patroni_xlog_location (Patroni's /metrics); only the primary's counts.
      const fixed = (host: string, primaryPosition: number) => [
        series('patroni_xlog_location', labels(host), samples([host === primary ? primaryPosition : 0, 2 * LONG])),
        series('patroni_replica', labels(host), samples([host === primary ? 0 : 1, 2 * LONG])),
      ];
      const replayed = (parts: Part[]) => nodes.filter((host) => host !== primary).map((host) => series('patroni_xlog_replayed_location', labels(host), samples(...parts)));
      const base = nodes.flatMap((host) => fixed(host, position));
      return {
        failing: {
          name: `${replica} falls ${big} bytes behind`,
          series: [...base, ...replayed([[position - small, ONSET], [position - big, LONG]])],
          checks: firesAfterFor(rule, ONSET, nodes.filter((host) => host !== primary).map((host) => ({ labels: labels(host) }))),
        },
        healthy: { name: 'replicas 1 MB behind', series: [...base, ...replayed([[position - small, LONG]])], checks: silentFrom(0, end) },
        rolling: { name: 'a restarted replica catches up within 2m', series: [...base, ...replayed([[position - small, ONSET], [position - big, 120], [position - small, LONG]])], checks: silentFrom(0, end, 15) },
      };
    }
    case 'PatroniFailover': {
      const timeline = metric('patroni_postgres_timeline');
      const onset = 1200;
      return {
        failing: {
          name: `${primary} fails and ${replica} is promoted (timeline 1 → 2)`,
          series: nodes.map((host, i) => timeline(host, i === 0 ? [[1, onset], 'stale'] : [[1, onset], [2, 2 * LONG]])),
          checks: [{ at: onset - STEP, alerts: [] }, { at: onset + STEP, alerts: [{ labels: {}, value: 2 }] }, { at: onset + 900 + 2 * STEP, alerts: [] }],
        },
        healthy: { name: 'timeline 1 throughout', series: nodes.map((host) => timeline(host, [[1, 2 * LONG]])), checks: silentFrom(0, 2 * onset) },
        rolling: { name: `${replica} restarts (timeline 0 while PostgreSQL is down)`, series: nodes.map((host, i) => timeline(host, i === 1 ? [[1, onset], [0, 60], [1, LONG]] : [[1, onset + 60 + LONG]])), checks: silentFrom(0, 2 * onset + 600, 60) },
      };
    }
    default:
      throw new Error(`alert ${rule.alert} has no test scenarios`);
  }
}

function snapshotScenarios(plan: SitePlan, rule: AlertRule): AlertScenarios {
  const servers = hostsOf(plan, MetricsJob.CLUSTER_ETCD);
  const gap = longestScheduleGapSeconds(plan.controlPlane.etcdSnapshotScheduleCron);
  const labels = (host: string) => ({ job: 'node', instance: host });
  // Hours of data: samples and evaluations every 5m keep promtool quick.
  const step = 300;
  if (rule.alert === 'EtcdSnapshotsMissing') {
    const files = (host: string, parts: Part[]) => series('k3s_etcd_snapshot_files', labels(host), samplesEvery(step, ...parts));
    const end = ONSET + 3 * gap;
    return {
      failing: { name: `${servers[0]} takes no snapshot`, series: servers.map((host, i) => files(host, i === 0 ? [[0, end]] : [[3, end]])), checks: firesAfterFor(rule, 0, [{ labels: labels(servers[0]) }], step), step },
      healthy: { name: 'every server keeps 3 snapshots', series: servers.map((host) => files(host, [[3, end]])), checks: silentFrom(0, end, 1800), step },
      rolling: { name: 'a new server has none until its first scheduled snapshot', series: servers.map((host, i) => files(host, i === 0 ? [[0, gap], [1, end]] : [[3, end]])), checks: silentFrom(0, end, 1800), step },
    };
  }
  // The newest snapshot's time: a new one every `gap` seconds (time() in promtool starts at 0).
  const periods = 4;
  const onTime = (until: number): Part[] => Array.from({ length: Math.ceil(until / gap) }, (_, i): Part => [i * gap, gap]);
  const last = (host: string, parts: Part[]) => series('k3s_etcd_snapshot_last_timestamp_seconds', labels(host), samplesEvery(step, ...parts));
  const stopAt = gap;
  const end = periods * gap;
  return {
    failing: {
      name: `${servers[0]} takes no snapshot after the first`,
      series: servers.map((host, i) => last(host, i === 0 ? [[0, stopAt], [stopAt, end]] : onTime(end))),
      // The rule's bound is counted from the last snapshot (at stopAt); it then holds for its `for`.
      checks: firesAfterFor(rule, stopAt + 2 * gap, [{ labels: labels(servers[0]) }], step),
      step,
    },
    healthy: { name: `a snapshot every ${gap / 3600}h on every server`, series: servers.map((host) => last(host, onTime(end))), checks: silentFrom(0, end - step, 1800), step },
    rolling: {
      name: 'a server restarts (its metrics absent for 10m)',
      series: servers.map((host, i) => last(host, i === 0 ? [[0, gap], [gap, gap], 'stale', ['_', 2 * step], [2 * gap, end]] : onTime(end))),
      checks: silentFrom(0, end - step, 1800),
      step,
    },
  };
}

/** Every backup job's hosts publish their last success; the first host of the first job stops succeeding. */
function backupScenarios(plan: SitePlan, rule: AlertRule): AlertScenarios {
  const [job] = backupJobs(plan);
  if (job.anyHost) {
    return anyHostBackupScenarios(job, rule);
  }
  const gap = job.intervalSeconds;
  const labels = (host: string) => ({ job: 'node', instance: host, kind: job.kind });
  // Hours of data: samples and evaluations every 5m keep promtool quick.
  const step = 300;
  const end = 4 * gap;
  // A success at the start of every interval (time() in promtool starts at 0).
  const onTime = (until: number): Part[] => Array.from({ length: Math.ceil(until / gap) }, (_, i): Part => [i * gap, gap]);
  const last = (host: string, parts: Part[]) => series('pkh_backup_last_success_timestamp_seconds', labels(host), samplesEvery(step, ...parts));
  const [first] = job.hosts;
  return {
    failing: {
      name: `${first}'s ${job.kind} backup stops succeeding after the one at ${gap}s`,
      series: job.hosts.map((host) => last(host, host === first ? [[0, gap], [gap, end]] : onTime(end))),
      // Twice the interval after the last success, then its `for`.
      checks: firesAfterFor(rule, gap + 2 * gap, [{ labels: labels(first) }], step),
      step,
    },
    healthy: { name: `a ${job.kind} backup every ${promDurationText(gap)} from every host`, series: job.hosts.map((host) => last(host, onTime(end))), checks: silentFrom(0, end - step, 1800), step },
    rolling: {
      name: `${first} restarts (its metrics absent for 10m) and its next backup runs on time`,
      series: job.hosts.map((host) => last(host, host === first ? [[0, gap], [gap, gap], 'stale', ['_', 2 * step], [2 * gap, end]] : onTime(end))),
      checks: silentFrom(0, end - step, 1800),
      step,
    },
  };
}

/** The job's hosts answer on node_exporter; whether each publishes a last success decides the alert. */
function backupNeverScenarios(plan: SitePlan, rule: AlertRule): AlertScenarios {
  const [job] = backupJobs(plan);
  if (job.anyHost) {
    return anyHostBackupNeverScenarios(job, rule);
  }
  const gap = job.intervalSeconds;
  const step = 300;
  const end = 4 * gap;
  const [first] = job.hosts;
  const up = (host: string) => series('up', { job: 'node', instance: host }, samplesEvery(step, [1, end]));
  const last = (host: string, parts: Part[]) => series('pkh_backup_last_success_timestamp_seconds', { job: 'node', instance: host, kind: job.kind }, samplesEvery(step, ...parts));
  // Hosts that are not the job's (a worker, a load balancer) never publish one and must not count.
  const bystander = plan.hosts.map((host) => host.name).find((host) => !job.hosts.includes(host));
  const ups = [...job.hosts, ...(bystander ? [bystander] : [])].map(up);
  return {
    failing: {
      name: `${first} never publishes a ${job.kind} backup (the others back up on time)`,
      series: [...ups, ...job.hosts.filter((host) => host !== first).map((host) => last(host, [[0, end]]))],
      checks: firesAfterFor(rule, 0, [{ labels: { job: 'node', instance: first, kind: job.kind } }], step),
      step,
    },
    healthy: { name: 'every host of the job published a success', series: [...ups, ...job.hosts.map((host) => last(host, [[0, end]]))], checks: silentFrom(0, end - step, 1800), step },
    rolling: {
      name: `a new ${first} publishes its first success one interval after it came up`,
      series: [...ups, ...job.hosts.map((host) => last(host, host === first ? [['_', gap], [gap, end - gap]] : [[0, end]]))],
      checks: silentFrom(0, end - step, 1800),
      step,
    },
  };
}

/**
 * A job that backs up from whichever host is the primary (the datastore's pgBackRest): the replica publishes nothing,
 * a former primary keeps its last success; one alert for the hosts together.
 */
function anyHostBackupScenarios(job: BackupJob, rule: AlertRule): AlertScenarios {
  const gap = job.intervalSeconds;
  const step = 300;
  const end = 4 * gap;
  const labels = (host: string) => ({ job: 'node', instance: host, kind: job.kind });
  const onTime = (from: number, until: number): Part[] => Array.from({ length: Math.ceil((until - from) / gap) }, (_, i): Part => [from + i * gap, gap]);
  const last = (host: string, parts: Part[]) => series('pkh_backup_last_success_timestamp_seconds', labels(host), samplesEvery(step, ...parts));
  const [primary, replica] = job.hosts;
  return {
    failing: {
      name: `the primary ${primary}'s backups stop after the one at ${gap}s; the replica ${replica} publishes none`,
      series: [last(primary, [[0, gap], [gap, end]])],
      checks: firesAfterFor(rule, 3 * gap, [{ labels: { kind: job.kind, instance: job.hosts.join(', ') } }], step),
      step,
    },
    healthy: { name: `${primary} backs up every ${promDurationText(gap)}; the replica publishes nothing`, series: [last(primary, onTime(0, end))], checks: silentFrom(0, end - step, 3600), step },
    rolling: {
      name: `a failover at ${2 * gap}s: ${primary} keeps its last success, ${replica} backs up on time from then on`,
      series: [last(primary, [...onTime(0, 2 * gap), [gap, end - 2 * gap]]), last(replica, [['_', 2 * gap], ...onTime(2 * gap, end)])],
      checks: silentFrom(0, end - step, 3600),
      step,
    },
  };
}

/** An any-host job publishes nothing on any of its hosts (wrong from the start), or only on the primary (healthy). */
function anyHostBackupNeverScenarios(job: BackupJob, rule: AlertRule): AlertScenarios {
  const gap = job.intervalSeconds;
  const step = 300;
  const end = 4 * gap;
  const up = (host: string) => series('up', { job: 'node', instance: host }, samplesEvery(step, [1, end]));
  const last = (host: string, parts: Part[]) => series('pkh_backup_last_success_timestamp_seconds', { job: 'node', instance: host, kind: job.kind }, samplesEvery(step, ...parts));
  const [primary] = job.hosts;
  return {
    failing: { name: `no host of ${job.hosts.join(', ')} publishes a ${job.kind} backup`, series: job.hosts.map(up), checks: firesAfterFor(rule, 0, [{ labels: { kind: job.kind, instance: job.hosts.join(', ') } }], step), step },
    healthy: { name: `only the primary ${primary} publishes one`, series: [...job.hosts.map(up), last(primary, [[0, end]])], checks: silentFrom(0, end - step, 3600), step },
    rolling: {
      name: `the first backup succeeds one interval after the hosts came up`,
      series: [...job.hosts.map(up), last(primary, [['_', gap], [gap, end - gap]])],
      checks: silentFrom(0, end - step, 3600),
      step,
    },
  };
}

/** `21600` → `6h` for scenario names. */
const promDurationText = (seconds: number): string => (seconds % 3600 === 0 ? `${seconds / 3600}h` : `${seconds}s`);

/** Each host's generated certificates with an end of validity (time() in promtool starts at 0). */
function certificateScenarios(plan: SitePlan, rule: AlertRule): AlertScenarios {
  const DAY = 86_400;
  const holders = plan.hosts.filter((host) => generatedCertificatePaths(plan, host).length > 0);
  const labels = (host: string, path: string) => ({ job: 'node', instance: host, path });
  const all = (value: (host: string, path: string, i: number) => Part[]): Series[] => holders.flatMap((host) => generatedCertificatePaths(plan, host)
    .map((path, i) => series('pkh_certificate_expiry_timestamp_seconds', labels(host.name, path), samples(...value(host.name, path, i)))));
  const [host] = holders;
  const [path] = generatedCertificatePaths(plan, host);
  const onset = 3600;
  const end = onset + rule.forSeconds + 20 * STEP;
  return {
    failing: {
      // Valid for 30 days and 1 hour at time 0: the 30-day bound is crossed at 1h.
      name: `${path} on ${host.name} reaches 30 days before its end (the others 400 days away)`,
      series: all((h, p) => [[h === host.name && p === path ? 30 * DAY + onset : 400 * DAY, end]]),
      checks: firesAfterFor(rule, onset, [{ labels: labels(host.name, path) }]),
    },
    healthy: { name: 'every certificate 400 days from its end', series: all(() => [[400 * DAY, end]]), checks: silentFrom(0, end) },
    rolling: {
      name: `Terraform renews ${path} at 31 days left (400 days again) and ${host.name} reboots (metrics absent 1m)`,
      series: all((h, p) => (h === host.name && p === path ? [[31 * DAY, onset], 'stale', ['_', 60 - STEP], [400 * DAY, end]] : [[400 * DAY, end + onset]])),
      checks: silentFrom(0, end, 60),
    },
  };
}

function dnsScenarios(plan: SitePlan, rule: AlertRule): AlertScenarios {
  const servers = hostsOf(plan, MetricsJob.BIND);
  const end = ONSET + rule.forSeconds + 20 * STEP;
  if (rule.alert === 'DnsServersDown') {
    const up = (host: string, parts: Part[]) => series('bind_up', { job: 'bind', instance: host }, samples(...parts));
    const rolling = rollingSeries(servers, 60, 120, up, 0, 1);
    return {
      failing: { name: `${servers[0]}'s named stops`, series: servers.map((host, i) => up(host, i === 0 ? [[1, ONSET], [0, LONG]] : [[1, ONSET + LONG]])), checks: firesAfterFor(rule, ONSET, [{ labels: {}, value: servers.length - 1 }]) },
      healthy: { name: 'every named answers', series: servers.map((host) => up(host, [[1, LONG]])), checks: silentFrom(0, end) },
      rolling: { name: 'each named restarts for 1m in turn', series: rolling.series, checks: silentFrom(0, rolling.end, 30) },
    };
  }
  const zone = plan.dns!.zone;
  const [primary, secondary] = servers;
  const serial = (host: string, parts: Part[]) => series('bind_zone_serial', { job: 'bind', instance: host, view: '_default', zone_name: zone }, samples(...parts));
  return {
    failing: {
      name: `${primary} serves a new serial that ${secondary} never transfers`,
      series: servers.map((host) => serial(host, host === primary ? [[1111, ONSET], [2222, LONG]] : [[1111, ONSET + LONG]])),
      checks: firesAfterFor(rule, ONSET, servers.filter((host) => host !== primary).map((host) => ({ labels: { job: 'bind', instance: host, view: '_default', zone_name: zone } }))),
    },
    healthy: { name: 'every server serves the same serial', series: servers.map((host) => serial(host, [[1111, LONG]])), checks: silentFrom(0, end) },
    rolling: {
      name: 'a new zone reaches the secondaries 1m after the primary',
      series: servers.map((host) => serial(host, host === primary ? [[1111, ONSET], [2222, LONG]] : [[1111, ONSET + 60], [2222, LONG]])),
      checks: silentFrom(0, end, 30),
    },
  };
}

/** `{{ $labels.x }}` and `{{ $value }}` filled in as Prometheus renders them; any other template is a test error. */
export function renderAnnotation(template: string, alert: ExpectedAlert): string {
  const text = template
    .replace(/\{\{ \$labels\.([a-zA-Z_]+) \}\}/g, (_, name: string) => {
      if (alert.labels[name] === undefined) {
        throw new Error(`annotation "${template}" uses label ${name}, which the expected alert has not`);
      }
      return alert.labels[name];
    })
    .replace(/\{\{ \$value \}\}/g, () => {
      if (alert.value === undefined) {
        throw new Error(`annotation "${template}" uses $value, which the expected alert does not give`);
      }
      return String(alert.value);
    });
  if (text.includes('{{')) {
    throw new Error(`annotation "${template}" uses a template the test cannot render`);
  }
  return text;
}

/** A `promtool test rules` file for `scenarios` of one rule. */
export function promtoolTestFile(plan: SitePlan, rule: AlertRule, scenarios: readonly Scenario[], ruleFile: string): string {
  const seriesText = (s: Series) => `${s.metric}{${Object.entries(s.labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`;
  return stringify({
    rule_files: [ruleFile],
    evaluation_interval: `${Math.min(...scenarios.map((scenario) => scenario.step ?? STEP))}s`,
    tests: scenarios.map((scenario) => ({
      name: `${rule.alert}: ${scenario.name}`,
      interval: `${scenario.step ?? STEP}s`,
      input_series: scenario.series.map((s) => ({ series: seriesText(s), values: s.values })),
      alert_rule_test: scenario.checks.map((check) => ({
        eval_time: `${check.at}s`,
        alertname: rule.alert,
        exp_alerts: check.alerts.map((alert) => ({
          exp_labels: { ...alert.labels, severity: rule.severity, site: plan.name },
          exp_annotations: { summary: renderAnnotation(rule.summary, alert), description: renderAnnotation(rule.description, alert) },
        })),
      })),
    })),
  }, { lineWidth: 0 });
}
