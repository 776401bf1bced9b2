import { KEEPALIVED_SCRIPT_USER } from '../../../constructs/renderers';
import { medianMax } from '../../support/bench-stats';
import { ensureSystemUser, isRoot } from '../../support/netns';
import { hasCommand } from '../../support/tools';
import { DATASTORE_TOOLS, SCALED_NOTICE_MS, noPrimary, patroniFailover, startDatastoreAlertLab, stopEtcdMember } from './datastore-alerts';
import { FAILOVER_TOOLS, killHolderHaproxy, startFailoverAlertLab, stopHolderKeepalived } from './failover-alerts';
import { AlertTiming, FOR_SCALE, LAB_INTERVAL_SECONDS, ScaledRule, ScrapeCost, scrapeCosts } from './lab-prometheus';

/**
 * `npm run bench:alerts`: each fault of the alert labs BENCH_REPS times (default 5), printing per alert the median and
 * max of fault → pending (raw detection: Prometheus's activeAt), fault → firing (every `for` ÷ FOR_SCALE) and repair →
 * resolved; then the scrape cost per host job (series per scrape from scrape_samples_scraped, uncompressed bytes per
 * scrape from scrape_body_size_bytes). BENCH_ONLY=failover or datastore runs one lab. Needs root.
 */
const REPS = Number(process.env.BENCH_REPS ?? 5);
const ONLY = process.env.BENCH_ONLY;


interface Row {
  readonly fault: string;
  readonly timing: AlertTiming;
}

function timingTable(rows: readonly Row[], rules: readonly ScaledRule[]): string {
  const keys = [...new Set(rows.map((r) => `${r.timing.alert}|${r.fault}`))];
  const lines = ['alert | fault | for (raw → lab) | fault→pending ms | fault→firing ms | repair→resolved ms', '--- | --- | --- | --- | --- | ---'];
  for (const key of keys) {
    const [alert, fault] = key.split('|');
    const mine = rows.filter((r) => r.timing.alert === alert && r.fault === fault).map((r) => r.timing);
    const rule = rules.find((r) => r.alert === alert);
    lines.push(`${alert} | ${fault} | ${rule ? `${rule.forSeconds}s → ${rule.scaledForSeconds}s` : '?'} | ${medianMax(mine.map((t) => t.pendingMs))} | ${medianMax(mine.map((t) => t.firingMs))} | `
      + `${medianMax(mine.flatMap((t) => (t.resolvedMs === undefined ? [] : [t.resolvedMs])))}`);
  }
  return lines.join('\n');
}

function costTable(costs: readonly ScrapeCost[]): string {
  const lines = ['job | instance | series per scrape | bytes per scrape (uncompressed)', '--- | --- | --- | ---'];
  for (const cost of costs) {
    lines.push(`${cost.job} | ${cost.instance} | ${cost.series} | ${Number.isNaN(cost.bytes) ? 'n/a' : cost.bytes}`);
  }
  return lines.join('\n');
}

/** Root and every tool installed (a missing PostgreSQL is listed by a description with spaces, never a command). */
const canRun = (tools: readonly string[]) => isRoot() && tools.every((tool) => !tool.includes(' ') && hasCommand(tool));

const failoverTest = canRun(FAILOVER_TOOLS) && ONLY !== 'datastore' ? test : test.skip;
failoverTest(`alerts benchmark, failover lab (${REPS} repetitions, median / max)`, async () => {
  const removeUser = ensureSystemUser(KEEPALIVED_SCRIPT_USER);
  const lab = await startFailoverAlertLab();
  const rows: Row[] = [];
  try {
    for (let rep = 0; rep < REPS; rep++) {
      const bound = (alert: string) => lab.rules.find((r) => r.alert === alert)!.scaledForSeconds * 1000 + 30_000;
      rows.push({ fault: 'VIP holder\'s HAProxy killed', timing: (await killHolderHaproxy(lab, bound('LoadBalancersDown'))).timing });
      rows.push({ fault: 'VIP holder\'s Keepalived killed', timing: (await stopHolderKeepalived(lab, 'SIGKILL', bound('VipHasTwoHolders'))).timing! });
      process.stderr.write(`failover lab: repetition ${rep + 1}/${REPS} done\n`);
    }
    const costs = await scrapeCosts(lab.prometheus);
    process.stdout.write(`\nalerts benchmark, failover lab: every for ÷ ${FOR_SCALE}, scrape and evaluation every ${LAB_INTERVAL_SECONDS}s, median / max of ${REPS}\n`
      + `${timingTable(rows, lab.rules)}\n\nscrape cost per target\n${costTable(costs)}\n`);
    expect(rows).toHaveLength(2 * REPS);
    expect(costs.every((c) => c.series > 0)).toBe(true);
  } finally {
    await lab.watch.stop();
    lab.topology.lab.stop();
    removeUser();
  }
}, 4 * 3600_000);

const datastoreTest = canRun(DATASTORE_TOOLS) && ONLY !== 'failover' ? test : test.skip;
datastoreTest(`alerts benchmark, datastore lab (${REPS} repetitions, median / max)`, async () => {
  const lab = await startDatastoreAlertLab();
  const rows: Row[] = [];
  try {
    for (let rep = 0; rep < REPS; rep++) {
      const bound = (alert: string) => lab.rules.find((r) => r.alert === alert)!.scaledForSeconds * 1000 + 30_000;
      rows.push({ fault: 'an etcd member stopped', timing: (await stopEtcdMember(lab, bound('DatastoreEtcdMembersMissing'))).timing });
      rows.push({ fault: 'primary\'s Patroni stopped (failover)', timing: (await patroniFailover(lab, 120_000)).timing });
      rows.push({ fault: 'Patroni stopped on both nodes', timing: (await noPrimary(lab, bound('PatroniNoPrimary'))).timing });
      process.stderr.write(`datastore lab: repetition ${rep + 1}/${REPS} done\n`);
    }
    const costs = await scrapeCosts(lab.prometheus);
    process.stdout.write(`\nalerts benchmark, datastore lab: every for ÷ ${FOR_SCALE} (PatroniFailover's window ${SCALED_NOTICE_MS / 1000}s), scrape and evaluation every ${LAB_INTERVAL_SECONDS}s, `
      + `median / max of ${REPS}\n${timingTable(rows, lab.rules)}\n\nscrape cost per target\n${costTable(costs)}\n`);
    expect(rows).toHaveLength(3 * REPS);
    expect(costs.every((c) => c.series > 0)).toBe(true);
  } finally {
    await lab.stop();
  }
}, 4 * 3600_000);
