import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { LAB_VIP, labAddress } from '../failover/lab';
import { run } from '../support/netns';
import { describeWithTools } from '../support/tools';
import { LabHost, RollingLab } from './lab';

/**
 * The rolling-update lab's own test: SSH-reachable hosts in namespaces whose filesystem changes stay private, the
 * systemctl stand-in running the real daemons, and a real Terraform run provisioning the hosts over SSH. Needs root;
 * skipped with the reason otherwise.
 */
const TOOLS = ['sshd', 'terraform', 'haproxy', 'keepalived', 'ip', 'nsenter', 'unshare', 'ssh-keygen'];
const HOSTS = [{ name: 'host-1', ip: labAddress(11) }, { name: 'host-2', ip: labAddress(12) }];
const API = { name: 'api-1', ip: labAddress(21) };
const API_PORT = 6443;
const EXTRA_PORT = 7000;

/** A minimal HAProxy configuration passing the API through (TCP), plus an extra frontend in the second version. */
function haproxyCfg(extraFrontend: boolean): string {
  return [
    'global',
    '  maxconn 256',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    'frontend api',
    `  bind :${API_PORT}`,
    '  default_backend api',
    ...(extraFrontend ? ['frontend extra', `  bind :${EXTRA_PORT}`, '  default_backend api'] : []),
    'backend api',
    `  server ${API.name} ${API.ip}:${API_PORT} check inter 500ms`,
    '',
  ].join('\n');
}

/**
 * Terraform configuration (JSON syntax) provisioning each host over SSH, host 2 after host 1; a changed HAProxy file
 * replaces both resources (`triggers_replace`), so the provisioners run again, in the same order.
 */
function terraformConfig(hosts: readonly LabHost[], cfg: string): object {
  const resources = Object.fromEntries(hosts.map((host, i) => [host.name.replace('-', '_'), {
    triggers_replace: cfg,
    ...(i > 0 ? { depends_on: [`terraform_data.${hosts[i - 1].name.replace('-', '_')}`] } : {}),
    connection: {
      type: 'ssh', host: host.ip, user: 'root', private_key: '${var.ssh_private_key}', host_key: host.hostKey, timeout: '30s',
    },
    provisioner: [
      { file: { content: cfg, destination: '/root/x.cfg' } },
      {
        'remote-exec': {
          inline: [
            'set -e',
            'install -D -m 644 /root/x.cfg /etc/haproxy/haproxy.cfg',
            'systemctl reload-or-restart haproxy',
            'systemctl is-active haproxy',
          ],
        },
      },
    ],
  }]));
  return {
    variable: { ssh_private_key: { type: 'string', sensitive: true } },
    resource: { terraform_data: resources },
  };
}

function keepalivedConf(host: LabHost, priority: number): string {
  return `global_defs {
  router_id ${host.name}
}
vrrp_instance lab {
  state ${priority > 100 ? 'MASTER' : 'BACKUP'}
  interface eth0
  virtual_router_id 51
  priority ${priority}
  advert_int 1
  virtual_ipaddress {
    ${LAB_VIP}/24 dev eth0
  }
}
`;
}

const REAL_PASSWD = readFileSync('/etc/passwd', 'utf8');

describeWithTools(TOOLS, 'rolling-update lab: SSH hosts in namespaces', () => {
  let lab: RollingLab;
  let hosts: LabHost[];

  beforeAll(async () => {
    lab = new RollingLab();
    hosts = await Promise.all(HOSTS.map((host) => lab.addSshHost(host.name, host.ip)));
    lab.startApiStandin(lab.addNode(API.name, API.ip));
  }, 30_000);

  afterAll(async () => {
    await lab?.stop();
  });

  const haproxyMaster = (host: LabHost) => lab.readHostFile(host, '/run/haproxy.pid')?.trim();
  const listening = (host: LabHost, port: number) => lab.exec(host, `ss -Hltn 'sport = :${port}'`).stdout.trim() !== '';

  test('1. the client reaches each host over SSH with the pinned host key; a wrong host key is refused', () => {
    for (const host of hosts) {
      const result = lab.ssh(host, 'hostname; id -u');
      expect(result).toMatchObject({ status: 0, stdout: `${host.name}\n0\n` });
      expect(host.hostKey).toMatch(/^ssh-ed25519 AAAA\S+$/);
    }
    // host 1's address with host 2's key: what a man in the middle would present.
    const wrong = join(lab.workDir, 'known_hosts.wrong');
    writeFileSync(wrong, `${hosts[0].ip} ${hosts[1].hostKey}\n`);
    const refused = lab.ssh(hosts[0], 'true', { knownHostsFile: wrong });
    expect(refused.status).toBe(255);
    expect(refused.stderr).toMatch(/Host key verification failed/);
  });

  test('2. what a host writes (users, /usr/local, /etc) stays in that host', () => {
    const [one, two] = hosts;
    expect(lab.exec(one, 'useradd testuser-pkh')).toMatchObject({ status: 0 });
    expect(lab.exec(one, 'id -u testuser-pkh').status).toBe(0);
    expect(lab.exec(two, 'id -u testuser-pkh').status).not.toBe(0);
    expect(readFileSync('/etc/passwd', 'utf8')).toBe(REAL_PASSWD);

    // As a provisioning script would, over SSH: the library and state directories the generated scripts use.
    expect(existsSync('/usr/local/lib/proxmox-k3s-ha/x')).toBe(false);
    const write = lab.ssh(one, 'mkdir -p /usr/local/lib/proxmox-k3s-ha /var/lib/proxmox-k3s-ha && echo one > /usr/local/lib/proxmox-k3s-ha/x '
      + '&& echo one > /var/lib/proxmox-k3s-ha/state && echo "# one" >> /etc/hosts');
    expect(write).toMatchObject({ status: 0 });
    expect(lab.exec(one, 'cat /usr/local/lib/proxmox-k3s-ha/x').stdout).toBe('one\n');
    expect(lab.exec(two, 'test -e /usr/local/lib/proxmox-k3s-ha/x || test -e /var/lib/proxmox-k3s-ha/state').status).not.toBe(0);
    expect(lab.exec(two, 'grep -c "# one" /etc/hosts').stdout.trim()).toBe('0');
    expect(existsSync('/usr/local/lib/proxmox-k3s-ha/x') || existsSync('/var/lib/proxmox-k3s-ha/state')).toBe(false);
    expect(readFileSync('/etc/hosts', 'utf8')).not.toContain('# one');

    // timedatectl is a logged no-op: the real clock and time zone are not the hosts' to change.
    const localtime = run('readlink', ['/etc/localtime']).output;
    expect(lab.ssh(one, 'timedatectl set-timezone Europe/Berlin && timedatectl set-ntp true').status).toBe(0);
    expect(run('readlink', ['/etc/localtime']).output).toBe(localtime);
    expect(lab.systemctlJournal(one).filter((e) => e.program === 'timedatectl').map((e) => e.args.join(' ')))
      .toEqual(['set-timezone Europe/Berlin', 'set-ntp true']);
  });

  test('3. a real Terraform run provisions the hosts in order; a changed file is reloaded seamlessly', async () => {
    const dir = join(lab.workDir, 'terraform');
    mkdirSync(dir);
    const env = { TF_VAR_ssh_private_key: lab.privateKey };
    const apply = async (cfg: string) => {
      writeFileSync(join(dir, 'main.tf.json'), JSON.stringify(terraformConfig(hosts, cfg), null, 2));
      const result = await lab.runTerraform(dir, ['apply', '-auto-approve', '-no-color'], env, 120_000);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      // Sensitive: no line of the key's body appears anywhere in Terraform's output.
      const keyLines = lab.privateKey.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'));
      expect(keyLines.length).toBeGreaterThan(0);
      for (const line of keyLines) {
        expect(result.stdout).not.toContain(line);
        expect(result.stderr).not.toContain(line);
      }
      return result;
    };

    expect(await lab.runTerraform(dir, ['init', '-no-color'], env, 60_000)).toMatchObject({ status: 0 });
    await apply(haproxyCfg(false));
    const calls = hosts.map((host) => lab.systemctlJournal(host).find((e) => e.args.join(' ') === 'reload-or-restart haproxy'));
    expect(calls.map((c) => c?.host)).toEqual(hosts.map((h) => h.name));
    expect(calls[0]!.t).toBeLessThan(calls[1]!.t);
    const masters = hosts.map(haproxyMaster);
    for (const [i, host] of hosts.entries()) {
      expect(listening(host, API_PORT)).toBe(true);
      expect(listening(host, EXTRA_PORT)).toBe(false);
      expect(masters[i]).toMatch(/^\d+$/);
      expect(lab.readHostFile(host, '/root/x.cfg')).toBe(haproxyCfg(false));
    }

    const started = Date.now();
    await apply(haproxyCfg(true));
    for (const [i, host] of hosts.entries()) {
      const reloads = lab.systemctlJournal(host).filter((e) => e.t >= started && e.args.join(' ') === 'reload-or-restart haproxy');
      expect(reloads).toHaveLength(1);
      expect(listening(host, EXTRA_PORT)).toBe(true);
      // The same master: HAProxy reloaded itself (SIGUSR2), it was not restarted.
      expect(haproxyMaster(host)).toBe(masters[i]);
      expect(lab.daemonLog(host, 'haproxy').match(/ --- start$/gm)).toHaveLength(1);
      expect(lab.daemonLog(host, 'haproxy')).toMatch(/ --- reload$/m);
    }
    const second = hosts.map((host) => lab.systemctlJournal(host).filter((e) => e.t >= started && e.args[0] === 'reload-or-restart')[0].t);
    expect(second[0]).toBeLessThan(second[1]);
  }, 60_000);

  test('4. the stand-in runs the real Keepalived: the probe and the VIP watch see the VIP move', async () => {
    const [one, two] = hosts;
    const watch = lab.watchVip(hosts, LAB_VIP, 50);
    for (const [host, priority] of [[one, 150], [two, 100]] as const) {
      expect(lab.exec(host, `mkdir -p /etc/keepalived && cat > /etc/keepalived/keepalived.conf <<'EOF'\n${keepalivedConf(host, priority)}EOF`).status).toBe(0);
      expect(lab.ssh(host, 'systemctl enable keepalived && systemctl start keepalived && systemctl is-active --quiet keepalived')).toMatchObject({ status: 0 });
    }
    expect(await lab.network.waitFor(() => lab.network.vipHolders(hosts, LAB_VIP).join() === one.name, 10_000)).toBe(true);
    const keepalived = lab.readHostFile(two, '/run/keepalived.pid')?.trim();
    expect(lab.ssh(two, 'systemctl reload keepalived').status).toBe(0);
    expect(lab.readHostFile(two, '/run/keepalived.pid')?.trim()).toBe(keepalived);

    // A lenient limit: this proves the probe works, it measures nothing (other suites may load the machine).
    const probe = lab.startProbe(LAB_VIP, API_PORT, { limitMs: 1000 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const stoppedAt = Date.now();
    expect(lab.ssh(one, 'systemctl stop keepalived; systemctl is-active keepalived')).toMatchObject({ status: 3, stdout: 'inactive\n' });
    expect(await lab.network.waitFor(() => lab.network.vipHolders(hosts, LAB_VIP).join() === two.name, 10_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const report = await probe.stop();
    const changes = watch.stop();

    expect(changes.map((c) => c.holders.join())).toEqual(expect.arrayContaining([one.name, two.name]));
    expect(changes.at(-1)!.holders).toEqual([two.name]);
    expect(changes.findIndex((c) => c.holders.join() === two.name)).toBeGreaterThan(changes.findIndex((c) => c.holders.join() === one.name));
    expect(changes.every((c, i) => i === 0 || c.t >= changes[i - 1].t)).toBe(true);
    const before = report.probes.filter((p) => p.t < stoppedAt - 300);
    expect(before.length).toBeGreaterThan(10);
    expect(before.every((p) => p.ok && p.server === API.name)).toBe(true);
    expect(report.probes.slice(-10).every((p) => p.ok)).toBe(true);
    expect(report.failed).toEqual(report.probes.filter((p) => !p.ok));
  }, 40_000);

  test('5. the stand-in runs the real named, and refuses unknown units like systemctl', () => {
    const [one] = hosts;
    expect(lab.ssh(one, 'systemctl enable named && systemctl start named && systemctl is-active --quiet named')).toMatchObject({ status: 0 });
    const named = lab.readHostFile(one, '/run/pkh-systemctl/named.pid')?.trim();
    expect(named).toMatch(/^\d+$/);
    const answer = lab.exec(one, `dig +short +time=2 +tries=3 @${one.ip} localhost A`);
    expect(answer.stdout.trim()).toBe('127.0.0.1');
    expect(lab.ssh(one, 'systemctl reload named').status).toBe(0);
    expect(lab.readHostFile(one, '/run/pkh-systemctl/named.pid')?.trim()).toBe(named);
    expect(lab.ssh(one, 'systemctl enable bind9').status).toBe(1);

    const unknown = lab.ssh(one, 'systemctl restart k3s');
    expect(unknown.status).toBe(5);
    expect(unknown.stderr).toContain('Unit k3s.service not found.');
  });

  test('6. stop removes every namespace, process and file of the lab, and is safe to call twice', async () => {
    const processes = lab.processes();
    // FAILOVER_LAB_KEEP_FILES=1 keeps the work dir for debugging (the lab's network is the failover lab's).
    const filesKept = process.env.FAILOVER_LAB_KEEP_FILES === '1';
    expect(processes.length).toBeGreaterThan(hosts.length);
    await lab.stop();
    await lab.stop();
    expect(run('ip', ['netns', 'list']).output.split('\n').filter((line) => line.startsWith(lab.namespacePrefix))).toEqual([]);
    expect(processes.filter((pid) => existsSync(`/proc/${pid}`))).toEqual([]);
    expect(existsSync(lab.workDir)).toBe(filesKept);
    expect(readFileSync('/etc/passwd', 'utf8')).toBe(REAL_PASSWD);
  });
}, { needsRoot: true });
