import { defineSite } from '../../constructs';
import { ETCD_DROP_IN_PATH, renderEtcdServiceDropIn } from '../../constructs/renderers';
import homelab from '../../sites/homelab';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { API_PORT } from '../failover/configs';
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

/**
 * The stand-in's PostgreSQL units: Debian's postgresql@<version>-<cluster> run by the real pg_ctlcluster inside the
 * hosts (their overlays keep this machine's cluster untouched), and etcd with the datastore's drop-in.
 */
const PG_TOOLS = ['sshd', 'ip', 'nsenter', 'unshare', 'ssh-keygen', 'etcd', 'etcdctl', 'pg_ctlcluster', 'pg_lsclusters', 'pg_createcluster', 'psql', 'runuser'];
const PG_HOSTS = [{ name: 'pg-1', ip: labAddress(31) }, { name: 'pg-2', ip: labAddress(32) }];

/** This machine's cluster (the first pg_lsclusters lists), else `main` of the newest installed version (the hosts create it). */
function labCluster(): { version: string; cluster: string; dataDir: string } {
  const [version, cluster, , , , dataDir] = run('pg_lsclusters', ['-h']).output.split('\n')[0]?.split(/\s+/) ?? [];
  if (version && cluster && dataDir) {
    return { version, cluster, dataDir };
  }
  const installed = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((x, y) => Number(y) - Number(x)) : [];
  const newest = installed[0] ?? '15';
  return { version: newest, cluster: 'main', dataDir: `/var/lib/postgresql/${newest}/main` };
}

/** What this machine's PostgreSQL files look like, for telling that the hosts never touched them. */
function realPostgresState(dataDir: string): string {
  const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '(none)');
  const list = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort().join(',') : '(none)');
  return [read(join(dataDir, 'postmaster.pid')), list('/var/run/postgresql'), list('/var/log/postgresql'), list(dataDir)].join('\n');
}

describeWithTools(PG_TOOLS, 'rolling-update lab: PostgreSQL clusters and etcd in the hosts', () => {
  const { version, cluster, dataDir } = labCluster();
  const unit = `postgresql@${version}-${cluster}`;
  const realBefore = realPostgresState(dataDir);
  let lab: RollingLab;
  let hosts: LabHost[];

  beforeAll(async () => {
    lab = new RollingLab();
    hosts = await Promise.all(PG_HOSTS.map((host) => lab.addSshHost(host.name, host.ip)));
    for (const host of hosts) {
      // Inside the host's overlays: this machine keeps no cluster it did not have.
      expect(lab.exec(host, `pg_lsclusters -h ${version} ${cluster} >/dev/null 2>&1 || pg_createcluster ${version} ${cluster} >/dev/null`)).toMatchObject({ status: 0 });
    }
  }, 60_000);

  afterAll(async () => {
    await lab?.stop();
  });

  const postmaster = (host: LabHost) => lab.readHostFile(host, join(dataDir, 'postmaster.pid'))?.split('\n')[0];
  const psql = (host: LabHost, sql: string) => lab.exec(host, `runuser -u postgres -- psql -XAt -p "$(pg_lsclusters -h ${version} ${cluster} | awk '{ print $3 }')" -c "${sql}"`);

  test('1. start, reload and restart run the real cluster through pg_ctlcluster; stop stops it', () => {
    const [one] = hosts;
    expect(lab.ssh(one, `systemctl start ${unit} && systemctl is-active --quiet ${unit}`)).toMatchObject({ status: 0 });
    expect(psql(one, 'select 1')).toMatchObject({ status: 0, stdout: '1\n' });
    const first = postmaster(one);
    expect(first).toMatch(/^\d+$/);
    expect(lab.ssh(one, `systemctl status ${unit}`).stdout).toBe(`● ${unit}.service - active (running), main pid ${first}\n`);
    // The server's own log is the unit's, between the stand-in's marks.
    expect(lab.daemonLog(one, unit)).toMatch(/ --- start\n(.*\n)*.*database system is ready to accept connections/);
    // Its own IPC namespace and /dev/shm: a postmaster killed by the teardown leaves no segment on this machine.
    const namespaces = lab.exec(one, `readlink /proc/1/ns/ipc /proc/${first}/ns/ipc`).stdout.trim().split('\n');
    expect(namespaces).toHaveLength(2);
    expect(namespaces[0]).not.toBe(namespaces[1]);
    const segments = lab.exec(one, `ls /proc/${first}/root/dev/shm`).stdout.split('\n').filter(Boolean);
    expect(segments.some((name) => name.startsWith('PostgreSQL.'))).toBe(true);
    expect(segments.filter((name) => existsSync(join('/dev/shm', name)))).toEqual([]);

    expect(lab.ssh(one, `systemctl reload ${unit}.service && systemctl is-active ${unit}`)).toMatchObject({ status: 0, stdout: 'active\n' });
    expect(postmaster(one)).toBe(first);
    expect(lab.ssh(one, `systemctl reload-or-restart ${unit}`)).toMatchObject({ status: 0 });
    expect(postmaster(one)).toBe(first);
    expect(lab.daemonLog(one, unit)).toMatch(/ --- reload\n(.*\n)*.*received SIGHUP, reloading configuration files/);

    expect(lab.ssh(one, `systemctl restart ${unit}`)).toMatchObject({ status: 0 });
    const second = postmaster(one);
    expect(second).toMatch(/^\d+$/);
    expect(second).not.toBe(first);
    expect(lab.exec(one, `kill -0 ${first}`).status).not.toBe(0);
    expect(psql(one, 'select 2')).toMatchObject({ status: 0, stdout: '2\n' });

    expect(lab.ssh(one, `systemctl stop ${unit}; systemctl is-active ${unit}`)).toMatchObject({ status: 3, stdout: 'inactive\n' });
    expect(lab.exec(one, `kill -0 ${second}`).status).not.toBe(0);
    expect(psql(one, 'select 1').status).not.toBe(0);
    expect(lab.ssh(one, `systemctl reload-or-restart ${unit} && systemctl is-active --quiet ${unit}`)).toMatchObject({ status: 0 });
    expect(postmaster(one)).not.toBe(second);

    expect(lab.systemctlJournal(one).map((e) => e.args.join(' '))).toEqual([
      `start ${unit}`, `is-active --quiet ${unit}`, `status ${unit}`, `reload ${unit}.service`, `is-active ${unit}`, `reload-or-restart ${unit}`,
      `restart ${unit}`, `stop ${unit}`, `is-active ${unit}`, `reload-or-restart ${unit}`, `is-active --quiet ${unit}`,
    ]);
    expect(realPostgresState(dataDir)).toBe(realBefore);
  }, 60_000);

  test('2. a second host runs its own cluster on the same port at the same time; this machine\'s is untouched', () => {
    const [one, two] = hosts;
    expect(lab.ssh(two, `systemctl enable --now ${unit} && systemctl is-enabled ${unit} && systemctl is-active ${unit}`))
      .toMatchObject({ status: 0, stdout: 'enabled\nactive\n' });
    expect(psql(one, 'create table only_on_pg_1 (id int)')).toMatchObject({ status: 0 });
    expect(psql(two, "select count(*) from pg_tables where tablename = 'only_on_pg_1'")).toMatchObject({ status: 0, stdout: '0\n' });
    expect(psql(one, "select count(*) from pg_tables where tablename = 'only_on_pg_1'")).toMatchObject({ status: 0, stdout: '1\n' });
    for (const host of hosts) {
      expect(lab.exec(host, 'ss -Hltn "sport = :5432"').stdout).not.toBe('');
    }
    expect(postmaster(one)).not.toBe(undefined);
    expect(realPostgresState(dataDir)).toBe(realBefore);

    // pg-1 stops, pg-2 keeps running: the teardown (test 5) must end it.
    expect(lab.ssh(one, `systemctl disable --now ${unit}; systemctl is-active --quiet ${unit}`).status).toBe(3);
    expect(lab.ssh(two, `systemctl is-active --quiet ${unit}`).status).toBe(0);
    expect(lab.exec(one, `test -e ${join(dataDir, 'postmaster.pid')}`).status).not.toBe(0);
  }, 60_000);

  test('3. etcd as Debian\'s unit with the datastore\'s drop-in: started from its environment file, restarted, left running', async () => {
    const [one] = hosts;
    const client = `http://${one.ip}:2379`;
    const files = {
      '/etc/proxmox-k3s-ha/etcd.env': [`ETCD_NAME=${one.name}`, 'ETCD_DATA_DIR=/var/lib/etcd/pkh-lab-test', `ETCD_LISTEN_CLIENT_URLS=${client}`,
        `ETCD_ADVERTISE_CLIENT_URLS=${client}`, `ETCD_LISTEN_PEER_URLS=http://${one.ip}:2380`, `ETCD_INITIAL_ADVERTISE_PEER_URLS=http://${one.ip}:2380`,
        `ETCD_INITIAL_CLUSTER=${one.name}=http://${one.ip}:2380`, ''].join('\n'),
      // Without the initial-state step, which the rolling datastore run exercises with all members.
      [ETCD_DROP_IN_PATH]: renderEtcdServiceDropIn(defineSite(homelab), 'pg-node-1').split('\n').filter((line) => !/^(ExecStartPre|EnvironmentFile=-)/.test(line)).join('\n'),
    };
    for (const [path, content] of Object.entries(files)) {
      expect(lab.exec(one, `mkdir -p "$(dirname ${path})" && cat > ${path} <<'EOF'\n${content}EOF`)).toMatchObject({ status: 0 });
    }
    const healthy = async () => {
      for (let i = 0; i < 100; i++) {
        if (lab.exec(one, `etcdctl --endpoints ${client} --dial-timeout 1s endpoint health`).status === 0) {
          return true;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return false;
    };
    expect(lab.ssh(one, 'systemctl enable --now etcd && systemctl is-active etcd')).toMatchObject({ status: 0, stdout: 'active\n' });
    // Listening where the environment file says: the drop-in's EnvironmentFile= reached etcd.
    expect(await healthy()).toBe(true);
    const pid = lab.readHostFile(one, '/run/pkh-systemctl/etcd.pid')?.trim();
    expect(lab.ssh(one, 'systemctl restart etcd')).toMatchObject({ status: 0 });
    expect(lab.readHostFile(one, '/run/pkh-systemctl/etcd.pid')?.trim()).not.toBe(pid);
    expect(await healthy()).toBe(true);
    // Left running for the teardown.
  }, 60_000);

  test('4. unknown units still exit 5; a missing cluster fails its start; daemon-reload is a no-op', () => {
    const [one] = hosts;
    expect(lab.ssh(one, 'systemctl daemon-reload')).toMatchObject({ status: 0, stdout: '', stderr: '' });
    for (const [name, message] of [['postgresql@x-main', 'postgresql@x-main.service'], ['postgresql', 'postgresql.service'], ['other.socket', 'other.socket']]) {
      const unknown = lab.ssh(one, `systemctl start ${name}`);
      expect(unknown.status).toBe(5);
      expect(unknown.stderr).toContain(`Unit ${message} not found.`);
    }
    const missing = lab.ssh(one, `systemctl start postgresql@${version}-nosuchcluster`);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`Job for postgresql@${version}-nosuchcluster.service failed`);
    expect(lab.ssh(one, `systemctl is-active postgresql@${version}-nosuchcluster`)).toMatchObject({ status: 3, stdout: 'inactive\n' });
  });

  test('5. stop ends the running cluster and etcd with every other process of the lab', async () => {
    const [one, two] = hosts;
    expect(lab.ssh(two, `systemctl is-active --quiet ${unit}`).status).toBe(0);
    expect(lab.ssh(one, 'systemctl is-active --quiet etcd').status).toBe(0);
    const processes = lab.processes();
    await lab.stop();
    expect(processes.filter((pid) => existsSync(`/proc/${pid}`))).toEqual([]);
    expect(run('ip', ['netns', 'list']).output.split('\n').filter((line) => line.startsWith(lab.namespacePrefix))).toEqual([]);
    expect(realPostgresState(dataDir)).toBe(realBefore);
  });
}, { needsRoot: true });
