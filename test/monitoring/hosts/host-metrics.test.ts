import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { CloudConfig, HostRole, SitePlan, hostsWithRole } from '../../../constructs';
import { NODE_EXPORTER_TEXTFILE_DIR } from '../../../constructs/monitoring/metrics-endpoints';
import { API_BACKEND, KEEPALIVED_NOTIFY_PATH, KEEPALIVED_NOTIFY_SCRIPT, renderHaproxyConfig, renderKeepalivedConfig } from '../../../constructs/renderers';
import { NODE_EXPORTER_DEFAULTS_PATH, applyHostExporters } from '../../../constructs/roles';
import { loadSites } from '../../../sites';
import { describeWithTools } from '../../support/tools';
import { shellcheck } from '../../support/validators';
import { freePort } from '../../support/free-port';
import { Daemon, get, getWhenUp, sampleValue } from './support';

/**
 * The host side of the metrics, run for real on loopback: HAProxy's exporter on the generated stats frontend,
 * Keepalived's notify script writing the VRRP state, and node_exporter publishing it with the generated flags.
 */
const SITES = loadSites();
const LAB = SITES.find((site) => site.name === 'lab')!;
const STATS_PASSWORD = 'not-a-real-stats-password';

/** The instance name keepalived passes to its notify script (the `vrrp_instance` of the rendered config). */
function vrrpInstanceOf(plan: SitePlan, node: string): string {
  return /^vrrp_instance (\S+) \{$/m.exec(renderKeepalivedConfig(plan, node))![1];
}

/** Runs the shipped notify script as keepalived would, with the textfile directory moved to `dir`. */
function notify(dir: string, ...args: string[]) {
  const script = join(dir, '..', 'notify.sh');
  writeFileSync(script, KEEPALIVED_NOTIFY_SCRIPT, { mode: 0o755 });
  return spawnSync('sh', [script, ...args], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, PKH_TEXTFILE_DIR: dir } });
}

describe('keepalived notify script: the VRRP state for node_exporter\'s textfile collector (run for real)', () => {
  let root: string;
  let dir: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'pkh-notify-'));
    dir = join(root, 'textfile');
    require('fs').mkdirSync(dir);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const stateFile = (instance: string) => join(dir, `keepalived-vrrp-${instance}.prom`);
  const expected = (instance: string, value: number) => '# HELP keepalived_vrrp_state 1 while this node is MASTER of the VRRP instance (holds its VIP), else 0.\n'
    + `# TYPE keepalived_vrrp_state gauge\nkeepalived_vrrp_state{vrrp_instance="${instance}"} ${value}\n`;

  test('MASTER writes 1, then BACKUP, FAULT and STOP write 0, each as a complete file and nothing else left behind', () => {
    const instance = vrrpInstanceOf(LAB, 'lx-k3s-server-01');
    expect(notify(dir, 'INSTANCE', instance, 'MASTER', '200').status).toBe(0);
    expect(readFileSync(stateFile(instance), 'utf8')).toBe(expected(instance, 1));
    for (const state of ['BACKUP', 'FAULT', 'STOP']) {
      expect(notify(dir, 'INSTANCE', instance, state, '200').status).toBe(0);
      expect(`${state}: ${readFileSync(stateFile(instance), 'utf8')}`).toBe(`${state}: ${expected(instance, 0)}`);
    }
    expect(readdirSync(dir)).toEqual([`keepalived-vrrp-${instance}.prom`]);
  });

  test('a GROUP transition writes nothing; a name unfit for a label is refused and writes nothing', () => {
    expect(notify(dir, 'GROUP', 'some_group', 'MASTER', '0').status).toBe(0);
    expect(notify(dir, 'INSTANCE', 'bad"name', 'MASTER', '200').status).toBe(1);
    expect(notify(dir, 'INSTANCE', '', 'MASTER', '200').status).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('without the textfile directory (no node_exporter) it only logs and succeeds', () => {
    rmSync(dir, { recursive: true });
    expect(notify(dir, 'INSTANCE', 'lab_api_vip', 'MASTER', '200').status).toBe(0);
    expect(existsSync(dir)).toBe(false);
  });

  test('every seed load balancer runs it as root (it renames into a root-owned directory), with a name it accepts', () => {
    const balancers = SITES.filter((site) => site.apiEndpoint.floating).flatMap((site) => hostsWithRole(site, HostRole.LOAD_BALANCER).map((host) => [site, host.name] as const));
    expect(balancers.length).toBeGreaterThan(0);
    for (const [site, node] of balancers) {
      expect(renderKeepalivedConfig(site, node)).toContain(`\n    notify ${KEEPALIVED_NOTIFY_PATH} root\n`);
      expect(vrrpInstanceOf(site, node)).toMatch(/^[A-Za-z0-9_]+$/);
    }
  });
});

describeWithTools(['shellcheck'], 'the notify script passes shellcheck', () => {
  test('no finding at any severity', () => {
    const result = shellcheck(KEEPALIVED_NOTIFY_SCRIPT);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });
});

/**
 * The generated haproxy.cfg of the lab's first load balancer, runnable here: the global section without what needs
 * the real host (chroot, user, syslog, the admin socket), only the API backend and the stats frontend (no port of the
 * other frontends is taken), the stats page on 127.0.0.1:`port`, every site address moved to loopback, and the
 * metrics ACL's site network replaced by `metricsNetwork`.
 */
function runnableHaproxyConfig(port: number, metricsNetwork: string): string {
  const node = LAB.loadBalancer!.nodes[0];
  const rendered = renderHaproxyConfig(LAB, node.name, STATS_PASSWORD);
  const sections = rendered.split('\n\n').filter((section) => /^(global|defaults|frontend stats|backend k3s_api)$/m.test(section.split('\n').find((line) => !line.startsWith('#'))!));
  expect(sections).toHaveLength(4);
  let text = sections.join('\n\n')
    .split('\n').filter((line) => !/^\s+(chroot|user|group|log \/dev\/log|stats socket)\b/.test(line)).join('\n')
    .replace(`bind ${node.ip}:${LAB.loadBalancer!.statsPort}`, `bind 127.0.0.1:${port}`)
    .replace(`src ${LAB.network.cidr}`, `src ${metricsNetwork}`);
  for (const host of LAB.hosts) {
    text = text.split(`${host.ip}:`).join(`127.0.0.${host.ip.split('.')[3]}:`);
  }
  expect(text).not.toContain(LAB.network.cidr.split('.').slice(0, 3).join('.'));
  return `${text}\n`;
}

test('the exporter\'s ACL admits the site network, and the pod network only on a load balancer that is a Kubernetes node', () => {
  const prod = SITES.find((site) => site.name === 'prod')!;
  const rule = (plan: SitePlan, node: string) => renderHaproxyConfig(plan, node, STATS_PASSWORD).split('\n').find((line) => line.includes('http-request deny'))!.trim();
  // prod: dedicated LXC load balancers; in-cluster Prometheus reaches them masqueraded to a node's address.
  expect(rule(prod, 'k3s-prod-lb-01')).toBe(`http-request deny deny_status 403 if { path /metrics } !{ src ${prod.network.cidr} }`);
  // lab: the load balancers are K3s servers; a Prometheus pod on the same node arrives from the pod network.
  expect(rule(LAB, 'lx-k3s-server-01')).toBe(`http-request deny deny_status 403 if { path /metrics } !{ src ${LAB.network.cidr} ${LAB.cluster.podCidr} }`);
});

describeWithTools(['haproxy'], 'HAProxy serves its Prometheus exporter on the generated stats frontend (real haproxy on loopback)', () => {
  let dir: string;
  const daemons: Daemon[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pkh-haproxy-metrics-'));
  });
  afterAll(async () => {
    await Promise.all(daemons.map((daemon) => daemon.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function startHaproxy(metricsNetwork: string): Promise<{ url: string; daemon: Daemon }> {
    const port = await freePort();
    const file = join(dir, `haproxy-${port}.cfg`);
    writeFileSync(file, runnableHaproxyConfig(port, metricsNetwork));
    const daemon = new Daemon('haproxy', ['-db', '-f', file]);
    daemons.push(daemon);
    const url = `http://127.0.0.1:${port}`;
    await getWhenUp(`${url}/`).catch((error) => {
      throw new Error(`${String(error)}\nhaproxy said:\n${daemon.log}`);
    });
    return { url, daemon };
  }

  test('from the site network: /metrics answers without the stats password, with the API backend\'s servers', async () => {
    const { url } = await startHaproxy('127.0.0.0/8');
    const metrics = await get(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    // The backend's count of servers in rotation (what the load-balancer alerts read), and each control plane as a server.
    const active = sampleValue(metrics.body, 'haproxy_backend_active_servers', { proxy: API_BACKEND });
    expect(active).toBeGreaterThanOrEqual(0);
    expect(active).toBeLessThanOrEqual(3);
    for (const server of hostsWithRole(LAB, HostRole.K3S_SERVER)) {
      expect(`${server.name}: ${sampleValue(metrics.body, 'haproxy_server_status', { proxy: API_BACKEND, server: server.name, state: 'UP' })}`).toMatch(/^\S+: [01]$/);
    }
    expect(sampleValue(metrics.body, 'haproxy_frontend_current_sessions', { proxy: 'stats' })).toBeDefined();
    expect(metrics.body).not.toContain(STATS_PASSWORD);
    // The stats page itself still asks for the password.
    expect((await get(`${url}/`)).status).toBe(401);
  });

  test('from outside the site network: /metrics is refused (403), the stats page still asks for the password', async () => {
    const { url } = await startHaproxy('192.0.2.0/24');
    const metrics = await get(`${url}/metrics`);
    expect(metrics.status).toBe(403);
    expect(metrics.body).not.toContain('haproxy_');
    expect((await get(`${url}/`)).status).toBe(401);
  });
});

/** The `ARGS` node_exporter gets on the lab's first load balancer, as the host-exporters role writes them. */
function renderedNodeExporterArgs(): { host: string; args: string[] } {
  const host = LAB.hosts[0];
  const config = new CloudConfig({ hostname: host.name, fqdn: host.fqdn });
  applyHostExporters(config, LAB, host);
  const file = config.files.find((candidate) => candidate.path === NODE_EXPORTER_DEFAULTS_PATH)!;
  const args = /^ARGS="(.*)"$/m.exec(file.content)![1].split(' ');
  expect(args).toEqual([`--web.listen-address=${host.ip}:9100`, `--collector.textfile.directory=${NODE_EXPORTER_TEXTFILE_DIR}`]);
  return { host: host.ip, args };
}

describeWithTools(['prometheus-node-exporter'], 'node_exporter publishes the VRRP state the notify script wrote (real node_exporter on loopback)', () => {
  let root: string;
  let daemon: Daemon | undefined;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pkh-node-exporter-'));
  });
  afterAll(async () => {
    await daemon?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  test('keepalived_vrrp_state follows the transitions, with the generated flags (address and directory moved here)', async () => {
    const textfiles = join(root, 'textfile');
    require('fs').mkdirSync(textfiles);
    const port = await freePort();
    const { host, args } = renderedNodeExporterArgs();
    const runnable = args.map((arg) => arg.replace(`${host}:9100`, `127.0.0.1:${port}`).replace(NODE_EXPORTER_TEXTFILE_DIR, textfiles));
    // Only the textfile collector: the others read this machine, which the test is not about.
    daemon = new Daemon('prometheus-node-exporter', [...runnable, '--collector.disable-defaults', '--collector.textfile']);
    const url = `http://127.0.0.1:${port}/metrics`;
    await getWhenUp(url).catch((error) => {
      throw new Error(`${String(error)}\nnode_exporter said:\n${daemon!.log}`);
    });
    const instance = vrrpInstanceOf(LAB, 'lx-k3s-server-01');
    expect(sampleValue((await get(url)).body, 'keepalived_vrrp_state', { vrrp_instance: instance })).toBeUndefined();

    expect(notify(textfiles, 'INSTANCE', instance, 'MASTER', '200').status).toBe(0);
    const master = (await get(url)).body;
    expect(sampleValue(master, 'keepalived_vrrp_state', { vrrp_instance: instance })).toBe(1);
    expect(sampleValue(master, 'node_textfile_scrape_error', {})).toBe(0);

    expect(notify(textfiles, 'INSTANCE', instance, 'BACKUP', '200').status).toBe(0);
    expect(sampleValue((await get(url)).body, 'keepalived_vrrp_state', { vrrp_instance: instance })).toBe(0);
  });
});
