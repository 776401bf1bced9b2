import { spawn, spawnSync } from 'child_process';
import { copyFileSync, mkdirSync, openSync, writeFileSync } from 'fs';
import { join } from 'path';
import { FAILOVER_NOTICE_SECONDS } from '../../../constructs/monitoring/alert-rules';
import { MetricsJob, metricsEndpoints } from '../../../constructs/monitoring/metrics-endpoints';
import { DATASTORE_TLS_SECRET } from '../../../constructs/monitoring/scrape-configs';
import { LAB_TOOLS, PatroniLab, installedPostgresVersion } from '../../datastore/lab/patroni-lab';
import { AlertTiming, AlertWatch, FOR_SCALE, LabPrometheus, ScaledRule, labScrapeConfig, scaledRules } from './lab-prometheus';

/**
 * The datastore lab (test/datastore/lab/patroni-lab.ts: real etcd on db-1, db-2 and the witness server-1, Patroni
 * with PostgreSQL on db-1 and db-2, HAProxy's writer endpoint on server-1, all TLS from the rendered files) with a
 * real Prometheus on the K3s server server-2, which scrapes Patroni's and etcd's `/metrics` over TLS with the
 * datastore CA and a client certificate of that CA (as the generated scrape config expects: DATASTORE_TLS_SECRET),
 * and HAProxy's exporter on server-1. Rules: the meta and datastore groups; the load-balancer rules are left out (the
 * lab runs one of the plan's three load balancers, without Keepalived), and no node_exporter runs here.
 */

export const DATASTORE_VERSION = installedPostgresVersion();
export const DATASTORE_TOOLS = [...LAB_TOOLS, 'prometheus', ...(DATASTORE_VERSION === undefined ? ['postgresql (/usr/lib/postgresql/<v>/bin)'] : [])];
export const DATASTORE_RULE_GROUPS = ['meta', 'datastore'];

/** A client certificate (clientAuth) for Prometheus, signed by the lab's datastore CA in `caDir`. */
function issueClientCertificate(caDir: string, dir: string, commonName: string): { cert: string; key: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'ext.cnf'), 'basicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = clientAuth\n');
  for (const args of [
    ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', `/CN=${commonName}`],
    ['x509', '-req', '-in', 'tls.csr', '-CA', join(caDir, 'ca.crt'), '-CAkey', join(caDir, 'ca.key'), '-set_serial', '900', '-days', '2', '-extfile', 'ext.cnf', '-out', 'tls.crt'],
  ]) {
    const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    if (result.status !== 0) {
      throw new Error(`openssl ${args[0]} (Prometheus's client certificate): ${result.stderr}`);
    }
  }
  return { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key') };
}

export interface DatastoreAlertLab {
  readonly lab: PatroniLab;
  readonly prometheus: LabPrometheus;
  readonly watch: AlertWatch;
  readonly rules: readonly ScaledRule[];
  stop(): Promise<void>;
}

/** Starts the datastore lab (every etcd member up), then Prometheus; resolves once every target is up. */
export async function startDatastoreAlertLab(): Promise<DatastoreAlertLab> {
  const lab = new PatroniLab(DATASTORE_VERSION!);
  let prometheusPid: number | undefined;
  const stopPrometheus = () => {
    try {
      process.kill(-prometheusPid!, 'SIGKILL');
    } catch {
      // not started, or gone
    }
  };
  try {
    await lab.start();
    const plan = lab.plan;
    const witness = lab.witness.name;
    const endpoints = metricsEndpoints(plan).filter((e) => e.job === MetricsJob.PATRONI || e.job === MetricsJob.DATASTORE_ETCD || (e.job === MetricsJob.HAPROXY && e.host === witness));
    const dir = join(lab.workDir, 'prometheus');
    const secrets = join(dir, 'secrets');
    const tlsDir = join(secrets, DATASTORE_TLS_SECRET);
    const client = issueClientCertificate(join(lab.workDir, 'ca'), tlsDir, 'prometheus');
    copyFileSync(lab.caCertificate, join(tlsDir, 'ca.crt'));
    const rules = scaledRules(plan, DATASTORE_RULE_GROUPS);
    const prometheus = new LabPrometheus(lab.client.namespace, dir);
    const config = labScrapeConfig(plan, endpoints, 'rules.yml', secrets);
    if (!config.includes(client.cert) || !config.includes(client.key)) {
      throw new Error(`the generated scrape config does not use ${secrets}/${DATASTORE_TLS_SECRET}/tls.{crt,key} for the datastore etcd:\n${config}`);
    }
    prometheus.start(config, rules.yaml, (command, args) => {
      const out = openSync(join(lab.workDir, 'prometheus.log'), 'a');
      const child = spawn('ip', ['netns', 'exec', lab.client.namespace, command, ...args], { stdio: ['ignore', out, out], detached: true });
      prometheusPid = child.pid;
      return child;
    });
    const expected: Record<string, string[]> = {};
    for (const endpoint of endpoints) {
      (expected[endpoint.job] ??= []).push(endpoint.host);
    }
    await prometheus.waitTargetsUp(expected, 60_000);
    const watch = new AlertWatch(prometheus);
    return {
      lab, prometheus, watch, rules: rules.rules,
      stop: async () => {
        await watch.stop();
        stopPrometheus();
        lab.stop();
      },
    };
  } catch (error) {
    stopPrometheus();
    lab.stop();
    throw error;
  }
}

/** PatroniFailover's notice window in the test copy (its subquery range, scaled like every `for`). */
export const SCALED_NOTICE_MS = Math.max(1, Math.round(FAILOVER_NOTICE_SECONDS / FOR_SCALE)) * 1000;

/** What a fault showed: the alert's timing, and the alerts seen firing from the fault to the end of the repair. */
export interface DatastoreFaultResult {
  readonly timing: AlertTiming;
  readonly firing: Set<string>;
  /** Alerts seen pending or firing from the fault to the repair. */
  readonly seen: Set<string>;
}

/**
 * Stops the witness's etcd member (SIGTERM, as systemctl stop does): DatastoreEtcdMembersMissing must fire; started
 * again, every alert but the Watchdog clears.
 */
export async function stopEtcdMember(d: DatastoreAlertLab, firingBoundMs: number): Promise<DatastoreFaultResult> {
  await d.watch.waitQuiet(['Watchdog'], Date.now(), 2_000, 120_000);
  const member = d.lab.witness.name;
  const faultAt = Date.now();
  await d.lab.stopEtcd(member);
  const { activeAt, firingAt } = await d.watch.waitFiring('DatastoreEtcdMembersMissing', faultAt, firingBoundMs);
  const repairAt = Date.now();
  const seen = d.watch.seen(faultAt, repairAt);
  const firing = d.watch.seen(faultAt, repairAt, 'firing');
  d.lab.startEtcd(member);
  const resolvedAt = await d.watch.waitResolved(['DatastoreEtcdMembersMissing'], repairAt, 60_000);
  await d.watch.waitQuiet(['Watchdog'], repairAt, 2_000, 120_000);
  return { timing: { alert: 'DatastoreEtcdMembersMissing', pendingMs: activeAt - faultAt, firingMs: firingAt - faultAt, resolvedMs: resolvedAt - repairAt }, firing, seen };
}

/**
 * A Patroni failover: Patroni on the primary stopped (SIGTERM: it stops PostgreSQL and releases the leader key, the
 * standby takes over), then started again to rejoin as a replica. PatroniFailover must fire; once the cluster is
 * healthy and the notice window has passed, every alert but the Watchdog clears. No history is needed first: the
 * rule compares with the lowest timeline of the window, whatever part of it Prometheus has.
 */
export async function patroniFailover(d: DatastoreAlertLab, firingBoundMs: number): Promise<DatastoreFaultResult & { newLeader: string; oldLeader: string }> {
  await d.lab.waitHealthy(180_000);
  await d.watch.waitQuiet(['Watchdog'], Date.now(), 2_000, SCALED_NOTICE_MS + 120_000);
  const old = (await d.lab.leader())!.name;
  const faultAt = Date.now();
  await d.lab.stopPatroni(old);
  const { activeAt, firingAt } = await d.watch.waitFiring('PatroniFailover', faultAt, firingBoundMs);
  d.lab.startPatroni(old);
  const members = await d.lab.waitHealthy(180_000);
  const repairAt = Date.now();
  const seen = d.watch.seen(faultAt, repairAt);
  const firing = d.watch.seen(faultAt, repairAt, 'firing');
  const others = d.rules.map((r) => r.alert).filter((a) => a !== 'Watchdog' && a !== 'PatroniFailover');
  await d.watch.waitResolved(others, repairAt, 120_000);
  const resolvedAt = await d.watch.waitResolved(['PatroniFailover'], repairAt, SCALED_NOTICE_MS + 60_000);
  return {
    timing: { alert: 'PatroniFailover', pendingMs: activeAt - faultAt, firingMs: firingAt - faultAt, resolvedMs: resolvedAt - repairAt },
    firing, seen, oldLeader: old, newLeader: members.find((m) => m.role === 'leader')!.name,
  };
}

/**
 * No primary for longer than PatroniNoPrimary's `for`: Patroni stopped on the standby, then on the primary (both
 * SIGTERM, a clean shutdown), then the old primary started again, and once it leads, the standby. PatroniNoPrimary
 * must fire; the leader's timeline before and after (Patroni's `/cluster`) tell whether PatroniFailover should.
 */
export async function noPrimary(d: DatastoreAlertLab, firingBoundMs: number): Promise<DatastoreFaultResult & { timelineBefore?: number; timelineAfter?: number }> {
  const members = await d.lab.waitHealthy(180_000);
  const timelineBefore = members.find((m) => m.role === 'leader')!.timeline;
  await d.watch.waitQuiet(['Watchdog'], Date.now(), 2_000, SCALED_NOTICE_MS + 120_000);
  const primary = members.find((m) => m.role === 'leader')!.name;
  const standby = d.lab.other(primary).name;
  await d.lab.stopPatroni(standby);
  const faultAt = Date.now();
  await d.lab.stopPatroni(primary);
  const { activeAt, firingAt } = await d.watch.waitFiring('PatroniNoPrimary', faultAt, firingBoundMs);
  const repairAt = Date.now();
  // The old primary first, so it (not a promoted standby) takes the leader key again: no new timeline.
  d.lab.startPatroni(primary);
  let leader: string | undefined;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && (leader = (await d.lab.leader())?.name) !== primary) {
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  if (leader !== primary) {
    throw new Error(`${primary} restarted alone did not become the leader again within 120 s (leader: ${leader ?? 'none'})`);
  }
  d.lab.startPatroni(standby);
  const timelineAfter = (await d.lab.waitHealthy(180_000)).find((m) => m.role === 'leader')!.timeline;
  const seen = d.watch.seen(faultAt, Date.now());
  const firing = d.watch.seen(faultAt, Date.now(), 'firing');
  const resolvedAt = await d.watch.waitResolved(['PatroniNoPrimary'], repairAt, 120_000);
  await d.watch.waitQuiet(['Watchdog'], resolvedAt, 2_000, 120_000);
  return { timing: { alert: 'PatroniNoPrimary', pendingMs: activeAt - faultAt, firingMs: firingAt - faultAt, resolvedMs: resolvedAt - repairAt }, firing, seen, timelineBefore, timelineAfter };
}
