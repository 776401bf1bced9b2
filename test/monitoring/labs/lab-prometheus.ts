import { ChildProcess, execFile } from 'child_process';
import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { parse, stringify } from 'yaml';
import { FAILOVER_NOTICE_SECONDS, prometheusRuleGroups, promDuration, siteAlertRuleGroups } from '../../../constructs/monitoring/alert-rules';
import { MetricsEndpoint } from '../../../constructs/monitoring/metrics-endpoints';
import { renderPrometheusScrapeConfig } from '../../../constructs/monitoring/scrape-configs';
import { SitePlan } from '../../../constructs';

/**
 * A real Prometheus (Debian's) inside a lab's network namespace, loading the generated scrape config (filtered to
 * the targets the lab runs) and a TEST copy of the generated rules with every `for` divided by {@link FOR_SCALE}.
 * The generator is never changed: the scaling happens here, on its output. The API is reached with curl inside the
 * namespace (the lab's addresses are not routed to this machine's own namespace).
 */

/** Every `for` (and PatroniFailover's notice window) is divided by this in the labs; `ALERT_FOR_SCALE` overrides it. */
export const FOR_SCALE = Number(process.env.ALERT_FOR_SCALE ?? 10);
/** Scrape and evaluation interval in the labs: the generated 15 s, shortened so a lab test takes seconds. */
export const LAB_INTERVAL_SECONDS = 1;
/** Prometheus's port inside the lab namespace it runs in (on the namespace's loopback). */
export const LAB_PROMETHEUS_PORT = 9090;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every `stepMs` until it returns a value or `deadlineMs` passes (errors count as "not yet"). */
export async function pollFor<T>(what: string, probe: () => Promise<T | undefined>, deadlineMs = 30_000, stepMs = 250): Promise<T> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    try {
      const value = await probe();
      if (value !== undefined) {
        return value;
      }
    } catch {
      // not up yet
    }
    await sleep(stepMs);
  }
  throw new Error(`${what}: not within ${deadlineMs} ms`);
}

/** One alert of the test copy: its name and its `for`, raw (the generator's) and scaled. */
export interface ScaledRule {
  readonly alert: string;
  readonly forSeconds: number;
  readonly scaledForSeconds: number;
}

/**
 * The generated rule groups whose name ends in one of `groups` (e.g. `meta`, `load-balancers`), with every `for`
 * and PatroniFailover's notice window (its subquery range) divided by `scale` (at least 1 s). Groups about parts a lab does not run are left
 * out by the caller, so their alerts cannot fire for want of a target.
 */
export function scaledRules(plan: SitePlan, groups: readonly string[], scale = FOR_SCALE): { yaml: string; rules: ScaledRule[] } {
  if (!(scale >= 1)) {
    throw new Error(`ALERT_FOR_SCALE: ${scale} is not a number >= 1`);
  }
  const wanted = (name: string) => groups.some((group) => name === `${plan.name}-${group}`);
  const raw = new Map(siteAlertRuleGroups(plan).flatMap((group) => group.rules.map((rule) => [rule.alert, rule.forSeconds] as const)));
  const scaled = (seconds: number) => (seconds === 0 ? 0 : Math.max(1, Math.round(seconds / scale)));
  const notice = `[${promDuration(FAILOVER_NOTICE_SECONDS)}:]`;
  const rules: ScaledRule[] = [];
  const out = prometheusRuleGroups(plan).filter((group) => wanted(group.name)).map((group) => ({
    ...group,
    rules: group.rules.map((rule) => {
      const forSeconds = raw.get(rule.alert) ?? 0;
      rules.push({ alert: rule.alert, forSeconds, scaledForSeconds: scaled(forSeconds) });
      let expr = rule.expr;
      if (rule.alert === 'PatroniFailover') {
        if (!expr.includes(notice)) {
          throw new Error(`PatroniFailover: expected "${notice}" in its expr to scale, got ${JSON.stringify(expr)}`);
        }
        expr = expr.replace(notice, `[${promDuration(scaled(FAILOVER_NOTICE_SECONDS))}:]`);
      }
      const { for: _generatedFor, ...rest } = rule;
      return { ...rest, expr, ...(forSeconds > 0 ? { for: promDuration(scaled(forSeconds)) } : {}) };
    }),
  }));
  const missing = groups.filter((group) => !out.some((g) => g.name === `${plan.name}-${group}`));
  if (missing.length > 0) {
    throw new Error(`rule groups ${missing.join(', ')}: not generated for site ${plan.name}`);
  }
  return { yaml: stringify({ groups: out }, { lineWidth: 0 }), rules };
}

/** The generated prometheus.yml for `endpoints`, scraped and evaluated every {@link LAB_INTERVAL_SECONDS}. */
export function labScrapeConfig(plan: SitePlan, endpoints: readonly MetricsEndpoint[], ruleFile: string, secretsDir?: string): string {
  const config = parse(renderPrometheusScrapeConfig(plan, { ruleFiles: [ruleFile], endpoints, ...(secretsDir ? { secretsDir } : {}) })) as { global: Record<string, unknown> };
  config.global.scrape_interval = `${LAB_INTERVAL_SECONDS}s`;
  config.global.evaluation_interval = `${LAB_INTERVAL_SECONDS}s`;
  config.global.scrape_timeout = `${LAB_INTERVAL_SECONDS}s`;
  return stringify(config, { lineWidth: 0 });
}

/**
 * node_exporter's arguments on a lab host: its textfile directory (Keepalived's VRRP state) and only collectors that
 * read the host's own namespace or cheap counters. The filesystem and disk collectors are off: in a lab namespace
 * they would read this machine's shared mounts, not the host's, and make the disk forecast depend on other work here.
 */
export function nodeExporterArgs(ip: string, port: number, textfileDir: string): string[] {
  return [`--web.listen-address=${ip}:${port}`, '--collector.disable-defaults', '--collector.textfile', `--collector.textfile.directory=${textfileDir}`,
    '--collector.netdev', '--collector.loadavg', '--collector.meminfo', '--collector.time'];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** An alert as Prometheus's `/api/v1/alerts` returns it. */
export interface LabAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly state: 'pending' | 'firing';
  readonly activeAt: string;
  readonly value: string;
}

/** RFC 3339 with nanoseconds → epoch ms (cut to milliseconds first: Date.parse wants at most 3 fraction digits). */
export const epochMs = (rfc3339: string): number => Date.parse(rfc3339.replace(/(\.\d{3})\d*/, '$1'));

export class LabPrometheus {
  public child?: ChildProcess;

  constructor(public readonly namespace: string, public readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Writes the config and rules and starts Prometheus with `spawnIn` (the lab's way to run a process in `namespace`). */
  public start(config: string, rules: string, spawnIn: (command: string, args: readonly string[]) => ChildProcess): void {
    writeFileSync(join(this.dir, 'prometheus.yml'), config);
    writeFileSync(join(this.dir, 'rules.yml'), rules);
    // extra-scrape-metrics adds scrape_body_size_bytes per target: the bench's bytes per scrape.
    this.child = spawnIn('prometheus', [`--config.file=${join(this.dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(this.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${LAB_PROMETHEUS_PORT}`, '--enable-feature=extra-scrape-metrics']);
  }

  /** `data` of `GET /api/v1/<path>` asked inside the namespace (2 s bound); throws when it does not answer. */
  public api(path: string): Promise<Json> {
    return new Promise((resolve, reject) => {
      execFile('ip', ['netns', 'exec', this.namespace, 'curl', '-sf', '-m', '2', `http://127.0.0.1:${LAB_PROMETHEUS_PORT}/api/v1/${path}`],
        { encoding: 'utf8', timeout: 5_000, killSignal: 'SIGKILL' }, (error, stdout) => {
          if (error) {
            reject(new Error(`prometheus /api/v1/${path}: ${error.message}`));
            return;
          }
          try {
            resolve((JSON.parse(stdout) as Json).data);
          } catch (parseError) {
            reject(parseError);
          }
        });
    });
  }

  public async alerts(): Promise<LabAlert[]> {
    return (await this.api('alerts')).alerts as LabAlert[];
  }

  /** An instant query's result vector. */
  public async query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    return (await this.api(`query?query=${encodeURIComponent(promql)}`)).result;
  }

  /** Active targets' `instance` labels of `job` that are up. */
  public async upInstances(job: string): Promise<string[]> {
    const targets: Json[] = (await this.api('targets?state=active')).activeTargets;
    return targets.filter((t) => t.labels.job === job && t.health === 'up').map((t) => t.labels.instance as string).sort();
  }

  /** Waits (bounded) until every expected instance of every job is up; throws naming the targets that are not. */
  public async waitTargetsUp(expected: Record<string, readonly string[]>, deadlineMs: number): Promise<void> {
    let last: Json[] = [];
    const ok = await pollFor('targets up', async () => {
      last = (await this.api('targets?state=active')).activeTargets;
      return Object.entries(expected).every(([job, instances]) => instances.every((instance) => last.some((t) => t.labels.job === job && t.labels.instance === instance && t.health === 'up')))
        ? true : undefined;
    }, deadlineMs).catch(() => false);
    if (!ok) {
      const down = last.filter((t) => t.health !== 'up').map((t) => `${t.labels.job}/${t.labels.instance} ${t.health}: ${t.lastError}`);
      throw new Error(`targets not all up within ${deadlineMs} ms (expected ${JSON.stringify(expected)}); not up: ${down.join('; ') || '(none listed yet)'}`);
    }
  }
}

/** Scrape cost of one target: series (samples) per scrape and the uncompressed body's bytes, from Prometheus's own metrics. */
export interface ScrapeCost {
  readonly job: string;
  readonly instance: string;
  readonly series: number;
  readonly bytes: number;
}

export async function scrapeCosts(prometheus: LabPrometheus): Promise<ScrapeCost[]> {
  const series = await prometheus.query('scrape_samples_scraped');
  const bytes = await prometheus.query('scrape_body_size_bytes');
  return series.map((s) => ({
    job: s.metric.job, instance: s.metric.instance, series: Number(s.value[1]),
    bytes: Number(bytes.find((b) => b.metric.job === s.metric.job && b.metric.instance === s.metric.instance)?.value[1] ?? NaN),
  })).sort((a, b) => a.job.localeCompare(b.job) || a.instance.localeCompare(b.instance));
}

/** One poll of the alerts: when it was answered, and each alert's name and state. */
interface AlertSample {
  readonly t: number;
  readonly alerts: readonly { readonly name: string; readonly state: string; readonly activeAt: number }[];
}

/** Polls `/api/v1/alerts` every {@link WATCH_STEP_MS} in the background, keeping every answer (bounded in time). */
export const WATCH_STEP_MS = 250;

export class AlertWatch {
  public readonly samples: AlertSample[] = [];
  private running = true;
  private readonly done: Promise<void>;

  constructor(private readonly prometheus: LabPrometheus, maxMs = 3 * 3600_000) {
    const end = Date.now() + maxMs;
    this.done = (async () => {
      while (this.running && Date.now() < end) {
        try {
          const alerts = await prometheus.alerts();
          this.samples.push({ t: Date.now(), alerts: alerts.map((a) => ({ name: a.labels.alertname, state: a.state, activeAt: epochMs(a.activeAt) })) });
        } catch {
          // Prometheus not up yet, or busy: the next poll tells
        }
        await sleep(WATCH_STEP_MS);
      }
    })();
  }

  public async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  /** The alert names seen in `state` (any state when omitted) in samples taken at or after `from` (and before `to`). */
  public seen(from: number, to = Infinity, state?: 'pending' | 'firing'): Set<string> {
    return new Set(this.samples.filter((s) => s.t >= from && s.t < to).flatMap((s) => s.alerts.filter((a) => state === undefined || a.state === state).map((a) => a.name)));
  }

  /**
   * Waits (bounded) until `name` is firing in a sample after `from`; returns when it became active (Prometheus's
   * `activeAt`: the evaluation that first saw the condition, i.e. pending) and when a poll first saw it firing.
   */
  public async waitFiring(name: string, from: number, deadlineMs: number): Promise<{ activeAt: number; firingAt: number }> {
    return pollFor(`${name} firing`, async () => {
      const sample = this.samples.find((s) => s.t >= from && s.alerts.some((a) => a.name === name && a.state === 'firing'));
      const alert = sample?.alerts.find((a) => a.name === name);
      return sample && alert ? { activeAt: alert.activeAt, firingAt: sample.t } : undefined;
    }, deadlineMs, 100);
  }

  /** Waits (bounded) until a sample after `from` has none of `names`; returns that sample's time. */
  public async waitResolved(names: readonly string[], from: number, deadlineMs: number): Promise<number> {
    return pollFor(`${names.join(', ')} resolved`, async () => this.samples.find((s) => s.t >= from && !s.alerts.some((a) => names.includes(a.name)))?.t, deadlineMs, 100);
  }

  /** Waits (bounded) until `quietMs` of samples after `from` show nothing but `allowed`; throws naming what else was active. */
  public async waitQuiet(allowed: readonly string[], from: number, quietMs: number, deadlineMs: number): Promise<number> {
    let lastOther: string[] = [];
    try {
      return await pollFor('quiet', async () => {
        const after = this.samples.filter((s) => s.t >= from);
        const lastNoisy = [...after].reverse().find((s) => s.alerts.some((a) => !allowed.includes(a.name)));
        lastOther = lastNoisy ? lastNoisy.alerts.filter((a) => !allowed.includes(a.name)).map((a) => `${a.name} (${a.state})`) : [];
        const quietSince = lastNoisy ? lastNoisy.t + 1 : (after[0]?.t ?? Infinity);
        return after.length > 0 && after[after.length - 1].t - quietSince >= quietMs ? quietSince : undefined;
      }, deadlineMs, 200);
    } catch {
      throw new Error(`not ${quietMs} ms with only ${allowed.join(', ')} active within ${deadlineMs} ms; last also active: ${lastOther.join(', ') || '(no samples)'}`);
    }
  }
}

/** Fault → pending (raw detection) and fault → firing at scale, for one alert, in ms. */
export interface AlertTiming {
  readonly alert: string;
  readonly pendingMs: number;
  readonly firingMs: number;
  readonly resolvedMs?: number;
}

export function formatTiming(t: AlertTiming, rules: readonly ScaledRule[]): string {
  const rule = rules.find((r) => r.alert === t.alert);
  return `${t.alert}: fault→pending ${t.pendingMs} ms, fault→firing ${t.firingMs} ms (for ${rule ? `${promDuration(rule.forSeconds) || '0s'} ÷ ${FOR_SCALE} = ${rule.scaledForSeconds}s` : '?'}, `
    + `scrape and evaluation every ${LAB_INTERVAL_SECONDS}s)${t.resolvedMs !== undefined ? `, repair→resolved ${t.resolvedMs} ms` : ''}`;
}
