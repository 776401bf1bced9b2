import { spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { PG_BIN_ROOT, installedPostgresVersion } from '../datastore/harness';
import { freePort } from '../support/free-port';

/**
 * A throwaway PostgreSQL server for the state tests: its own cluster in a temporary directory, run as the
 * `postgres` OS user, listening on 127.0.0.1 at a free port (password login, scram-sha-256) and on a socket
 * directory (trust, for the test's own queries). `stop()` shuts it down and removes the directory.
 */
export class PostgresServer {
  /** The database the states go to (the pg backend needs it to exist). */
  public static readonly DATABASE = 'terraform_state';

  private constructor(
    private readonly bin: string,
    private readonly baseDir: string,
    /** The TCP port on 127.0.0.1. */
    public readonly port: number,
    /** The superuser's password (never written into a stack). */
    public readonly password: string,
  ) {}

  private get dataDir(): string {
    return join(this.baseDir, 'data');
  }

  private get socketDir(): string {
    return join(this.baseDir, 'sock');
  }

  /** What `PG_CONN_STR` holds: a `postgres://` URL with the password, over TCP to 127.0.0.1. */
  public get connectionString(): string {
    return `postgres://postgres:${this.password}@127.0.0.1:${this.port}/${PostgresServer.DATABASE}?sslmode=disable`;
  }

  /** The newest installed PostgreSQL's bin directory, if any. */
  public static binDir(): string | undefined {
    const version = installedPostgresVersion();
    return version === undefined ? undefined : join(PG_BIN_ROOT, String(version), 'bin');
  }

  /** Initializes and starts a cluster (bounded: initdb 60 s, start 30 s) with the database {@link DATABASE}. */
  public static async start(): Promise<PostgresServer> {
    const bin = PostgresServer.binDir();
    if (!bin) {
      throw new Error(`no PostgreSQL under ${PG_BIN_ROOT}`);
    }
    const baseDir = mkdtempSync(join(tmpdir(), 'state-pg-'));
    const server = new PostgresServer(bin, baseDir, await freePort(), randomBytes(18).toString('hex'));
    try {
      server.initialize();
      return server;
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  private initialize(): void {
    const uid = Number(capture('id', ['-u', 'postgres']));
    const gid = Number(capture('id', ['-g', 'postgres']));
    chmodSync(this.baseDir, 0o755);
    for (const dir of [this.dataDir, this.socketDir]) {
      mkdirSync(dir, { mode: 0o700 });
      chownSync(dir, uid, gid);
    }
    const passwordFile = join(this.baseDir, 'pwfile');
    writeFileSync(passwordFile, `${this.password}\n`, { mode: 0o600 });
    chownSync(passwordFile, uid, gid);
    this.asPostgres(['initdb', '-D', this.dataDir, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${passwordFile}`,
      '--locale=C.UTF-8', '--encoding=UTF8', '--no-sync'], 60_000);
    rmSync(passwordFile);
    // fsync off: a throwaway cluster; the test is about Terraform's locking, not durability.
    this.asPostgres(['pg_ctl', '-D', this.dataDir, '-l', join(this.dataDir, 'server.log'), '-w', '-t', '30',
      '-o', `-k ${this.socketDir} -p ${this.port} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start'], 45_000);
    this.sql(`CREATE DATABASE ${PostgresServer.DATABASE}`, 'postgres');
  }

  /** Runs a command of the PostgreSQL bin directory as the postgres OS user; throws with its output (and the server log) on failure. */
  private asPostgres(args: readonly string[], timeoutMs: number): string {
    const result = spawnSync('runuser', ['-u', 'postgres', '--', join(this.bin, args[0]), ...args.slice(1)], { encoding: 'utf8', timeout: timeoutMs });
    if (result.status !== 0) {
      const log = join(this.dataDir, 'server.log');
      throw new Error(`${args[0]} failed (${result.status ?? result.signal}): ${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`
        + `${existsSync(log) ? `\nserver log:\n${readFileSync(log, 'utf8')}` : ''}`);
    }
    return result.stdout;
  }

  /** Runs `query` with psql over the socket directory (trust) and returns its unaligned, tuples-only output. */
  public sql(query: string, database: string = PostgresServer.DATABASE): string {
    return this.asPostgres(['psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-h', this.socketDir, '-p', String(this.port), '-d', database, '-c', query], 30_000).trim();
  }

  /** Stops the server (fast shutdown, bounded) and removes its directory. */
  public async stop(): Promise<void> {
    const pidFile = join(this.dataDir, 'postmaster.pid');
    try {
      if (existsSync(pidFile)) {
        this.asPostgres(['pg_ctl', '-D', this.dataDir, '-m', 'fast', '-w', '-t', '30', 'stop'], 45_000);
      }
    } catch (error) {
      // The server did not stop in time: end it, so no postgres process outlives the test.
      if (existsSync(pidFile)) {
        killQuietly(Number(readFileSync(pidFile, 'utf8').split('\n')[0]));
      }
      throw error;
    } finally {
      rmSync(this.baseDir, { recursive: true, force: true });
    }
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function capture(command: string, args: readonly string[]): string {
  const result = spawnSync(command, [...args], { encoding: 'utf8', timeout: 10_000 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
  }
  return result.stdout.trim();
}
