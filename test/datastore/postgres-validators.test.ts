// The datastore's files checked by the real tools (shellcheck, haproxy, systemd-analyze, cloud-init, Patroni's own
// validator), and the shipped scripts run for real: the preparation script against a fake Debian layout, the
// post-bootstrap script against a throwaway PostgreSQL.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parse } from 'yaml';
import { CloudConfig, FileEncoding, SitePlan, defineSite } from '../../constructs';
import {
  ETCD_WAIT_READY_PATH, ETCD_INITIAL_STATE_PATH, HAPROXY_DATASTORE_CA_PATH, HAPROXY_WRITER_STATE_SCRIPT_PATH, PATRONI_ETCD_V3_PATH, POSTGRES_ASSET_DIR, PostgresAsset, renderEtcdServiceDropIn,
  renderHaproxyConfig, renderHaproxyWriterDropIn, renderPatroniConfig, renderPatroniServiceDropIn, renderPostgresWriterHaproxySections,
} from '../../constructs/renderers';
import { addLoadBalancerService, applyDatastoreRole, applyDatastoreWitnessRole, applyLoadBalancerRole } from '../../constructs/roles';
import { renderCloudConfig, renderShellScript } from '../../constructs/cloud-init';
import { run, sh, uniqueName } from '../support/netns';
import { describeWithTools } from '../support/tools';
import { ToolResult, cloudInitSchema, runOnFile, shellcheck } from '../support/validators';
import { colocatedSite, pgHomelabSite, singleNodeSite } from './fixtures';
import { createLabCa, installedPostgresVersion } from './harness';

const PLANS: SitePlan[] = [
  defineSite(pgHomelabSite),
  defineSite(colocatedSite),
  defineSite(singleNodeSite),
  defineSite({ ...pgHomelabSite, name: 'pg-async', postgres: { synchronousCommit: false, port: 6432, writerPort: 6433 } }),
  defineSite({ ...pgHomelabSite, name: 'pg-plain', postgres: { tls: false } }),
];
/** Every shipped shell script, and every Python one. */
const ASSETS = Object.values(PostgresAsset).filter((asset) => asset.endsWith('.sh'));
const PYTHON_ASSETS = Object.values(PostgresAsset).filter((asset) => asset.endsWith('.py'));

/** A temporary directory for the whole file, removed at the end. */
let workDir: string;
beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'pkh-pg-validators-'));
  chmodSync(workDir, 0o755);
});
afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describeWithTools(['shellcheck'], 'shellcheck accepts the shipped datastore scripts as files (POSIX sh, every severity)', () => {
  test.each(ASSETS)('%s', (asset) => {
    const path = join(POSTGRES_ASSET_DIR, asset);
    expect(readFileSync(path, 'utf8').startsWith('#!/bin/sh\n')).toBe(true);
    const result = spawnSync('shellcheck', ['--shell=sh', '--severity=style', path], { encoding: 'utf8', timeout: 60_000 });
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  });

  test('the check can fail: an unquoted expansion is reported', () => {
    const broken = readFileSync(join(POSTGRES_ASSET_DIR, PostgresAsset.PREPARE), 'utf8').replace('pg_dropcluster --stop "$version" main', 'pg_dropcluster --stop $version main');
    expect(broken).toContain('--stop $version main');
    const result = shellcheck(broken);
    expect(result.ok).toBe(false);
    expect(result.output).toContain('SC2086');
  });
});

describeWithTools(['/usr/bin/python3'], 'Python (Debian\'s, which runs Patroni) compiles the shipped Python scripts', () => {
  const compile = (path: string) => spawnSync('/usr/bin/python3', ['-c', 'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "exec")', path], { encoding: 'utf8', timeout: 60_000 });

  test('they are the two expected', () => {
    expect(PYTHON_ASSETS.sort()).toEqual([PostgresAsset.PATRONI_ETCD_V3, PostgresAsset.SCRAM_VERIFIER].sort());
  });

  test.each(PYTHON_ASSETS)('%s', (asset) => {
    const path = join(POSTGRES_ASSET_DIR, asset);
    // Started by the interpreter its unit names: no `#!` line (it is no shell script for the checks of `#!` files).
    expect(readFileSync(path, 'utf8').startsWith('#!')).toBe(false);
    const result = compile(path);
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  });

  test('the check can fail: a syntax error is reported', () => {
    const broken = join(workDir, 'broken.py');
    writeFileSync(broken, readFileSync(join(POSTGRES_ASSET_DIR, PostgresAsset.PATRONI_ETCD_V3), 'utf8').replace('def main():', 'def main(:'));
    expect(compile(broken).status).not.toBe(0);
  });

  test('without a patroni or patronictl argument it refuses, naming both', () => {
    const result = spawnSync('/usr/bin/python3', [join(POSTGRES_ASSET_DIR, PostgresAsset.PATRONI_ETCD_V3), 'pg_ctl'], { encoding: 'utf8', timeout: 60_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('patroni|patronictl ARGUMENTS...');
  });
});

describeWithTools(['haproxy', 'openssl'], 'haproxy -c accepts load balancer configs with the writer sections', () => {
  let caPath: string;
  beforeAll(() => {
    caPath = createLabCa(join(workDir, 'haproxy-ca'), 'pkh validators datastore CA');
  });
  /** The config as a load balancer gets it, with the datastore CA at a path that exists on this machine. */
  const config = (plan: SitePlan, node: string) => renderHaproxyConfig(plan, node, 'S3cretFromTerraform', renderPostgresWriterHaproxySections(plan))
    .split(HAPROXY_DATASTORE_CA_PATH).join(caPath);
  const check = (text: string): ToolResult => runOnFile('haproxy', ['-c', '-f'], text, 'haproxy.cfg');
  const loadBalancers = PLANS.filter((plan) => plan.loadBalancer)
    .flatMap((plan) => plan.loadBalancer!.nodes.map((node) => [`${plan.name}/${node.name}`, plan, node.name] as const));

  test.each(loadBalancers)('%s', (_, plan, node) => {
    const text = config(plan, node);
    expect(text).toContain('backend postgres_writer');
    expect(text.includes(`ca-file ${caPath} verifyhost`)).toBe(plan.postgres!.tls);
    const result = check(text);
    expect(result.output).toContain('Configuration file is valid');
    expect(result.ok).toBe(true);
  });

  test('the check can fail: a CA file that does not exist is rejected (the reason the CA is written on the load balancers)', () => {
    const text = renderHaproxyConfig(PLANS[0], 'pg-node-1', 'pw', renderPostgresWriterHaproxySections(PLANS[0]))
      .split(HAPROXY_DATASTORE_CA_PATH).join(join(workDir, 'no-such-ca.crt'));
    expect(check(text).ok).toBe(false);
  });

  test('the check can fail: a bad health check expectation is rejected', () => {
    expect(check(config(PLANS[0], 'pg-node-1').replace('http-check expect status 200', 'http-check expect statuz 200')).ok).toBe(false);
  });
});

const UNIT_DIR = '/lib/systemd/system';
const hasUnits = ['etcd.service', 'patroni.service', 'haproxy.service'].every((unit) => existsSync(join(UNIT_DIR, unit)));
/** Each drop-in on the package's unit it extends. */
const DROP_INS = [
  ['etcd.service', renderEtcdServiceDropIn(PLANS[0], 'pg-node-1')], ['patroni.service', renderPatroniServiceDropIn(PLANS[0], 'pg-node-1')], ['haproxy.service', renderHaproxyWriterDropIn()],
] as const;
describeWithTools(hasUnits ? ['systemd-analyze'] : ['systemd-analyze', `${UNIT_DIR}/etcd.service, patroni.service and haproxy.service (packages etcd-server, patroni, haproxy)`],
  'systemd-analyze verify accepts the etcd, Patroni and HAProxy drop-ins on the packages\' units', () => {
    /** Verifies a copy of the package's unit with the drop-in beside it (systemd loads `<unit>.d/` from the unit's directory). */
    const verify = (unit: string, dropIn: string): ToolResult => {
      const dir = mkdtempSync(join(workDir, 'units-'));
      copyFileSync(join(UNIT_DIR, unit), join(dir, unit));
      mkdirSync(join(dir, `${unit}.d`));
      // systemd checks that the commands exist: the shipped scripts stand in for their installed paths.
      const installed: [string, PostgresAsset][] = [
        [ETCD_WAIT_READY_PATH, PostgresAsset.ETCD_WAIT_READY], [ETCD_INITIAL_STATE_PATH, PostgresAsset.ETCD_INITIAL_STATE], [PATRONI_ETCD_V3_PATH, PostgresAsset.PATRONI_ETCD_V3], [HAPROXY_WRITER_STATE_SCRIPT_PATH, PostgresAsset.HAPROXY_WRITER_STATE],
      ];
      const text = installed.reduce((acc, [path, asset]) => acc.split(path).join(join(POSTGRES_ASSET_DIR, asset)), dropIn);
      writeFileSync(join(dir, `${unit}.d`, '10-proxmox-k3s-ha.conf'), text);
      const result = run('sh', ['-c', `cd '${dir}' && systemd-analyze verify --man=no ./${unit}`]);
      return { ok: result.status === 0 && result.output.trim() === '', output: result.output };
    };

    test.each(DROP_INS)('%s', (unit, dropIn) => {
      const result = verify(unit, dropIn);
      expect(result.output.trim()).toBe('');
      expect(result.ok).toBe(true);
    });

    test.each(DROP_INS.slice(0, 2))('the check can fail: an unknown key in the %s drop-in is reported', (unit, dropIn) => {
      const result = verify(unit, dropIn.replace('EnvironmentFile=', 'EnvironmentFyle='));
      expect(result.ok).toBe(false);
      expect(result.output).toContain('EnvironmentFyle');
    });
  });

const REFS = {
  secrets: {
    k3sPassword: '${random_password.k3s.result}',
    replicationPassword: '${random_password.repl.result}',
    superuserPassword: '${random_password.su.result}',
    rewindPassword: '${random_password.rewind.result}',
    restApiPassword: '${random_password.api.result}',
  },
  tls: {
    caCertificateBase64: '${base64encode(tls_self_signed_cert.ca.cert_pem)}',
    certificateBase64: '${base64encode(tls_locally_signed_cert.node.cert_pem)}',
    privateKeyBase64: '${base64encode(tls_private_key.node.private_key_pem)}',
  },
};

/** A seed-000 datastore node's whole builder: load balancer and datastore roles, secrets as Terraform references. */
function datastoreHost(): CloudConfig {
  const plan = PLANS[0];
  const config = new CloudConfig({ hostname: 'pg-node-1', fqdn: 'pg-node-1.homelab.test' });
  const lbSecrets = { statsPassword: '${random_password.stats.result}' };
  applyLoadBalancerRole(config, plan, 'pg-node-1', lbSecrets);
  addLoadBalancerService(config, plan, 'pg-node-1', lbSecrets, [{
    description: 'haproxy postgres writer frontend',
    port: plan.postgres!.writerPort,
    sections: renderPostgresWriterHaproxySections(plan),
    files: [{ path: HAPROXY_DATASTORE_CA_PATH, content: REFS.tls.caCertificateBase64, encoding: FileEncoding.BASE64, mode: '0644' }],
  }]);
  applyDatastoreRole(config, plan, 'pg-node-1', REFS.secrets, REFS.tls);
  return config;
}

/** The seed-000 witness cp1's builder with the witness role. */
function witnessHost(): CloudConfig {
  const config = new CloudConfig({ hostname: 'cp1', fqdn: 'cp1.homelab.test' });
  applyDatastoreWitnessRole(config, PLANS[0], 'cp1', REFS.tls);
  return config;
}

describeWithTools(['cloud-init'], 'cloud-init schema accepts the datastore\'s cloud-configs', () => {
  test('pg-node-1 (seed 000): load balancer and datastore node, TLS files as b64', () => {
    const text = renderCloudConfig(datastoreHost());
    expect(text).toContain('encoding: b64');
    const result = cloudInitSchema(text);
    expect(result.output).toContain('Valid cloud-config');
    expect(result.ok).toBe(true);
  });

  test('cp1 (seed 000): the etcd witness', () => {
    const text = renderCloudConfig(witnessHost());
    expect((parse(text) as { write_files: { path: string }[] }).write_files.map((f) => f.path)).toContain('/etc/proxmox-k3s-ha/etcd.env');
    const result = cloudInitSchema(text);
    expect(result.output).toContain('Valid cloud-config');
    expect(result.ok).toBe(true);
  });

  test('the check can fail: an unknown file encoding is rejected', () => {
    expect(cloudInitSchema(renderCloudConfig(witnessHost()).replace(/encoding: b64/g, 'encoding: b65')).ok).toBe(false);
  });
});

describeWithTools(['shellcheck'], 'shellcheck accepts the datastore\'s LXC provisioning scripts', () => {
  test.each([['pg-node-1 (seed 000)', datastoreHost], ['cp1, the witness (seed 000)', witnessHost]])('%s', (_, host) => {
    const script = renderShellScript(host());
    expect(script).toContain('| base64 -d | install_file');
    const result = shellcheck(script);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });
});

/** Seed 000 at the installed PostgreSQL version (Patroni's validator runs `postgres --version` from bin_dir). */
const pgVersion = installedPostgresVersion();
describeWithTools(['/usr/bin/patroni', 'ip', 'node', ...(pgVersion ? [] : ['PostgreSQL (/usr/lib/postgresql/<v>/bin)'])],
  'patroni --validate-config accepts the rendered configuration (in a network namespace with the node\'s address and the etcd members)', () => {
    let namespace: string;
    let listener: ChildProcess | undefined;
    const plan = (tls: boolean) => defineSite({ ...pgHomelabSite, postgres: { version: pgVersion ?? 15, tls } });

    beforeAll(async () => {
      namespace = uniqueName('pkhpv');
      sh('ip', ['netns', 'add', namespace]);
      sh('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
      const members = plan(true).postgres!.etcdMembers.map((m) => m.ip);
      for (const ip of members) {
        sh('ip', ['-n', namespace, 'addr', 'add', `${ip}/32`, 'dev', 'lo']);
      }
      // Patroni checks that every etcd endpoint accepts a TCP connection: a listener per member stands in for etcd.
      const script = `const net=require('net');let n=0;for(const a of ${JSON.stringify(members)})net.createServer((s)=>s.destroy()).listen(2379,a,()=>{if(++n===${members.length})console.log('ready')});setTimeout(()=>process.exit(0),120000)`;
      const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      listener = child;
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (data: Buffer) => (data.toString().includes('ready') ? resolve() : undefined));
        child.on('exit', (code) => reject(new Error(`the etcd stand-in exited with ${code}`)));
      });
    });

    afterAll(() => {
      if (listener?.pid !== undefined) {
        try {
          process.kill(listener.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      if (namespace) {
        run('ip', ['netns', 'delete', namespace]);
      }
    });

    const validate = (text: string): ToolResult => {
      const file = join(mkdtempSync(join(workDir, 'patroni-')), 'config.yml');
      writeFileSync(file, text);
      const result = run('ip', ['netns', 'exec', namespace, '/usr/bin/patroni', '--validate-config', file]);
      return { ok: result.status === 0, output: result.output };
    };

    test.each([['with TLS', true], ['without TLS', false]])('pg-node-1 %s', (_, tls) => {
      const result = validate(renderPatroniConfig(plan(tls), 'pg-node-1'));
      expect(result.output).toBe('');
      expect(result.ok).toBe(true);
    });

    test('pg-node-2 (its own etcd member first)', () => {
      const result = validate(renderPatroniConfig(plan(true), 'pg-node-2'));
      expect(result.output).toBe('');
      expect(result.ok).toBe(true);
    });

    test('the check can fail: a ttl that is not a number and a missing bin_dir are reported', () => {
      const broken = renderPatroniConfig(plan(true), 'pg-node-1').replace('ttl: 8', 'ttl: eight').replace(/bin_dir: .*/, 'bin_dir: /nonexistent/bin');
      const result = validate(broken);
      expect(result.ok).toBe(false);
      expect(result.output).toContain('bootstrap.dcs.ttl');
      expect(result.output).toContain('postgresql.bin_dir');
    });
  }, { needsRoot: true });

/** Runs a shipped script with `sh`, with extra environment; returns its status and output. */
function runAsset(asset: PostgresAsset, args: readonly string[], env: Record<string, string>, user?: string): { status: number | null; output: string } {
  const script = join(POSTGRES_ASSET_DIR, asset);
  const command = user ? ['runuser', ['-u', user, '--', 'sh', script, ...args]] as const : ['sh', [script, ...args]] as const;
  const result = spawnSync(command[0], [...command[1]], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
}

describe('postgres-prepare.sh against a fake Debian layout', () => {
  /** A layout under a fresh directory: /etc/postgresql and /var/lib/postgresql stand-ins and a recording pg_dropcluster. */
  function layout(options: { config: boolean; databases?: number }) {
    const root = mkdtempSync(join(workDir, 'prepare-'));
    const etc = join(root, 'etc');
    const lib = join(root, 'lib');
    const bin = join(root, 'bin');
    const log = join(root, 'pg_dropcluster.log');
    mkdirSync(bin);
    writeFileSync(join(bin, 'pg_dropcluster'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\n`, { mode: 0o755 });
    if (options.config) {
      mkdirSync(join(etc, '15', 'main'), { recursive: true });
    }
    for (let i = 0; i < (options.databases ?? 0); i++) {
      mkdirSync(join(lib, '15', 'main', 'base', String([1, 4, 5, 16384, 16385][i])), { recursive: true });
    }
    const prepare = (...args: string[]) => runAsset(PostgresAsset.PREPARE, args, { PATH: `${bin}:${process.env.PATH}`, PKH_POSTGRES_ETC: etc, PKH_POSTGRES_LIB: lib });
    const calls = () => (existsSync(log) ? readFileSync(log, 'utf8') : undefined);
    return { prepare, calls };
  }

  test('no Debian cluster: nothing to do, nothing dropped', () => {
    const { prepare, calls } = layout({ config: false });
    const result = prepare('15');
    expect(result.output).toContain('no Debian cluster 15/main: nothing to do');
    expect(result.status).toBe(0);
    expect(calls()).toBeUndefined();
  });

  test('Debian\'s fresh cluster (template1, template0, postgres): dropped with --stop', () => {
    const { prepare, calls } = layout({ config: true, databases: 3 });
    const result = prepare('15');
    expect(result.status).toBe(0);
    expect(calls()).toBe('--stop 15 main\n');
  });

  test('a cluster holding a datastore from before Patroni: refused, pointing to the runbook, nothing dropped', () => {
    const { prepare, calls } = layout({ config: true, databases: 4 });
    const result = prepare('15');
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('1 database(s) beyond postgres and the templates');
    expect(result.output).toContain('runbook');
    expect(calls()).toBeUndefined();
    expect(layout({ config: true, databases: 5 }).prepare('15').status).not.toBe(0);
  });

  test.each([['x15'], ['15;rm'], ['']])('refuses the version %j', (version) => {
    const { prepare, calls } = layout({ config: true, databases: 3 });
    const result = prepare(version);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(`"${version}" is not a PostgreSQL major version`);
    expect(calls()).toBeUndefined();
  });

  test('refuses a missing or extra argument', () => {
    const { prepare, calls } = layout({ config: true, databases: 3 });
    expect(prepare().output).toContain('usage: postgres-prepare.sh MAJOR_VERSION');
    expect(prepare('15', '16').status).not.toBe(0);
    expect(calls()).toBeUndefined();
  });
});

describe('patroni-post-bootstrap.sh: what it refuses before connecting', () => {
  test.each([
    [['K3s', 'k3s'], '"K3s" is not a lower-case SQL identifier'],
    [['k3s', '1user'], '"1user" is not a lower-case SQL identifier'],
    [['k3s;drop', 'k3s'], '"k3s;drop" is not a lower-case SQL identifier'],
    [['k3s', "k3s'--"], '"k3s\'--" is not a lower-case SQL identifier'],
    [['', 'k3s'], '"" is not a lower-case SQL identifier'],
  ])('refuses the identifiers %j', (names, message) => {
    const result = runAsset(PostgresAsset.POST_BOOTSTRAP, [...names, 'dbname=postgres'], { PKH_K3S_PASSWORD: 'Abc123' });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(message);
  });

  test.each([[undefined], [''], ['pass word'], ["pa'ss"], ['pa$s']])('refuses PKH_K3S_PASSWORD %j', (password) => {
    const env: Record<string, string> = password === undefined ? {} : { PKH_K3S_PASSWORD: password };
    const saved = process.env.PKH_K3S_PASSWORD;
    delete process.env.PKH_K3S_PASSWORD;
    try {
      const result = runAsset(PostgresAsset.POST_BOOTSTRAP, ['k3s', 'k3s', 'dbname=postgres'], env);
      expect(result.status).not.toBe(0);
      expect(result.output).toContain('PKH_K3S_PASSWORD must be set to letters and digits');
    } finally {
      if (saved !== undefined) {
        process.env.PKH_K3S_PASSWORD = saved;
      }
    }
  });

  test('refuses a call without DATABASE USER CONNSTRING', () => {
    const result = runAsset(PostgresAsset.POST_BOOTSTRAP, ['dbname=postgres'], { PKH_K3S_PASSWORD: 'Abc123' });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('usage: patroni-post-bootstrap.sh DATABASE USER CONNSTRING');
  });
});

const PG15_BIN = '/usr/lib/postgresql/15/bin';
describeWithTools(['runuser', ...(existsSync(join(PG15_BIN, 'initdb')) ? [] : [`PostgreSQL 15 (${PG15_BIN})`])],
  'patroni-post-bootstrap.sh against a throwaway PostgreSQL 15', () => {
    const PORT = 54329;
    const PASSWORD = 'K3sSecret0123456789abcdefABCDEF';
    let base: string;
    let socketDir: string;
    let dataDir: string;
    let argvLog: string;
    let wrapperDir: string;
    let started = false;
    const connstring = () => `host=${socketDir} port=${PORT} dbname=postgres user=postgres`;

    /** Runs a command as the postgres OS user (peer authentication over the socket). */
    const asPostgres = (args: readonly string[], env: Record<string, string> = {}) => {
      const result = spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
      return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
    };
    const sql = (query: string) => asPostgres([join(PG15_BIN, 'psql'), '-X', '-At', '-h', socketDir, '-p', String(PORT), '-d', 'postgres', '-c', query]);
    /** The script as Patroni runs it: as postgres, its environment holding the password, psql on PATH (recording its argv). */
    const postBootstrap = (args: readonly string[]) => runAsset(PostgresAsset.POST_BOOTSTRAP, args, {
      PATH: `${wrapperDir}:${PG15_BIN}:${process.env.PATH}`, PKH_K3S_PASSWORD: PASSWORD, PGOPTIONS: '-c synchronous_commit=local',
    }, 'postgres');
    /** Logs in as `user` with a password over the socket (scram-sha-256 per pg_hba), as root. */
    const login = (user: string, database: string, password: string) => {
      const result = spawnSync(join(PG15_BIN, 'psql'), ['-X', '-At', '-w', '-d', `host=${socketDir} port=${PORT} dbname=${database} user=${user}`, '-c', 'SELECT current_user'], {
        encoding: 'utf8', timeout: 30_000, env: { ...process.env, PGPASSWORD: password },
      });
      return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
    };

    beforeAll(() => {
      base = mkdtempSync(join(workDir, 'pg-'));
      chmodSync(base, 0o755);
      socketDir = join(base, 'sock');
      dataDir = join(base, 'data');
      wrapperDir = join(base, 'wrap');
      argvLog = join(base, 'psql-argv.log');
      const { uid, gid } = { uid: Number(sh('id', ['-u', 'postgres']).trim()), gid: Number(sh('id', ['-g', 'postgres']).trim()) };
      for (const dir of [socketDir, dataDir, wrapperDir]) {
        mkdirSync(dir, { mode: 0o700 });
        chownSync(dir, uid, gid);
      }
      chmodSync(socketDir, 0o755);
      chmodSync(wrapperDir, 0o755);
      writeFileSync(argvLog, '');
      chownSync(argvLog, uid, gid);
      // psql on PATH records its arguments, then runs the real psql.
      writeFileSync(join(wrapperDir, 'psql'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${argvLog}'\nexec ${PG15_BIN}/psql "$@"\n`, { mode: 0o755 });
      const init = asPostgres([join(PG15_BIN, 'initdb'), '-D', dataDir, '--auth-local=peer', '--auth-host=reject', '-U', 'postgres']);
      if (init.status !== 0) {
        throw new Error(`initdb: ${init.output}`);
      }
      // The K3s user logs in with its password over the socket; everyone else by peer.
      writeFileSync(join(dataDir, 'pg_hba.conf'), 'local all kine_user scram-sha-256\nlocal all all peer\n');
      const start = asPostgres([join(PG15_BIN, 'pg_ctl'), '-D', dataDir, '-l', join(dataDir, 'server.log'), '-w', '-t', '60',
        '-o', `-k ${socketDir} -p ${PORT} -c listen_addresses=''`, 'start']);
      if (start.status !== 0) {
        throw new Error(`pg_ctl start: ${start.output}${existsSync(join(dataDir, 'server.log')) ? readFileSync(join(dataDir, 'server.log'), 'utf8') : ''}`);
      }
      started = true;
    });

    afterAll(() => {
      if (started) {
        asPostgres([join(PG15_BIN, 'pg_ctl'), '-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      }
      if (base) {
        rmSync(base, { recursive: true, force: true });
      }
    });

    test('creates the K3s login role (not a superuser, a SCRAM password that authenticates) owning the K3s database', () => {
      const result = postBootstrap(['kine', 'kine_user', connstring()]);
      expect(result.output).toContain('created user kine_user and database kine');
      expect(result.status).toBe(0);
      expect(sql("SELECT rolsuper, rolcanlogin, rolcreatedb, rolcreaterole, left(rolpassword, 14) FROM pg_authid WHERE rolname = 'kine_user'").output)
        .toBe('f|t|f|f|SCRAM-SHA-256$\n');
      expect(sql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'kine'").output).toBe('kine_user\n');
      expect(login('kine_user', 'kine', PASSWORD)).toEqual({ status: 0, output: 'kine_user\n' });
    });

    test('the check can fail: a wrong password is refused', () => {
      const result = login('kine_user', 'kine', 'WrongPassword123');
      expect(result.status).not.toBe(0);
      expect(result.output).toContain('password authentication failed for user "kine_user"');
    });

    test('running it again changes nothing and succeeds', () => {
      const again = postBootstrap(['kine', 'kine_user', connstring()]);
      expect(again.output).toContain('created user kine_user and database kine');
      expect(again.status).toBe(0);
      expect(sql("SELECT count(*) FROM pg_roles WHERE rolname = 'kine_user'").output).toBe('1\n');
      expect(sql("SELECT count(*) FROM pg_database WHERE datname = 'kine'").output).toBe('1\n');
      expect(login('kine_user', 'kine', PASSWORD).status).toBe(0);
    });

    test('the password reaches psql on its standard input, never through its argv', () => {
      const argv = readFileSync(argvLog, 'utf8');
      expect(argv).toContain(`-d ${connstring()}`);
      expect(argv).not.toContain(PASSWORD);
    });

    /** postgres-sync-k3s-password.sh as the converge step runs it (as root), with an environment file holding `password`. */
    const syncPassword = (password: string, connection = connstring()) => {
      const envFile = join(base, 'patroni.env');
      writeFileSync(envFile, `PATRONI_SUPERUSER_PASSWORD=Other0nly\nPKH_K3S_PASSWORD=${password}\n`, { mode: 0o600 });
      return runAsset(PostgresAsset.SYNC_K3S_PASSWORD, [envFile, 'kine_user', join(wrapperDir, 'psql'), connection], {});
    };

    test('a rotated K3s password: the primary takes it (the new one logs in, the old one is refused); never on argv', () => {
      const rotated = 'K3sRotated0123456789';
      const result = syncPassword(rotated);
      expect(result).toEqual({ status: 0, output: expect.stringContaining('user kine_user has the password of') });
      expect(login('kine_user', 'kine', rotated)).toEqual({ status: 0, output: 'kine_user\n' });
      expect(login('kine_user', 'kine', PASSWORD).output).toContain('password authentication failed for user "kine_user"');
      expect(readFileSync(argvLog, 'utf8')).not.toContain(rotated);
      expect(syncPassword(PASSWORD).status).toBe(0);
      expect(login('kine_user', 'kine', PASSWORD).status).toBe(0);
    });

    test('the password sync does nothing where PostgreSQL does not answer (a first start) or the user does not exist yet; refuses a bad password', () => {
      const down = syncPassword('K3sRotated0123456789', `host=${socketDir} port=${PORT + 1} dbname=postgres user=postgres`);
      expect(down).toEqual({ status: 0, output: expect.stringContaining('PostgreSQL does not answer here yet: nothing to do') });
      expect(login('kine_user', 'kine', PASSWORD).status).toBe(0);
      const envFile = join(base, 'patroni.env');
      writeFileSync(envFile, 'PKH_K3S_PASSWORD=K3sRotated0123456789\n');
      expect(runAsset(PostgresAsset.SYNC_K3S_PASSWORD, [envFile, 'nobody_yet', join(wrapperDir, 'psql'), connstring()], {}).status).toBe(0);
      expect(sql("SELECT count(*) FROM pg_roles WHERE rolname = 'nobody_yet'").output).toBe('0\n');
      const bad = syncPassword('not valid');
      expect(bad.status).not.toBe(0);
      expect(bad.output).toContain('PKH_K3S_PASSWORD in');
      expect(bad.output).not.toContain('not valid');
    });

    test('run the way Patroni runs it: shlex.split(bootstrap.post_bootstrap) + [connstring]', () => {
      const plan = defineSite({ ...colocatedSite, postgres: { ...colocatedSite.postgres, version: 15 } });
      const command = (parse(renderPatroniConfig(plan, 'db-1'), { version: '1.1' }) as { bootstrap: { post_bootstrap: string } }).bootstrap.post_bootstrap.split(' ');
      expect(command[0]).toBe('/usr/local/lib/proxmox-k3s-ha/patroni-post-bootstrap.sh');
      // Installed at that path on a node; here the shipped file stands in for it.
      const result = postBootstrap([...command.slice(1), connstring()]);
      expect(result.output).toContain('created user kine_user and database kine');
      expect(result.status).toBe(0);
    });
  });
