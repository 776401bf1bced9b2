import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { CloudConfig, defineSite } from '../../constructs';
import { renderCloudConfig, renderConvergeScript } from '../../constructs/cloud-init';
import { PATRONI_ENV_PATH, PatroniSecrets, renderPatroniEnvironmentFile } from '../../constructs/renderers';
import { applyDatastoreRole } from '../../constructs/roles';
import { DEFAULT_CONVERGE_DEADLINES } from '../../constructs/tf/lifecycle/host-converge';
import { pgHomelabSite } from './fixtures';

// Patroni reads its own passwords only when it starts: a converge that would write a new one is refused before it
// changes anything, by the preflight check of the rendered converge script, run here as rendered.

const plan = defineSite({ ...pgHomelabSite, postgres: { tls: false } });
const SECRETS: PatroniSecrets = {
  superuserPassword: 'Superuser0nlyForThisTest',
  replicationPassword: 'Replication0nlyForThisTest',
  rewindPassword: 'Rewind0nlyForThisTest',
  restApiPassword: 'RestApi0nlyForThisTest',
  k3sPassword: 'K3s0nlyForThisTest',
};

function datastoreConfig(): CloudConfig {
  const config = new CloudConfig({ hostname: 'pg-node-1', fqdn: `pg-node-1.${plan.network.searchDomain}` });
  applyDatastoreRole(config, plan, 'pg-node-1', SECRETS);
  return config;
}

/** The rendered converge script's preflight part (its function and checks), reading the environment file at `envFile`. */
function preflightPart(envFile: string): string {
  const script = renderConvergeScript(datastoreConfig(), { waitForCloudInit: false, deadlines: DEFAULT_CONVERGE_DEADLINES });
  const start = script.indexOf('# pkh_preflight DESCRIPTION CHECK');
  const end = script.indexOf('\n# pkh_gate ');
  expect({ start: start >= 0, end: end > start }).toEqual({ start: true, end: true });
  return `set -eu\n${script.slice(start, end).split(PATRONI_ENV_PATH).join(envFile)}\necho preflight passed\n`;
}

describe('a converge refuses to change Patroni\'s own passwords, before it changes anything', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pkh-passwords-kept-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (installed: PatroniSecrets | undefined) => {
    const envFile = join(dir, 'patroni.env');
    if (installed) {
      writeFileSync(envFile, renderPatroniEnvironmentFile(installed), { mode: 0o600 });
    }
    const result = spawnSync('sh', ['-c', preflightPart(envFile)], { encoding: 'utf8', timeout: 20_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  test('the first converge (no file yet), the same passwords, and a new K3s password (rotated in place) go ahead', () => {
    for (const installed of [undefined, SECRETS, { ...SECRETS, k3sPassword: 'OlderK3s0nly' }]) {
      expect(run(installed)).toMatchObject({ status: 0, stdout: 'preflight passed\n', stderr: '' });
    }
  });

  test('a new replication or REST API password is refused, naming each changed variable and never a value', () => {
    const older = { ...SECRETS, replicationPassword: 'OlderReplication0nly', restApiPassword: 'OlderRestApi0nly' };
    const result = run(older);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('changed: PATRONI_REPLICATION_PASSWORD PATRONI_RESTAPI_PASSWORD.');
    expect(result.stderr).toContain('proxmox-k3s-ha: ');
    expect(result.stderr).toContain(': refused before any change: Patroni\'s own passwords are kept (rotating them is not supported yet)');
    for (const value of [...Object.values(SECRETS), ...Object.values(older)]) {
      expect(result.stderr).not.toContain(value);
    }
  });

  test('each of the four is checked', () => {
    for (const secret of ['superuserPassword', 'replicationPassword', 'rewindPassword', 'restApiPassword'] as const) {
      expect({ secret, status: run({ ...SECRETS, [secret]: 'Older0nly' }).status }).toEqual({ secret, status: 1 });
    }
  });

  test('the values reach the check through its environment: no command it starts gets one as an argument', () => {
    // Every command the check starts, found on PATH, logs its arguments first; the part runs from a file, as the
    // converge script does.
    const bin = join(dir, 'bin');
    const log = join(dir, 'arguments.log');
    mkdirSync(bin);
    for (const command of ['sh', 'sed', 'tail', 'printenv']) {
      const real = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim();
      writeFileSync(join(bin, command), `#!/bin/sh\nprintf '${command} %s\\n' "$*" >> ${log}\nexec ${real} "$@"\n`, { mode: 0o755 });
    }
    const envFile = join(dir, 'patroni.env');
    writeFileSync(envFile, renderPatroniEnvironmentFile({ ...SECRETS, rewindPassword: 'OlderRewind0nly' }), { mode: 0o600 });
    writeFileSync(join(dir, 'part.sh'), preflightPart(envFile));
    const result = spawnSync('/bin/sh', [join(dir, 'part.sh')], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    expect(result.status).toBe(1);
    const logged = readFileSync(log, 'utf8');
    expect(logged).toContain('printenv PKH_NEW_PATRONI_REWIND_PASSWORD');
    for (const value of [...Object.values(SECRETS), 'OlderRewind0nly']) {
      expect({ value, logged: logged.includes(value) }).toEqual({ value, logged: false });
    }
  });

  test('the first boot has no preflight check: nothing ran before it', () => {
    expect(renderCloudConfig(datastoreConfig())).not.toContain('pkh_preflight');
    expect(renderCloudConfig(datastoreConfig())).not.toContain('PKH_NEW_');
  });
});
