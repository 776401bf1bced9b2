// The metric names the alert rules select are the ones the real exporters publish: HAProxy's built-in exporter and
// etcd, each started on loopback and scraped once. (Patroni's names are in its /metrics handler,
// patroni/api.py do_GET_metrics, Patroni 3.0.2; bind_exporter 0.6.1 publishes bind_up and bind_zone_serial.)
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { mkdirSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import { prometheusRuleGroups } from '../../../constructs/monitoring/alert-rules';
import { MetricsJob } from '../../../constructs/monitoring/metrics-endpoints';
import { SiteSpec, defineSite } from '../../../constructs';
import { CERTIFICATE_EXPIRY_METRICS_SCRIPT, K3S_BACKUP_METRICS_SCRIPT, POSTGRES_SYNC_METRICS_SCRIPT } from '../../../constructs/roles';
import { KUBEADM_BACKUP_SCRIPT } from '../../../constructs/roles/backup';
import { SitePlan } from '../../../constructs/site/plan';
import { loadSites } from '../../../sites';
import lab from '../../../sites/lab';
import { describeWithTools } from '../../support/tools';
import { freePort } from '../../support/free-port';
import { blockTempDir } from '../../support/block-temp-dir';

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
  const dir = blockTempDir('pkh-metric-names-');
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

/** Metric names the site's rules select on the node job, the textfile collector's own (`pkh_*`) among them. */
function textfileRuleMetrics(sites: readonly SitePlan[]): string[] {
  const names = sites.flatMap((site) => prometheusRuleGroups(site).flatMap((group) => group.rules.flatMap((rule) =>
    [...rule.expr.matchAll(/(pkh_[a-z_]+)\{job="node"/g)].map((match) => match[1]))));
  return [...new Set(names)].sort();
}

describeWithTools(['prometheus-node-exporter', 'openssl', 'jq'], 'the pkh_* metrics the rules read are what the textfile scripts publish, through node_exporter', () => {
  const dir = blockTempDir('pkh-textfile-names-');
  const children: ChildProcess[] = [];
  afterAll(() => {
    children.forEach((child) => child.kill('SIGKILL'));
    rmSync(dir, { recursive: true, force: true });
  });

  test('certificate-expiry-metrics.sh, k3s-backup-metrics.sh and postgres-sync-metrics.sh run for real, then node_exporter scraped once', async () => {
    const textfiles = join(dir, 'textfile');
    mkdirSync(textfiles);
    const env = { ...process.env, PKH_TEXTFILE_DIR: textfiles };
    // A certificate made by openssl, and a k3s that lists one S3 snapshot of this node (k3s etcd-snapshot list -o json).
    const certificate = join(dir, 'server.crt');
    expect(spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'server.key'), '-out', certificate, '-days', '10', '-subj', '/CN=test'], { timeout: 30_000 }).status).toBe(0);
    writeFileSync(join(dir, 'cert.sh'), CERTIFICATE_EXPIRY_METRICS_SCRIPT);
    expect(spawnSync('sh', [join(dir, 'cert.sh'), certificate], { env, timeout: 10_000 }).status).toBe(0);
    const list = { kind: 'ETCDSnapshotFileList', items: [{ spec: { snapshotName: 'etcd-snapshot-cp1-1765000000', nodeName: 'cp1', location: 's3://b/etcd/etcd-snapshot-cp1-1765000000', s3: { bucket: 'b' } }, status: { creationTime: '2025-12-06T05:46:40Z', readyToUse: true } }] };
    writeFileSync(join(dir, 'list.json'), JSON.stringify(list));
    writeFileSync(join(dir, 'k3s'), `#!/bin/sh\ncat '${join(dir, 'list.json')}'\n`, { mode: 0o755 });
    writeFileSync(join(dir, 'backup.sh'), K3S_BACKUP_METRICS_SCRIPT);
    expect(spawnSync('sh', [join(dir, 'backup.sh'), 'cp1'], { env: { ...env, K3S_BIN: join(dir, 'k3s') }, timeout: 10_000 }).status).toBe(0);
    // A primary whose PostgreSQL waits for one standby: runuser and psql stood in (PostgreSQL's own answer is checked
    // in the rolling lab, test/rolling/postgres-rotation.test.ts).
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'runuser'), '#!/bin/sh\nshift 3\nexec "$@"\n', { mode: 0o755 });
    writeFileSync(join(dir, 'psql'), '#!/bin/sh\necho "t|1"\n', { mode: 0o755 });
    writeFileSync(join(dir, 'sync.sh'), POSTGRES_SYNC_METRICS_SCRIPT);
    expect(spawnSync('sh', [join(dir, 'sync.sh'), join(dir, 'psql'), '/run/postgresql', '5432'], { env: { ...env, PATH: `${bin}:${process.env.PATH}` }, timeout: 10_000 }).status).toBe(0);

    const port = await freePort();
    children.push(spawn('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${port}`, `--collector.textfile.directory=${textfiles}`, '--collector.disable-defaults', '--collector.textfile'], { stdio: 'ignore' }));
    const body = await scrapeUntil(`http://127.0.0.1:${port}/metrics`, (text) => published(text, 'pkh_backup_last_success_timestamp_seconds'));
    // Every pkh_* metric a rule reads, over sites with a backup job and with generated certificates.
    const sites = [...loadSites(), defineSite({ ...lab, name: 'lab-backup', backup: { target: { endpoint: 'https://s3.backup.test', bucket: 'site-backups' } } } as SiteSpec)];
    const names = textfileRuleMetrics(sites);
    expect(names).toEqual(['pkh_backup_last_success_timestamp_seconds', 'pkh_certificate_expiry_timestamp_seconds', 'pkh_postgres_synchronous_standbys']);
    expect(names.filter((name) => !published(body, name))).toEqual([]);
    expect(body).toContain('pkh_backup_last_success_timestamp_seconds{kind="etcd"} 1.765e+09');
    expect(body).toMatch(new RegExp(`pkh_certificate_expiry_timestamp_seconds\\{path="${certificate}"\\} \\d`));
    expect(body).toMatch(/^pkh_postgres_synchronous_standbys 1$/m);
    // The kubeadm snapshot job writes the same name and label (it needs etcd and an object store to run).
    expect(KUBEADM_BACKUP_SCRIPT).toContain('publish_backup_success etcd');
    expect(KUBEADM_BACKUP_SCRIPT).toContain('pkh_backup_last_success_timestamp_seconds{kind=\\"$1\\"} $(date +%s)');
  });
});
