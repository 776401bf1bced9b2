import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { defineSite } from '../../../constructs';
import { KEEPALIVED_SCRIPT_USER } from '../../../constructs/renderers';
import { LAB_SITE, LOAD_BALANCERS, generatedConfiguration } from '../../failover/configs';
import { FailoverLab, LabNode } from '../../failover/lab';
import { ensureSystemUser } from '../../support/netns';
import { describeWithTools } from '../../support/tools';
import { sampleValue } from './support';

/**
 * The real keepalived runs the generated notify script on its own transitions: one load balancer of the failover
 * lab's site, with the generated haproxy.cfg, keepalived.conf and notify script at their real paths in its own
 * network, PID and mount namespaces, and a private /var/lib (so the script writes the test's textfile directory at
 * the real path, not this machine's).
 */
const plan = defineSite(LAB_SITE);
const WAIT_MS = 15_000;

describeWithTools(['haproxy', 'keepalived', 'ip', 'unshare', 'curl'], 'keepalived publishes its VRRP state through the notify script (real keepalived in namespaces)', () => {
  let lab: FailoverLab | undefined;
  let node: LabNode;
  let removeUser: () => void = () => undefined;
  let stateFile: string;
  const instance = /^vrrp_instance (\S+) \{$/m.exec(generatedConfiguration(plan).files(LOAD_BALANCERS[0].name).keepalivedConf)![1];
  const state = () => (existsSync(stateFile) ? sampleValue(readFileSync(stateFile, 'utf8'), 'keepalived_vrrp_state', { vrrp_instance: instance }) : undefined);
  const logs = () => ['haproxy', 'keepalived'].map((name) => {
    const file = join(lab!.workDir, `${name}.log`);
    return `--- ${name}\n${existsSync(file) ? readFileSync(file, 'utf8') : '(none)'}`;
  }).join('\n');

  beforeAll(() => {
    removeUser = ensureSystemUser(KEEPALIVED_SCRIPT_USER);
    lab = new FailoverLab();
    const balancer = LOAD_BALANCERS[0];
    node = lab.addNode(balancer.name, balancer.ip);
    const files = generatedConfiguration(plan).files(balancer.name);
    const dir = join(lab.workDir, balancer.name);
    for (const sub of ['haproxy', 'keepalived', 'var-lib/haproxy', 'var-lib/prometheus/node-exporter']) {
      mkdirSync(join(dir, sub), { recursive: true, mode: 0o755 });
    }
    writeFileSync(join(dir, 'haproxy/haproxy.cfg'), files.haproxyCfg);
    writeFileSync(join(dir, 'keepalived/keepalived.conf'), files.keepalivedConf, { mode: 0o600 });
    writeFileSync(join(dir, 'keepalived/notify.sh'), files.notifyScript, { mode: 0o755 });
    stateFile = join(dir, `var-lib/prometheus/node-exporter/keepalived-vrrp-${instance}.prom`);
    const init = [
      'set -e',
      'mount -t tmpfs -o mode=755 tmpfs /run',
      'mkdir -p /run/haproxy',
      `mount --bind ${dir}/haproxy /etc/haproxy`,
      `mount --bind ${dir}/keepalived /etc/keepalived`,
      // HAProxy's chroot and node_exporter's textfile directory, at their real paths.
      `mount --bind ${dir}/var-lib /var/lib`,
      `haproxy -W -db -f /etc/haproxy/haproxy.cfg > ${lab.workDir}/haproxy.log 2>&1 &`,
      `keepalived --dont-fork --log-console --vrrp -f /etc/keepalived/keepalived.conf -p /run/keepalived.pid -r /run/vrrp.pid > ${lab.workDir}/keepalived.log 2>&1 &`,
      'while :; do sleep 3600; done',
    ].join('\n');
    lab.spawnIn(node, 'unshare', ['--pid', '--fork', '--mount-proc', '--mount', '--propagation', 'private', 'sh', '-c', init], 'init');
  });

  afterAll(() => {
    lab?.stop();
    removeUser();
  });

  test('alone, it takes the VIP: the file says 1; with HAProxy killed it faults: the file says 0', async () => {
    if (!await lab!.waitFor(() => state() === 1, WAIT_MS, 100)) {
      throw new Error(`no keepalived_vrrp_state 1 for ${instance} within ${WAIT_MS / 1000} s (file: ${existsSync(stateFile) ? readFileSync(stateFile, 'utf8') : 'none'})\n${logs()}`);
    }
    expect(lab!.vipHolders([node], plan.apiEndpoint.address)).toEqual([node.name]);
    expect(lab!.signal(node, 'haproxy', 'SIGKILL')).toBeGreaterThan(0);
    if (!await lab!.waitFor(() => state() === 0, WAIT_MS, 100)) {
      throw new Error(`keepalived_vrrp_state stayed ${state()} for ${instance} after HAProxy was killed\n${logs()}`);
    }
    expect(lab!.vipHolders([node], plan.apiEndpoint.address)).toEqual([]);
  }, 2 * WAIT_MS + 5000);
}, { needsRoot: true });
