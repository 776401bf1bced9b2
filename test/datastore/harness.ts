import { ChildProcess, execFile, spawn, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { DatastoreKind, HostRole, SitePlan, defineSite } from '../../constructs';
import {
  postgresDatastoreEndpoint, postgresServerCertificateNames, renderHaproxyConfig, renderPgHba, renderPostgresEnvironmentFile, renderPostgresPrimaryInitScript, renderPostgresPromoteScript, renderPostgresReplicaInitScript, renderPostgresRoleCheckScript, renderPostgresSettings, renderPostgresTlsInstallScript,
  renderPostgresWriterHaproxySections,
} from '../../constructs/renderers';
import { run, sh, uniqueName, tearDownLab } from '../support/netns';
import { pgHomelabSite } from './fixtures';

/**
 * A PostgreSQL datastore lab built from the generated files, shared by the integration test and the benchmark.
 *
 * Every node of seed 000 that matters gets a network namespace with its real address on a bridge (nothing is routed
 * anywhere): pg-node-1 and pg-node-2 (PostgreSQL, the role check; pg-node-1 also runs HAProxy and holds the VIP, as
 * in the seed), cp1 (a K3s server: the client) and an outsider with an address pg_hba.conf does not list. Loopback
 * would not do: every loopback connection comes from 127.0.0.1, so pg_hba's per-address rules could not be tested.
 *
 * What is generated and used as is: postgresql settings (conf.d drop-in), pg_hba.conf, the environment file, the
 * primary init, replica init, promotion, role-check and TLS install scripts, the HAProxy sections after `global`,
 * the DSN, and the certificates' names (`postgresServerCertificateNames`, what Terraform's cert requests get).
 * What the lab adapts: a Debian-like postgresql.conf per node that points at the lab's data/socket directories
 * and includes conf.d; the scripts' `PGHA_*` paths and service commands (pg_ctl instead of systemctl); HAProxy's
 * `global` section (no chroot, stats socket or syslog); the systemd socket unit is played by inetd-standin.js.
 * With TLS (the site default): the CA and server certificates come from `openssl` here (Terraform's tls provider
 * cannot run in the lab), base64-encoded as cloud-init writes them; a `60-lab-tls.conf` drop-in points
 * `ssl_cert_file`/`ssl_key_file` at the node's lab directory; clients get the CA as `PGSSLROOTCERT` (what K3s's
 * `datastore-cafile` becomes in kine).
 */

export const PG_BIN_ROOT = '/usr/lib/postgresql';

/** The highest PostgreSQL major version installed under /usr/lib/postgresql, if any. */
export function installedPostgresVersion(): number | undefined {
  if (!existsSync(PG_BIN_ROOT)) {
    return undefined;
  }
  const versions = readdirSync(PG_BIN_ROOT).map(Number).filter((v) => Number.isInteger(v) && existsSync(join(PG_BIN_ROOT, String(v), 'bin', 'initdb')));
  return versions.length > 0 ? Math.max(...versions) : undefined;
}

/** Seed 000 at the installed PostgreSQL version, with 1 GiB datastore hosts (lighter shared_buffers in the lab). */
export function labPlan(version: number): SitePlan {
  return defineSite({
    ...pgHomelabSite,
    hosts: pgHomelabSite.hosts.map((host) => (host.roles.includes(HostRole.DATASTORE) ? { ...host, size: { memoryMiB: 1024 } } : host)),
    controlPlane: { datastore: DatastoreKind.POSTGRES },
    postgres: { version },
  });
}

/** Runs openssl with a 30 s bound, throwing its output on failure. */
function openssl(args: readonly string[], cwd: string): void {
  const result = spawnSync('openssl', [...args], { cwd, encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) {
    throw new Error(`openssl ${args.join(' ')}: ${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`);
  }
}

/** A self-signed CA (ECDSA P-256, like the Terraform one) in `dir`: `ca.key`, `ca.crt`. Returns the certificate path. */
export function createLabCa(dir: string, commonName: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, 'ca.cnf'), [
    '[req]', 'distinguished_name = dn', 'prompt = no', 'x509_extensions = v3_ca',
    '[dn]', `CN = ${commonName}`,
    '[v3_ca]', 'basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign,digitalSignature', 'subjectKeyIdentifier = hash', '',
  ].join('\n'));
  openssl(['req', '-x509', '-new', '-config', 'ca.cnf', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt',
    '-days', '2'], dir);
  return join(dir, 'ca.crt');
}

/**
 * A server key and certificate signed by the CA in `caDir`, for the names the construct gives the node's
 * Terraform cert request; written base64-encoded into `tlsDir` the way cloud-init writes them.
 */
export function createLabServerCertificate(plan: SitePlan, hostName: string, caDir: string, tlsDir: string, serial: number): void {
  const names = postgresServerCertificateNames(plan, hostName);
  const work = join(caDir, hostName);
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'ext.cnf'), [
    `subjectAltName = ${[...names.dnsNames.map((n) => `DNS:${n}`), ...names.ipAddresses.map((ip) => `IP:${ip}`)].join(',')}`,
    'basicConstraints = CA:FALSE',
    'keyUsage = critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage = serverAuth',
    '',
  ].join('\n'));
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr',
    '-subj', `/CN=${names.dnsNames[0]}`], work);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', join(caDir, 'ca.crt'), '-CAkey', join(caDir, 'ca.key'), '-set_serial', String(serial), '-days', '2',
    '-extfile', 'ext.cnf', '-out', 'server.crt'], work);
  mkdirSync(tlsDir, { recursive: true, mode: 0o755 });
  const b64 = (path: string) => `${readFileSync(path).toString('base64')}\n`;
  writeFileSync(join(tlsDir, 'ca.crt.b64'), b64(join(caDir, 'ca.crt')), { mode: 0o600 });
  writeFileSync(join(tlsDir, 'server.crt.b64'), b64(join(work, 'server.crt')), { mode: 0o600 });
  writeFileSync(join(tlsDir, 'server.key.b64'), b64(join(work, 'server.key')), { mode: 0o600 });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` every `stepMs` for at most `timeoutMs` (and at most 10 000 times); returns whether it held. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    if (await predicate()) {
      return true;
    }
    await sleep(stepMs);
  }
  return predicate();
}

export interface CommandResult {
  readonly status: number | null;
  readonly output: string;
}

/** A node's network namespace. */
export interface NetNode {
  readonly name: string;
  readonly ip: string;
  readonly namespace: string;
}

/** A PostgreSQL node of the lab: its namespace, directories and the environment its scripts run with. */
export interface PgNode extends NetNode {
  readonly dir: string;
  readonly confDir: string;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logFile: string;
  readonly scripts: { readonly primaryInit: string; readonly replicaInit: string; readonly promote: string; readonly roleCheck: string; readonly tlsInstall: string };
  /** With TLS: the node's TLS directory (the generated install script decodes the base64 files in it). */
  readonly tlsDir: string;
  readonly env: Readonly<Record<string, string>>;
}

const alphanumeric = (length: number) => randomBytes(length * 2).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, length);

function numericId(name: string): number {
  return Number(sh('id', ['-u', name]).trim());
}

export class PostgresLab {
  public readonly plan: SitePlan;
  public readonly workDir: string;
  public readonly version: number;
  public readonly bin: string;
  public readonly nodes: readonly PgNode[];
  /** A K3s server (cp1): K3s's connections to the writer endpoint come from here. */
  public readonly client: NetNode;
  /** An address on the LAN that pg_hba.conf does not list. */
  public readonly outsider: NetNode;
  /** The generated passwords of this lab run (the real system gets Terraform's). */
  public readonly passwords = { k3s: alphanumeric(32), replication: alphanumeric(32) };
  /** K3s's datastore-endpoint, as the construct renders it (the VIP on the writer port; with TLS `sslmode=verify-full`). */
  public readonly dsn: string;
  /** With TLS: the datastore CA certificate clients verify against (K3s's `datastore-cafile`). */
  public readonly caCertificate?: string;
  /** With TLS: a second, unrelated CA, for checking that verification really happens. */
  public readonly otherCaCertificate?: string;
  private readonly id = uniqueName('pkd');
  private readonly switchNamespace: string;
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly roleChecks = new Map<string, ChildProcess>();
  private portCount = 0;

  constructor(version: number) {
    this.version = version;
    this.bin = join(PG_BIN_ROOT, String(version), 'bin');
    this.plan = labPlan(version);
    this.dsn = postgresDatastoreEndpoint(this.plan, this.passwords.k3s);
    this.workDir = mkdtempSync(join(tmpdir(), 'pkh-datastore-'));
    // The postgres user must reach its directories and the scripts below.
    chmodSync(this.workDir, 0o755);
    this.switchNamespace = `${this.id}sw`;
    try {
      if (this.plan.postgres!.tls) {
        this.caCertificate = createLabCa(join(this.workDir, 'ca'), `${this.plan.name} lab datastore CA`);
        this.otherCaCertificate = createLabCa(join(this.workDir, 'other-ca'), 'an unrelated CA');
      }
      sh('ip', ['netns', 'add', this.switchNamespace]);
      this.namespaces.push(this.switchNamespace);
      sh('ip', ['-n', this.switchNamespace, 'link', 'add', 'br0', 'type', 'bridge']);
      sh('ip', ['-n', this.switchNamespace, 'link', 'set', 'br0', 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0']);
      sh('ip', ['-n', this.switchNamespace, 'link', 'set', 'br0', 'up']);
      const host = (name: string) => this.plan.hosts.find((h) => h.name === name)!;
      this.nodes = this.plan.postgres!.nodes.map((node) => this.addPgNode(node.name, node.ip));
      this.client = this.addNetNode('cp1', host('cp1').ip);
      this.outsider = this.addNetNode('outsider', '10.10.10.160');
    } catch (error) {
      this.stop();
      throw error;
    }
  }

  private addNetNode(name: string, ip: string): NetNode {
    const namespace = `${this.id}${name}`.slice(0, 30);
    const port = `p${this.portCount++}`;
    sh('ip', ['netns', 'add', namespace]);
    this.namespaces.push(namespace);
    sh('ip', ['-n', this.switchNamespace, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace]);
    sh('ip', ['-n', this.switchNamespace, 'link', 'set', port, 'master', 'br0', 'up']);
    sh('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
    sh('ip', ['-n', namespace, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    sh('ip', ['-n', namespace, 'link', 'set', 'eth0', 'up']);
    return { name, ip, namespace };
  }

  private addPgNode(name: string, ip: string): PgNode {
    const net = this.addNetNode(name, ip);
    const dir = join(this.workDir, name);
    const confDir = join(dir, 'conf');
    const dataDir = join(dir, 'data');
    const socketDir = join(dir, 'run');
    const binDir = join(dir, 'bin');
    for (const d of [dir, confDir, join(confDir, 'conf.d'), socketDir, binDir]) {
      mkdirSync(d, { recursive: true, mode: 0o755 });
    }
    const logFile = join(dir, 'postgres.log');
    // Debian's layout: configuration outside the data directory (so pg_basebackup does not copy it), conf.d last.
    writeFileSync(join(confDir, 'postgresql.conf'), [
      `data_directory = '${dataDir}'`,
      `hba_file = '${join(confDir, 'pg_hba.conf')}'`,
      `ident_file = '${join(confDir, 'pg_ident.conf')}'`,
      `unix_socket_directories = '${socketDir}'`,
      "include_dir = 'conf.d'",
      '',
    ].join('\n'));
    writeFileSync(join(confDir, 'pg_ident.conf'), '');
    writeFileSync(join(confDir, 'conf.d', '50-proxmox-k3s-ha.conf'), renderPostgresSettings(this.plan, name));
    writeFileSync(join(confDir, 'pg_hba.conf'), renderPgHba(this.plan, name));
    const envFile = join(dir, 'postgres.env');
    writeFileSync(envFile, renderPostgresEnvironmentFile(this.passwords.k3s, this.passwords.replication), { mode: 0o600 });
    const scripts = {
      primaryInit: join(binDir, 'postgres-primary-init.sh'),
      replicaInit: join(binDir, 'postgres-replica-init.sh'),
      promote: join(binDir, 'postgres-promote.sh'),
      roleCheck: join(binDir, 'postgres-role-check.sh'),
      tlsInstall: join(binDir, 'postgres-tls-install.sh'),
    };
    writeFileSync(scripts.primaryInit, renderPostgresPrimaryInitScript(this.plan, name), { mode: 0o755 });
    writeFileSync(scripts.replicaInit, renderPostgresReplicaInitScript(this.plan, name), { mode: 0o755 });
    writeFileSync(scripts.promote, renderPostgresPromoteScript(this.plan, name), { mode: 0o755 });
    writeFileSync(scripts.roleCheck, renderPostgresRoleCheckScript(this.plan, name), { mode: 0o755 });
    const tlsDir = join(dir, 'tls');
    const postgresUid = numericId('postgres');
    const postgresGid = Number(sh('id', ['-g', 'postgres']).trim());
    for (const d of [dir, confDir, socketDir]) {
      chownSync(d, postgresUid, postgresGid);
    }
    if (this.plan.postgres!.tls) {
      createLabServerCertificate(this.plan, name, join(this.workDir, 'ca'), tlsDir, 1000 + this.portCount);
      writeFileSync(scripts.tlsInstall, renderPostgresTlsInstallScript(this.plan, name), { mode: 0o755 });
      // The generated script decodes the files in place: owner postgres, the key 0600 (or PostgreSQL refuses it).
      const installed = spawnSync('sh', [scripts.tlsInstall], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, PGHA_TLS_DIR: tlsDir } });
      if (installed.status !== 0) {
        throw new Error(`${name}: TLS install: ${installed.stdout ?? ''}${installed.stderr ?? ''}${installed.error ? String(installed.error) : ''}`);
      }
      writeFileSync(join(confDir, 'conf.d', '60-lab-tls.conf'), [
        '# The lab\'s paths for the generated TLS settings (conf.d is read in order: this wins).',
        `ssl_cert_file = '${join(tlsDir, 'server.crt')}'`,
        `ssl_key_file = '${join(tlsDir, 'server.key')}'`,
        '',
      ].join('\n'));
    }
    const pgCtl = `runuser -u postgres -- ${this.bin}/pg_ctl -D ${confDir} -l ${logFile} -w -t 60`;
    const env = {
      PGHA_DATA: dataDir,
      PGHA_SOCKET_DIR: socketDir,
      PGHA_ENV_FILE: envFile,
      PGHA_PASSFILE: join(dir, 'replication.pgpass'),
      PGHA_START: `${pgCtl} start`,
      PGHA_STOP: `${pgCtl} -m fast stop`,
      PGHA_RESTART: `${pgCtl} -m fast restart`,
      PGHA_WAIT_SECONDS: '60',
      PGHA_TLS_DIR: tlsDir,
      PGHA_SSL_ROOT_CERT: join(tlsDir, 'ca.crt'),
    };
    return { ...net, dir, confDir, dataDir, socketDir, logFile, scripts, env, tlsDir };
  }

  /** Runs a command in a namespace (as root), with extra environment. */
  public exec(node: NetNode, command: string, args: readonly string[], options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): CommandResult {
    const result = spawnSync('ip', ['netns', 'exec', node.namespace, command, ...args], {
      encoding: 'utf8', timeout: options.timeoutMs ?? 60_000, input: options.input, env: { ...process.env, ...options.env },
    });
    return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
  }

  /** Runs one of a node's generated scripts in its namespace with the lab's `PGHA_*` environment. */
  public runScript(node: PgNode, script: keyof PgNode['scripts'], args: readonly string[] = [], timeoutMs = 120_000): CommandResult {
    return this.exec(node, 'sh', [node.scripts[script], ...args], { env: { ...node.env }, timeoutMs });
  }

  /** The same without blocking the event loop (for timing a promotion while probing the writer endpoint). */
  public runScriptAsync(node: PgNode, script: keyof PgNode['scripts'], args: readonly string[] = [], timeoutMs = 120_000): Promise<CommandResult> {
    return this.execAsync(node, 'sh', [node.scripts[script], ...args], { ...node.env }, timeoutMs);
  }

  private execAsync(node: NetNode, command: string, args: readonly string[], env: Record<string, string>, timeoutMs: number): Promise<CommandResult> {
    return new Promise((resolve) => {
      execFile('ip', ['netns', 'exec', node.namespace, command, ...args], { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, ...env } },
        (error, stdout, stderr) => resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: `${stdout}${stderr}`.trim() }));
    });
  }

  /** initdb (first node; the others get a copy, like the fresh cluster Debian's package creates), then start. */
  public initClusters(): void {
    const [first, ...others] = this.nodes;
    const init = run('runuser', ['-u', 'postgres', '--', `${this.bin}/initdb`, '-D', first.dataDir, '-U', 'postgres', '--auth-local=peer', '--auth-host=scram-sha-256'], 120_000);
    if (init.status !== 0) {
      throw new Error(`initdb: ${init.output}`);
    }
    for (const node of others) {
      cpSync(first.dataDir, node.dataDir, { recursive: true });
      sh('chown', ['-R', 'postgres:postgres', node.dataDir]);
    }
    for (const node of this.nodes) {
      this.startPostgres(node);
    }
  }

  public startPostgres(node: PgNode): void {
    const result = this.exec(node, 'sh', ['-c', node.env.PGHA_START]);
    if (result.status !== 0) {
      throw new Error(`${node.name}: pg_ctl start: ${result.output}`);
    }
  }

  /** A crash: immediate shutdown, no checkpoint (what a power loss leaves, minus the OS cache). */
  public crashPostgres(node: PgNode): CommandResult {
    return this.exec(node, 'runuser', ['-u', 'postgres', '--', `${this.bin}/pg_ctl`, '-D', node.confDir, '-m', 'immediate', '-w', '-t', '30', 'stop']);
  }

  /** SQL as the postgres superuser over the node's local socket (peer authentication). */
  public sql(node: PgNode, sql: string, database = 'postgres'): CommandResult {
    const result = this.exec(node, 'runuser', ['-u', 'postgres', '--', `${this.bin}/psql`, '-X', '-qtA', '-v', 'ON_ERROR_STOP=1', '-h', node.socketDir,
      '-d', database, '-c', sql], { timeoutMs: 15_000 });
    return { status: result.status, output: result.output.trim() };
  }

  /** SQL through a connection string from a network node (the client by default), with a 2 s connect timeout. */
  public sqlVia(connection: string, sql: string, from: NetNode = this.client, timeoutMs = 10_000): CommandResult {
    const result = this.exec(from, `${this.bin}/psql`, ['-X', '-qtA', '-v', 'ON_ERROR_STOP=1', '-d', connection, '-c', sql],
      { env: this.clientEnvironment(), timeoutMs });
    return { status: result.status, output: result.output.trim() };
  }

  /** The same, without blocking the event loop (for writes that race a failover). */
  public sqlViaAsync(connection: string, sql: string, from: NetNode = this.client, timeoutMs = 10_000): Promise<CommandResult> {
    return this.execAsync(from, `${this.bin}/psql`, ['-X', '-qtA', '-v', 'ON_ERROR_STOP=1', '-d', connection, '-c', sql], this.clientEnvironment(), timeoutMs);
  }

  /** A 2 s connect timeout and, with TLS, the datastore CA as libpq's root certificate (K3s's `datastore-cafile`). */
  private clientEnvironment(): Record<string, string> {
    return { PGCONNECT_TIMEOUT: '2', ...(this.caCertificate ? { PGSSLROOTCERT: this.caCertificate } : {}) };
  }

  /** SQL as the postgres superuser over the local socket, without blocking the event loop. */
  public sqlAsync(node: PgNode, sql: string, database = 'postgres', timeoutMs = 15_000): Promise<CommandResult> {
    return this.execAsync(node, 'runuser', ['-u', 'postgres', '--', `${this.bin}/psql`, '-X', '-qtA', '-v', 'ON_ERROR_STOP=1', '-h', node.socketDir,
      '-d', database, '-c', sql], {}, timeoutMs);
  }

  /** A connection string straight to one node (not through the writer endpoint). */
  public directDsn(node: NetNode, user = this.plan.postgres!.user, password = this.passwords.k3s, database = this.plan.postgres!.database): string {
    return `postgres://${user}:${password}@${node.ip}:${this.plan.postgres!.port}/${database}`;
  }

  /** Sends a fake HTTP request to the role-check script on stdin, as user postgres in the node's namespace. */
  public roleCheck(node: PgNode, path: string): { status: number; body: string; raw: string } {
    const result = this.exec(node, 'runuser', ['-u', 'postgres', '--', 'sh', node.scripts.roleCheck],
      { env: { ...node.env }, input: `GET ${path} HTTP/1.0\r\nHost: ${node.ip}\r\nUser-Agent: lab\r\n\r\n`, timeoutMs: 15_000 });
    const match = /^HTTP\/1\.0 (\d{3}) /.exec(result.output);
    const body = result.output.split('\r\n\r\n').slice(1).join('\r\n\r\n').trim();
    return { status: match ? Number(match[1]) : 0, body, raw: result.output };
  }

  /** Starts the role check's socket stand-in on the node's address (systemd's Accept=yes socket in production). */
  public startRoleCheck(node: PgNode): void {
    const uid = numericId('postgres');
    const gid = Number(sh('id', ['-g', 'postgres']).trim());
    const child = this.spawnLogged(node, process.execPath,
      [join(__dirname, 'inetd-standin.js'), node.ip, '8008', String(uid), String(gid), '/bin/sh', node.scripts.roleCheck], `${node.name}-role-check`, node.env);
    this.roleChecks.set(node.name, child);
  }

  /** Starts HAProxy on a node with the generated haproxy.cfg for it (writer sections included), `global` adapted. */
  public startHaproxy(node: PgNode): string {
    const generated = renderHaproxyConfig(this.plan, node.name, alphanumeric(24), renderPostgresWriterHaproxySections(this.plan));
    const sections = generated.split('\n\n');
    const globalIndex = sections.findIndex((s) => s.split('\n').some((line) => line === 'global'));
    sections[globalIndex] = ['global', '    maxconn 2000', `    pidfile ${join(node.dir, 'haproxy.pid')}`].join('\n');
    const config = join(node.dir, 'haproxy.cfg');
    writeFileSync(config, sections.join('\n\n'));
    this.spawnLogged(node, 'haproxy', ['-W', '-db', '-f', config], `${node.name}-haproxy`);
    return config;
  }

  /** Adds the VIP to a node (Keepalived's job in production). */
  public addVip(node: NetNode): void {
    sh('ip', ['-n', node.namespace, 'addr', 'add', `${this.plan.apiEndpoint.address}/24`, 'dev', 'eth0']);
  }

  private spawnLogged(node: NetNode, command: string, args: readonly string[], logName: string, env: Record<string, string> = {}): ChildProcess {
    const out = openSync(join(this.workDir, `${logName}.log`), 'a');
    const child = spawn('ip', ['netns', 'exec', node.namespace, command, ...args], { stdio: ['ignore', out, out], detached: true, env: { ...process.env, ...env } });
    this.children.push(child);
    return child;
  }

  /** The address of the server a connection through the writer endpoint lands on, or undefined when none answers. */
  public writerServerAddress(): string | undefined {
    const result = this.sqlVia(this.dsn, 'select host(inet_server_addr())', this.client, 5_000);
    return result.status === 0 ? result.output : undefined;
  }

  /**
   * Sets the whole datastore up the way the nodes' first boot does: primary init on the first node, its role check,
   * replica init on the others (they find the primary through its role check), their role checks; then HAProxy and
   * the VIP on the first node. Throws with the script output when a step fails.
   */
  public async provision(): Promise<void> {
    this.initClusters();
    const [first, ...others] = this.nodes;
    const primary = this.runScript(first, 'primaryInit');
    if (primary.status !== 0) {
      throw new Error(`primary init on ${first.name} failed:\n${primary.output}`);
    }
    this.startRoleCheck(first);
    for (const node of others) {
      const replica = this.runScript(node, 'replicaInit');
      if (replica.status !== 0) {
        throw new Error(`replica init on ${node.name} failed:\n${replica.output}`);
      }
      this.startRoleCheck(node);
    }
    this.startHaproxy(first);
    this.addVip(first);
    if (!(await waitFor(() => this.writerServerAddress() === first.ip, 20_000, 200))) {
      throw new Error(`the writer endpoint did not reach ${first.name} within 20 s`);
    }
  }

  /** The runbook's last re-attach step: synchronous commit back on, on the primary. */
  public reenableSynchronousCommit(primary: PgNode): CommandResult {
    return this.exec(primary, 'runuser', ['-u', 'postgres', '--', `${this.bin}/psql`, '-X', '-qtA', '-h', primary.socketDir, '-d', 'postgres',
      '-c', 'alter system reset synchronous_standby_names', '-c', 'select pg_reload_conf()'], { timeoutMs: 15_000 });
  }

  /** Kills every process of the lab, deletes its namespaces and files; safe to call twice. */
  public stop(): void {
    for (const node of this.nodes ?? []) {
      if (existsSync(join(node.dataDir, 'postmaster.pid'))) {
        // Immediate shutdown lets the postmaster release its shared memory; SIGKILL below would leak it.
        this.crashPostgres(node);
      }
    }
    tearDownLab({ namespaces: this.namespaces, children: this.children.splice(0), workDir: this.workDir, keepFilesVariable: 'DATASTORE_LAB_KEEP_FILES' });
  }
}
