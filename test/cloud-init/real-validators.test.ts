import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'fs';
import { LifecycleScript, lifecycleScript } from '../../constructs/tf/lifecycle/lifecycle-scripts';
import { tmpdir } from 'os';
import { basename, join, relative } from 'path';
import { spawnSync } from 'child_process';
import { parse } from 'yaml';
import { CloudConfig, ServiceChange } from '../../constructs';
import { CONFIGURE_SCRIPT_PATH, renderCloudConfig, renderShellScript } from '../../constructs/cloud-init';
import { describeWithTools } from '../support/tools';
import { scriptFiles } from '../support/user-data';
import { cloudInitSchema, shellcheck } from '../support/validators';
import { richCloudConfig } from './fixtures';

/** The scripts' environment, with the ledger of pending changes in the test's directory, not on this machine. */
const inTestDir = (dir: string) => ({ ...process.env, PKH_PENDING_CHANGES: join(dir, 'pending-changes') });

describeWithTools(['cloud-init'], 'cloud-init schema accepts rendered cloud-configs', () => {
  test('a config using every builder feature', () => {
    const result = cloudInitSchema(renderCloudConfig(richCloudConfig()));
    expect(result.output).toContain('Valid cloud-config');
    expect(result.ok).toBe(true);
  });

  test('the check can fail: a broken document is rejected', () => {
    const broken = renderCloudConfig(richCloudConfig()).replace('runcmd:', 'runcmd: 3\nx:');
    expect(cloudInitSchema(broken).ok).toBe(false);
  });
});

describeWithTools(['shellcheck'], 'shellcheck accepts rendered provisioning scripts', () => {
  test('a script using every builder feature', () => {
    const result = shellcheck(renderShellScript(richCloudConfig()));
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });

  test('the check can fail: an unquoted expansion is reported', () => {
    expect(shellcheck('#!/bin/sh\nrm -rf $1/*\n').ok).toBe(false);
  });
});

/** Every shell asset the library ships: the .sh files of every assets folder under constructs/. */
function shellAssets(dir = join(__dirname, '../../constructs')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? shellAssets(path) : (basename(dir) === 'assets' && entry.name.endsWith('.sh') ? [path] : []);
  });
}

describeWithTools(['shellcheck'], 'shellcheck accepts every shipped shell asset as a file', () => {
  test('there are assets to check', () => {
    expect(shellAssets().map((path) => basename(path))).toEqual(expect.arrayContaining(['k3s-join-existing-cluster.sh', 'systemctl-deadline.sh']));
  });
  test.each(shellAssets().map((path) => [relative(join(__dirname, '../..'), path), path]))('%s', (_, path) => {
    const result = shellcheck(readFileSync(path, 'utf8'));
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });
  // The lifecycle scripts run after their shared library: checked as they run too (a name the library defines, or
  // one it reads, that a script gets wrong shows only together).
  test.each(Object.values(LifecycleScript))('lifecycle script %s with the library', (script) => {
    const result = shellcheck(lifecycleScript(script));
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });
});

describe('provisioning script file handling (run for real, files only, in a temporary directory)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pkh-shell-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('writes exact bytes with the requested mode and is idempotent', () => {
    const owner = `${process.getuid!()}:${process.getgid!()}`;
    const config = new CloudConfig({ hostname: 'h1', fqdn: 'h1.example.net' });
    const tricky = "it's $HOME and `date` and \\n and \"quotes\"\n%{x} ${y}\nno newline at end";
    config.addFile('r', { path: join(dir, 'etc/app/tricky.conf'), content: tricky, mode: '0640', owner });
    config.addFile('r', { path: join(dir, 'etc/app/empty'), content: '', owner });
    const script = join(dir, 'provision.sh');
    require('fs').writeFileSync(script, renderShellScript(config));
    chmodSync(script, 0o755);

    const first = spawnSync('sh', [script], { encoding: 'utf8', timeout: 30_000, env: inTestDir(dir) });
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(readFileSync(join(dir, 'etc/app/tricky.conf'), 'utf8')).toBe(tricky);
    expect(readFileSync(join(dir, 'etc/app/empty'), 'utf8')).toBe('');
    expect(statSync(join(dir, 'etc/app/tricky.conf')).mode & 0o777).toBe(0o640);

    const inodeBefore = statSync(join(dir, 'etc/app/tricky.conf')).ino;
    const second = spawnSync('sh', [script], { encoding: 'utf8', timeout: 30_000, env: inTestDir(dir) });
    expect(second.status).toBe(0);
    // Unchanged content is not rewritten (same inode), so services watching files are not disturbed.
    expect(statSync(join(dir, 'etc/app/tricky.conf')).ino).toBe(inodeBefore);
  });
});

describe('the step script stops at the first failing step, says which, and a re-run finishes (run for real)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pkh-steps-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A config of three steps whose second fails until `fixed` exists; returns the step script from its cloud-config. */
  const threeSteps = () => {
    const config = new CloudConfig({ hostname: 'h1', fqdn: 'h1.example.net' });
    config.addCommand('first', `touch '${dir}/one'`);
    config.addCommand('second', `test -e '${dir}/fixed'`);
    config.addCommand('third', `touch '${dir}/three'`);
    return renderCloudConfig(config);
  };
  test('the cloud-config is valid and runcmd runs only the step script', () => {
    const document = parse(threeSteps());
    expect(document.runcmd).toEqual([[CONFIGURE_SCRIPT_PATH]]);
  });


  test('step 2 fails: step 3 does not run, the failure names step 2 and its status; after the fix a re-run completes', () => {
    const script = join(dir, 'configure.sh');
    writeFileSync(script, stepScript(threeSteps()));
    const failed = spawnSync('sh', [script], { encoding: 'utf8', timeout: 30_000, env: inTestDir(dir) });
    expect(failed.status).toBe(1);
    expect(existsSync(join(dir, 'one'))).toBe(true);
    expect(existsSync(join(dir, 'three'))).toBe(false);
    expect(failed.stdout).toContain('proxmox-k3s-ha: step 2/3: test -e');
    expect(failed.stdout).not.toContain('step 3/3');
    expect(failed.stderr).toContain(`proxmox-k3s-ha: configuration FAILED at step 2/3: test -e "${dir}/fixed" (exit status 1); fix the cause, then run ${CONFIGURE_SCRIPT_PATH} again`);

    writeFileSync(join(dir, 'fixed'), '');
    const rerun = spawnSync('sh', [script], { encoding: 'utf8', timeout: 30_000, env: inTestDir(dir) });
    expect(rerun.stderr).toBe('');
    expect(rerun.status).toBe(0);
    expect(existsSync(join(dir, 'three'))).toBe(true);
    expect(rerun.stdout).toContain('proxmox-k3s-ha: configuration complete (3 steps)');
  });

  test('the LXC rendering installs the same step script and stops the same way', () => {
    const config = new CloudConfig({ hostname: 'h1', fqdn: 'h1.example.net' });
    config.addCommand('first', 'true');
    expect(scriptFiles(renderShellScript(config)).get(CONFIGURE_SCRIPT_PATH)?.content).toBe(stepScript(renderCloudConfig(config)));
  });
});

describeWithTools(['cloud-init'], 'cloud-init schema accepts a config whose second step fails', () => {
  test('valid cloud-config', () => {
    const config = new CloudConfig({ hostname: 'h1', fqdn: 'h1.example.net' });
    ['touch /tmp/one', 'false', 'touch /tmp/three'].forEach((command, i) => config.addCommand(`role${i}`, command));
    const result = cloudInitSchema(renderCloudConfig(config));
    expect(result.output).toContain('Valid cloud-config');
    expect(result.ok).toBe(true);
  });
});

describeWithTools(['shellcheck'], 'shellcheck accepts the step script', () => {
  test('of a config using every builder feature', () => {
    const result = shellcheck(stepScript(renderCloudConfig(richCloudConfig())));
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });
});

function stepScript(cloudConfig: string): string {
  return parse(cloudConfig).write_files.find((f: { path: string }) => f.path === CONFIGURE_SCRIPT_PATH).content as string;
}

describe('service steps take a change only when a file they read changed; a failed step stays pending (run for real)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pkh-service-'));
    // systemctl is the one thing stood in here (this machine runs no systemd): it logs its calls; `demo` is active.
    writeFileSync(join(dir, 'systemctl'), `#!/bin/sh\necho "$*" >> '${dir}/calls'\n[ "$1" != is-active ] || exit 0\n`);
    chmodSync(join(dir, 'systemctl'), 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const render = (watchedContent: string, otherContent: string) => {
    const config = new CloudConfig({ hostname: 'h1', fqdn: 'h1.example.net' });
    const owner = `${process.getuid!()}:${process.getgid!()}`;
    config.addFile('demo', { path: join(dir, 'demo.conf'), content: watchedContent, owner });
    config.addFile('other', { path: join(dir, 'other.conf'), content: otherContent, owner });
    config.addService('demo', { unit: 'demo', watches: [join(dir, 'demo.conf')], onChange: ServiceChange.RELOAD, validate: [`test -e '${dir}/valid'`] });
    // The step script goes into the test's directory instead of /usr/local/lib on this machine.
    writeFileSync(join(dir, 'converge.sh'), renderShellScript(config).split(CONFIGURE_SCRIPT_PATH).join(join(dir, 'configure.sh')));
  };
  const converge = () => {
    writeFileSync(join(dir, 'calls'), '');
    const result = spawnSync('sh', [join(dir, 'converge.sh')], { encoding: 'utf8', timeout: 30_000, env: { ...inTestDir(dir), PATH: `${dir}:${process.env.PATH}` } });
    return { status: result.status, calls: readFileSync(join(dir, 'calls'), 'utf8').split('\n').filter((l) => !l.startsWith('is-active') && l !== '') };
  };
  const ledger = () => readFileSync(join(dir, 'pending-changes'), 'utf8');

  test('first run applies, unchanged and unwatched changes do not, a watched change reloads once, a failed validation is retried', () => {
    writeFileSync(join(dir, 'valid'), '');
    render('a\n', 'x\n');
    expect(converge()).toEqual({ status: 0, calls: ['enable demo', 'reload-or-restart demo'] });
    expect(ledger()).toBe('');
    expect(converge()).toEqual({ status: 0, calls: [] });
    render('a\n', 'y\n');
    expect(converge()).toEqual({ status: 0, calls: [] });
    render('b\n', 'y\n');
    expect(converge()).toEqual({ status: 0, calls: ['enable demo', 'reload-or-restart demo'] });
    expect(ledger()).toBe('');

    rmSync(join(dir, 'valid'));
    render('c\n', 'y\n');
    expect(converge()).toEqual({ status: 1, calls: [] });
    expect(ledger()).toBe(`${join(dir, 'demo.conf')}\n`);
    writeFileSync(join(dir, 'valid'), '');
    // Nothing differs on disk any more; the ledger alone says the change was not taken.
    expect(converge()).toEqual({ status: 0, calls: ['enable demo', 'reload-or-restart demo'] });
    expect(ledger()).toBe('');
  });

  test('a first run that fails after a service started: re-runs apply only what it did not reach (the witness\'s etcd is not restarted each time)', () => {
    const config = new CloudConfig({ hostname: 'witness', fqdn: 'witness.example.net' });
    const owner = `${process.getuid!()}:${process.getgid!()}`;
    const member = join(dir, 'etcd.env');
    const later = join(dir, 'k3s.yaml');
    config.addFile('datastore-witness', { path: member, content: 'ETCD_NAME=witness\n', owner });
    config.addFile('k3s', { path: later, content: 'token: x\n', owner });
    config.addService('datastore-witness', { unit: 'etcd', watches: [member], onChange: ServiceChange.RESTART });
    config.addCommand('k3s', `test -e '${dir}/fixed'`);
    config.addService('k3s', { unit: 'k3s', watches: [later], onChange: ServiceChange.RESTART });
    writeFileSync(join(dir, 'converge.sh'), renderShellScript(config).split(CONFIGURE_SCRIPT_PATH).join(join(dir, 'configure.sh')));
    const unfinished = join(dir, 'first-configuration-unfinished');

    // The first run starts etcd, then stops at the step after it; k3s's file stays pending.
    expect(converge()).toEqual({ status: 1, calls: ['enable etcd', 'restart etcd'] });
    expect(ledger()).toBe(`${later}\n`);
    expect(existsSync(unfinished)).toBe(true);
    // Run again (still failing), then again once fixed: etcd runs, so it is left alone; k3s starts once.
    expect(converge()).toEqual({ status: 1, calls: [] });
    writeFileSync(join(dir, 'fixed'), '');
    expect(converge()).toEqual({ status: 0, calls: ['enable k3s', 'restart k3s'] });
    expect(ledger()).toBe('');
    expect(existsSync(unfinished)).toBe(false);
    // A later change of etcd's file restarts it, as before.
    config.replaceFile('datastore-witness', { path: member, content: 'ETCD_NAME=witness\nETCD_X=1\n', owner });
    writeFileSync(join(dir, 'converge.sh'), renderShellScript(config).split(CONFIGURE_SCRIPT_PATH).join(join(dir, 'configure.sh')));
    expect(converge()).toEqual({ status: 0, calls: ['enable etcd', 'restart etcd'] });
  });
});
