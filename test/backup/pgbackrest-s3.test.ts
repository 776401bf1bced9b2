import { spawn, spawnSync } from 'child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'fs';
import { Server, createServer } from 'http';
import { AddressInfo } from 'net';
import { join } from 'path';
import { SiteSpec, defineSite } from '../../constructs';
import { BACKUP_CA_PATH } from '../../constructs/renderers/etcd-backup';
import {
  PGBACKREST_BIN, PGBACKREST_STANZA, patroniPgbackrestSettings, pgbackrestSections, postgresBackupScriptSettings, renderPgbackrestConfig, renderPostgresBackupEnv,
} from '../../constructs/renderers/postgres/pgbackrest';
import { POSTGRES_BACKUP_SCRIPT } from '../../constructs/roles/postgres-backup';
import homelab from '../../sites/homelab';
import { createLabCa, installedPostgresVersion } from '../datastore/harness';
import { freePort } from '../support/free-port';
import { describeWithTools } from '../support/tools';
import { S3Standin } from './s3-standin';
import { blockTempDir } from '../support/block-temp-dir';

/**
 * The generated pgbackrest.conf against an S3-protocol server over HTTPS (the stand-in, with a test CA given as the
 * site's `caBundle`, path-style, Signature V4 checked): pgBackRest creates the stanza, archives PostgreSQL's WAL
 * through the generated archive_command, and the generated backup job takes a full backup (a local PostgreSQL, a
 * stand-in Patroni answering 200 on /primary). Then the job fails visibly with wrong credentials and with the target
 * down, and the backup it had taken is still there. Adapted for the test, paths only: the CA file, PostgreSQL's data
 * directory and socket, pgBackRest's log, lock and spool folders.
 */
const version = installedPostgresVersion();
const TOOLS = ['pgbackrest', 'openssl', 'runuser', 'curl', ...(version === undefined ? ['postgresql (/usr/lib/postgresql/<v>/bin)'] : [])];
const ACCESS_KEY = 'AKIAPGBACKRESTTEST01';
const SECRET_KEY = 'pgbackrest/Secret+Key=0123456789abcdefghij';
const BUCKET = 'site-backups';
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

interface Run { status: number | null; output: string }

/** Runs a command without blocking the event loop (the stand-in answers from this process); bounded. */
function run(command: string, args: readonly string[], env: Record<string, string> = {}, timeoutMs = 300_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: SYSTEM_PATH, ...env }, cwd: '/' });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, output: output.trim() }); });
  });
}

describeWithTools(TOOLS, 'pgBackRest with the generated configuration against an S3 server over HTTPS', () => {
  const dir = blockTempDir('pkh-pgbackrest-s3-');
  const s3 = new S3Standin(BUCKET, ACCESS_KEY, SECRET_KEY);
  const bin = join('/usr/lib/postgresql', String(version), 'bin');
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'run');
  const textfileDir = join(dir, 'textfile');
  const configPath = join(dir, 'pgbackrest.conf');
  const envPath = join(dir, 'postgres-backup.env');
  const scriptPath = join(dir, 'backup-postgres');
  let endpoint = '';
  let patroni: Server | undefined;
  let tls: { key: string; cert: string };
  let caPem = '';
  const asPostgres = (command: string, args: readonly string[], timeoutMs?: number) => run('runuser', ['-u', 'postgres', '--', command, ...args], { PGBACKREST_CONFIG: configPath }, timeoutMs);
  const pgbackrest = (...args: string[]) => asPostgres(PGBACKREST_BIN, [`--stanza=${PGBACKREST_STANZA}`, ...args]);
  const job = (env: Record<string, string> = {}) => run(scriptPath, ['full'], { PKH_POSTGRES_BACKUP_ENV: envPath, ...env }, 600_000);
  const backupKeys = () => s3.keys(`homelab/postgres/backup/${PGBACKREST_STANZA}/`).filter((key) => /\/\d{8}-\d{6}F\//.test(key));

  beforeAll(async () => {
    chmodSync(dir, 0o755);
    const caDir = join(dir, 'ca');
    caPem = readFileSync(createLabCa(caDir, 'pgBackRest test CA'), 'utf8');
    // pgBackRest 2.45 matches the endpoint against DNS names only (an IP address SAN is not enough): the endpoint is "localhost".
    writeFileSync(join(caDir, 'ext.cnf'), 'subjectAltName = DNS:localhost\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n');
    for (const args of [
      ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 's3.key', '-out', 's3.csr', '-subj', '/CN=localhost'],
      ['x509', '-req', '-in', 's3.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', '7', '-days', '2', '-extfile', 'ext.cnf', '-out', 's3.crt'],
    ]) {
      const result = spawnSync('openssl', args, { cwd: caDir, encoding: 'utf8', timeout: 30_000 });
      if (result.status !== 0) {
        throw new Error(`openssl ${args.join(' ')}: ${result.stderr}`);
      }
    }
    tls = { key: readFileSync(join(caDir, 's3.key'), 'utf8'), cert: readFileSync(join(caDir, 's3.crt'), 'utf8') };
    // Both loopback addresses ("localhost" may resolve to either first).
    endpoint = (await s3.start('::', { tls })).replace('::', 'localhost');
    // A Patroni stand-in: this node is the primary.
    patroni = createServer((request, response) => { response.writeHead(request.url === '/primary' ? 200 : 404); response.end(); });
    await new Promise<void>((resolve) => patroni!.listen(0, '127.0.0.1', resolve));

    const plan = defineSite({ ...homelab, backup: { target: { endpoint, bucket: BUCKET, pathStyle: true, caBundle: caPem }, postgres: { retentionFull: 1 } } } as SiteSpec);
    const rendered = pgbackrestSections(plan, { accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
    expect(rendered.global['repo1-storage-ca-file']).toBe(BACKUP_CA_PATH);
    writeFileSync(join(dir, 'backup-ca.pem'), caPem);
    for (const folder of ['log', 'lock', 'spool', 'run', 'data']) {
      mkdirSync(join(dir, folder), { mode: 0o700 });
      chownSync(join(dir, folder), Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout), Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout));
    }
    const port = await freePort();
    const sections = {
      global: { ...rendered.global, 'repo1-storage-ca-file': join(dir, 'backup-ca.pem'), 'log-path': join(dir, 'log'), 'lock-path': join(dir, 'lock'), 'spool-path': join(dir, 'spool') },
      [PGBACKREST_STANZA]: { ...rendered[PGBACKREST_STANZA], 'pg1-path': dataDir, 'pg1-socket-path': socketDir, 'pg1-port': port },
    };
    writeFileSync(configPath, renderPgbackrestConfig(sections), { mode: 0o644 });
    const settings = postgresBackupScriptSettings(plan, 'pg-node-1', textfileDir);
    writeFileSync(envPath, `${renderPostgresBackupEnv({ ...settings, primaryUrl: `http://127.0.0.1:${(patroni!.address() as AddressInfo).port}/primary`, caFile: undefined }, 'pg-node-1')}PGBACKREST_CONFIG='${configPath}'\n`);
    writeFileSync(scriptPath, POSTGRES_BACKUP_SCRIPT, { mode: 0o755 });
    mkdirSync(textfileDir);

    // A local PostgreSQL with the rendered archiving parameters (the archive_command pointed at this file).
    const init = await asPostgres(join(bin, 'initdb'), ['-D', dataDir, '-A', 'peer', '--no-sync'], 120_000);
    if (init.status !== 0) {
      throw new Error(`initdb: ${init.output}`);
    }
    const { parameters } = patroniPgbackrestSettings(plan)!;
    const archiveCommand = String(parameters.archive_command).replace(`${PGBACKREST_BIN} `, `${PGBACKREST_BIN} --config=${configPath} `);
    appendFileSync(join(dataDir, 'postgresql.conf'), `listen_addresses = ''\nport = ${port}\nunix_socket_directories = '${socketDir}'\nwal_level = replica\n`
      + `archive_mode = ${parameters.archive_mode}\narchive_timeout = ${parameters.archive_timeout}\narchive_command = '${archiveCommand}'\n`);
    const started = await asPostgres(join(bin, 'pg_ctl'), ['-D', dataDir, '-l', join(dir, 'log', 'postgres.log'), '-w', '-t', '60', 'start'], 90_000);
    if (started.status !== 0) {
      throw new Error(`pg_ctl start: ${started.output}\n${readFileSync(join(dir, 'log', 'postgres.log'), 'utf8')}`);
    }
    // About 25 MB of table: some files are larger than pgBackRest's upload chunk, so multipart uploads happen too.
    const filled = await asPostgres(join(bin, 'psql'), ['-X', '-h', socketDir, '-p', String(port), '-d', 'postgres', '-c',
      'create table filler as select g as id, md5(random()::text) || md5(random()::text) as payload from generate_series(1, 250000) g'], 120_000);
    expect(filled.status).toBe(0);
  }, 300_000);

  afterAll(async () => {
    spawnSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', dataDir, '-m', 'immediate', '-w', '-t', '20', 'stop'], { timeout: 30_000 });
    await s3.stop();
    await new Promise<void>((resolve) => (patroni ? patroni.close(() => resolve()) : resolve()));
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  test('stanza-create, check (WAL archived through the generated archive_command) and the backup job, with every option known to pgBackRest', async () => {
    const created = await pgbackrest('stanza-create');
    expect([created.status, created.output]).toEqual([0, expect.stringMatching(/stanza-create command end: completed successfully/)]);
    const check = await pgbackrest('check');
    expect([check.status, check.output]).toEqual([0, expect.stringMatching(/check command end: completed successfully/)]);
    const backup = await job();
    expect([backup.status, backup.output]).toEqual([0, expect.stringMatching(/full backup of stanza k3s-datastore done/)]);
    for (const output of [created.output, check.output, backup.output]) {
      expect(output).not.toMatch(/invalid option|WARN/);
    }
    const info = await pgbackrest('--output=json', 'info');
    const stanza = JSON.parse(info.output)[0];
    expect(stanza.status.message).toBe('ok');
    expect(stanza.backup.map((b: { type: string }) => b.type)).toEqual(['full']);
    expect(s3.keys(`homelab/postgres/archive/${PGBACKREST_STANZA}/`).some((key) => /\/[0-9A-F]{24}-[0-9a-f]{40}\.lz4$/.test(key))).toBe(true);
    expect(backupKeys().length).toBeGreaterThan(10);
    expect(s3.requests.some((r) => r.path.includes('?') || r.method === 'POST')).toBe(true);
    expect(s3.requests.filter((r) => r.status === 403)).toEqual([]);
    expect(readFileSync(join(textfileDir, 'pkh-backup-postgres.prom'), 'utf8')).toMatch(/^pkh_backup_last_success_timestamp_seconds\{kind="postgres"\} \d{10}$/m);
  }, 600_000);

  test('wrong credentials: the job fails (403 from the target) and the last good backup stays', async () => {
    const before = backupKeys();
    const metric = readFileSync(join(textfileDir, 'pkh-backup-postgres.prom'), 'utf8');
    // pgBackRest reads PGBACKREST_* like its options; an environment value wins over the file's.
    const failed = await job({ PGBACKREST_REPO1_S3_KEY_SECRET: 'not-the-secret-key' });
    expect(failed.status).not.toBe(0);
    expect(failed.output).toMatch(/403|SignatureDoesNotMatch/);
    expect(failed.output).not.toContain(SECRET_KEY);
    expect(backupKeys()).toEqual(before);
    expect(readFileSync(join(textfileDir, 'pkh-backup-postgres.prom'), 'utf8')).toBe(metric);
  }, 300_000);

  test('target down: the job fails, and once the target is back the backup is still listed', async () => {
    const port = Number(new URL(endpoint).port);
    await s3.stop();
    const failed = await job({ PGBACKREST_IO_TIMEOUT: '5', PGBACKREST_DB_TIMEOUT: '10', PGBACKREST_PROTOCOL_TIMEOUT: '11' });
    expect(failed.status).not.toBe(0);
    expect(failed.output).toMatch(/ERROR: \[\d+\]/);
    await s3.start('::', { tls, port });
    const info = JSON.parse((await pgbackrest('--output=json', 'info')).output)[0];
    expect(info.backup.map((b: { type: string }) => b.type)).toEqual(['full']);
  }, 300_000);
});
