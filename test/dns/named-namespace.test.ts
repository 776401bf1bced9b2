import { spawnSync } from 'child_process';
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { CloudConfig, defineSite } from '../../constructs';
import { applyDnsRole } from '../../constructs/roles';
import { renderBind9Zones } from '../../constructs/renderers';
import { FailoverLab, LabNode } from '../failover/lab';
import { sh } from '../support/netns';
import { describeWithTools } from '../support/tools';
import { namedFiles, writeNamedConfiguration } from './named-files';
import { namespaceDnsSite } from './sites';

/**
 * Runs the real named with the generated files — only their paths rewritten into a temporary directory — for the
 * primary and the secondary of a 198.18.0.0/24 site, each in its own network namespace on a bridge (the failover
 * lab's), and asks them with dig from a client namespace. The secondary starts without zone files, so what it
 * serves came by zone transfer from the primary.
 */

const plan = defineSite(namespaceDnsSite);
const dns = plan.dns!;
const zones = renderBind9Zones(plan);
const [primaryIp, secondaryIp] = dns.servers.map((s) => s.ip);
const CLIENT_IP = '198.18.0.99';
/** A second client address outside the site network: named must refuse it. */
const OUTSIDE_IP = '198.19.0.99';
const WAIT_MS = 10_000;

describeWithTools(['named', 'dig', 'ip', 'unshare'], 'a real named serves the generated zones (primary + secondary in network namespaces)', () => {
  let lab: FailoverLab | undefined;
  let client: LabNode;
  let secondaryNode: LabNode;
  const logs: string[] = [];

  const dig = (server: string, ...args: string[]): string => {
    const result = spawnSync('ip', ['netns', 'exec', client.namespace, 'dig', `@${server}`, '+time=1', '+tries=1', ...args], { encoding: 'utf8', timeout: 5_000 });
    return `${result.stdout ?? ''}${result.stderr ?? ''}`;
  };
  const short = (server: string, ...args: string[]): string[] => dig(server, '+short', ...args).trim().split('\n').filter(Boolean);
  const serialAt = (server: string, zone: string): string | undefined => short(server, 'SOA', zone)[0]?.split(' ')[2];

  async function waitForSerials(server: string): Promise<void> {
    const ready = await lab!.waitFor(() => zones.every((z) => serialAt(server, z.zone) === String(z.serial)), WAIT_MS, 200);
    if (!ready) {
      const log = logs.map((file) => `--- ${file}\n${existsSync(file) ? readFileSync(file, 'utf8') : '(none)'}`).join('\n');
      throw new Error(`named at ${server} did not serve ${zones.map((z) => `${z.zone} serial ${z.serial}`).join(', ')} within ${WAIT_MS / 1000} s\n${log}`);
    }
  }

  function startNamed(node: LabNode, withZoneFiles: boolean): void {
    const conf = writeNamedConfiguration(join(lab!.workDir, node.name), namedFiles(plan, node.name), { withZoneFiles });
    // A private /run: named's pid and lock files default to /run/named, which two nameds on one machine would share.
    const script = `mount -t tmpfs tmpfs /run && mkdir /run/named && exec named -g -4 -c ${conf}`;
    lab!.spawnIn(node, 'unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], `${node.name}-named`);
    logs.push(join(lab!.workDir, `${node.name}-named.log`));
  }

  beforeAll(async () => {
    lab = new FailoverLab();
    client = lab.addNode('client', CLIENT_IP);
    sh('ip', ['-n', client.namespace, 'addr', 'add', `${OUTSIDE_IP}/24`, 'dev', 'eth0']);
    const [primary, secondary] = dns.servers.map((server) => lab!.addNode(server.name, server.ip));
    secondaryNode = secondary;
    // The way back to the outside address, so the primary's refusal reaches the client.
    sh('ip', ['-n', primary.namespace, 'route', 'add', '198.19.0.0/24', 'dev', 'eth0']);
    startNamed(primary, true);
    await waitForSerials(primaryIp);
    // After the primary answers: a secondary whose first transfer fails waits minutes before it retries.
    startNamed(secondary, false);
    await waitForSerials(secondaryIp);
  }, 3 * WAIT_MS);

  afterAll(() => lab?.stop());

  test.each(plan.hosts.map((h) => [h.name, h.ip]))('A %s → %s', (name, ip) => {
    expect(short(primaryIp, `${name}.${dns.zone}`, 'A')).toEqual([ip]);
  });

  test('the API name and a wildcard name resolve to the VIP', () => {
    expect(plan.apiEndpoint.dnsName).toBe('api.fixture.test');
    expect(short(primaryIp, 'api.fixture.test', 'A')).toEqual(['198.18.0.10']);
    expect(short(primaryIp, 'nginx.fixture.test', 'A')).toEqual(['198.18.0.10']);
  });

  test('PTR of a node and of the VIP', () => {
    expect(short(primaryIp, '-x', '198.18.0.11')).toEqual(['server-1.fixture.test.']);
    expect(short(primaryIp, '-x', '198.18.0.53')).toEqual(['dns-1.fixture.test.']);
    expect(short(primaryIp, '-x', '198.18.0.10')).toEqual(['api.fixture.test.']);
  });

  test('answers are authoritative and name both servers', () => {
    expect(dig(primaryIp, '+noall', '+comments', 'server-1.fixture.test')).toMatch(/status: NOERROR.*\n;; flags: qr aa/);
    expect(short(primaryIp, 'NS', 'fixture.test').sort()).toEqual(['dns-1.fixture.test.', 'dns-2.fixture.test.']);
  });

  test('the secondary got both zones by transfer, kept them as text, and answers the same', () => {
    for (const zone of zones) {
      const file = join(lab!.workDir, 'dns-2', 'zones', zone.path.split('/').pop()!);
      expect(readFileSync(file, 'utf8')).toMatch(/^\$ORIGIN /m);
    }
    expect(short(secondaryIp, 'server-1.fixture.test', 'A')).toEqual(['198.18.0.11']);
    expect(short(secondaryIp, 'nginx.fixture.test', 'A')).toEqual(['198.18.0.10']);
    expect(short(secondaryIp, '-x', '198.18.0.10')).toEqual(['api.fixture.test.']);
  });

  test('the secondary\'s provisioning wait ends at once when the primary serves the rendered serials, and waits otherwise', () => {
    const config = new CloudConfig({ hostname: 'dns-2', fqdn: 'dns-2.fixture.test' });
    applyDnsRole(config, plan, 'dns-2');
    const wait = config.commands.find((c) => c.startsWith('i=0; until'))!;
    // Prints how many times it slept; the wrong-serial run is cut to 2 short attempts.
    const attempts = (command: string) => spawnSync('ip', ['netns', 'exec', secondaryNode.namespace, 'sh', '-c', `${command}; echo "$i"`],
      { encoding: 'utf8', timeout: 15_000 }).stdout.trim();
    expect(attempts(wait)).toBe('0');
    const wrong = wait.replace(`= ${zones[0].serial} ]`, `= ${zones[0].serial + 1} ]`).replace('-ge 60', '-ge 2').replace('sleep 5', 'sleep 0');
    expect(wrong).not.toBe(wait);
    expect(attempts(wrong)).toBe('2');
  });

  test('a client outside the site network is refused', () => {
    expect(dig(primaryIp, '-b', OUTSIDE_IP, '+noall', '+comments', 'server-1.fixture.test')).toContain('status: REFUSED');
    expect(dig(primaryIp, '-b', CLIENT_IP, '+noall', '+comments', 'server-1.fixture.test')).toContain('status: NOERROR');
  });
}, { needsRoot: true });
