import { spawnSync } from 'child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { hostname, tmpdir } from 'os';
import { join } from 'path';
import { SiteSpec, defineSite } from '../../constructs';
import { renderK3sRestoreEnv } from '../../constructs/renderers/etcd-backup';
import { K3S_RESTORE_SCRIPT } from '../../constructs/roles/backup';
import { vmSite } from '../fixtures/sites';

/**
 * restore-etcd on a K3s server, run with stand-ins for `k3s` and `systemctl` on PATH that record their arguments
 * (and, for k3s, the S3 credentials it was given): K3s itself cannot run here.
 */
const site = defineSite({ ...vmSite, name: 'restore-k3s', backup: { target: { endpoint: 'https://s3.backup.test', bucket: 'site-backups' } } } as SiteSpec);
const ACCESS = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

let dir: string;
let calls: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pkh-restore-k3s-'));
  calls = join(dir, 'calls');
  mkdirSync(join(dir, 'bin'));
  writeFileSync(calls, '');
  // Every call is one line: the program and its arguments; k3s server also records the credentials it sees.
  writeFileSync(join(dir, 'bin', 'k3s'), `#!/bin/sh
echo "k3s $*" >> '${calls}'
case "$1" in
  server) echo "k3s env AWS_ACCESS_KEY_ID=\${AWS_ACCESS_KEY_ID:-} AWS_SECRET_ACCESS_KEY=\${AWS_SECRET_ACCESS_KEY:-}" >> '${calls}' ;;
  kubectl) printf True ;;
esac
`);
  writeFileSync(join(dir, 'bin', 'systemctl'), `#!/bin/sh\necho "systemctl $*" >> '${calls}'\n`);
  chmodSync(join(dir, 'bin', 'k3s'), 0o755);
  chmodSync(join(dir, 'bin', 'systemctl'), 0o755);
  writeFileSync(join(dir, 'restore-etcd'), K3S_RESTORE_SCRIPT, { mode: 0o755 });
  writeFileSync(join(dir, 'restore-etcd.env'), renderK3sRestoreEnv(site, 'server-1'));
  writeFileSync(join(dir, 'k3s.env'), `AWS_ACCESS_KEY_ID=${ACCESS}\nAWS_SECRET_ACCESS_KEY=${SECRET}\nOTHER=$(touch ${join(dir, 'executed')})\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'token'), 'K10original::server:token\n', { mode: 0o600 });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function restore(...args: string[]): { status: number | null; stdout: string; stderr: string; calls: string[] } {
  const result = spawnSync(join(dir, 'restore-etcd'), args, {
    encoding: 'utf8',
    timeout: 30_000,
    // stdin not a terminal: no confirmation prompt.
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: `${join(dir, 'bin')}:/usr/bin:/bin`,
      PKH_RESTORE_ENV: join(dir, 'restore-etcd.env'),
      PKH_K3S_TOKEN_FILE: join(dir, 'token'),
      PKH_K3S_ENV_FILE: join(dir, 'k3s.env'),
    },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls: readFileSync(calls, 'utf8').split('\n').filter(Boolean) };
}

describe('restore-etcd on a K3s server', () => {
  test('without a snapshot argument it prints its usage and touches nothing', () => {
    const result = restore();
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^usage: restore-etcd <snapshot/);
    expect(result.calls).toEqual([]);
  });

  test.each([['missing', () => rmSync(join(dir, 'token'))], ['empty', () => writeFileSync(join(dir, 'token'), '')]])('with the token file %s it refuses, says where the original token is, and touches nothing', (_, breakToken) => {
    breakToken();
    const result = restore('etcd-snapshot-server-1-1765000000');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${join(dir, 'token')} is missing or empty; nothing was changed`);
    expect(result.stderr).toContain('ORIGINAL token');
    expect(result.stderr).toContain('terraform output -raw k3s_token');
    expect(result.calls).toEqual([]);
  });

  test.each(['../etc/passwd', 'snap shot', '.hidden', 'a;reboot', '/no/such/snapshot.zip'])('a snapshot argument that is neither a name nor an existing file (%s) is refused before anything runs', (snapshot) => {
    const result = restore(snapshot);
    expect(result.status).toBe(2);
    expect(result.calls).toEqual([]);
  });

  test('a snapshot on the target: K3s stopped, reset from S3 with the credentials of the env file, started, the other servers\' steps printed', () => {
    const result = restore('etcd-snapshot-server-1-1765000000');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.calls).toEqual([
      'systemctl stop k3s',
      'k3s server --cluster-reset --cluster-reset-restore-path=etcd-snapshot-server-1-1765000000 --etcd-s3',
      `k3s env AWS_ACCESS_KEY_ID=${ACCESS} AWS_SECRET_ACCESS_KEY=${SECRET}`,
      'systemctl start k3s',
      `k3s kubectl get node ${hostname()} -o jsonpath={.status.conditions[?(@.type=="Ready")].status}`,
    ]);
    // The environment file is read, never run as shell code, and the secret is never printed.
    expect(existsSync(join(dir, 'executed'))).toBe(false);
    expect(result.stdout).not.toContain(SECRET);
    for (const server of ['server-2', 'server-3']) {
      expect(result.stdout).toContain(`on ${server}:  sudo systemctl stop k3s; sudo mv /var/lib/rancher/k3s/server/db /var/lib/rancher/k3s/server/db.before-restore; sudo systemctl start k3s`);
      expect(result.stdout).toContain(`k3s kubectl wait --for=condition=Ready node/${server} --timeout=600s`);
    }
    expect(result.stdout).not.toContain('on server-1:');
    expect(result.stdout.indexOf('server-2')).toBeLessThan(result.stdout.lastIndexOf('server-3'));
  });

  test('a local snapshot file is restored without S3 (--etcd-s3=false)', () => {
    const file = join(dir, 'etcd-snapshot-server-1-1765000000');
    writeFileSync(file, 'snapshot');
    const result = restore(file);
    expect(result.status).toBe(0);
    expect(result.calls[1]).toBe(`k3s server --cluster-reset --cluster-reset-restore-path=${file} --etcd-s3=false`);
  });

  test('a failed reset stops the script: K3s is not started again on a half-restored datastore', () => {
    writeFileSync(join(dir, 'bin', 'k3s'), `#!/bin/sh\necho "k3s $*" >> '${calls}'\nexit 1\n`);
    const result = restore('etcd-snapshot-server-1-1765000000');
    expect(result.status).toBe(1);
    expect(result.calls).toEqual(['systemctl stop k3s', 'k3s server --cluster-reset --cluster-reset-restore-path=etcd-snapshot-server-1-1765000000 --etcd-s3']);
  });
});
