import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { spawnSync } from 'child_process';
import { CloudConfig, renderCloudConfig, renderShellScript } from '../../constructs';
import { describeWithTools } from '../support/tools';
import { cloudInitSchema, shellcheck } from '../support/validators';
import { richCloudConfig } from './fixtures';

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

    const first = spawnSync('sh', [script], { encoding: 'utf8', timeout: 30_000 });
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(readFileSync(join(dir, 'etc/app/tricky.conf'), 'utf8')).toBe(tricky);
    expect(readFileSync(join(dir, 'etc/app/empty'), 'utf8')).toBe('');
    expect(statSync(join(dir, 'etc/app/tricky.conf')).mode & 0o777).toBe(0o640);

    const inodeBefore = statSync(join(dir, 'etc/app/tricky.conf')).ino;
    const second = spawnSync('sh', [script], { encoding: 'utf8', timeout: 30_000 });
    expect(second.status).toBe(0);
    // Unchanged content is not rewritten (same inode), so services watching files are not disturbed.
    expect(statSync(join(dir, 'etc/app/tricky.conf')).ino).toBe(inodeBefore);
  });
});
