// A real Prometheus loads the generated prometheus.yml (the lab's load balancers remapped to loopback ports) and the
// generated rules, scrapes three real HAProxy processes standing in for the lab's load balancers, and sees a stopped
// HAProxy: the target goes down and LoadBalancersDown becomes pending. Loopback only; every wait is bounded.
import { ChildProcess, spawn } from 'child_process';
import { rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import { renderAlertRules, siteAlertRuleGroups } from '../../../constructs/monitoring/alert-rules';
import { MetricsEndpoint, MetricsJob, metricsEndpoints } from '../../../constructs/monitoring/metrics-endpoints';
import { renderPrometheusScrapeConfig } from '../../../constructs/monitoring/scrape-configs';
import { loadSites } from '../../../sites';
import { describeWithTools } from '../../support/tools';
import { freePort } from '../../support/free-port';
import { Json, pollFor } from '../labs/lab-prometheus';
import { blockTempDir } from '../../support/block-temp-dir';

/** Scrape and evaluation interval in the test: the generated 15 s, shortened so the test takes seconds. */
const TEST_INTERVAL = '1s';

describeWithTools(['prometheus', 'haproxy'], 'a real Prometheus with the generated scrape config and rules', () => {
  const site = loadSites().find((plan) => plan.name === 'lab')!;
  const dir = blockTempDir('pkh-real-scrape-');
  const haproxies = new Map<string, ChildProcess>();
  let prometheus: ChildProcess | undefined;
  let api = '';
  const get = async (path: string): Promise<Json> => ((await (await fetch(`${api}${path}`, { signal: AbortSignal.timeout(2000) })).json()) as Json).data;

  beforeAll(async () => {
    // The lab's load balancer endpoints, each remapped to its own loopback port with a real HAProxy behind it.
    const endpoints: MetricsEndpoint[] = [];
    for (const endpoint of metricsEndpoints(site).filter((e) => e.job === MetricsJob.HAPROXY)) {
      const port = await freePort();
      endpoints.push({ ...endpoint, ip: '127.0.0.1', port });
      // Every API server of the backend is the stats frontend itself, so all are UP (3 of 3 in rotation).
      writeFileSync(join(dir, `${endpoint.host}.cfg`), [
        'defaults', '  mode http', '  timeout connect 1s', '  timeout client 5s', '  timeout server 5s',
        'frontend stats', `  bind 127.0.0.1:${port}`, '  http-request use-service prometheus-exporter if { path /metrics }',
        'backend k3s_api', '  mode tcp', ...[1, 2, 3].map((i) => `  server s${i} 127.0.0.1:${port} check inter 200ms`),
        '',
      ].join('\n'));
      haproxies.set(endpoint.host, spawn('haproxy', ['-db', '-f', join(dir, `${endpoint.host}.cfg`)], { stdio: 'ignore' }));
    }
    const config = renderPrometheusScrapeConfig(site, { ruleFiles: ['rules.yml'], endpoints })
      .replace(/scrape_interval: 15s/, `scrape_interval: ${TEST_INTERVAL}`).replace(/evaluation_interval: 15s/, `evaluation_interval: ${TEST_INTERVAL}`);
    writeFileSync(join(dir, 'prometheus.yml'), config);
    writeFileSync(join(dir, 'rules.yml'), renderAlertRules(site));
    const port = await freePort();
    api = `http://127.0.0.1:${port}/api/v1`;
    prometheus = spawn('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
    ], { cwd: dir, stdio: 'ignore' });
  }, 30_000);

  afterAll(() => {
    prometheus?.kill('SIGKILL');
    haproxies.forEach((child) => child.kill('SIGKILL'));
    rmSync(dir, { recursive: true, force: true });
  });

  test('scrapes every load balancer under its host name and loads every generated rule', async () => {
    const lbs = site.loadBalancer!.nodes.map((node) => node.name).sort();
    const up = await pollFor('all HAProxy targets up', async () => {
      const targets: Json[] = (await get('/targets')).activeTargets;
      const healthy = targets.filter((t) => t.labels.job === 'haproxy' && t.health === 'up').map((t) => t.labels.instance).sort();
      return healthy.length === lbs.length ? healthy : undefined;
    });
    expect(up).toEqual(lbs);
    const rules: Json[] = (await get('/rules')).groups.flatMap((group: Json) => group.rules);
    const generated = siteAlertRuleGroups(site).flatMap((group) => group.rules.map((rule) => rule.alert));
    expect(rules.map((rule) => rule.name).sort()).toEqual([...generated].sort());
    expect(rules.filter((rule) => rule.health !== 'ok' && rule.health !== 'unknown')).toEqual([]);
    const watchdog = await pollFor('Watchdog firing', async () => ((await get('/alerts')).alerts as Json[]).find((a) => a.labels.alertname === 'Watchdog' && a.state === 'firing'));
    expect(watchdog.labels.site).toBe('lab');
  });

  test('a stopped HAProxy: LoadBalancersDown pending with 2 of 3 at the next scrape, firing after its for, resolved after the repair', async () => {
    const [first] = site.loadBalancer!.nodes;
    const lbAlert = async () => ((await get('/alerts')).alerts as Json[]).find((a) => a.labels.alertname === 'LoadBalancersDown');
    // Before the first scrapes the count was short: wait until the rule has seen all three up.
    await pollFor('LoadBalancersDown inactive', async () => ((await lbAlert()) === undefined ? true : undefined));
    const stoppedAt = Date.now();
    haproxies.get(first.name)!.kill('SIGKILL');
    const pending = await pollFor('LoadBalancersDown pending', lbAlert);
    console.log(`LoadBalancersDown ${pending.state} ${Date.now() - stoppedAt} ms after the HAProxy stopped (scrape and evaluation every ${TEST_INTERVAL})`);
    expect(pending.state).toBe('pending');
    expect(pending.annotations.summary).toBe('2 of 3 load balancers up.');
    const alerts: Json[] = (await get('/alerts')).alerts;
    expect(alerts.filter((a) => a.labels.alertname === 'ApiServersOutOfRotation')).toEqual([]);

    // Its `for` (1m) later it fires; HAProxy back, it resolves.
    const firing = await pollFor('LoadBalancersDown firing', async () => ((await lbAlert())?.state === 'firing' ? Date.now() : undefined), 90_000);
    console.log(`LoadBalancersDown firing ${firing - stoppedAt} ms after the HAProxy stopped (for: 1m)`);
    expect(firing - stoppedAt).toBeGreaterThanOrEqual(60_000);
    const repairedAt = Date.now();
    haproxies.set(first.name, spawn('haproxy', ['-db', '-f', join(dir, `${first.name}.cfg`)], { stdio: 'ignore' }));
    const resolved = await pollFor('LoadBalancersDown resolved', async () => ((await lbAlert()) === undefined ? Date.now() : undefined));
    console.log(`LoadBalancersDown resolved ${resolved - repairedAt} ms after HAProxy came back`);
  }, 120_000);
});
