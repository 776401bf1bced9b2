import { ChildProcess, spawn, spawnSync } from 'child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { PATRONI_OWN_PASSWORDS, POSTGRES_ASSET_DIR, PatroniSecrets, PostgresAsset, renderPatroniEnvironmentFile } from '../../constructs/renderers';
import { describeWithTools } from '../support/tools';

// patroni-rotate-passwords.sh as shipped, run against stand-ins of what it talks to (systemctl, psql through runuser,
// Patroni's REST API through curl) that log every call; the "running Patroni" is a real process whose environment
// holds the passwords it started with, read through /proc as on a host. The real daemons run it in the rolling lab
// (test/rolling/postgres-rotation.test.ts); this checks the order of its steps, its failures and where values go.

const OLD: PatroniSecrets = {
  superuserPassword: 'OldSuperuser0nlyForThisTest',
  replicationPassword: 'OldReplication0nlyForThisTest',
  rewindPassword: 'OldRewind0nlyForThisTest',
  restApiPassword: 'OldRestApi0nlyForThisTest',
  k3sPassword: 'K3s0nlyForThisTest',
};
const PRIMARY_ADDRESS = '198.18.0.2';
const API = 'http://198.18.0.1:8008';

/** The stand-ins: each logs `<name> <arguments>` to calls.log; what they answer comes from files in the state dir. */
const STANDINS: Record<string, string> = {
  systemctl: `case "$*" in
  "show --property=MainPID --value patroni") cat "$STATE/pid" ;;
  "restart patroni") [ ! -e "$STATE/restart-fails" ] || exit 1 ;;
  *) exit 1 ;;
esac`,
  // runuser -u postgres -- PSQL ARGS...: answers the two queries, or takes SQL on stdin from a login it accepts.
  runuser: `case "$*" in
  *"pg_is_in_recovery"*) cat "$STATE/primary" ;;
  *"pg_stat_wal_receiver"*) echo ${PRIMARY_ADDRESS} ;;
  *"pg_stat_replication"*) cat "$STATE/replicas" ;;
  *"host=${PRIMARY_ADDRESS} "*)
    printf '%s\\n' "\${PGPASSWORD:-}" >>"$STATE/superuser-logins"
    [ "\${PGPASSWORD:-}" = "$(cat "$STATE/superuser-accepted")" ] || { echo 'password authentication failed' >&2; exit 2; }
    cat >>"$STATE/sql" ;;
  *) cat >>"$STATE/sql" ;;
esac`,
  // curl: GET /patroni reports the pause once one was asked for; a PATCH logs the credentials it read from stdin.
  curl: `case "$*" in
  *" -K - "*)
    sed -n 's/^user = "\\(.*\\)"$/\\1/p' >>"$STATE/api-credentials"
    case "$*" in *'{"pause": true}'*) touch "$STATE/paused" ;; *'{"pause": null}'*) rm -f "$STATE/paused" ;; esac
    case "$*" in *'/switchover'*) printf '%s\n' "$*" >>"$STATE/switchovers" ;; esac ;;
  *"/patroni")
    if [ -e "$STATE/paused" ]; then echo '{"state": "running", "role": "replica", "pause": true}'; else echo '{"state": "running", "role": "replica"}'; fi ;;
  *) exit 1 ;;
esac`,
};

describeWithTools(['/usr/bin/python3', 'sleep'], 'patroni-rotate-passwords.sh: the roles on the primary first, then Patroni restarted paused; no value in an argument or a log', () => {
  let dir: string;
  let patroni: ChildProcess | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pkh-rotate-passwords-'));
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'state'));
    for (const asset of [PostgresAsset.ROTATE_PASSWORDS, PostgresAsset.SCRAM_VERIFIER]) {
      copyFileSync(join(POSTGRES_ASSET_DIR, asset), join(dir, asset));
    }
    for (const [name, body] of Object.entries(STANDINS)) {
      writeFileSync(join(dir, 'bin', name), `#!/bin/sh\nprintf '%s %s\\n' ${name} "$*" >>"$STATE/calls.log"\n${body}\n`, { mode: 0o755 });
    }
    // Commands it starts from PATH log their arguments, then run as they are.
    for (const command of ['sed', 'tr', 'tail', 'grep', 'dirname', 'sleep']) {
      const real = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim();
      writeFileSync(join(dir, 'bin', command), `#!/bin/sh\nprintf '%s %s\\n' ${command} "$*" >>"$STATE/calls.log"\nexec ${real} "$@"\n`, { mode: 0o755 });
    }
  });
  afterEach(() => {
    patroni?.kill('SIGKILL');
    patroni = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const state = (name: string) => (existsSync(join(dir, 'state', name)) ? readFileSync(join(dir, 'state', name), 'utf8') : '');
  const environmentOf = (secrets: PatroniSecrets) => Object.fromEntries(Object.entries(PATRONI_OWN_PASSWORDS).map(([name, { secret }]) => [name, secrets[secret]]));

  /**
   * Runs the script as the converge does: Patroni runs with `running`'s values, the file holds `installed`'s, this
   * node is the primary or not, and the primary accepts the superuser with `accepted`.
   */
  function rotate(running: PatroniSecrets, installed: PatroniSecrets, options: { primary: boolean; replicas?: number; accepted?: string; restartFails?: boolean; pausedBefore?: boolean }) {
    patroni = spawn('sleep', ['300'], { env: { PATH: process.env.PATH, ...environmentOf(running) }, stdio: 'ignore' });
    writeFileSync(join(dir, 'state', 'pid'), `${patroni.pid}\n`);
    writeFileSync(join(dir, 'state', 'primary'), options.primary ? 't\n' : 'f\n');
    writeFileSync(join(dir, 'state', 'replicas'), `${options.replicas ?? 0}\n`);
    writeFileSync(join(dir, 'state', 'superuser-accepted'), `${options.accepted ?? running.superuserPassword}\n`);
    if (options.restartFails) {
      writeFileSync(join(dir, 'state', 'restart-fails'), '');
    }
    if (options.pausedBefore) {
      writeFileSync(join(dir, 'state', 'paused'), '');
    }
    const envFile = join(dir, 'patroni.env');
    writeFileSync(envFile, renderPatroniEnvironmentFile(installed), { mode: 0o600 });
    const pairs = Object.entries(PATRONI_OWN_PASSWORDS).map(([name, { role }]) => `${name}:${role ?? ''}`);
    const result = spawnSync('/bin/sh', [join(dir, PostgresAsset.ROTATE_PASSWORDS), envFile, API, '-', '/usr/lib/postgresql/15/bin/psql',
      'host=/run/postgresql port=5432 dbname=postgres user=postgres', 'port=5432 dbname=postgres user=postgres', ...pairs], {
      encoding: 'utf8', timeout: 60_000, env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}`, STATE: join(dir, 'state') },
    });
    const calls = state('calls.log').trim().split('\n').filter((line) => line !== '');
    /** The calls to the stand-ins of the outside world, in order, shortened to what they did. */
    const steps = calls.map((line): string | undefined => {
      if (line.startsWith('runuser')) {
        return line.includes('pg_is_in_recovery') ? 'psql: primary?' : line.includes('pg_stat_wal_receiver') ? 'psql: sender'
          : line.includes('pg_stat_replication') ? 'psql: replicas?' : line.includes(`host=${PRIMARY_ADDRESS}`) ? 'psql: SQL on the primary' : 'psql: SQL here';
      }
      if (line.startsWith('curl')) {
        return line.includes('{"pause": true}') ? 'api: pause' : line.includes('{"pause": null}') ? 'api: resume' : line.includes('/switchover') ? 'api: switchover' : 'api: status';
      }
      return line.startsWith('systemctl restart') ? 'restart patroni' : undefined;
    }).filter((step): step is string => step !== undefined)
      // Status polls repeat: one line for a run of them.
      .filter((step, i, all) => step !== 'api: status' || all[i - 1] !== 'api: status');
    return { status: result.status, stderr: result.stderr, calls, steps, sql: state('sql'), credentials: state('api-credentials'), logins: state('superuser-logins'), switchovers: state('switchovers') };
  }

  const NEW = { ...OLD, replicationPassword: 'NewReplication0nlyForThisTest', restApiPassword: 'NewRestApi0nlyForThisTest' };

  test('Patroni runs with the file\'s values: nothing to do, nothing called', () => {
    const result = rotate(OLD, OLD, { primary: true });
    expect({ status: result.status, stderr: result.stderr, steps: result.steps }).toEqual({ status: 0, stderr: '', steps: [] });
  });

  test('on a replica: the changed role\'s password set on the primary as a SCRAM verifier, then pause, restart, resume; the REST API with the old password, then the new', () => {
    const result = rotate(OLD, NEW, { primary: false });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: expect.stringContaining('Patroni restarted with the new passwords') });
    expect(result.steps).toEqual(['psql: primary?', 'psql: sender', 'psql: SQL on the primary', 'api: status', 'api: pause', 'api: status', 'restart patroni', 'api: status', 'api: resume']);
    expect(result.switchovers).toBe('');
    expect(result.sql).toMatch(/^ALTER ROLE "replicator" PASSWORD 'SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}';\n$/);
    // The superuser logged in with its new password (unchanged here) at the first attempt.
    expect(result.logins).toBe(`${OLD.superuserPassword}\n`);
    expect(result.credentials).toBe(`patroni:${OLD.restApiPassword}\npatroni:${NEW.restApiPassword}\n`);
    expect(result.stderr).toContain('Patroni runs with an older PATRONI_REPLICATION_PASSWORD PATRONI_RESTAPI_PASSWORD: ');
  });

  test('on the primary without replicas: every changed role set here, over the local socket; no switchover', () => {
    const rotated: PatroniSecrets = { superuserPassword: 'NewSuperuser0nly', replicationPassword: 'NewReplication0nly', rewindPassword: 'NewRewind0nly', restApiPassword: 'NewRestApi0nly', k3sPassword: OLD.k3sPassword };
    const result = rotate(OLD, rotated, { primary: true });
    expect(result.status).toBe(0);
    expect(result.steps).toEqual(['psql: primary?', 'psql: SQL here', 'api: status', 'psql: replicas?', 'api: pause', 'api: status', 'restart patroni', 'api: status', 'api: resume']);
    expect(result.sql.split('\n').filter((line) => line !== '').map((line) => line.replace(/PASSWORD '.*'/, 'PASSWORD …'))).toEqual([
      'ALTER ROLE "postgres" PASSWORD …;', 'ALTER ROLE "replicator" PASSWORD …;', 'ALTER ROLE "rewind" PASSWORD …;',
    ]);
    expect(result.logins).toBe('');
  });

  test('on a primary with replicas: the primary handed over first (a switchover, with the running REST API password), then the restart as a replica', () => {
    const result = rotate(OLD, NEW, { primary: true, replicas: 1 });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: expect.stringContaining('the primary was handed over') });
    expect(result.steps).toEqual(['psql: primary?', 'psql: SQL here', 'api: status', 'psql: replicas?', 'api: switchover', 'api: status', 'api: pause', 'api: status', 'restart patroni', 'api: status', 'api: resume']);
    const hostname = spawnSync('hostname', { encoding: 'utf8' }).stdout.trim();
    expect(result.switchovers).toContain(`{"leader": "${hostname}"}`);
    expect(result.credentials.split('\n')[0]).toBe(`patroni:${OLD.restApiPassword}`);
  });

  test('paused by the operator, on a primary with replicas: refused before any change to Patroni', () => {
    const result = rotate(OLD, NEW, { primary: true, replicas: 1, pausedBefore: true });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('error: the cluster is paused and this primary has replicas: resume it (patronictl resume) and apply again');
    expect(result.steps).toEqual(['psql: primary?', 'psql: SQL here', 'api: status', 'psql: replicas?']);
  });

  test('a new superuser password the primary does not know yet: the replica logs in with the old one', () => {
    const rotated = { ...OLD, superuserPassword: 'NewSuperuser0nly' };
    const result = rotate(OLD, rotated, { primary: false, accepted: OLD.superuserPassword });
    expect(result.status).toBe(0);
    expect(result.logins).toBe(`NewSuperuser0nly\n${OLD.superuserPassword}\n`);
    expect(result.sql).toMatch(/^ALTER ROLE "postgres" PASSWORD 'SCRAM-SHA-256\$/);
  });

  test('the primary refuses both: the step fails naming it and psql\'s reason, before any pause or restart', () => {
    const result = rotate(OLD, NEW, { primary: false, accepted: 'SomethingElse0nly' });
    expect(result.status).toBe(1);
    // psql's own last line says why (here the stand-in's; pg_hba's "no pg_hba.conf entry" on a site that lacks the line).
    expect(result.stderr).toContain(`error: the primary ${PRIMARY_ADDRESS} refused the superuser with its new and its old password (password authentication failed); if pg_hba refused it, apply once with the old passwords, then rotate\n`);
    expect(result.steps).toEqual(['psql: primary?', 'psql: sender', 'psql: SQL on the primary', 'psql: SQL on the primary']);
  });

  test('a restart that fails: the step fails, and cluster management is resumed', () => {
    const result = rotate(OLD, NEW, { primary: true, restartFails: true });
    expect(result.status).toBe(1);
    expect(result.steps).toEqual(['psql: primary?', 'psql: SQL here', 'api: status', 'psql: replicas?', 'api: pause', 'api: status', 'restart patroni', 'api: resume']);
    expect(result.stderr).toContain('cluster management resumed');
  });

  test('paused by the operator before: restarted without touching the pause, which stays theirs', () => {
    const result = rotate(OLD, NEW, { primary: true, pausedBefore: true });
    expect(result.status).toBe(0);
    expect(result.steps).toEqual(['psql: primary?', 'psql: SQL here', 'api: status', 'psql: replicas?', 'restart patroni', 'api: status']);
    expect(existsSync(join(dir, 'state', 'paused'))).toBe(true);
  });

  test('no value, old or new, in any command\'s arguments, in the SQL or in the output', () => {
    const rotated: PatroniSecrets = { superuserPassword: 'NewSuperuser0nly', replicationPassword: 'NewReplication0nly', rewindPassword: 'NewRewind0nly', restApiPassword: 'NewRestApi0nly', k3sPassword: OLD.k3sPassword };
    const result = rotate(OLD, rotated, { primary: false, accepted: OLD.superuserPassword });
    expect(result.status).toBe(0);
    expect(result.calls.some((line) => line.startsWith('sed ') || line.startsWith('tr '))).toBe(true);
    for (const value of [...Object.values(OLD), ...Object.values(rotated)]) {
      expect({ value, lines: result.calls.filter((line) => line.includes(value)) }).toEqual({ value, lines: [] });
      expect({ value, inArguments: result.calls.some((line) => line.includes(value)), inSql: result.sql.includes(value), inOutput: result.stderr.includes(value) })
        .toEqual({ value, inArguments: false, inSql: false, inOutput: false });
    }
  });
});
