import { spawn } from 'child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import {
  PATRONI_NAMESPACE, PGBACKREST_BIN, PGBACKREST_STANZA, PostgresAsset, POSTGRES_ASSET_DIR, PgbackrestSections, pgbackrestSections, postgresBackupScriptSettings, renderPgbackrestConfig,
  renderPostgresBackupEnv,
} from '../../../constructs/renderers';
import { POSTGRES_BACKUP_SCRIPT, RESTORE_POSTGRES_SCRIPT } from '../../../constructs/roles/postgres-backup';
import type { PostgresBackupSpec } from '../../../constructs/site/backup';
import { sh } from '../../support/netns';
import { LAB_TOOLS, PatroniLab, sleep, waitFor } from './patroni-lab';

/**
 * The Patroni lab with pgBackRest as the site renders it: Patroni's archive_command, create_replica_methods and
 * restore_command, each node's pgbackrest.conf, the backup job and the restore command, run in the nodes'
 * namespaces. Adapted for the lab:
 * - the repository is a posix one in the lab's folder (`repo1-type=posix`, `repo1-path`) instead of the S3 target:
 *   the namespaces share this machine's file system, and pgBackRest's S3 driver needs HTTPS reachable from inside
 *   every namespace (the rendered S3 options are checked by pgBackRest against the S3 stand-in in
 *   test/backup/pgbackrest-s3.test.ts);
 * - paths: `--config=<node's file>` in the three Patroni commands, pg1-path and pg1-socket-path, and pgBackRest's
 *   log, lock and spool folders per node (the nodes share /tmp, where pgBackRest keeps its locks by default);
 * - the scripts' settings: the lab's CA, data directory, Patroni configuration and textfile folder, plus
 *   PGBACKREST_CONFIG; the restore's service commands: Patroni is the lab's process, stopped by the test before the
 *   restore (as the operator stops it) and started by the test when the restore asks for it.
 */
export const PGBACKREST_LAB_TOOLS = [...LAB_TOOLS, 'pgbackrest', 'runuser'];
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** The lab's target: never contacted (the repository is posix), present because the section needs one. */
const LAB_TARGET = { endpoint: 'https://s3.lab.test', bucket: 'lab-backups' };

export interface ScriptRun {
  readonly status: number | null;
  readonly output: string;
  readonly ms: number;
}

/** The rendered pgbackrest.conf sections with the lab's posix repository and per-node folders. */
export function labPgbackrestSections(rendered: PgbackrestSections, repoDir: string, nodeDir: string, dataDir: string, socketDir: string): PgbackrestSections {
  const global = Object.fromEntries(Object.entries(rendered.global).filter(([key]) => !key.startsWith('repo1-s3-') && !key.startsWith('repo1-storage-')));
  return {
    global: {
      ...global, 'repo1-type': 'posix', 'repo1-path': repoDir,
      'log-path': join(nodeDir, 'pgbackrest-log'), 'lock-path': join(nodeDir, 'pgbackrest-lock'), 'spool-path': join(nodeDir, 'pgbackrest-spool'),
    },
    [PGBACKREST_STANZA]: { ...rendered[PGBACKREST_STANZA], 'pg1-path': dataDir, 'pg1-socket-path': socketDir },
  };
}

export class PgbackrestLab {
  public readonly lab: PatroniLab;
  public readonly repoDir: string;
  public readonly textfileDir: string;
  private readonly configs = new Map<string, string>();
  private readonly envFiles = new Map<string, string>();
  private readonly postgresUid = Number(sh('id', ['-u', 'postgres']).trim());
  private readonly postgresGid = Number(sh('id', ['-g', 'postgres']).trim());

  constructor(version: number, backup: PostgresBackupSpec = {}) {
    let repoDir = '';
    this.lab = new PatroniLab(version, {
      backup: { target: LAB_TARGET, postgres: backup },
      adaptPatroniConfig: (node, config) => {
        repoDir = join(dirname(node.dir), 'pgbackrest-repo');
        this.ownedDir(repoDir, 0o750);
        for (const folder of ['pgbackrest-log', 'pgbackrest-lock', 'pgbackrest-spool']) {
          this.ownedDir(join(node.dir, folder), 0o750);
        }
        const configPath = join(node.dir, 'pgbackrest.conf');
        this.configs.set(node.name, configPath);
        // Every pgBackRest command Patroni runs gets the node's file.
        const withConfig = (command: unknown, where: string): string => {
          if (typeof command !== 'string' || !command.startsWith(`${PGBACKREST_BIN} `)) {
            throw new Error(`${node.name}: ${where}: expected a ${PGBACKREST_BIN} command, rendered ${JSON.stringify(command)}`);
          }
          return command.replace(`${PGBACKREST_BIN} `, `${PGBACKREST_BIN} --config=${configPath} `);
        };
        config.postgresql.parameters.archive_command = withConfig(config.postgresql.parameters.archive_command, 'postgresql.parameters.archive_command');
        config.postgresql.pgbackrest.command = withConfig(config.postgresql.pgbackrest?.command, 'postgresql.pgbackrest.command');
        config.postgresql.recovery_conf.restore_command = withConfig(config.postgresql.recovery_conf?.restore_command, 'postgresql.recovery_conf.restore_command');
      },
    });
    this.repoDir = repoDir;
    this.textfileDir = join(this.lab.workDir, 'textfile');
    mkdirSync(this.textfileDir, { recursive: true });
    try {
      for (const node of this.lab.db) {
        const sections = labPgbackrestSections(pgbackrestSections(this.lab.plan, { accessKey: 'unused-in-the-lab', secretKey: 'unused-in-the-lab' }), repoDir, node.host.dir, node.dataDir, node.socketDir);
        const configPath = this.configs.get(node.name)!;
        writeFileSync(configPath, renderPgbackrestConfig(sections), { mode: 0o640 });
        chownSync(configPath, 0, this.postgresGid);
        const settings = postgresBackupScriptSettings(this.lab.plan, node.name, this.textfileDir);
        const env = renderPostgresBackupEnv({
          ...settings, caFile: this.lab.caCertificate, dataDir: node.dataDir, binDir: this.lab.bin, patroniConfig: node.configPath,
        }, node.name) + `PGBACKREST_CONFIG='${configPath}'\n`;
        const envPath = join(node.host.dir, 'postgres-backup.env');
        writeFileSync(envPath, env, { mode: 0o644 });
        this.envFiles.set(node.name, envPath);
      }
      writeFileSync(join(this.lab.workDir, 'backup-postgres'), POSTGRES_BACKUP_SCRIPT, { mode: 0o755 });
      writeFileSync(join(this.lab.workDir, 'restore-postgres'), RESTORE_POSTGRES_SCRIPT, { mode: 0o755 });
    } catch (error) {
      this.lab.stop();
      throw error;
    }
  }

  private ownedDir(path: string, mode: number): void {
    mkdirSync(path, { recursive: true, mode });
    chownSync(path, this.postgresUid, this.postgresGid);
  }

  /** The node's pgbackrest.conf (lab copy). */
  public configPath(name: string): string {
    return this.configs.get(name)!;
  }

  /** Runs a generated script as root in the node's namespace, without blocking the event loop; bounded by `timeoutMs`. */
  public runScript(name: string, script: 'backup-postgres' | 'restore-postgres', args: readonly string[], options: { env?: Record<string, string>; timeoutMs?: number; onOutput?: (text: string) => void } = {}): Promise<ScriptRun> {
    const node = this.lab.node(name);
    const started = Date.now();
    return new Promise((resolve) => {
      const child = spawn('ip', ['netns', 'exec', node.host.namespace, join(this.lab.workDir, script), ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: SYSTEM_PATH, PKH_POSTGRES_BACKUP_ENV: this.envFiles.get(name)!, ...options.env },
      });
      let output = '';
      const collect = (chunk: Buffer) => {
        output += chunk.toString();
        options.onOutput?.(output);
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, output: output.trim(), ms: Date.now() - started });
      });
    });
  }

  /** The backup job on a node (`full` or `diff`), as its timer runs it. */
  public backup(name: string, type: 'full' | 'diff', env: Record<string, string> = {}): Promise<ScriptRun> {
    return this.runScript(name, 'backup-postgres', [type], { env, timeoutMs: 1_800_000 });
  }

  /**
   * `restore-postgres [--time=…]` on a node, Patroni stopped on every node before (by the caller). The script's
   * "start Patroni" touches a flag file; the lab then starts the node's Patroni, which the script waits for.
   */
  public async restore(name: string, time?: string): Promise<ScriptRun> {
    const flag = join(this.lab.workDir, `start-patroni-${name}-${Date.now()}`);
    const patronictl = `/usr/bin/python3 ${join(POSTGRES_ASSET_DIR, PostgresAsset.PATRONI_ETCD_V3)} patronictl`;
    let started = false;
    let finished = false;
    const run = this.runScript(name, 'restore-postgres', time ? [`--time=${time}`] : [], {
      env: { PKH_PATRONI_STOP: 'true', PKH_PATRONI_START: `touch ${flag}`, PKH_PATRONICTL: patronictl, PKH_RESTORE_WAIT_SECONDS: '600' },
      timeoutMs: 1_800_000,
    }).then((result) => {
      finished = true;
      return result;
    });
    // Bounded by the script's own timeout above.
    while (!finished) {
      if (!started && existsSync(flag)) {
        started = true;
        this.lab.startPatroni(name);
      }
      await sleep(100);
    }
    return run;
  }

  /** `pgbackrest info --output=json` of the stanza, from a node. */
  public async info(name: string): Promise<{ backup: { type: string; label: string; timestamp: { start: number; stop: number } }[]; archive: { max?: string }[] }> {
    const node = this.lab.node(name);
    const result = await this.lab.exec(node.host, 'runuser', ['-u', 'postgres', '--', 'pgbackrest', `--config=${this.configPath(name)}`, `--stanza=${PGBACKREST_STANZA}`, '--output=json', 'info'], { timeoutMs: 60_000 });
    if (result.status !== 0) {
      throw new Error(`pgbackrest info on ${name}: ${result.output}`);
    }
    return (JSON.parse(result.output) as { backup: never[]; archive: never[] }[])[0];
  }

  /**
   * The whole datastore destroyed: Patroni and PostgreSQL killed on both nodes (SIGKILL, then an immediate
   * shutdown so the postmaster frees its shared memory), both data directories emptied, Patroni's keys deleted
   * from etcd.
   */
  public async destroy(): Promise<void> {
    for (const node of this.lab.db) {
      node.process?.child.kill('SIGKILL');
    }
    await Promise.all(this.lab.db.map((node) => node.process?.exited));
    for (const node of this.lab.db) {
      if (existsSync(join(node.dataDir, 'postmaster.pid'))) {
        await this.lab.exec(node.host, 'runuser', ['-u', 'postgres', '--', join(this.lab.bin, 'pg_ctl'), '-D', node.dataDir, '-m', 'immediate', '-w', '-t', '20', 'stop'], { timeoutMs: 30_000 });
      }
      this.emptyDataDir(node.name);
    }
    const deleted = await this.lab.etcdctl(this.lab.witness.name, ['del', '--prefix', PATRONI_NAMESPACE]);
    if (deleted.status !== 0) {
      throw new Error(`deleting Patroni's keys from etcd: ${deleted.output}`);
    }
  }

  /** Removes everything in a node's data directory (the directory stays, 0700, owner postgres). */
  public emptyDataDir(name: string): void {
    const { dataDir } = this.lab.node(name);
    for (const entry of readdirSync(dataDir)) {
      rmSync(join(dataDir, entry), { recursive: true, force: true });
    }
  }

  /** Waits (bounded) until Patroni on `name` answers 200 on /primary. */
  public async waitPrimary(name: string, timeoutMs: number): Promise<boolean> {
    return waitFor(async () => (await this.lab.primaryStatus(name)) === 200, timeoutMs, 500);
  }

  public stop(): void {
    this.lab.stop();
  }
}
