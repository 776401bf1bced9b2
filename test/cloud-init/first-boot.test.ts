// A first boot whose package install fails, for a VM and for an LXC container, run for real on this machine in a
// private mount namespace whose /etc/group is a copy (so the group a package would create can be missing, then
// present, without touching the machine's):
// - VM: the rendered user data through cloud-init's real file modules (`write_files` in the first stage,
//   `write_files_deferred` after the packages), then the rendered step script as runcmd runs it. The package module
//   and `cloud-init single` are stand-ins (installing packages would change this machine): the package install
//   fails until the "repository" is fixed, and `cloud-init single --name write_files_deferred` runs the real module.
// - LXC: the rendered provisioning script with apt-get and dpkg-query stand-ins.
import { spawnSync } from 'child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parse, stringify } from 'yaml';
import { CloudConfig, ServiceChange } from '../../constructs';
import { CONFIGURE_SCRIPT_PATH, renderCloudConfig, renderShellScript } from '../../constructs/cloud-init';
import { describeWithTools } from '../support/tools';
import { shellcheck } from '../support/validators';

const STANDINS = join(__dirname, 'standins');
const MODULE_RUNNER = join(__dirname, 'cloud-init-module.py');
/** The group the (failing) package would create, and a gid no group of this machine has. */
const PACKAGE_GROUP = 'pkhtestlb';
const PACKAGE_GID = 64917;
const PACKAGE = 'pkh-test-loadbalancer';

describeWithTools(['shellcheck'], 'shellcheck accepts the first-boot tests\' stand-ins', () => {
  test.each(['apt-get', 'cloud-init', 'dpkg-query'])('%s', (name) => {
    const result = shellcheck(readFileSync(join(STANDINS, name), 'utf8'));
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });
});

describeWithTools(['unshare', 'mount', '/usr/bin/python3', 'stat'], 'a first boot whose package install fails: one line names the package and the files, the step script is there and finishes once the cause is fixed', () => {
  let dir: string;
  /** The host's files live below this directory (their paths are rendered with it). */
  let root: string;

  /** A load balancer's shape: a package that creates a group, a file owned by that group, root's files after it, a service, a step. */
  const host = () => {
    const config = new CloudConfig({ hostname: 'lb-1', fqdn: 'lb-1.example.net' });
    config.addPackages('load-balancer', PACKAGE);
    config.addFile('load-balancer', { path: `${root}/etc/lb/lb.cfg`, content: 'frontend api\n', mode: '0640', owner: `root:${PACKAGE_GROUP}` });
    config.addFile('base', { path: `${root}/etc/pkh/a.conf`, content: 'a\n' });
    config.addFile('base', { path: `${root}/etc/pkh/z.conf`, content: 'z\n' });
    config.addService('load-balancer', { unit: 'lb', watches: [`${root}/etc/lb/lb.cfg`], onChange: ServiceChange.RELOAD });
    config.addCommand('base', `touch '${dir}/configured'`);
    return config;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pkh-first-boot-'));
    root = join(dir, 'root');
    mkdirSync(join(dir, 'instance'));
    writeFileSync(join(dir, 'installed'), '');
    // systemctl is stood in too: this machine runs no systemd.
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'systemctl'), `#!/bin/sh\necho "$*" >> '${dir}/systemctl.calls'\n[ "$1" != is-active ] || exit 0\n`);
    chmodSync(join(dir, 'bin', 'systemctl'), 0o755);
    setGroupPresent(false);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** The namespace's /etc/group: the machine's, with or without the package's group. */
  function setGroupPresent(present: boolean): void {
    const machine = readFileSync('/etc/group', 'utf8');
    writeFileSync(join(dir, 'group'), present ? `${machine.trimEnd()}\n${PACKAGE_GROUP}:x:${PACKAGE_GID}:\n` : machine);
  }

  /** Runs `command` in a private mount namespace whose /etc/group is the test's, with the stand-ins first on PATH. */
  function inHost(command: readonly string[]) {
    const result = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /etc/group && exec "$@"', join(dir, 'group'), ...command], {
      encoding: 'utf8', timeout: 60_000,
      env: {
        ...process.env, PATH: `${join(dir, 'bin')}:${STANDINS}:/usr/sbin:/usr/bin:/sbin:/bin`, PKH_TEST_DIR: dir, PKH_TEST_PACKAGES: PACKAGE, PKH_TEST_MODULE_RUNNER: MODULE_RUNNER,
        PKH_PENDING_CHANGES: join(dir, 'state', 'pending-changes'), PKH_CLOUD_INSTANCE: join(dir, 'instance'),
      },
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }
  const lines = (text: string) => text.split('\n').filter((line) => line !== '');
  const calls = (name: string) => (existsSync(join(dir, `${name}.calls`)) ? lines(readFileSync(join(dir, `${name}.calls`), 'utf8')) : []);
  const ownerOf = (path: string) => lines(inHost(['stat', '-c', '%U:%G', path]).stdout)[0];

  test('VM: cloud-init\'s real file modules stop at the file owned by the missing group; the step script, written first, names the package and the files; once fixed it finishes', () => {
    // The user data as the VM gets it, the step script at a path of the test.
    const document = parse(renderCloudConfig(host()));
    const script = join(dir, 'configure.sh');
    document.write_files.find((file: { path: string }) => file.path === CONFIGURE_SCRIPT_PATH).path = script;
    writeFileSync(join(dir, 'user-data.yaml'), stringify(document));

    // cloud-init's first stage: the files without `defer` (the step script).
    expect(inHost(['/usr/bin/python3', MODULE_RUNNER, 'write_files', join(dir, 'user-data.yaml')])).toMatchObject({ status: 0, stderr: '' });
    expect(statSync(script).mode & 0o777).toBe(0o755);
    // (The package install fails here: its group is never created.) The last stage: the deferred files, which stop
    // at the first one whose owner is missing.
    const deferred = inHost(['/usr/bin/python3', MODULE_RUNNER, 'write_files_deferred', join(dir, 'user-data.yaml')]);
    expect(deferred.status).toBe(1);
    expect(deferred.stderr).toContain('write_files_deferred failed: ');
    expect(deferred.stderr).toContain(`getgrnam(): name not found: '${PACKAGE_GROUP}'`);
    expect(existsSync(`${root}/etc/pkh/a.conf`)).toBe(false);

    // runcmd: the step script, which asks cloud-init once more, and still fails.
    const failed = inHost(['sh', script]);
    expect(failed.status).toBe(1);
    expect(calls('cloud-init')).toEqual(['single --name package_update_upgrade_install --frequency always', 'single --name write_files_deferred --frequency always']);
    const last = lines(failed.stderr).pop();
    expect(last).toBe(`proxmox-k3s-ha: configuration FAILED at step 1/3: first boot: packages installed, files written: packages not installed: ${PACKAGE}; `
      + `files not written: ${root}/etc/lb/lb.cfg (root:${PACKAGE_GROUP}), ${root}/etc/pkh/a.conf (root:root), ${root}/etc/pkh/z.conf (root:root) (exit status 1); `
      + `fix the cause, then run ${CONFIGURE_SCRIPT_PATH} again`);
    expect(lines(failed.stderr).filter((line) => line.includes('FAILED'))).toHaveLength(1);
    expect(failed.stdout).not.toContain('step 2/3');
    expect(existsSync(join(dir, 'configured'))).toBe(false);

    // The cause fixed (the repository back): the same step script finishes the first boot, then its steps.
    writeFileSync(join(dir, 'repository-fixed'), '');
    setGroupPresent(true);
    const rerun = inHost(['sh', script]);
    expect(rerun.stderr).toBe('');
    expect(rerun.status).toBe(0);
    expect(rerun.stdout).toContain(`the first boot left out packages not installed: ${PACKAGE}; files not written:`);
    expect(rerun.stdout).toContain('proxmox-k3s-ha: configuration complete (3 steps)');
    expect(existsSync(join(dir, 'configured'))).toBe(true);
    expect(ownerOf(`${root}/etc/lb/lb.cfg`)).toBe(`root:${PACKAGE_GROUP}`);
    expect(readFileSync(`${root}/etc/pkh/z.conf`, 'utf8')).toBe('z\n');
    expect(calls('systemctl')).toEqual(['enable lb', 'reload-or-restart lb']);

    // Once the first configuration completed, the check asks cloud-init nothing any more.
    const again = inHost(['sh', script]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('the first configuration completed before; nothing to check');
    expect(calls('cloud-init')).toHaveLength(4);
    // ...and the service it applied is left alone (it runs).
    expect(calls('systemctl')).toEqual(['enable lb', 'reload-or-restart lb', 'is-active --quiet lb']);
  });

  test('LXC: the provisioning script writes the step script first; apt-get failing ends it with one line naming the packages; a file whose group is missing, naming the file; once fixed it finishes', () => {
    const provisioning = join(dir, 'provision.sh');
    writeFileSync(provisioning, renderShellScript(host()).split(CONFIGURE_SCRIPT_PATH).join(join(dir, 'configure.sh')));

    const failed = inHost(['sh', provisioning]);
    expect(failed.status).toBe(1);
    expect(lines(failed.stderr).pop()).toBe(`proxmox-k3s-ha: configuration FAILED before its steps: packages not installed: ${PACKAGE} (apt-get exit status 100): `
      + `the files and steps were not reached; fix the cause, then run ${provisioning} again`);
    expect(existsSync(join(dir, 'configure.sh'))).toBe(true);
    expect(existsSync(`${root}/etc/lb/lb.cfg`)).toBe(false);

    // The package installs now, but its group is still missing: the file that needs it is named.
    writeFileSync(join(dir, 'repository-fixed'), '');
    const noGroup = inHost(['sh', provisioning]);
    expect(noGroup.status).toBe(1);
    expect(lines(noGroup.stderr).pop()).toBe(`proxmox-k3s-ha: configuration FAILED before its steps: file ${root}/etc/lb/lb.cfg cannot be given its owner root:${PACKAGE_GROUP} `
      + `(a user or group its package creates is missing); fix the cause, then run ${provisioning} again`);

    setGroupPresent(true);
    const fixed = inHost(['sh', provisioning]);
    expect(fixed.stderr).toBe('');
    expect(fixed.status).toBe(0);
    expect(fixed.stdout).toContain('proxmox-k3s-ha: configuration complete (3 steps)');
    expect(ownerOf(`${root}/etc/lb/lb.cfg`)).toBe(`root:${PACKAGE_GROUP}`);
    expect(existsSync(join(dir, 'configured'))).toBe(true);
  });
}, { needsRoot: true });
