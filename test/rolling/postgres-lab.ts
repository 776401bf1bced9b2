import { PATRONI_CONFIG_PATH } from '../../constructs/renderers';
import { installedPostgresVersion } from '../datastore/harness';
import { LabHost } from './lab';
import { startProbeLoop } from './probe-loop';
import { PG_VIP, POSTGRES_K3S_PASSWORD, RollingRun } from './rolling-site';

/** The datastore labs' helpers: a writer client through the VIP's writer endpoint, and Patroni/PostgreSQL on a host. */

export const POSTGRES_VERSION = installedPostgresVersion() ?? 15;
/** The data directory Patroni manages on a datastore node of the lab. */
export const POSTGRES_DATA_DIR = `/var/lib/postgresql/${POSTGRES_VERSION}/main`;
const PSQL = `/usr/lib/postgresql/${POSTGRES_VERSION}/bin/psql`;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs psql as the K3s user through the writer endpoint (`writerPort`, from the site plan) from the client namespace; its output, or undefined on failure. */
export async function writerSql(run: RollingRun, writerPort: number, sql: string): Promise<string | undefined> {
  const { status, stdout } = await run.lab.runInClient([PSQL, '-XAtq', '-v', 'ON_ERROR_STOP=1',
    '-h', PG_VIP, '-p', String(writerPort), '-U', 'k3s', '-d', 'k3s', '-c', sql], { PGPASSWORD: POSTGRES_K3S_PASSWORD, PGCONNECT_TIMEOUT: '2' });
  return status === 0 ? stdout.trim() : undefined;
}

/**
 * Writes a row into `rolling_probe` through the writer endpoint every `everyMs` until stopped; records every
 * acknowledged id and when each failed write was sent. Ids start after `firstId`, so several writers of one run never collide.
 */
export function startWriter(run: RollingRun, writerPort: number, options: { everyMs?: number; maxWrites?: number; firstId?: number } = {}) {
  const { everyMs = 100, maxWrites = 3000, firstId = 0 } = options;
  const acknowledged: number[] = [];
  /** When each failed write was sent (epoch ms). */
  const failedAt: number[] = [];
  const loop = startProbeLoop(async (round) => {
    const id = firstId + round;
    const sent = Date.now();
    if ((await writerSql(run, writerPort, `INSERT INTO rolling_probe (id) VALUES (${id})`)) !== undefined) {
      acknowledged.push(id);
    } else {
      failedAt.push(sent);
    }
  }, everyMs, maxWrites);
  return {
    stop: async () => {
      await loop.stop();
      return { acknowledged, failed: failedAt.length, failedAt };
    },
  };
}

/** The postmaster's PID on a host (the first line of postmaster.pid in the data directory Patroni manages). */
export const postmasterPid = (run: RollingRun, host: LabHost) => run.lab.readHostFile(host, `${POSTGRES_DATA_DIR}/postmaster.pid`)?.split('\n')[0];

export const patronictl = (run: RollingRun, host: LabHost, args: string) => run.lab.exec(host, `patronictl -c ${PATRONI_CONFIG_PATH} ${args}`);

/** One member as `patronictl list --format json` reports it. */
export interface PatroniMember { readonly Member: string; readonly Role: string; readonly State: string; readonly TL?: number; readonly 'Lag in MB'?: number | string }

/** The members as `patronictl list` reports them, or an empty list when it fails. */
export function patroniMembers(run: RollingRun, host: LabHost): PatroniMember[] {
  const result = patronictl(run, host, 'list --format json');
  if (result.status !== 0) {
    return [];
  }
  try {
    return JSON.parse(result.stdout) as PatroniMember[];
  } catch {
    return [];
  }
}

/** The members' roles as `patronictl list` reports them (name → role), or an empty map when it fails. */
export function roles(run: RollingRun, host: LabHost): Map<string, string> {
  return new Map(patroniMembers(run, host).map((m) => [m.Member, m.Role]));
}

/** Runs SQL on a datastore node itself, as the PostgreSQL superuser over the local socket (peer); its output, or undefined on failure. */
export function localSql(run: RollingRun, host: LabHost, sql: string): string | undefined {
  const result = run.lab.exec(host, `runuser -u postgres -- ${PSQL} -XAtq -v ON_ERROR_STOP=1 -d k3s -c "${sql}"`);
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** Polls `check` every 500 ms until it is true or `timeoutMs` passed; whether it became true. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) {
      return true;
    }
    if (Date.now() > deadline) {
      return false;
    }
    await sleep(500);
  }
}
