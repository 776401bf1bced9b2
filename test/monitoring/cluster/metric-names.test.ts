// The metric names the alert rules select are the ones the real exporters publish: HAProxy's built-in exporter and
// etcd, each started on loopback and scraped once. (Patroni's names are in its /metrics handler,
// patroni/api.py do_GET_metrics, Patroni 3.0.2; bind_exporter 0.6.1 publishes bind_up and bind_zone_serial.)
import { ChildProcess, spawn } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { prometheusRuleGroups } from '../../../constructs/monitoring/alert-rules';
import { MetricsJob } from '../../../constructs/monitoring/metrics-endpoints';
import { loadSites } from '../../../sites';
import { describeWithTools } from '../../support/tools';
import { freePort } from '../../support/free-port';

/** Metric names the site's rules select with `{job="<job>"...}`. */
function ruleMetrics(job: MetricsJob): string[] {
  const names = loadSites().flatMap((site) => prometheusRuleGroups(site).flatMap((group) => group.rules.flatMap((rule) =>
    [...rule.expr.matchAll(new RegExp(`([a-z_]+)\\{job="${job}"`, 'g'))].map((match) => match[1]))));
  return [...new Set(names)].filter((name) => name !== 'up').sort();
}

/** Scrapes `url` until `ready` holds for the body or `deadlineMs` passes (a daemon needs a moment after its start). */
async function scrapeUntil(url: string, ready: (body: string) => boolean, deadlineMs = 30_000): Promise<string> {
  const end = Date.now() + deadlineMs;
  let last = '';
  while (Date.now() < end) {
    try {
      last = await (await fetch(url, { signal: AbortSignal.timeout(2000) })).text();
      if (ready(last)) {
        return last;
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not publish the expected metrics within ${deadlineMs} ms; last body:\n${last.slice(0, 2000)}`);
}

const published = (body: string, name: string) => new RegExp(`^${name}[{ ]`, 'm').test(body);

describeWithTools(['haproxy', 'etcd'], 'the metric names in the rules are the real exporters\'', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pkh-metric-names-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    children.forEach((child) => child.kill('SIGKILL'));
    rmSync(dir, { recursive: true, force: true });
  });

  test('HAProxy 2.6\'s prometheus-exporter publishes what the load balancer rules read, per backend', async () => {
    const port = await freePort();
    // The backend names are the generated ones (k3s_api, ingress_*); one server answers (the stats port itself).
    writeFileSync(join(dir, 'haproxy.cfg'), [
      'defaults', '  mode http', '  timeout connect 1s', '  timeout client 5s', '  timeout server 5s',
      'frontend stats', `  bind 127.0.0.1:${port}`, '  http-request use-service prometheus-exporter if { path /metrics }',
      ...['k3s_api', 'ingress_http', 'ingress_https'].flatMap((backend) => [`backend ${backend}`, '  mode tcp', `  server up 127.0.0.1:${port} check inter 200ms`, '  server down 127.0.0.1:1 check inter 200ms']),
      '',
    ].join('\n'));
    children.push(spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'ignore' }));
    // Each backend's checks mark its down server on their own schedule: wait until all three have.
    const body = await scrapeUntil(`http://127.0.0.1:${port}/metrics`, (text) =>
      ['k3s_api', 'ingress_http', 'ingress_https'].every((backend) => new RegExp(`^haproxy_backend_active_servers\\{proxy="${backend}"\\} 1$`, 'm').test(text)));
    const names = ruleMetrics(MetricsJob.HAPROXY);
    expect(names).toEqual(['haproxy_backend_active_servers']);
    expect(names.filter((name) => !published(body, name))).toEqual([]);
  });

  test('etcd publishes etcd_server_has_leader (1 on a single member that elected itself)', async () => {
    const [client, peer, metrics] = [await freePort(), await freePort(), await freePort()];
    children.push(spawn('etcd', [
      '--name', 'm1', '--data-dir', join(dir, 'etcd'),
      '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
      '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-cluster', `m1=http://127.0.0.1:${peer}`, '--listen-metrics-urls', `http://127.0.0.1:${metrics}`,
    ], { stdio: 'ignore' }));
    const body = await scrapeUntil(`http://127.0.0.1:${metrics}/metrics`, (text) => /^etcd_server_has_leader 1$/m.test(text));
    for (const job of [MetricsJob.CLUSTER_ETCD, MetricsJob.DATASTORE_ETCD]) {
      expect(ruleMetrics(job)).toEqual(['etcd_server_has_leader']);
    }
    expect(published(body, 'etcd_server_has_leader')).toBe(true);
  });
});
