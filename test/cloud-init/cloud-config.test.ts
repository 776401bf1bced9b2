import { parse } from 'yaml';
import { CloudConfig, CloudConfigConflictError, Protocol } from '../../constructs';
import {
  CONFIGURE_SCRIPT_PATH, MODULES_FILE, SYSCTL_FILE, configureScriptSteps, provisioningCommands, renderCloudConfig, renderShellScript,
} from '../../constructs/cloud-init';
import { scriptFiles } from '../support/user-data';
import { richCloudConfig } from './fixtures';

const newConfig = () => new CloudConfig({ hostname: 'h1', fqdn: 'h1.example.net' });

describe('CloudConfig merge rules', () => {
  test('packages are de-duplicated and sorted', () => {
    const config = newConfig();
    config.addPackages('b', 'keepalived', 'haproxy');
    config.addPackages('a', 'haproxy', 'curl');
    expect(config.packages).toEqual(['curl', 'haproxy', 'keepalived']);
  });

  test('one path written identically by two roles is kept once', () => {
    const config = newConfig();
    config.addFile('a', { path: '/etc/x.conf', content: 'x\n' });
    config.addFile('b', { path: '/etc/x.conf', content: 'x\n', mode: '0644', owner: 'root:root' });
    expect(config.files.map((f) => f.path)).toEqual(['/etc/x.conf']);
  });

  test('fails when two roles write one path differently, naming both roles and what differs', () => {
    const config = newConfig();
    config.addFile('haproxy', { path: '/etc/x.conf', content: 'x\n' });
    expect(() => config.addFile('keepalived', { path: '/etc/x.conf', content: 'y\n', mode: '0600' }))
      .toThrow('h1: file /etc/x.conf is written by role "haproxy" and differently (content, mode) by role "keepalived"');
  });

  test('fails when two roles set one sysctl to different values', () => {
    const config = newConfig();
    config.addSysctl('keepalived', 'net.ipv4.ip_nonlocal_bind', 1);
    config.addSysctl('other', 'net.ipv4.ip_nonlocal_bind', '1');
    expect(() => config.addSysctl('k3s', 'net.ipv4.ip_nonlocal_bind', 0))
      .toThrow('sysctl net.ipv4.ip_nonlocal_bind is set to "1" by role "keepalived" and to "0" by role "k3s"');
  });

  test('fails when two roles claim one port on overlapping addresses, naming both', () => {
    const config = newConfig();
    config.claimPort('k3s-server', { port: 6443, protocol: Protocol.TCP, description: 'kube-apiserver' });
    expect(() => config.claimPort('load-balancer', { port: 6443, protocol: Protocol.TCP, address: '192.168.168.100', description: 'haproxy api frontend' }))
      .toThrow('h1: tcp port 6443 is claimed by role "k3s-server" (kube-apiserver) and by role "load-balancer" (haproxy api frontend)');
  });

  test('one port on different protocols or distinct addresses does not conflict', () => {
    const config = newConfig();
    config.claimPort('dns', { port: 53, protocol: Protocol.UDP, description: 'named' });
    config.claimPort('dns', { port: 53, protocol: Protocol.TCP, description: 'named' });
    config.claimPort('a', { port: 80, protocol: Protocol.TCP, address: '10.0.0.1', description: 'x' });
    config.claimPort('b', { port: 80, protocol: Protocol.TCP, address: '10.0.0.2', description: 'y' });
    expect(config.ports.map((p) => `${p.role}:${p.protocol}/${p.port}`)).toEqual(['dns:udp/53', 'dns:tcp/53', 'a:tcp/80', 'b:tcp/80']);
  });

  test('fails when a user or apt source is defined differently by two roles', () => {
    const config = newConfig();
    config.addUser('a', { name: 'ops', sshAuthorizedKeys: ['k1'] });
    expect(() => config.addUser('b', { name: 'ops', sshAuthorizedKeys: ['k2'] })).toThrow('user ops is defined by role "a" and differently by role "b"');
    config.addAptSource('a', { name: 'repo', source: 'deb http://x y main' });
    expect(() => config.addAptSource('b', { name: 'repo', source: 'deb http://z y main' })).toThrow('apt source repo is defined by role "a" and differently by role "b"');
  });

  test.each([
    ['a relative file path', (c: CloudConfig) => c.addFile('r', { path: 'etc/x', content: '' }), 'must be an absolute file path'],
    ['a non-octal mode', (c: CloudConfig) => c.addFile('r', { path: '/etc/x', content: '', mode: 'rw-r--r--' }), 'must be octal'],
    ['writing the rendered sysctl file directly', (c: CloudConfig) => c.addFile('r', { path: SYSCTL_FILE, content: '' }), 'use those'],
    ['a package name with a space', (c: CloudConfig) => c.addPackages('r', 'haproxy keepalived'), 'not a valid Debian package name'],
    ['a sysctl key that is not dotted', (c: CloudConfig) => c.addSysctl('r', 'ip_forward', 1), 'not a dotted kernel parameter name'],
    ['a module name with a slash', (c: CloudConfig) => c.addKernelModule('r', '../x'), 'not a module name'],
    ['an upper-case user name', (c: CloudConfig) => c.addUser('r', { name: 'Admin', sshAuthorizedKeys: [] }), 'not a valid Linux user name'],
  ])('fails on %s', (_, add, message) => {
    expect(() => add(newConfig())).toThrow(CloudConfigConflictError);
    expect(() => add(newConfig())).toThrow(message);
  });

  test('merge adds everything of the other builder and detects conflicts across them', () => {
    const target = newConfig();
    target.addFile('k3s', { path: '/etc/a', content: 'a\n' });
    target.merge(richCloudConfig());
    expect(target.packages).toEqual(['haproxy', 'keepalived', 'psmisc']);
    expect(target.files.map((f) => f.path)).toEqual(['/etc/a', '/etc/haproxy/haproxy.cfg', '/etc/keepalived/check.sh', '/etc/keepalived/no-newline.txt',
      MODULES_FILE, SYSCTL_FILE]);
    expect(target.commands).toEqual(['systemctl enable --now haproxy', 'systemctl enable --now keepalived']);
    const clash = newConfig();
    clash.claimPort('k3s-server', { port: 8443, protocol: Protocol.TCP, description: 'other' });
    expect(() => clash.merge(richCloudConfig())).toThrow('tcp port 8443 is claimed by role "k3s-server" (other) and by role "haproxy" (haproxy api frontend)');
  });

  test('files, sysctls and users sort by code units, whatever the machine\'s locale (upper case before lower case)', () => {
    const config = newConfig();
    for (const path of ['/etc/b.conf', '/etc/aa.conf', '/etc/B.conf']) {
      config.addFile('x', { path, content: path });
    }
    config.addSysctl('x', 'net.b', 1);
    config.addSysctl('x', 'net.B', 1);
    const rendered = parse(renderCloudConfig(config).replace(/^#cloud-config\n/, ''));
    expect(rendered.write_files.map((f: { path: string }) => f.path).filter((p: string) => p.endsWith('.conf') && !p.includes('sysctl') && !p.includes('modules')))
      .toEqual(['/etc/B.conf', '/etc/aa.conf', '/etc/b.conf']);
    const sysctl = rendered.write_files.find((f: { path: string }) => f.path === SYSCTL_FILE).content as string;
    expect(sysctl.indexOf('net.B')).toBeLessThan(sysctl.indexOf('net.b'));
  });

  test('the same additions in a different role order render identically (deterministic)', () => {
    const a = newConfig();
    a.addPackages('x', 'curl', 'haproxy');
    a.addFile('x', { path: '/etc/b', content: 'b' });
    a.addSysctl('y', 'net.ipv4.ip_forward', 1);
    a.addFile('y', { path: '/etc/a', content: 'a' });
    a.addSysctl('x', 'fs.inotify.max_user_watches', 1);
    const b = newConfig();
    b.addFile('y', { path: '/etc/a', content: 'a' });
    b.addSysctl('x', 'fs.inotify.max_user_watches', 1);
    b.addSysctl('y', 'net.ipv4.ip_forward', 1);
    b.addPackages('x', 'haproxy', 'curl');
    b.addFile('x', { path: '/etc/b', content: 'b' });
    expect(renderCloudConfig(b)).toBe(renderCloudConfig(a));
  });
});

describe('renderCloudConfig', () => {
  test('renders a minimal config exactly', () => {
    const config = newConfig();
    config.addPackages('base', 'qemu-guest-agent');
    config.addSysctl('k3s-node', 'net.ipv4.ip_forward', 1);
    config.addCommand('base', 'systemctl enable --now qemu-guest-agent');
    const rendered = renderCloudConfig(config);
    const document = parse(rendered);
    // The step script is checked by its steps here and run for real in real-validators.test.ts and first-boot.test.ts.
    // It is written in cloud-init's first stage (no `defer`), before the packages: a failed install leaves it there.
    const script = document.write_files.find((f: { path: string }) => f.path === CONFIGURE_SCRIPT_PATH);
    expect(script).toEqual({ path: CONFIGURE_SCRIPT_PATH, content: expect.any(String), permissions: '0755', owner: 'root:root' });
    expect(document.write_files[0].path).toBe(CONFIGURE_SCRIPT_PATH);
    expect(configureScriptSteps(script.content)).toEqual([`sysctl -p ${SYSCTL_FILE}`, 'systemctl enable --now qemu-guest-agent']);
    // Its first step checks what the first boot installed and wrote.
    expect(script.content).toContain("step '1/3: first boot: packages installed, files written'\npkh_first_boot\n");
    expect(script.content).toContain("  for package in 'qemu-guest-agent'; do\n");
    expect(script.content).toContain(`  pkh_written '${SYSCTL_FILE}' 'root:root' || pkh_unwritten '${SYSCTL_FILE}' 'root:root'\n`);
    const scriptStart = rendered.indexOf(`  - path: ${CONFIGURE_SCRIPT_PATH}`);
    const withoutScript = rendered.slice(0, scriptStart) + rendered.slice(rendered.indexOf('  - path: ', scriptStart + 1));
    expect(withoutScript).toBe([
      '#cloud-config',
      'hostname: h1',
      'fqdn: h1.example.net',
      'prefer_fqdn_over_hostname: false',
      'manage_etc_hosts: true',
      'package_update: true',
      'package_upgrade: false',
      'packages:',
      '  - qemu-guest-agent',
      'write_files:',
      '  - path: /etc/sysctl.d/90-proxmox-k3s-ha.conf',
      '    content: |',
      '      net.ipv4.ip_forward = 1',
      '    permissions: "0644"',
      '    owner: root:root',
      '    defer: true',
      'runcmd:',
      '  - - /usr/local/lib/proxmox-k3s-ha/configure.sh',
      '',
    ].join('\n'));
  });

  test('round-trips every file byte for byte and keeps the command order', () => {
    const config = richCloudConfig();
    const document = parse(renderCloudConfig(config));
    const written = Object.fromEntries(document.write_files.map((f: { path: string; content: string }) => [f.path, f.content]));
    for (const file of config.files) {
      expect(written[file.path]).toBe(file.content);
    }
    expect(written['/etc/apt/keyrings/haproxy-ppa.asc']).toContain('BEGIN PGP PUBLIC KEY BLOCK');
    expect(document.apt.sources['haproxy-ppa.list'].source).toBe('deb [signed-by=/etc/apt/keyrings/haproxy-ppa.asc] http://ppa.launchpadcontent.net/vbernat/haproxy-3.0/ubuntu noble main');
    expect(document.runcmd).toEqual([[CONFIGURE_SCRIPT_PATH]]);
    const steps = configureScriptSteps(written[CONFIGURE_SCRIPT_PATH]);
    expect(steps).toEqual(provisioningCommands(config));
    expect(steps.slice(0, 2)).toEqual(['modprobe br_netfilter', `sysctl -p ${SYSCTL_FILE}`]);
    expect(document.bootcmd).toEqual(['ip link set dev eth0 up']);
    expect(document.users[0]).toMatchObject({ name: 'k3sadmin', sudo: 'ALL=(ALL) NOPASSWD:ALL', lock_passwd: true });
    // Package-created owners (root:haproxy) only exist after packages: every role file is deferred; the step script
    // (root's) and the apt keys are not.
    expect(document.write_files.filter((f: { defer?: boolean }) => f.defer).map((f: { path: string }) => f.path)).toEqual(config.files.map((f) => f.path));
    expect(document.write_files.filter((f: { defer?: boolean }) => !f.defer).map((f: { path: string }) => f.path)).toEqual(['/etc/apt/keyrings/haproxy-ppa.asc', CONFIGURE_SCRIPT_PATH]);
  });
});

describe('the LXC shell rendering carries what the cloud-config carries, in the same order', () => {
  const config = richCloudConfig();
  const document = parse(renderCloudConfig(config));
  const script = renderShellScript(config);
  const section = (title: string) => {
    const start = script.indexOf(`\n# --- ${title}\n`);
    expect(start).toBeGreaterThan(0);
    const body = script.slice(start).split('\n').slice(2);
    const end = body.findIndex((line) => line.startsWith('# --- '));
    return end < 0 ? body : body.slice(0, end);
  };
  // `printf '%s' '<content>' | install_file '<path>' <mode> '<owner>'`: the path is the last quoted word but one.
  const installedPaths = (lines: string[]) => lines.filter((l) => l.includes('| install_file '))
    .map((l) => /\| install_file '([^']+)' (\d{4}) '([^']+)'$/.exec(l)!.slice(1));

  test('the role files: same paths, modes and owners, in write_files order', () => {
    const fromCloudConfig = document.write_files
      .filter((f: { path: string }) => config.files.some((file) => file.path === f.path))
      .map((f: { path: string; permissions: string; owner: string }) => [f.path, f.permissions, f.owner]);
    expect(fromCloudConfig.length).toBe(config.files.length);
    expect(installedPaths(section('files'))).toEqual(fromCloudConfig);
  });

  test('the commands: the same step script as runcmd\'s, installed first and run last (modprobe becomes a check of the host\'s modules)', () => {
    const installed = section('the step script first (run last, below)').filter((l) => l !== '');
    expect(installed[0]).toMatch(/^printf '%s' '#!\/bin\/sh$/);
    expect(installed[installed.length - 1].endsWith(`install_file '${CONFIGURE_SCRIPT_PATH}' 0755 'root:root'`)).toBe(true);
    // Before the users, the packages and the files: whatever fails there, the step script is in place.
    expect(script.indexOf('\n# --- the step script first')).toBeLessThan(script.indexOf('\n# --- users'));
    expect(section('commands: the same step script a VM runs from runcmd').filter((l) => l !== '')).toEqual([CONFIGURE_SCRIPT_PATH]);
    const vmSteps = configureScriptSteps(document.write_files.find((f: { path: string }) => f.path === CONFIGURE_SCRIPT_PATH).content);
    const lxcSteps = configureScriptSteps(scriptFiles(script).get(CONFIGURE_SCRIPT_PATH)!.content);
    expect(lxcSteps).toHaveLength(vmSteps.length);
    lxcSteps.forEach((step, i) => {
      const module = /^modprobe (\S+)$/.exec(vmSteps[i])?.[1];
      if (module) {
        expect(step).toContain(`[ -d /sys/module/${module} ] || modprobe ${module}`);
      } else {
        expect(step).toBe(vmSteps[i]);
      }
    });
  });

  test('the packages and the users', () => {
    // apt runs only when a package is missing, so converging an installed host needs no repository.
    const packages = section('packages (apt only when one is missing, so converging an installed host needs no repository)');
    expect(packages[0]).toBe(`if ! { ${document.packages.map((p: string) => `installed '${p}'`).join(' && ')}; }; then`);
    const names = document.packages.map((p: string) => `'${p}'`).join(' ');
    // A failure ends the run with one line naming the packages still missing.
    expect(packages).toContain(`  apt-get update || pkh_packages_failed ${names}`);
    expect(packages).toContain(`  apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confold ${names} || pkh_packages_failed ${names}`);
    for (const user of document.users) {
      expect(section('users').join('\n')).toContain(`useradd --create-home --shell '${user.shell ?? '/bin/bash'}' '${user.name}'`);
    }
  });
});
