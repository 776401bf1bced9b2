import { spawnSync } from 'child_process';
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { CloudConfig, defineSite } from '../../../constructs';
import { BIND_EXPORTER_PORT, BIND_STATISTICS_PORT } from '../../../constructs/monitoring/metrics-endpoints';
import { renderBind9Zones } from '../../../constructs/renderers';
import { BIND_EXPORTER_DEFAULTS_PATH, applyHostExporters } from '../../../constructs/roles';
import { namedFiles, writeNamedConfiguration } from '../../dns/named-files';
import { namespaceDnsSite } from '../../dns/sites';
import { FailoverLab, LabNode } from '../../failover/lab';
import { sh } from '../../support/netns';
import { describeWithTools } from '../../support/tools';
import { sampleValue } from './support';

/**
 * The real named with the generated options (statistics channel included) and the real bind_exporter with the
 * generated flags, in a network namespace at the DNS server's own address; a client namespace scrapes them from the
 * site network and from an address outside it.
 */
const plan = defineSite(namespaceDnsSite);
const server = plan.dns!.servers[0];
const CLIENT_IP = '198.18.0.99';
/** A second client address outside the site network: the statistics channel must refuse it. */
const OUTSIDE_IP = '198.19.0.99';
const WAIT_MS = 10_000;

/** The `ARGS` bind_exporter gets on the first DNS server, as the host-exporters role writes them. */
function renderedBindExporterArgs(): string[] {
  const host = plan.hosts.find((candidate) => candidate.name === server.name)!;
  const config = new CloudConfig({ hostname: host.name, fqdn: host.fqdn });
  applyHostExporters(config, plan, host);
  const file = config.files.find((candidate) => candidate.path === BIND_EXPORTER_DEFAULTS_PATH)!;
  return /^ARGS="(.*)"$/m.exec(file.content)![1].split(' ');
}

describeWithTools(['named', 'prometheus-bind-exporter', 'curl', 'ip', 'unshare'], 'bind_exporter reads the generated statistics channel (real named and bind_exporter in network namespaces)', () => {
  let lab: FailoverLab | undefined;
  let client: LabNode;
  const logs: string[] = [];
  const logText = () => logs.map((file) => `--- ${file}\n${existsSync(file) ? readFileSync(file, 'utf8') : '(none)'}`).join('\n');

  /** curl from the client namespace, from `source`: the HTTP status and body (status 000 when refused or timed out). */
  const curl = (url: string, source = CLIENT_IP): { status: string; body: string } => {
    const result = spawnSync('ip', ['netns', 'exec', client.namespace, 'curl', '-s', '--max-time', '2', '--interface', source, '-w', '\n%{http_code}', url],
      { encoding: 'utf8', timeout: 5_000 });
    const out = result.stdout ?? '';
    const cut = out.lastIndexOf('\n');
    return { status: out.slice(cut + 1), body: out.slice(0, cut) };
  };

  beforeAll(async () => {
    lab = new FailoverLab();
    client = lab.addNode('client', CLIENT_IP);
    sh('ip', ['-n', client.namespace, 'addr', 'add', `${OUTSIDE_IP}/24`, 'dev', 'eth0']);
    const node = lab.addNode(server.name, server.ip);
    // The way back to the outside address, so a refusal reaches the client instead of timing out.
    sh('ip', ['-n', node.namespace, 'route', 'add', '198.19.0.0/24', 'dev', 'eth0']);
    const conf = writeNamedConfiguration(join(lab.workDir, server.name), namedFiles(plan, server.name));
    // A private /run: named's pid and lock files default to /run/named.
    lab.spawnIn(node, 'unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs tmpfs /run && mkdir /run/named && exec named -g -4 -c ${conf}`], 'named');
    lab.spawnIn(node, 'prometheus-bind-exporter', renderedBindExporterArgs(), 'bind-exporter');
    logs.push(join(lab.workDir, 'named.log'), join(lab.workDir, 'bind-exporter.log'));
    const up = await lab.waitFor(() => sampleValue(curl(`http://${server.ip}:${BIND_EXPORTER_PORT}/metrics`).body, 'bind_up', {}) === 1, WAIT_MS, 200);
    if (!up) {
      throw new Error(`bind_exporter at ${server.ip}:${BIND_EXPORTER_PORT} did not report bind_up 1 within ${WAIT_MS / 1000} s\n${logText()}`);
    }
  }, 3 * WAIT_MS);

  afterAll(() => lab?.stop());

  test('the flags are the host\'s own address for both the exporter and the channel it reads', () => {
    expect(renderedBindExporterArgs()).toEqual([`--web.listen-address=${server.ip}:${BIND_EXPORTER_PORT}`, `--bind.stats-url=http://${server.ip}:${BIND_STATISTICS_PORT}/`]);
  });

  test('from the site network: bind_exporter reports named up, its boot time and each generated zone\'s serial', () => {
    const metrics = curl(`http://${server.ip}:${BIND_EXPORTER_PORT}/metrics`);
    expect(metrics.status).toBe('200');
    expect(sampleValue(metrics.body, 'bind_up', {})).toBe(1);
    expect(metrics.body).toMatch(/^bind_boot_time_seconds \S+$/m);
    // The primary's zone serial, which the "secondary behind" alert compares (bind_exporter's view group).
    for (const rendered of renderBind9Zones(plan)) {
      expect(`${rendered.zone}: ${sampleValue(metrics.body, 'bind_zone_serial', { zone_name: rendered.zone })}`).toBe(`${rendered.zone}: ${rendered.serial}`);
    }
  });

  test('the statistics channel answers the site network and refuses an address outside it', () => {
    expect(curl(`http://${server.ip}:${BIND_STATISTICS_PORT}/json/v1/server`).status).toBe('200');
    expect(curl(`http://${server.ip}:${BIND_STATISTICS_PORT}/json/v1/server`, OUTSIDE_IP).status).not.toBe('200');
  });
}, { needsRoot: true });
