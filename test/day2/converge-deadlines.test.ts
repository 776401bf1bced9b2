import { spawn, spawnSync } from 'child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { CloudConfig, ServiceChange, SiteSpec, defineSite } from '../../constructs';
import { CONVERGE_ASSET_DIR, ConvergeAsset, ConvergeDeadlines, renderConvergeScript } from '../../constructs/cloud-init/render-converge';
import homelab from '../../sites/homelab';
import prod from '../../sites/prod';
import { resourcesByPath, synthSite } from '../support/synth';
import { describeWithTools } from '../support/tools';
import { interpolateForValidation, shellcheck } from '../support/validators';

/**
 * No wait of a converge step without a deadline: the rendered script run for real (POSIX sh, coreutils timeout)
 * with stand-ins of `cloud-init` and `systemctl` first on PATH, in a private mount namespace so the configuration
 * script it installs stays off this machine.
 */
const ASSETS = [ConvergeAsset.DEADLINES, ConvergeAsset.SYSTEMCTL];

describeWithTools(['shellcheck'], 'shellcheck accepts the converge deadline scripts as files, and every seed site\'s converge scripts', () => {
  test.each(ASSETS)('%s', (asset) => {
    const result = spawnSync('shellcheck', ['--shell=sh', '--severity=style', join(CONVERGE_ASSET_DIR, asset)], { encoding: 'utf8', timeout: 60_000 });
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  });

  test('the check can fail: an unquoted expansion is reported', () => {
    const broken = readFileSync(join(CONVERGE_ASSET_DIR, ConvergeAsset.SYSTEMCTL), 'utf8').replace('"$PKH_SERVICE_SECONDS" "$PKH_SYSTEMCTL"', '$PKH_SERVICE_SECONDS "$PKH_SYSTEMCTL"');
    expect(shellcheck(broken).output).toContain('SC2086');
  });

  test.each([homelab, prod] as SiteSpec[])('$name: every converge script', (spec) => {
    const steps = resourcesByPath(synthSite(defineSite(spec)).json, 'terraform_data');
    const scripts = Object.entries(steps).filter(([path]) => path.endsWith('/Converge/Resource'))
      .map(([path, step]) => [path, (step.provisioner as { file?: { content: string } }[]).find((p) => p.file)!.file!.content] as const);
    expect(scripts.length).toBeGreaterThanOrEqual(5);
    for (const [path, script] of scripts) {
      expect({ path, output: shellcheck(interpolateForValidation(script)).output }).toEqual({ path, output: '' });
    }
  });
});

/** A stand-in program: `cloud-init` or `systemctl`, answering by its first argument. */
function standIn(dir: string, name: string, body: string): void {
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(dir, name), 0o755);
}

interface ConvergeRun { status: number | null; stderr: string; stdout: string; ms: number }

describeWithTools(['unshare', 'timeout'], 'a converge step gives up at its deadlines, naming the host, the step and what it waited for', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pkh-deadlines-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Renders a converge for host `h1` with one service reading one file (in the work dir), and runs it. */
  function converge(name: string, deadlines: ConvergeDeadlines, options: { cloudInit?: string; systemctl?: string; gateSeconds?: number; waitForCloudInit?: boolean }): Promise<ConvergeRun> {
    const work = join(dir, name);
    const bin = join(work, 'bin');
    mkdirSync(bin, { recursive: true });
    standIn(bin, 'cloud-init', options.cloudInit ?? 'exit 0');
    standIn(bin, 'systemctl', options.systemctl ?? 'exit 0');
    const config = new CloudConfig({ hostname: 'h1', fqdn: 'h1.test' });
    config.addFile('test', { path: join(work, 'etc/pkh-test.conf'), content: 'setting = 1\n' });
    config.addService('test', { unit: 'pkh-test', watches: [join(work, 'etc/pkh-test.conf')], onChange: ServiceChange.RESTART });
    if (options.gateSeconds) {
      config.addGate('test', { description: 'a check that never passes', check: 'false', timeoutSeconds: options.gateSeconds });
    }
    const script = join(work, 'converge.sh');
    writeFileSync(script, renderConvergeScript(config, { waitForCloudInit: options.waitForCloudInit ?? true, deadlines }));
    // The configuration script and the boot unit go to fixed paths: a tmpfs over them, in this run's mount namespace only.
    const inner = 'mount -t tmpfs pkh-test /usr/local/lib && mount -t tmpfs pkh-test /etc/systemd/system && exec sh "$0"';
    const started = Date.now();
    return new Promise((resolve) => {
      const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', inner, script], {
        env: { PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, PKH_PENDING_CHANGES: join(work, 'pending-changes'), LANG: 'C.UTF-8' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
      // A bound for the test itself, well above every deadline below.
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr, ms: Date.now() - started });
      });
    });
  }

  const deadlines = (overrides: Partial<ConvergeDeadlines>): ConvergeDeadlines => ({ firstBootSeconds: 30, convergeSeconds: 30, serviceSeconds: 30, ...overrides });

  test('a first boot that never ends fails within its deadline', async () => {
    const run = await converge('first-boot', deadlines({ firstBootSeconds: 2 }), { cloudInit: 'if [ "$1 $2" = "status --wait" ]; then sleep 600; fi' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("proxmox-k3s-ha: h1: first boot: gave up after 2 s waiting for cloud-init's first boot to end (cloud-init status --wait; see /var/log/cloud-init-output.log)");
    expect(run.ms).toBeGreaterThanOrEqual(2_000);
    expect(run.ms).toBeLessThan(12_000);
    expect(run.stdout).not.toContain('h1 converged');
  }, 70_000);

  test('a first boot that ended with an error is finished by the converge', async () => {
    const run = await converge('first-boot-error', deadlines({}), { cloudInit: '[ "$1" = status ] && exit 1; exit 0' });
    expect(run.stderr).toContain('proxmox-k3s-ha: h1: the first boot ended with an error; converging finishes it');
    expect(run.stdout).toContain('proxmox-k3s-ha: h1 converged');
    expect(run.status).toBe(0);
  }, 70_000);

  test('a service restart that never returns (K3s: TimeoutStartSec=0) fails within the service deadline, naming the call', async () => {
    const run = await converge('service', deadlines({ serviceSeconds: 2 }), { systemctl: 'case "$1" in restart) sleep 600 ;; is-active) exit 3 ;; *) exit 0 ;; esac' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('proxmox-k3s-ha: h1: systemctl restart pkh-test: gave up after 2 s waiting for systemd to finish the job');
    expect(run.ms).toBeLessThan(15_000);
  }, 70_000);

  test('the whole converge has a deadline: a health gate allowed 120 s is cut at the converge\'s 3 s', async () => {
    const run = await converge('whole', deadlines({ convergeSeconds: 3 }), { gateSeconds: 120, waitForCloudInit: false });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('proxmox-k3s-ha: h1: converge: gave up after 3 s waiting for the converge script (files, services, health gates) to finish');
    expect(run.ms).toBeGreaterThanOrEqual(3_000);
    expect(run.ms).toBeLessThan(15_000);
  }, 70_000);

  test('without a hang, the same script converges: the file written, the service restarted once', async () => {
    const run = await converge('healthy', deadlines({}), { systemctl: 'echo "$*" >> "$(dirname "$0")/../calls"; [ "$1" = is-active ] && exit 3; exit 0' });
    expect(run.stdout).toContain('proxmox-k3s-ha: h1 converged');
    expect(run.status).toBe(0);
    expect(readFileSync(join(dir, 'healthy/etc/pkh-test.conf'), 'utf8')).toBe('setting = 1\n');
    expect(readFileSync(join(dir, 'healthy/calls'), 'utf8')).toContain('restart pkh-test');
  }, 70_000);
}, { needsRoot: true });

test('a deadline that is not a whole number of seconds is refused, naming it', () => {
  const config = new CloudConfig({ hostname: 'h1', fqdn: 'h1.test' });
  expect(() => renderConvergeScript(config, { waitForCloudInit: false, deadlines: { firstBootSeconds: 60, convergeSeconds: 0, serviceSeconds: 60 } }))
    .toThrow('deadlines.convergeSeconds: 0 — expected a whole number of seconds, at least 1');
  expect(() => renderConvergeScript(config, { waitForCloudInit: false, deadlines: { firstBootSeconds: 1.5, convergeSeconds: 60, serviceSeconds: 60 } }))
    .toThrow('deadlines.firstBootSeconds: 1.5');
});
