import { execFile } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { AddressInfo } from 'net';
import { createServer, Server } from 'http';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { parse } from 'yaml';
import { SiteSpec, defineSite } from '../../constructs';
import {
  K3S_CONFIG_PATH, K3S_ETCD_DATA_DIR, K3S_JOIN_EXISTING_SCRIPT_PATH, K3S_WAIT_SCRIPT_PATH, bootstrapsCluster, k3sServerConfig, registrationUrl,
} from '../../constructs/renderers';
import homelab from '../../sites/homelab';
import lab from '../../sites/lab';
import { describeWithTools } from '../support/tools';
import { deliveredHosts } from '../support/user-data';

/** The lab site with its first server rebuilt on purpose (`generation` raised). */
function withFirstServerGeneration(site: SiteSpec, generation: number): SiteSpec {
  return { ...site, hosts: site.hosts.map((host, i) => (i === 0 ? { ...host, generation } : host)) };
}

const ASSET = resolve(__dirname, '../../constructs/roles/assets/k3s-join-existing-cluster.sh');

describe('a rebuilt first K3s server joins the running cluster instead of bootstrapping a second one', () => {
  const built = defineSite(lab);
  const rebuilt = defineSite(withFirstServerGeneration(lab, 1));
  const first = built.hosts[0].name;

  test('as first built, the first server bootstraps (cluster-init, no server) and checks for a running cluster before K3s starts', () => {
    expect(bootstrapsCluster(built, first)).toBe(true);
    const config = k3sServerConfig(built, first);
    expect(config['cluster-init']).toBe(true);
    expect(config.server).toBeUndefined();
    const host = deliveredHosts(built).find((h) => h.host.name === first)!;
    expect(host.files.get(K3S_JOIN_EXISTING_SCRIPT_PATH)?.content).toBe(readFileSync(ASSET, 'utf8'));
    expect(host.files.has(K3S_WAIT_SCRIPT_PATH)).toBe(false);
    // The check runs before K3s is installed and started.
    const check = host.text.indexOf(`'${K3S_JOIN_EXISTING_SCRIPT_PATH}' '${K3S_CONFIG_PATH}' '${K3S_ETCD_DATA_DIR}' '${registrationUrl(built)}'`);
    expect(check).toBeGreaterThan(0);
    expect(check).toBeLessThan(host.text.indexOf('systemctl restart k3s'));
  });

  test('rebuilt (generation raised), it joins through the API endpoint, waits for it first, and never runs cluster-init', () => {
    expect(bootstrapsCluster(rebuilt, first)).toBe(false);
    const config = k3sServerConfig(rebuilt, first);
    expect(config['cluster-init']).toBeUndefined();
    expect(config.server).toBe(registrationUrl(rebuilt));
    const host = deliveredHosts(rebuilt).find((h) => h.host.name === first)!;
    expect(parse(host.files.get(K3S_CONFIG_PATH)!.content)).toMatchObject({ server: registrationUrl(rebuilt) });
    expect(host.files.has(K3S_WAIT_SCRIPT_PATH)).toBe(true);
    expect(host.files.has(K3S_JOIN_EXISTING_SCRIPT_PATH)).toBe(false);
    // No server of the site bootstraps any more.
    expect(rebuilt.hosts.filter((h) => h.roles.includes('k3s-server' as never)).some((h) => bootstrapsCluster(rebuilt, h.name))).toBe(false);
  });

  test('a PostgreSQL-datastore site has no cluster to bootstrap: no server runs cluster-init or the check', () => {
    const site = defineSite(homelab);
    for (const host of deliveredHosts(site).filter((h) => h.files.has(K3S_CONFIG_PATH) && h.host.roles.includes('k3s-server' as never))) {
      expect(bootstrapsCluster(site, host.host.name)).toBe(false);
      expect(host.files.get(K3S_CONFIG_PATH)!.content).not.toMatch(/cluster-init/);
      expect(host.files.has(K3S_JOIN_EXISTING_SCRIPT_PATH)).toBe(false);
    }
  });
});

/** Runs the asset against a temporary config and etcd directory; `url` is a loopback endpoint. */
function runAsset(dir: string, url: string): Promise<{ code: number; stdout: string }> {
  return new Promise((done) => {
    execFile('sh', [ASSET, join(dir, 'config.yaml'), join(dir, 'etcd'), url], { timeout: 30_000, env: { ...process.env, PKH_PROBE_ATTEMPTS: '2' } },
      (error, stdout) => done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout }));
  });
}

describeWithTools(['curl'], 'k3s-join-existing-cluster.sh with a real endpoint on loopback', () => {
  const CONFIG = 'node-name: cp1\ncluster-init: true\ntoken-file: /etc/rancher/k3s/token\n';
  let server: Server;
  let url: string;
  let dir: string;

  beforeAll(async () => {
    // Answers like K3s's supervisor: GET /ping → pong.
    server = createServer((request, response) => response.end(request.url === '/ping' ? 'pong' : 'no'));
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((closed) => server.close(() => closed())));
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pkh-join-'));
    writeFileSync(join(dir, 'config.yaml'), CONFIG, { mode: 0o600 });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a cluster answers and the server has no etcd member: the config joins it (server: URL) and drops cluster-init', async () => {
    const result = await runAsset(dir, url);
    expect(result.code).toBe(0);
    const config = parse(readFileSync(join(dir, 'config.yaml'), 'utf8'));
    expect(config).toEqual({ 'node-name': 'cp1', 'token-file': '/etc/rancher/k3s/token', server: url });
    expect(statSync(join(dir, 'config.yaml')).mode & 0o777).toBe(0o600);
    expect(result.stdout).toMatch(/joins it instead of bootstrapping/);
  });

  test('no cluster answers (the site\'s first build): the config keeps cluster-init', async () => {
    const result = await runAsset(dir, 'http://127.0.0.1:9');
    expect(result.code).toBe(0);
    expect(readFileSync(join(dir, 'config.yaml'), 'utf8')).toBe(CONFIG);
    expect(result.stdout).toMatch(/bootstraps it/);
  });

  test('the server already has its etcd member: nothing changes, even with the cluster answering', async () => {
    mkdirSync(join(dir, 'etcd'));
    const result = await runAsset(dir, url);
    expect(result.code).toBe(0);
    expect(readFileSync(join(dir, 'config.yaml'), 'utf8')).toBe(CONFIG);
  });
});
