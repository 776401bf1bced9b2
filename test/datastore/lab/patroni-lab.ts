import { ChildProcess, execFile, spawn } from 'child_process';
import { createConnection } from 'net';
import { randomBytes } from 'crypto';
import { chmodSync, chownSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { basename, dirname, join } from 'path';
import { parse, stringify } from 'yaml';
import { HostRole, SitePlan, defineSite } from '../../../constructs';
import type { BackupSpec } from '../../../constructs/site/backup';
import {
  ETCD_TLS_DIR, ETCD_WAIT_READY_PATH, HAPROXY_ADMIN_SOCKET_PATH, HAPROXY_DATASTORE_CA_PATH, HAPROXY_WRITER_STATE_PATH, HAPROXY_WRITER_STATE_SCRIPT_PATH, etcdctlCommand,
  PATRONI_API_PORT, PATRONI_CONFIG_PATH, PATRONI_ETCD_V3_PATH, PATRONI_POST_BOOTSTRAP_PATH, PATRONI_SCOPE, POSTGRES_ASSET_DIR, POSTGRES_TLS_DIR, POSTGRES_WRITER_BACKEND,
  PostgresAsset, postgresDatastoreEndpoint, renderEtcdEnvironmentFile, renderHaproxyConfig, renderHaproxyWriterDropIn, renderPatroniConfig, renderPatroniEnvironmentFile,
  renderPatroniServiceDropIn, renderPostgresWriterHaproxySections, renderWriterDownStateFile,
} from '../../../constructs/renderers';
import { addBridgedNamespace, run, sh, tearDownLab, uniqueName } from '../../support/netns';
import { colocatedSite } from '../fixtures';
import { PG_BIN_ROOT, createLabCa, installedPostgresVersion, issueMemberCertificate, sleep, waitFor } from '../harness';

export { installedPostgresVersion, sleep, waitFor };

/**
 * A Patroni datastore lab on real daemons, built from the rendered files, shared by the failover test and the
 * benchmark.
 *
 * Every host that matters gets a network namespace with its site address on one bridge (in a "switch" namespace;
 * nothing is routed anywhere): db-1 and db-2 run an etcd member and Patroni (which runs PostgreSQL), server-1
 * runs the witness etcd member and HAProxy with the writer endpoint and holds the VIP (statically: keepalived is
 * tested elsewhere), server-2 is a K3s server, the client.
 *
 * Used as rendered: etcd's `ETCD_*` settings, Patroni's config.yml and environment file, Patroni's start as its
 * systemd drop-in has it (the etcd wait, then `patroni-etcd-v3.py patroni`), `patronictl` through the same script,
 * HAProxy's sections after `global` (the writer endpoint among them) and its start and reload commands as the
 * writer endpoint's `haproxy.service` drop-in has them (run the way systemd runs them: this machine has no
 * systemd), K3s's datastore endpoint, the certificates' names and the post-bootstrap script. Adapted for the lab,
 * paths only: TLS files, data, socket and binary directories, pgpass, the post-bootstrap script's location, the
 * assets' location, the writer state files; HAProxy's `global` (no chroot, syslog or user; its admin socket in the
 * lab); Patroni's watchdog is off (the lab must never arm the machine's watchdog).
 * Patroni itself: Debian 12's package, with upstream's fix of an unconditional leader-key write backported into a
 * copy of its module when the installed 3.0.2 lacks it (see {@link patchedPatroniModule}; PATRONI_LAB_STOCK=1: as is).
 */

/** The tools the lab runs; the suite is skipped naming the missing one. */
export const LAB_TOOLS = ['etcd', 'etcdctl', 'haproxy', 'openssl', 'curl', 'ip', 'nsenter', '/usr/bin/python3', '/usr/bin/patroni', '/usr/bin/patronictl'];
/** A PATH without user-local interpreters: Patroni's scripts must find Debian's psql, not a pyenv shim. */
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Debian's interpreter of Patroni, which runs the rendered `patroni-etcd-v3.py` (as on the hosts). */
const PYTHON = '/usr/bin/python3';
/** Debian's `haproxy.service` start command, which the writer endpoint's drop-in leaves as it is. */
const HAPROXY_EXEC_START = ['haproxy', '-Ws', '-f', '$CONFIG', '-p', '$PIDFILE', '$EXTRAOPTS'];

/** Whether `promise` settles within `ms` (the timer is cleared either way, so it does not hold the process open). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Letters and digits only, like the Terraform passwords (nothing to escape in a URL or an env file). */
export const alphanumeric = (length: number) => randomBytes(length * 2).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, length);

/** The colocated fixture (3 K3s servers that balance, db-1 and db-2, witness server-1) at the installed version, 1 GiB datastore hosts; with `backup`, that section too. */
export function labPlan(version: number, backup?: BackupSpec): SitePlan {
  return defineSite({
    ...colocatedSite,
    ...(backup ? { backup } : {}),
    hosts: colocatedSite.hosts.map((host) => (host.roles.includes(HostRole.DATASTORE) ? { ...host, size: { ...host.size, memoryMiB: 1024 } } : host)),
    postgres: { ...colocatedSite.postgres, version },
  });
}

/** `KEY=VALUE` lines of a rendered environment file (comments and blank lines skipped). */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) {
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) {
      throw new Error(`not a KEY=VALUE line: ${JSON.stringify(line)}`);
    }
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

/** Replaces `from/` at the start of every string in a parsed YAML tree with `to/`. */
function rewritePathPrefix(value: unknown, from: string, to: string): unknown {
  if (typeof value === 'string') {
    return value.startsWith(`${from}/`) ? join(to, value.slice(from.length + 1)) : value;
  }
  if (Array.isArray(value)) {
    return value.map((v) => rewritePathPrefix(v, from, to));
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewritePathPrefix(v, from, to)]));
  }
  return value;
}

/** Every string in a parsed YAML tree that still points at a system location (a path the lab forgot to adapt). */
function systemPaths(value: unknown, at = ''): string[] {
  if (typeof value === 'string') {
    return /(^|\s)\/(etc|var|run|usr\/local)\//.test(value) ? [`${at}: ${value}`] : [];
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => systemPaths(v, at ? `${at}.${k}` : k));
  }
  return [];
}

/** Debian 12's Patroni package. */
const PATRONI_MODULE_DIR = '/usr/lib/python3/dist-packages/patroni';
/** Patroni 3.0.2's `Etcd3._update_leader` writes the leader key without a condition. */
const UNCONDITIONAL_LEADER_PUT = `                try:
                    self._run_and_handle_exceptions(self._client.put, self.leader_path,
                                                    self._name, self._lease, retry=_retry)
                except ReturnFalseException:
                    pass`;
/** The same with upstream's fix (patroni/patroni#2689, in 3.0.3): renew our own key, or create it if absent, never overwrite another's. */
const CONDITIONAL_LEADER_PUT = `                # proxmox-k3s-ha lab: backport of patroni/patroni#2689 (3.0.3): never overwrite another node's leader key.
                fields = {'key': base64_encode(self.leader_path), 'value': base64_encode(self._name), 'lease': self._lease}
                try:
                    return bool(self._run_and_handle_exceptions(
                        self._client.txn, {'key': fields['key'], 'target': 'VALUE', 'value': fields['value']}, {'request_put': fields}, retry=_retry)) \\
                        or bool(self._run_and_handle_exceptions(self._client.put, self.leader_path, self._name, self._lease, '0', retry=_retry))
                except ReturnFalseException:
                    return False`;

/**
 * A copy of the installed Patroni module with upstream's fix of the unconditional leader-key write, for PYTHONPATH;
 * undefined when the installed Patroni does not need it (or PATRONI_LAB_STOCK=1 asks for the package as is).
 *
 * Why: Patroni 3.0.2 (Debian 12, this lab) reads etcd with serializable (possibly stale) reads, and when its lease
 * expired it re-creates the leader key with an unconditional put. An old primary that was cut off reads its own,
 * not yet caught-up etcd member after the link is back, believes it still holds the lock, and overwrites the new
 * primary's key: both promote, their timelines diverge (seen in this lab in about one of three link cuts).
 * Fixed upstream in 3.0.3 (patroni/patroni#2689); Ubuntu 24.04, the sites' image, ships Patroni 3.2.2.
 */
export function patchedPatroniModule(targetDir: string): string | undefined {
  const etcd3 = readFileSync(join(PATRONI_MODULE_DIR, 'dcs', 'etcd3.py'), 'utf8');
  if (process.env.PATRONI_LAB_STOCK === '1' || !etcd3.includes(UNCONDITIONAL_LEADER_PUT)) {
    return undefined;
  }
  cpSync(PATRONI_MODULE_DIR, join(targetDir, 'patroni'), { recursive: true, filter: (source) => !source.includes('__pycache__') });
  writeFileSync(join(targetDir, 'patroni', 'dcs', 'etcd3.py'), etcd3.replace(UNCONDITIONAL_LEADER_PUT, CONDITIONAL_LEADER_PUT));
  sh('chmod', ['-R', 'a+rX', targetDir]);
  return targetDir;
}

export interface CommandResult {
  readonly status: number | null;
  readonly output: string;
}

/** A process the lab started, and a promise of its end. */
interface LabProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  done: boolean;
}

/** One namespace on the lab's bridge. */
export interface LabHost {
  readonly name: string;
  readonly ip: string;
  readonly namespace: string;
  /** The switch-side veth: `ip -n <switch> link set <port> down` cuts the host off. */
  readonly switchPort: string;
  readonly dir: string;
}

/** An etcd member host (db-1, db-2, the witness). */
interface EtcdMember {
  readonly host: LabHost;
  /** The rendered `ETCD_*` settings with the lab's data directory and TLS paths. */
  readonly env: Record<string, string>;
  /** The member's TLS files for PostgreSQL and Patroni (owner postgres). */
  readonly postgresTlsDir: string;
  process?: LabProcess;
}

/** A datastore node: Patroni with its rendered-and-adapted configuration. */
export interface DbNode {
  readonly host: LabHost;
  readonly name: string;
  readonly ip: string;
  readonly configPath: string;
  readonly dataDir: string;
  readonly socketDir: string;
  process?: LabProcess;
}

/** A member of Patroni's `GET /cluster`. */
export interface ClusterMember {
  readonly name: string;
  readonly role: string;
  readonly state: string;
  readonly host: string;
  readonly timeline?: number;
  readonly lag?: number | string;
}

/** One attempt of the writer (see writer.js). */
export interface WriteRecord {
  readonly id: number;
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
  readonly server?: string;
  readonly error?: string;
}

/** One round of asking every datastore node's Patroni `GET /primary`, each from its own namespace. */
export interface PrimarySample {
  readonly at: number;
  readonly doneAt: number;
  /** HTTP status per node name (0: no answer). */
  readonly codes: Readonly<Record<string, number>>;
}

/** A running writer; `stop` ends it and returns every attempt. */
export interface WriterRun {
  readonly records: () => WriteRecord[];
  readonly stop: () => Promise<WriteRecord[]>;
}

/** A running `/primary` poll; `stop` ends it and returns every round. */
export interface PrimaryWatch {
  readonly samples: PrimarySample[];
  readonly stop: () => Promise<PrimarySample[]>;
}

const PATRONI_TLS_FILES = ['ca.crt', 'server.crt', 'server.key'];

/** What a lab built on this one adds: a `backup` section, and a hook that adapts each node's parsed Patroni configuration. */
export interface PatroniLabOptions {
  readonly backup?: BackupSpec;
  /** Called with the node's adapted configuration before it is checked for system paths and written. */
  readonly adaptPatroniConfig?: (node: { name: string; dir: string; dataDir: string; socketDir: string }, config: Record<string, any>) => void;
}

export class PatroniLab {
  public readonly plan: SitePlan;
  public readonly version: number;
  public readonly bin: string;
  public readonly workDir: string;
  /** The datastore CA (PostgreSQL, Patroni, etcd), K3s's `datastore-cafile`. */
  public readonly caCertificate: string;
  /** An unrelated CA, to show that certificates are really verified. */
  public readonly otherCaCertificate: string;
  public readonly passwords = {
    superuserPassword: alphanumeric(24), replicationPassword: alphanumeric(24), rewindPassword: alphanumeric(24), restApiPassword: alphanumeric(24), k3sPassword: alphanumeric(32),
  };
  /** K3s's datastore-endpoint as the construct renders it (the VIP on the writer port, `sslmode=verify-full`). */
  public readonly dsn: string;
  /** Patroni's environment as rendered (the passwords). */
  public readonly patroniEnv: Record<string, string>;
  public readonly db: readonly DbNode[];
  /** The etcd witness and load balancer with the VIP (server-1). */
  public readonly witness: LabHost;
  /** A K3s server (server-2): the writer endpoint's client. */
  public readonly client: LabHost;
  /** `patroni --validate-config` on each datastore node, run once etcd was up and before Patroni started there. */
  public readonly validation: Record<string, CommandResult> = {};
  /** `haproxy -c` of the adapted configuration. */
  public haproxyCheck?: CommandResult;
  private readonly members = new Map<string, EtcdMember>();
  private readonly id = uniqueName('pkp');
  private readonly switchNamespace: string;
  private readonly namespaces: string[] = [];
  private readonly processes: LabProcess[] = [];
  private readonly postgresUid: number;
  private readonly postgresGid: number;
  private writerRuns = 0;
  /** PYTHONPATH of Patroni's patched module copy, when the installed Patroni needs it (see {@link patchedPatroniModule}). */
  public readonly patroniPythonPath?: string;

  constructor(version: number, private readonly options: PatroniLabOptions = {}) {
    this.version = version;
    this.bin = join(PG_BIN_ROOT, String(version), 'bin');
    this.plan = labPlan(version, options.backup);
    const postgres = this.plan.postgres!;
    if (!postgres.tls || !postgres.witness) {
      throw new Error(`the lab expects postgres.tls and a witness (got tls ${postgres.tls}, witness ${JSON.stringify(postgres.witness)})`);
    }
    this.dsn = postgresDatastoreEndpoint(this.plan, this.passwords.k3sPassword);
    this.patroniEnv = parseEnvironmentFile(renderPatroniEnvironmentFile(this.passwords));
    this.postgresUid = Number(sh('id', ['-u', 'postgres']).trim());
    this.postgresGid = Number(sh('id', ['-g', 'postgres']).trim());
    this.workDir = mkdtempSync(join(tmpdir(), 'pkh-patroni-'));
    // The postgres user must reach its directories below.
    chmodSync(this.workDir, 0o755);
    this.switchNamespace = `${this.id}sw`;
    try {
      this.patroniPythonPath = patchedPatroniModule(join(this.workDir, 'patroni-py'));
      this.caCertificate = createLabCa(join(this.workDir, 'ca'), `${this.plan.name} lab datastore CA`);
      this.otherCaCertificate = createLabCa(join(this.workDir, 'other-ca'), 'an unrelated CA');
      sh('ip', ['netns', 'add', this.switchNamespace]);
      this.namespaces.push(this.switchNamespace);
      sh('ip', ['-n', this.switchNamespace, 'link', 'add', 'br0', 'type', 'bridge']);
      sh('ip', ['-n', this.switchNamespace, 'link', 'set', 'br0', 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0']);
      sh('ip', ['-n', this.switchNamespace, 'link', 'set', 'br0', 'up']);
      postgres.etcdMembers.forEach((member, index) => this.addEtcdMember(member.name, index));
      this.db = postgres.nodes.map((node) => this.addDbNode(node.name));
      this.witness = this.members.get(postgres.witness.name)!.host;
      this.client = this.addHost('server-2');
    } catch (error) {
      this.stop();
      throw error;
    }
  }

  /** A namespace with the host's site address, its veth's other end on the bridge. */
  private addHost(name: string): LabHost {
    const ip = this.plan.hosts.find((h) => h.name === name)!.ip;
    const namespace = `${this.id}${name}`.slice(0, 30);
    const switchPort = `p${this.namespaces.length}`;
    this.namespaces.push(namespace);
    addBridgedNamespace(this.switchNamespace, namespace, switchPort, ip);
    const dir = join(this.workDir, name);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    return { name, ip, namespace, switchPort, dir };
  }

  /**
   * An etcd member: its certificate twice (etcd's copy; PostgreSQL's and Patroni's, owner postgres with a 0600 key,
   * or PostgreSQL refuses it) and the rendered settings with the lab's paths.
   */
  private addEtcdMember(name: string, index: number): void {
    const host = this.addHost(name);
    const { key, cert } = issueMemberCertificate(this.plan, name, join(this.workDir, 'ca'), 100 + index);
    const etcdTlsDir = join(host.dir, 'etcd-tls');
    const postgresTlsDir = join(host.dir, 'postgres-tls');
    mkdirSync(etcdTlsDir, { mode: 0o700 });
    copyFileSync(this.caCertificate, join(etcdTlsDir, 'ca.crt'));
    copyFileSync(cert, join(etcdTlsDir, 'member.crt'));
    copyFileSync(key, join(etcdTlsDir, 'member.key'));
    chmodSync(join(etcdTlsDir, 'member.key'), 0o600);
    mkdirSync(postgresTlsDir, { mode: 0o755 });
    copyFileSync(this.caCertificate, join(postgresTlsDir, 'ca.crt'));
    copyFileSync(cert, join(postgresTlsDir, 'server.crt'));
    copyFileSync(key, join(postgresTlsDir, 'server.key'));
    chmodSync(join(postgresTlsDir, 'server.key'), 0o600);
    for (const file of PATRONI_TLS_FILES) {
      chownSync(join(postgresTlsDir, file), this.postgresUid, this.postgresGid);
    }
    const env = parseEnvironmentFile(renderEtcdEnvironmentFile(this.plan, name));
    env.ETCD_DATA_DIR = join(host.dir, 'etcd-data');
    for (const [variable, value] of Object.entries(env)) {
      if (variable.endsWith('_FILE')) {
        if (!value.startsWith(`${ETCD_TLS_DIR}/`)) {
          throw new Error(`${name}: ${variable}=${value} is outside ${ETCD_TLS_DIR}; the lab does not know where to put it`);
        }
        env[variable] = join(etcdTlsDir, basename(value));
      }
    }
    this.members.set(name, { host, env, postgresTlsDir });
  }

  /** A datastore node: the rendered Patroni configuration with the lab's paths, and its directories (owner postgres). */
  private addDbNode(name: string): DbNode {
    const member = this.members.get(name)!;
    const { host } = member;
    const dataDir = join(host.dir, 'data');
    const socketDir = join(host.dir, 'run');
    chownSync(host.dir, this.postgresUid, this.postgresGid);
    mkdirSync(dataDir, { mode: 0o700 });
    mkdirSync(socketDir, { mode: 0o755 });
    chownSync(dataDir, this.postgresUid, this.postgresGid);
    chownSync(socketDir, this.postgresUid, this.postgresGid);
    const config = rewritePathPrefix(parse(renderPatroniConfig(this.plan, name), { version: '1.1' }), POSTGRES_TLS_DIR, member.postgresTlsDir) as Record<string, any>;
    config.postgresql.data_dir = dataDir;
    config.postgresql.bin_dir = this.bin;
    config.postgresql.pgpass = join(host.dir, 'pgpass');
    config.postgresql.parameters.unix_socket_directories = socketDir;
    config.bootstrap.post_bootstrap = this.labPostBootstrap(config.bootstrap.post_bootstrap);
    // Never arm the lab machine's watchdog. (Written as YAML 1.1 like the renderer does: Patroni's PyYAML reads a
    // plain `off` as false.)
    config.watchdog = { ...config.watchdog, mode: 'off' };
    this.options.adaptPatroniConfig?.({ name, dir: host.dir, dataDir, socketDir }, config);
    const leftovers = systemPaths(config);
    if (leftovers.length > 0) {
      throw new Error(`${name}: the rendered Patroni configuration has paths the lab does not adapt:\n${leftovers.join('\n')}`);
    }
    const configPath = join(host.dir, 'patroni.yml');
    writeFileSync(configPath, stringify(config, { lineWidth: 0, version: '1.1' }), { mode: 0o644 });
    return { host, name, ip: host.ip, configPath, dataDir, socketDir };
  }

  /**
   * The rendered `post_bootstrap` command (`<script> DATABASE USER`; Patroni appends the connection string) with
   * the script at its place in this repository.
   */
  private labPostBootstrap(rendered: string): string {
    const [path, ...args] = rendered.split(/\s+/).filter(Boolean);
    if (path !== PATRONI_POST_BOOTSTRAP_PATH) {
      throw new Error(`post_bootstrap: expected ${PATRONI_POST_BOOTSTRAP_PATH}, rendered ${JSON.stringify(rendered)}`);
    }
    return [join(POSTGRES_ASSET_DIR, PostgresAsset.POST_BOOTSTRAP), ...args].join(' ');
  }

  public node(name: string): DbNode {
    const node = this.db.find((n) => n.name === name);
    if (!node) {
      throw new Error(`no datastore node ${name}`);
    }
    return node;
  }

  /** The other datastore node. */
  public other(name: string): DbNode {
    return this.db.find((n) => n.name !== name)!;
  }

  // --- processes -------------------------------------------------------------------------------------------------

  private track(child: ChildProcess): LabProcess {
    const entry: LabProcess = {
      child,
      done: false,
      exited: new Promise<void>((resolve) => {
        child.once('exit', () => {
          entry.done = true;
          resolve();
        });
        child.once('error', () => {
          entry.done = true;
          resolve();
        });
      }),
    };
    this.processes.push(entry);
    return entry;
  }

  private logFile(name: string): number {
    return openSync(join(this.workDir, `${name}.log`), 'a');
  }

  /** The tail of a lab log, for error messages. */
  public logTail(name: string, lines = 40): string {
    const path = join(this.workDir, `${name}.log`);
    return existsSync(path) ? readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
  }

  /** SIGTERM, then SIGKILL past `graceMs`; resolves once the process is gone. */
  private async terminate(entry: LabProcess | undefined, graceMs: number): Promise<void> {
    if (!entry || entry.done) {
      return;
    }
    entry.child.kill('SIGTERM');
    if (!(await settlesWithin(entry.exited, graceMs))) {
      entry.child.kill('SIGKILL');
      await settlesWithin(entry.exited, 5_000);
    }
  }

  /** Starts the host's etcd member (as root: the lab has no etcd user) with the rendered settings. */
  public startEtcd(hostName: string): void {
    const member = this.members.get(hostName)!;
    if (member.process && !member.process.done) {
      throw new Error(`etcd on ${hostName} is already running`);
    }
    const out = this.logFile(`${hostName}-etcd`);
    // `ip netns exec` execs etcd: the child's pid is etcd's.
    const child = spawn('ip', ['netns', 'exec', member.host.namespace, 'etcd'], { stdio: ['ignore', out, out], detached: true, env: { PATH: SYSTEM_PATH, ...member.env } });
    member.process = this.track(child);
  }

  /** Stops the host's etcd member (SIGTERM: what `systemctl stop etcd` does). */
  public async stopEtcd(hostName: string): Promise<void> {
    await this.terminate(this.members.get(hostName)!.process, 15_000);
  }

  /** Starts Patroni as user postgres in the node's namespace with the rendered environment (the passwords). */
  public startPatroni(name: string): void {
    const node = this.node(name);
    if (node.process && !node.process.done) {
      throw new Error(`Patroni on ${name} is already running`);
    }
    const out = this.logFile(`${name}-patroni`);
    // nsenter execs Patroni as postgres, so the child's pid is Patroni's and SIGTERM reaches it directly (runuser
    // would forward it and SIGKILL Patroni 2 s later, before it stopped PostgreSQL).
    const child = spawn('nsenter', [`--net=/run/netns/${node.host.namespace}`, '-S', String(this.postgresUid), '-G', String(this.postgresGid), ...this.patroniCommand(name)],
      { stdio: ['ignore', out, out], detached: true, env: this.postgresEnvironment(), cwd: node.host.dir });
    node.process = this.track(child);
  }

  /** Patroni's start command as the rendered drop-in has it (`python3 patroni-etcd-v3.py patroni CONFIG`), lab paths. */
  private patroniCommand(name: string): string[] {
    const start = serviceLines(renderPatroniServiceDropIn(this.plan, name), 'ExecStart');
    const [python, script, command, config] = start[start.length - 1].split(' ');
    if (python !== PYTHON || script !== PATRONI_ETCD_V3_PATH || command !== 'patroni' || config !== PATRONI_CONFIG_PATH) {
      throw new Error(`${name}: unexpected ExecStart of Patroni's drop-in: ${JSON.stringify(start)}`);
    }
    return [PYTHON, join(POSTGRES_ASSET_DIR, PostgresAsset.PATRONI_ETCD_V3), 'patroni', this.node(name).configPath];
  }

  /**
   * Patroni's ExecStartPre as rendered (`etcd-wait-ready.sh` on the node's etcd member, with its certificate), lab
   * paths, run in the node's namespace: 0 once the member has a quorum.
   */
  public waitEtcdReady(name: string, waitSeconds = 20): Promise<CommandResult> {
    const member = this.members.get(name)!;
    const [script, ...args] = serviceLines(renderPatroniServiceDropIn(this.plan, name), 'ExecStartPre')[0].split(' ');
    if (script !== ETCD_WAIT_READY_PATH) {
      throw new Error(`${name}: unexpected ExecStartPre of Patroni's drop-in: ${script}`);
    }
    const labArgs = args.map((arg) => (arg.startsWith(`${POSTGRES_TLS_DIR}/`) ? join(member.postgresTlsDir, basename(arg)) : arg));
    return this.exec(member.host, join(POSTGRES_ASSET_DIR, PostgresAsset.ETCD_WAIT_READY), labArgs,
      { env: { PKH_WAIT_SECONDS: String(waitSeconds) }, timeoutMs: (waitSeconds + 10) * 1000 });
  }

  /** SIGTERM to Patroni (what `systemctl stop patroni` does): it stops PostgreSQL and releases the leader key. */
  public async stopPatroni(name: string): Promise<void> {
    await this.terminate(this.node(name).process, 60_000);
  }

  public patroniRunning(name: string): boolean {
    const process = this.node(name).process;
    return process !== undefined && !process.done;
  }

  private postgresEnvironment(): Record<string, string> {
    return {
      PATH: SYSTEM_PATH, HOME: '/var/lib/postgresql', USER: 'postgres', LOGNAME: 'postgres', LANG: 'C.UTF-8', ...this.patroniEnv,
      ...(this.patroniPythonPath ? { PYTHONPATH: this.patroniPythonPath } : {}),
    };
  }

  /** The postmaster's pid from postmaster.pid, if PostgreSQL runs on the node. */
  public postmasterPid(name: string): number | undefined {
    const pidFile = join(this.node(name).dataDir, 'postmaster.pid');
    if (!existsSync(pidFile)) {
      return undefined;
    }
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && existsSync(`/proc/${pid}`) ? pid : undefined;
  }

  /** A crash of PostgreSQL: SIGKILL to the postmaster (its backends exit when they notice). */
  public killPostgres9(name: string): void {
    const pid = this.postmasterPid(name);
    if (pid === undefined) {
      throw new Error(`${name}: PostgreSQL is not running`);
    }
    process.kill(pid, 'SIGKILL');
  }

  /** Cuts the host off the network (its switch port down: the host sees no carrier, like a pulled cable). */
  public cutLink(hostName: string): void {
    sh('ip', ['-n', this.switchNamespace, 'link', 'set', this.host(hostName).switchPort, 'down']);
  }

  public restoreLink(hostName: string): void {
    sh('ip', ['-n', this.switchNamespace, 'link', 'set', this.host(hostName).switchPort, 'up']);
  }

  private host(name: string): LabHost {
    const host = this.members.get(name)?.host ?? (this.client.name === name ? this.client : undefined);
    if (!host) {
      throw new Error(`no lab host ${name}`);
    }
    return host;
  }

  // --- commands --------------------------------------------------------------------------------------------------

  /** Runs a command in a host's namespace (as root) without blocking the event loop. */
  public exec(host: LabHost, command: string, args: readonly string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CommandResult> {
    return new Promise((resolve) => {
      execFile('ip', ['netns', 'exec', host.namespace, command, ...args], {
        encoding: 'utf8', timeout: options.timeoutMs ?? 30_000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, env: { PATH: SYSTEM_PATH, ...options.env },
      }, (error, stdout, stderr) => {
        const status = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
        resolve({ status, output: `${stdout}${stderr}`.trim() });
      });
    });
  }

  /** SQL as the postgres superuser over the node's local socket (peer authentication). */
  public superuserSql(name: string, sql: string, database = 'postgres'): Promise<CommandResult> {
    const node = this.node(name);
    return this.exec(node.host, 'runuser', ['-u', 'postgres', '--', join(this.bin, 'psql'), '-X', '-qtA', '-v', 'ON_ERROR_STOP=1', '-h', node.socketDir, '-d', database, '-c', sql]);
  }

  /** SQL from the client (a K3s server) through a connection string, with the datastore CA and a 2 s connect timeout. */
  public clientSql(connection: string, sql: string, timeoutMs = 10_000, caFile = this.caCertificate): Promise<CommandResult> {
    return this.exec(this.client, join(this.bin, 'psql'), ['-X', '-qtA', '-v', 'ON_ERROR_STOP=1', '-d', connection, '-c', sql], { env: this.clientEnvironment(caFile), timeoutMs });
  }

  /** libpq's environment on a K3s server: the datastore CA (K3s's `datastore-cafile`) and a 2 s connect timeout. */
  private clientEnvironment(caFile = this.caCertificate): Record<string, string> {
    return { PGSSLROOTCERT: caFile, PGCONNECT_TIMEOUT: '2' };
  }

  /** A connection string straight to one node (not through the writer endpoint). */
  public directDsn(name: string, sslmode: string): string {
    const postgres = this.plan.postgres!;
    return `postgres://${postgres.user}:${this.passwords.k3sPassword}@${this.node(name).ip}:${postgres.port}/${postgres.database}?sslmode=${sslmode}`;
  }

  /** HTTP status of `GET https://<node>:8008/<path>` asked from `from` (0: no answer within 1 s). */
  public async restStatus(name: string, path: string, from: LabHost = this.node(name).host, caFile = this.caCertificate): Promise<number> {
    const result = await this.exec(from, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '1', '--cacert', caFile, `https://${this.node(name).ip}:${PATRONI_API_PORT}${path}`], { timeoutMs: 5_000 });
    const code = Number(result.output);
    return Number.isInteger(code) ? code : 0;
  }

  /** Whether the node's Patroni says it is the primary, asked from its own namespace (reachable even when cut off). */
  public primaryStatus(name: string): Promise<number> {
    return this.restStatus(name, '/primary');
  }

  /** Patroni's `GET /cluster`, from the first datastore node that answers (asked from the witness, over the network). */
  public async cluster(): Promise<ClusterMember[] | undefined> {
    for (const node of this.db) {
      const result = await this.exec(this.witness, 'curl', ['-sf', '-m', '2', '--cacert', this.caCertificate, `https://${node.ip}:${PATRONI_API_PORT}/cluster`], { timeoutMs: 5_000 });
      if (result.status === 0) {
        try {
          return (JSON.parse(result.output) as { members: ClusterMember[] }).members;
        } catch {
          // a partial answer: ask the next node
        }
      }
    }
    return undefined;
  }

  /** The leader's name according to Patroni's `/cluster`, if there is one. */
  public async leader(): Promise<ClusterMember | undefined> {
    return (await this.cluster())?.find((m) => m.role === 'leader' && m.state === 'running');
  }

  /**
   * Waits (bounded) until the cluster is healthy: both nodes' Patroni running, one running leader answering 200
   * on `/primary`, the other its running synchronous standby on the same timeline, and a write through the writer
   * endpoint succeeds. Returns the members, or throws with what it last saw.
   */
  public async waitHealthy(timeoutMs: number): Promise<ClusterMember[]> {
    let last: ClusterMember[] | undefined;
    let lastWrite: CommandResult | undefined;
    const healthy = await waitFor(async () => {
      if (!this.db.every((n) => this.patroniRunning(n.name))) {
        return false;
      }
      last = await this.cluster();
      const leader = last?.filter((m) => m.role === 'leader' && m.state === 'running') ?? [];
      const sync = last?.filter((m) => m.role === 'sync_standby' && (m.state === 'running' || m.state === 'streaming')) ?? [];
      if (last?.length !== 2 || leader.length !== 1 || sync.length !== 1 || sync[0].timeline !== leader[0].timeline) {
        return false;
      }
      if ((await this.primaryStatus(leader[0].name)) !== 200) {
        return false;
      }
      lastWrite = await this.writeOnce();
      return lastWrite.status === 0;
    }, timeoutMs, 500);
    if (!healthy) {
      throw new Error(`the cluster did not become healthy within ${timeoutMs} ms: ${JSON.stringify(last)}; last write: ${JSON.stringify(lastWrite)}\n`
        + this.db.map((n) => `--- ${n.name} patroni\n${this.logTail(`${n.name}-patroni`, 15)}`).join('\n'));
    }
    return last!;
  }

  /** One write through the writer endpoint, as the K3s user, with `sslmode=verify-full` (the rendered endpoint). */
  public writeOnce(): Promise<CommandResult> {
    return this.clientSql(this.dsn, 'insert into probe (id) values (-1) on conflict (id) do update set at = now() returning host(inet_server_addr())', 7_000);
  }

  /** `patronictl ARGS` on a node as the runbook has it (the rendered patronictl, the REST API's password in the environment). */
  public patronictl(name: string, args: readonly string[], timeoutMs = 20_000): Promise<CommandResult> {
    const node = this.node(name);
    return this.exec(node.host, PYTHON, [join(POSTGRES_ASSET_DIR, PostgresAsset.PATRONI_ETCD_V3), 'patronictl', '-c', node.configPath, ...args], { env: this.patroniEnv, timeoutMs });
  }

  /** `patronictl list` on a node, as JSON, with the rendered environment (what an operator runs). */
  public async patronictlList(name: string): Promise<Record<string, unknown>[]> {
    const result = await this.patronictl(name, ['list', '-f', 'json']);
    if (result.status !== 0) {
      throw new Error(`patronictl list on ${name}: ${result.output}`);
    }
    return JSON.parse(result.output) as Record<string, unknown>[];
  }

  /**
   * The runbook's planned switchover to `candidate` (asked on the candidate), then waits (bounded) until the cluster
   * is healthy with the candidate as leader.
   */
  public async switchover(candidate: string): Promise<ClusterMember[]> {
    const primary = this.other(candidate).name;
    const result = await this.patronictl(candidate, ['switchover', PATRONI_SCOPE, '--primary', primary, '--candidate', candidate, '--force'], 60_000);
    if (result.status !== 0) {
      throw new Error(`patronictl switchover to ${candidate}: ${result.output}`);
    }
    if (!(await waitFor(async () => (await this.leader())?.name === candidate, 60_000, 250))) {
      throw new Error(`the switchover to ${candidate} did not happen within 60 s: ${JSON.stringify(await this.cluster())}`);
    }
    return this.waitHealthy(120_000);
  }

  /** The cluster version an etcd member reports (`/version`'s `etcdcluster`), asked on its host with its certificate. */
  public async etcdClusterVersion(hostName: string): Promise<string | undefined> {
    const member = this.members.get(hostName)!;
    const result = await this.exec(member.host, 'curl', ['-sf', '-m', '2', '--cacert', member.env.ETCD_TRUSTED_CA_FILE, '--cert', member.env.ETCD_CERT_FILE, '--key', member.env.ETCD_KEY_FILE,
      `https://${member.host.ip}:2379/version`], { timeoutMs: 5_000 });
    return result.status === 0 ? (JSON.parse(result.output) as { etcdcluster?: string }).etcdcluster : undefined;
  }

  /** etcdctl on a member's host against its own address; with or without the member's client certificate. */
  public etcdctl(hostName: string, args: readonly string[], withCertificate = true): Promise<CommandResult> {
    const member = this.members.get(hostName)!;
    const tls = ['--cacert', member.env.ETCD_TRUSTED_CA_FILE, ...(withCertificate ? ['--cert', member.env.ETCD_CERT_FILE, '--key', member.env.ETCD_KEY_FILE] : [])];
    return this.exec(member.host, 'etcdctl', ['--endpoints', `https://${member.host.ip}:2379`, '--dial-timeout', '2s', '--command-timeout', '3s', ...tls, ...args], { timeoutMs: 10_000 });
  }

  /** The runbook's `etcdctl` command of a member (it dials 127.0.0.1 with the member's certificate), lab paths, plus `args`. */
  public renderedEtcdctl(hostName: string, args: readonly string[]): Promise<CommandResult> {
    const member = this.members.get(hostName)!;
    const [command, ...rendered] = etcdctlCommand(this.plan, hostName).split(' ');
    const labArgs = rendered.map((arg) => (arg.startsWith(`${ETCD_TLS_DIR}/`) ? join(dirname(member.env.ETCD_CERT_FILE), basename(arg)) : arg));
    return this.exec(member.host, command, [...labArgs, '--dial-timeout', '2s', '--command-timeout', '3s', ...args], { timeoutMs: 10_000 });
  }

  /** Whether every etcd member (or every one of `names`) reports healthy. */
  public async etcdHealthy(names: readonly string[] = [...this.members.keys()]): Promise<boolean> {
    const results = await Promise.all(names.map((name) => this.etcdctl(name, ['endpoint', 'health'])));
    return results.every((r) => r.status === 0);
  }

  /** The ids among `ids` that the node's PostgreSQL does not hold (asked over its local socket). */
  public async missingIds(name: string, ids: readonly number[]): Promise<number[]> {
    if (ids.length === 0) {
      return [];
    }
    const lo = Math.min(...ids);
    const hi = Math.max(...ids);
    const result = await this.superuserSql(name, `select id from probe where id between ${lo} and ${hi}`, this.plan.postgres!.database);
    if (result.status !== 0) {
      throw new Error(`select on ${name}: ${result.output}`);
    }
    const present = new Set(result.output.split('\n').filter(Boolean).map(Number));
    return ids.filter((id) => !present.has(id));
  }

  // --- writer and watch ------------------------------------------------------------------------------------------

  /** Starts writer.js in the client's namespace: one commit per attempt through the writer endpoint. */
  public startWriter(options: { maxMs?: number; intervalMs?: number } = {}): WriterRun {
    this.writerRuns += 1;
    const out = join(this.workDir, `writer-${this.writerRuns}.jsonl`);
    writeFileSync(out, '');
    const log = this.logFile(`writer-${this.writerRuns}`);
    const child = spawn('ip', ['netns', 'exec', this.client.namespace, process.execPath, join(__dirname, 'writer.js')], {
      stdio: ['ignore', log, log],
      detached: true,
      env: {
        PATH: SYSTEM_PATH, ...this.clientEnvironment(),
        WRITER_PSQL: join(this.bin, 'psql'), WRITER_DSN: this.dsn, WRITER_OUT: out,
        // Separate id ranges per run: a run's ids never meet another run's.
        WRITER_FIRST_ID: String(this.writerRuns * 10_000_000), WRITER_ATTEMPT_MS: '5000',
        WRITER_INTERVAL_MS: String(options.intervalMs ?? 50), WRITER_MAX_MS: String(options.maxMs ?? 600_000),
      },
    });
    const entry = this.track(child);
    const records = () => readFileSync(out, 'utf8').split('\n').filter((line) => line.endsWith('}')).map((line) => JSON.parse(line) as WriteRecord);
    return {
      records,
      stop: async () => {
        // The writer finishes its attempt (at most 5 s) and exits.
        await this.terminate(entry, 10_000);
        return records();
      },
    };
  }

  /** Asks every node's `/primary` from its own namespace, about every 200 ms, until stopped (or 15 min). */
  public watchPrimaries(): PrimaryWatch {
    const samples: PrimarySample[] = [];
    let stopped = false;
    const loop = (async () => {
      const deadline = Date.now() + 15 * 60_000;
      for (let i = 0; i < 10_000 && !stopped && Date.now() < deadline; i++) {
        const at = Date.now();
        const codes = await Promise.all(this.db.map((n) => this.primaryStatus(n.name)));
        samples.push({ at, doneAt: Date.now(), codes: Object.fromEntries(this.db.map((n, index) => [n.name, codes[index]])) });
        await sleep(Math.max(0, 200 - (Date.now() - at)));
      }
    })();
    return {
      samples,
      stop: async () => {
        stopped = true;
        await loop;
        return samples;
      },
    };
  }

  // --- lifecycle -------------------------------------------------------------------------------------------------

  /**
   * Brings the datastore up the way the hosts' first boot does: the etcd members (all, or all but
   * `etcdMembersDown`), then on each datastore node Patroni's etcd wait (its drop-in's ExecStartPre) and
   * `patroni --validate-config`, Patroni on both (they race for the initialize key, as in a site), then HAProxy with
   * the writer endpoint and the VIP on the witness host. Waits until the cluster is healthy and creates the writer's
   * table through the endpoint. Returns how long the Patronis took from their start to a leader. Throws with the
   * relevant logs when a step fails.
   */
  public async start(options: { etcdMembersDown?: readonly string[] } = {}): Promise<{ leaderMs: number }> {
    const up = [...this.members.keys()].filter((name) => !(options.etcdMembersDown ?? []).includes(name));
    for (const name of up) {
      this.startEtcd(name);
    }
    if (!(await waitFor(() => this.etcdHealthy(up), 60_000, 500))) {
      throw new Error(`etcd did not become healthy within 60 s\n${up.map((n) => `--- ${n}\n${this.logTail(`${n}-etcd`, 15)}`).join('\n')}`);
    }
    for (const node of this.db) {
      const ready = await this.waitEtcdReady(node.name);
      if (ready.status !== 0) {
        throw new Error(`${node.name}: Patroni's ExecStartPre (the etcd wait) failed: ${ready.output}`);
      }
    }
    // Before Patroni runs (the validator also checks that its ports are free and that every etcd host answers).
    await this.validateConfigs();
    const patroniStartedAt = Date.now();
    for (const node of this.db) {
      this.startPatroni(node.name);
    }
    await this.startHaproxy();
    sh('ip', ['-n', this.witness.namespace, 'addr', 'add', `${this.plan.apiEndpoint.address}/24`, 'dev', 'eth0']);
    if (!(await waitFor(async () => (await this.leader()) !== undefined, 180_000, 250))) {
      throw new Error(`no Patroni leader within 180 s\n${this.db.map((n) => `--- ${n.name} patroni\n${this.logTail(`${n.name}-patroni`)}`).join('\n')}`);
    }
    const leaderMs = Date.now() - patroniStartedAt;
    if (!(await waitFor(async () => (await this.clientSql(this.dsn, 'create table if not exists probe (id bigint primary key, at timestamptz default now())', 7_000)).status === 0, 120_000, 1_000))) {
      throw new Error(`no write through the writer endpoint within 120 s\n${this.db.map((n) => `--- ${n.name} patroni\n${this.logTail(`${n.name}-patroni`)}`).join('\n')}\n--- haproxy\n${this.logTail('haproxy', 15)}`);
    }
    await this.waitHealthy(120_000);
    return { leaderMs };
  }

  /** `patroni --validate-config` of each datastore node (through the rendered start script), into {@link validation}. */
  public async validateConfigs(): Promise<void> {
    for (const node of this.db) {
      this.validation[node.name] = await this.exec(node.host, 'runuser',
        ['-u', 'postgres', '--', PYTHON, join(POSTGRES_ASSET_DIR, PostgresAsset.PATRONI_ETCD_V3), 'patroni', '--validate-config', node.configPath], { env: this.postgresEnvironment() });
    }
  }

  // --- HAProxy as systemd runs it ----------------------------------------------------------------------------------

  /** HAProxy on the witness host: the master (`$MAINPID`) and its workers, one process group. */
  private haproxy?: LabProcess;

  /** The lab's paths of what the writer endpoint's drop-in and the adapted haproxy.cfg refer to. */
  public get haproxyPaths() {
    const dir = this.witness.dir;
    return {
      config: join(dir, 'haproxy.cfg'), pid: join(dir, 'haproxy.pid'), adminSocket: join(dir, 'admin.sock'), masterSocket: join(dir, 'master.sock'),
      state: join(dir, 'postgres-writer.state'), downState: join(dir, 'postgres-writer-down.state'),
    };
  }

  /** The rendered haproxy.cfg (writer endpoint included, `global` adapted) and the writer's rendered DOWN state. */
  private writeHaproxyFiles(): void {
    const paths = this.haproxyPaths;
    const rendered = renderHaproxyConfig(this.plan, this.witness.name, alphanumeric(24), renderPostgresWriterHaproxySections(this.plan));
    writeFileSync(paths.config, adaptHaproxyConfig(rendered, { pidFile: paths.pid, caFile: this.caCertificate, adminSocket: paths.adminSocket, writerState: paths.state }));
    writeFileSync(paths.downState, renderWriterDownStateFile(this.plan));
    this.haproxyCheck = run('ip', ['netns', 'exec', this.witness.namespace, 'haproxy', '-c', '-f', paths.config]);
    if (this.haproxyCheck.status !== 0) {
      throw new Error(`haproxy -c: ${this.haproxyCheck.output}`);
    }
  }

  /** A command line of a `haproxy.service` as systemd runs it: its variables, the lab's paths, in the witness's namespace. */
  private async runHaproxyUnitCommand(line: string): Promise<CommandResult> {
    const paths = this.haproxyPaths;
    const command = line.split(HAPROXY_WRITER_STATE_SCRIPT_PATH).join(join(POSTGRES_ASSET_DIR, PostgresAsset.HAPROXY_WRITER_STATE))
      .replace(/\$CONFIG\b/g, paths.config).replace(/\$EXTRAOPTS\b/g, `-S ${paths.masterSocket}`).replace(/\$MAINPID\b/g, String(this.haproxy?.child.pid ?? ''));
    return this.exec(this.witness, 'sh', ['-c', command], {
      env: { PKH_HAPROXY_SOCKET: paths.adminSocket, PKH_WRITER_STATE: paths.state, PKH_WRITER_DOWN_STATE: paths.downState }, timeoutMs: 30_000,
    });
  }

  /** `systemctl start haproxy`: the writer drop-in's ExecStartPre, then Debian's ExecStart; resolves once the admin socket answers. */
  public async startHaproxy(): Promise<void> {
    if (!existsSync(this.haproxyPaths.config)) {
      this.writeHaproxyFiles();
    }
    for (const line of serviceLines(renderHaproxyWriterDropIn(), 'ExecStartPre')) {
      const result = await this.runHaproxyUnitCommand(line);
      if (result.status !== 0) {
        throw new Error(`haproxy ExecStartPre ${line}: ${result.output}`);
      }
    }
    const paths = this.haproxyPaths;
    const args = HAPROXY_EXEC_START.flatMap((arg) => (arg === '$EXTRAOPTS' ? ['-S', paths.masterSocket] : [arg === '$CONFIG' ? paths.config : arg === '$PIDFILE' ? paths.pid : arg]));
    const out = this.logFile('haproxy');
    this.haproxy = this.track(spawn('ip', ['netns', 'exec', this.witness.namespace, ...args], { stdio: ['ignore', out, out], detached: true, env: { PATH: SYSTEM_PATH } }));
    if (!(await waitFor(async () => (await this.haproxyCli('show info')).includes('Pid:'), 10_000, 50))) {
      throw new Error(`haproxy did not start\n${this.logTail('haproxy', 20)}`);
    }
  }

  /**
   * `systemctl stop haproxy` (SIGTERM to the master, which stops its workers), or a crash (SIGKILL to every process
   * of HAProxy); resolves once they are gone.
   */
  public async stopHaproxy(crash = false): Promise<void> {
    const entry = this.haproxy;
    if (!entry || entry.done) {
      return;
    }
    const group = -entry.child.pid!;
    if (crash) {
      process.kill(group, 'SIGKILL');
    } else {
      entry.child.kill('SIGTERM');
    }
    if (!(await settlesWithin(entry.exited, 10_000))) {
      process.kill(group, 'SIGKILL');
      await settlesWithin(entry.exited, 5_000);
    }
    // What systemd's KillMode=mixed ends after the main process: a worker the master left behind.
    await waitFor(() => {
      try {
        process.kill(group, 'SIGKILL');
        return false;
      } catch {
        return true;
      }
    }, 5_000, 50);
  }

  /** `systemctl restart haproxy`, or a crash that systemd restarts (Restart=always, after RestartSec's 100 ms). */
  public async restartHaproxy(crash = false): Promise<void> {
    await this.stopHaproxy(crash);
    if (crash) {
      await sleep(100);
    }
    await this.startHaproxy();
  }

  /** `systemctl reload haproxy`: the writer drop-in's ExecReload commands in order (each must pass, as systemd requires). */
  public async reloadHaproxy(): Promise<void> {
    for (const line of serviceLines(renderHaproxyWriterDropIn(), 'ExecReload')) {
      const result = await this.runHaproxyUnitCommand(line);
      if (result.status !== 0) {
        throw new Error(`haproxy ExecReload ${line}: exit ${result.status}: ${result.output}`);
      }
    }
  }

  /** HAProxy's runtime API on the lab's admin socket: the answer to `command` (empty when nothing answers within `timeoutMs`). */
  public haproxyCli(command: string, timeoutMs = 2_000): Promise<string> {
    return new Promise((resolve) => {
      let answer = '';
      const socket = createConnection(this.haproxyPaths.adminSocket);
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(answer);
      }, timeoutMs);
      socket.on('connect', () => socket.write(`${command}\n`));
      socket.on('data', (chunk) => {
        answer += chunk.toString();
      });
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(answer);
      });
      socket.on('error', () => {
        clearTimeout(timer);
        resolve('');
      });
    });
  }

  /** The writer servers' operational state in the running worker (`show servers state`: 0 DOWN, 2 UP), by name. */
  public async writerServerStates(): Promise<Record<string, number>> {
    const answer = await this.haproxyCli(`show servers state ${POSTGRES_WRITER_BACKEND}`);
    return Object.fromEntries(answer.split('\n').map((line) => line.split(' ')).filter((fields) => fields[1] === POSTGRES_WRITER_BACKEND).map((fields) => [fields[3], Number(fields[5])]));
  }

  /** The sessions the running worker has sent to each writer server since it started (`show stat`'s `stot`), by name. */
  public async writerSessionTotals(): Promise<Record<string, number> | undefined> {
    const lines = (await this.haproxyCli('show stat')).split('\n');
    const header = lines[0]?.replace(/^# /, '').split(',');
    const total = header?.indexOf('stot') ?? -1;
    if (total < 0) {
      return undefined;
    }
    return Object.fromEntries(lines.map((line) => line.split(',')).filter((fields) => fields[0] === POSTGRES_WRITER_BACKEND && this.db.some((n) => n.name === fields[1]))
      .map((fields) => [fields[1], Number(fields[total])]));
  }

  /** Kills every process of the lab, deletes its namespaces and files; safe to call twice. */
  public stop(): void {
    // Patroni first, or it would restart PostgreSQL under the immediate shutdown below.
    for (const node of this.db ?? []) {
      node.process?.child.kill('SIGKILL');
    }
    for (const node of this.db ?? []) {
      if (existsSync(join(node.dataDir, 'postmaster.pid'))) {
        // An immediate shutdown lets the postmaster release its shared memory; SIGKILL would leak it.
        run('runuser', ['-u', 'postgres', '--', join(this.bin, 'pg_ctl'), '-D', node.dataDir, '-m', 'immediate', '-w', '-t', '20', 'stop'], 30_000);
      }
    }
    tearDownLab({ namespaces: this.namespaces, children: this.processes.splice(0).map((p) => p.child), workDir: this.workDir, keepFilesVariable: 'PATRONI_LAB_KEEP_FILES' });
  }
}

/** Where the lab puts what haproxy.cfg refers to. */
export interface LabHaproxyPaths {
  readonly pidFile: string;
  readonly caFile: string;
  readonly adminSocket: string;
  readonly writerState: string;
}

/**
 * The rendered haproxy.cfg with a lab `global` section: no chroot, syslog or user switch (the lab has none of them),
 * a pidfile and the admin socket in the lab; and the datastore CA and the writer's state file at their lab paths.
 * Every other section as rendered.
 */
export function adaptHaproxyConfig(rendered: string, paths: LabHaproxyPaths): string {
  const sections = rendered.split('\n\n');
  const globalIndex = sections.findIndex((s) => s.split('\n').includes('global'));
  for (const expected of [HAPROXY_DATASTORE_CA_PATH, HAPROXY_ADMIN_SOCKET_PATH, HAPROXY_WRITER_STATE_PATH]) {
    if (globalIndex < 0 || !rendered.includes(expected)) {
      throw new Error(`unexpected haproxy.cfg: no global section or no ${expected}`);
    }
  }
  const dropped = /^\s*(log|chroot|user|group)\b/;
  sections[globalIndex] = [...sections[globalIndex].split('\n').filter((line) => !dropped.test(line)), `    pidfile ${paths.pidFile}`].join('\n');
  return sections.join('\n\n').split(HAPROXY_DATASTORE_CA_PATH).join(paths.caFile).split(HAPROXY_ADMIN_SOCKET_PATH).join(paths.adminSocket)
    .split(HAPROXY_WRITER_STATE_PATH).join(paths.writerState);
}

/**
 * The command lines a systemd unit text (a drop-in) gives `key` (`ExecStartPre`, `ExecReload`, ...), in order; an
 * empty assignment resets the list, as in systemd.
 */
export function serviceLines(unit: string, key: string): string[] {
  const lines: string[] = [];
  for (const line of unit.split('\n')) {
    if (line.startsWith(`${key}=`)) {
      const value = line.slice(key.length + 1);
      if (value === '') {
        lines.splice(0);
      } else {
        lines.push(value);
      }
    }
  }
  return lines;
}

// --- measurements ------------------------------------------------------------------------------------------------

/** What the client saw of a fault: failed attempts, and the outage from the first failure to the next acknowledged write. */
export interface WriteOutage {
  readonly acknowledged: number;
  readonly failed: number;
  /** First failed attempt's start → the end of the first acknowledged attempt after it; 0 without failure, undefined without recovery. */
  readonly outageMs?: number;
  /** The longest time between two consecutive acknowledged writes after the fault (catches stalls that did not fail). */
  readonly maxAckGapMs: number;
}

export function writeOutage(records: readonly WriteRecord[], faultAt: number): WriteOutage {
  const after = records.filter((r) => r.end >= faultAt);
  const firstFailed = after.findIndex((r) => !r.ok);
  const recovered = firstFailed < 0 ? undefined : after.slice(firstFailed + 1).find((r) => r.ok);
  const acks = records.filter((r) => r.ok);
  let maxAckGapMs = 0;
  for (let i = 1; i < acks.length; i++) {
    if (acks[i].end >= faultAt) {
      maxAckGapMs = Math.max(maxAckGapMs, acks[i].end - Math.max(acks[i - 1].end, faultAt));
    }
  }
  return {
    acknowledged: acks.length,
    failed: after.filter((r) => !r.ok).length,
    outageMs: firstFailed < 0 ? 0 : recovered ? recovered.end - after[firstFailed].start : undefined,
    maxAckGapMs,
  };
}

/** Milliseconds from `since` until the first round in which `name` answered 200 on `/primary`. */
export function primaryAfterMs(samples: readonly PrimarySample[], name: string, since: number): number | undefined {
  const sample = samples.find((s) => s.at >= since && s.codes[name] === 200);
  return sample ? sample.doneAt - since : undefined;
}

/** Milliseconds from `since` until the first round in which `name` did not answer 200 on `/primary`. */
export function noLongerPrimaryAfterMs(samples: readonly PrimarySample[], name: string, since: number): number | undefined {
  const sample = samples.find((s) => s.at >= since && s.codes[name] !== 200);
  return sample ? sample.doneAt - since : undefined;
}

/** Rounds in which more than one node answered 200 on `/primary`. */
export function doublePrimaries(samples: readonly PrimarySample[]): PrimarySample[] {
  return samples.filter((s) => Object.values(s.codes).filter((code) => code === 200).length > 1);
}

export type PrimaryFault = 'kill-postgres' | 'cut-link' | 'stop-patroni';

/** One fault of the primary, end to end. */
export interface FailoverMeasurement {
  readonly fault: PrimaryFault;
  readonly oldPrimary: string;
  readonly newPrimary: string;
  readonly oldTimeline?: number;
  readonly newTimeline?: number;
  /** Fault → the other node answers 200 on `/primary` (its own Patroni, asked in its namespace). */
  readonly newPrimaryMs?: number;
  readonly writes: WriteOutage;
  /** Whether an acknowledged write landed on the new primary after the fault. */
  readonly resumedOnNewPrimary: boolean;
  /** Acknowledged ids missing on the new primary. */
  readonly lost: readonly number[];
  /** Acknowledged ids missing on the old primary once it rejoined as replica. */
  readonly lostOnRejoined: readonly number[];
  /** Rounds in which both nodes answered 200 on `/primary`. */
  readonly doublePrimaryRounds: number;
  /** Fault → the old primary's Patroni no longer answers 200 on `/primary` (asked in its own namespace). */
  readonly oldDemotedMs?: number;
  /** Healing (link back, Patroni started; for a crash the fault itself) → the old primary is the running sync standby. */
  readonly rejoinMs: number;
}

/**
 * Injects `fault` into the current primary while the writer runs, and measures the failover: the other node's
 * promotion, the client's outage, the acknowledged writes on the new primary; then heals the fault and waits
 * (bounded) for the old primary to come back as the synchronous standby. Leaves a healthy cluster.
 */
export async function primaryFailover(lab: PatroniLab, fault: PrimaryFault): Promise<FailoverMeasurement> {
  const before = await lab.waitHealthy(120_000);
  const old = before.find((m) => m.role === 'leader')!;
  const other = lab.other(old.name);
  const writer = lab.startWriter();
  const watch = lab.watchPrimaries();
  let records: WriteRecord[] = [];
  let samples: PrimarySample[] = [];
  let faultAt = 0;
  let resumedOnNewPrimary = false;
  let stopping: Promise<void> = Promise.resolve();
  try {
    // A baseline of acknowledged writes before the fault.
    await waitFor(() => writer.records().filter((r) => r.ok).length >= 5, 20_000, 200);
    faultAt = Date.now();
    if (fault === 'kill-postgres') {
      lab.killPostgres9(old.name);
    } else if (fault === 'cut-link') {
      lab.cutLink(old.name);
    } else {
      // Awaited later: the stop (PostgreSQL's shutdown) runs while the writer and the watch keep going.
      stopping = lab.stopPatroni(old.name);
    }
    resumedOnNewPrimary = await waitFor(() => writer.records().some((r) => r.ok && r.start >= faultAt && r.server === other.ip), 90_000, 200);
    // A few more writes on the new primary.
    await sleep(2_000);
  } finally {
    samples = await watch.stop();
    records = await writer.stop();
  }
  const healedAt = Date.now();
  if (fault === 'cut-link') {
    lab.restoreLink(old.name);
  } else if (fault === 'stop-patroni') {
    await stopping;
    lab.startPatroni(old.name);
  }
  const acknowledged = records.filter((r) => r.ok).map((r) => r.id);
  const lost = await lab.missingIds(other.name, acknowledged);
  const after = await lab.waitHealthy(180_000);
  const rejoinMs = Date.now() - (fault === 'kill-postgres' ? faultAt : healedAt);
  let lostOnRejoined: number[] = acknowledged;
  // The rejoined standby replays what it received; give it a moment.
  await waitFor(async () => (lostOnRejoined = await lab.missingIds(old.name, acknowledged)).length === 0, 20_000, 500);
  return {
    fault,
    oldPrimary: old.name,
    newPrimary: after.find((m) => m.role === 'leader')!.name,
    oldTimeline: old.timeline,
    newTimeline: after.find((m) => m.role === 'leader')!.timeline,
    newPrimaryMs: primaryAfterMs(samples, other.name, faultAt),
    writes: writeOutage(records, faultAt),
    resumedOnNewPrimary,
    lost,
    lostOnRejoined,
    doublePrimaryRounds: doublePrimaries(samples).length,
    oldDemotedMs: noLongerPrimaryAfterMs(samples, old.name, faultAt),
    rejoinMs,
  };
}

/** A restart of HAProxy: from the stop (or crash) until the new HAProxy has the primary in rotation. */
export interface RestartWindow {
  readonly crash: boolean;
  readonly from: number;
  readonly to: number;
}

/** What reloads and restarts of HAProxy on the VIP holder did to a steady write load (see {@link haproxyChurnUnderLoad}). */
export interface HaproxyChurnMeasurement {
  readonly primary: string;
  /** The replica, listed first in the writer backend (`balance first` would pick it if it were UP). */
  readonly replica: string;
  readonly reloads: number;
  readonly restarts: readonly RestartWindow[];
  readonly records: readonly WriteRecord[];
  /** Writes that reached the replica: PostgreSQL refused them as read-only. */
  readonly toReplica: readonly WriteRecord[];
  /** Connections HAProxy sent to the replica, summed over every worker that ran (`show stat`'s `stot`). */
  readonly replicaSessions: number;
  /** Failed writes that overlap no restart window: failures a reload, or a started HAProxy, caused. */
  readonly failedBeyondRestarts: readonly WriteRecord[];
  /** Failed writes that overlap a restart window (HAProxy down, or not yet checked). */
  readonly failedInRestarts: number;
  /** Acknowledged ids missing on the primary afterwards. */
  readonly lost: readonly number[];
  /** The leader after the churn (the primary, unless something failed over). */
  readonly leaderAfter?: string;
}

/**
 * Reloads HAProxy on the VIP holder `reloads` times, then restarts it `restarts` times (every `crashEvery`th one a
 * crash that systemd restarts), `pauseMs` apart, as systemd runs the rendered drop-in, while a writer commits
 * through the writer endpoint. The replica is listed first: the primary is moved to the second-listed node first
 * (the runbook's switchover) when it is not there. Before each reload or restart, and at the end, the running
 * worker's sessions to the replica are added up.
 */
export async function haproxyChurnUnderLoad(lab: PatroniLab, options: { reloads: number; restarts: number; crashEvery: number; pauseMs: number }): Promise<HaproxyChurnMeasurement> {
  const [replica, primary] = lab.db.map((node) => node.name);
  if ((await lab.waitHealthy(120_000)).find((m) => m.role === 'leader')?.name !== primary) {
    await lab.switchover(primary);
  }
  const sessionsToReplica = async () => {
    const totals = await lab.writerSessionTotals();
    if (totals?.[replica] === undefined) {
      throw new Error(`no session counts of ${replica} from HAProxy's runtime API`);
    }
    return totals[replica];
  };
  // The running worker counted sessions before (when the replica was primary): only what comes after counts.
  const before = await sessionsToReplica();
  let replicaSessions = -before;
  const addReplicaSessions = async () => {
    replicaSessions += await sessionsToReplica();
  };
  const restarts: RestartWindow[] = [];
  const writer = lab.startWriter();
  let records: WriteRecord[] = [];
  try {
    await waitFor(() => writer.records().filter((r) => r.ok).length >= 5, 20_000, 200);
    for (let i = 0; i < options.reloads; i++) {
      await addReplicaSessions();
      await lab.reloadHaproxy();
      await sleep(options.pauseMs);
    }
    for (let i = 1; i <= options.restarts; i++) {
      const crash = options.crashEvery > 0 && i % options.crashEvery === 0;
      await addReplicaSessions();
      const from = Date.now();
      await lab.restartHaproxy(crash);
      if (!(await waitFor(async () => (await lab.writerServerStates())[primary] === 2, 10_000, 25))) {
        throw new Error(`HAProxy did not put ${primary} in rotation within 10 s of its restart\n${lab.logTail('haproxy', 20)}`);
      }
      restarts.push({ crash, from, to: Date.now() });
      await sleep(options.pauseMs);
    }
    await addReplicaSessions();
  } finally {
    records = await writer.stop();
  }
  const overlapsRestart = (r: WriteRecord) => restarts.some((w) => r.start <= w.to && r.end >= w.from);
  const failed = records.filter((r) => !r.ok);
  return {
    primary,
    replica,
    reloads: options.reloads,
    restarts,
    records,
    toReplica: failed.filter((r) => /read-only/.test(r.error ?? '')),
    replicaSessions,
    failedBeyondRestarts: failed.filter((r) => !overlapsRestart(r)),
    failedInRestarts: failed.filter(overlapsRestart).length,
    lost: await lab.missingIds(primary, records.filter((r) => r.ok).map((r) => r.id)),
    leaderAfter: (await lab.leader())?.name,
  };
}

/** What a planned switchover did to a steady write load. */
export interface SwitchoverMeasurement {
  readonly from: string;
  readonly to: string;
  readonly writes: WriteOutage;
  /** Writes that reached a replica: PostgreSQL refused them as read-only. */
  readonly toReplica: readonly WriteRecord[];
  readonly lost: readonly number[];
  /** Whether an acknowledged write landed on the new primary. */
  readonly resumedOnNewPrimary: boolean;
}

/** The runbook's planned switchover to the replica while a writer commits through the writer endpoint. */
export async function switchoverUnderLoad(lab: PatroniLab): Promise<SwitchoverMeasurement> {
  const from = (await lab.waitHealthy(120_000)).find((m) => m.role === 'leader')!.name;
  const to = lab.other(from);
  const writer = lab.startWriter();
  let records: WriteRecord[] = [];
  let startedAt = 0;
  let resumedOnNewPrimary = false;
  try {
    await waitFor(() => writer.records().filter((r) => r.ok).length >= 5, 20_000, 200);
    startedAt = Date.now();
    await lab.switchover(to.name);
    resumedOnNewPrimary = await waitFor(() => writer.records().some((r) => r.ok && r.start >= startedAt && r.server === to.ip), 30_000, 200);
    await sleep(2_000);
  } finally {
    records = await writer.stop();
  }
  return {
    from,
    to: to.name,
    writes: writeOutage(records, startedAt),
    toReplica: records.filter((r) => !r.ok && /read-only/.test(r.error ?? '')),
    lost: await lab.missingIds(to.name, records.filter((r) => r.ok).map((r) => r.id)),
    resumedOnNewPrimary,
  };
}

/**
 * The exceptions Patroni's REST API logged while serving a request (each a warning "Exception happened during
 * processing of request from ADDRESS" and a traceback), as "ADDRESS: EXCEPTION", from a datastore node's log.
 */
export function restApiTracebacks(lab: PatroniLab, name: string): string[] {
  return restApiExceptions(lab.logTail(`${name}-patroni`, 1_000_000));
}

/** The exceptions in a Patroni log's text that its REST API logged while serving a request (see {@link restApiTracebacks}). */
export function restApiExceptions(log: string): string[] {
  const lines = log.split('\n');
  return lines.flatMap((line, i) => {
    const from = /Exception happened during processing of request from (\S+)/.exec(line)?.[1];
    if (!from) {
      return [];
    }
    const exception = lines.slice(i + 1, i + 40).find((l) => /^[A-Za-z_.]*(Error|Exception)\b/.test(l.trim()));
    return [`${from}: ${exception?.trim() ?? '(no exception line)'}`];
  });
}
