import { stringify } from 'yaml';
import { SitePlan } from '../../site/plan';
import {
  ETCD_CLIENT_PORT, ETCD_WAIT_READY_PATH, PATRONI_API_PORT, PATRONI_CONFIG_PATH, PATRONI_ETCD_V3_COMMAND, PATRONI_API_USER, PATRONI_ENV_PATH, PATRONI_NAMESPACE, PATRONI_POST_BOOTSTRAP_PATH, PATRONI_SCOPE, POSTGRES_REPLICATION_USER,
  POSTGRES_REWIND_USER, POSTGRES_SUPERUSER, POSTGRES_TLS_CA_PATH, POSTGRES_TLS_CERT_PATH, POSTGRES_TLS_KEY_PATH, PostgresPlan, postgresPaths, renderedHeader, requireDatastoreNode, requirePostgres,
} from './paths';
import { patroniPgbackrestSettings } from './pgbackrest';
import { postgresHbaLines, postgresNodeParameters } from './settings';

/** Passwords Patroni and the post-bootstrap script read from {@link PATRONI_ENV_PATH}, as Terraform references. */
export interface PatroniSecrets {
  /** The PostgreSQL superuser's (Patroni's local connection; a replica setting rotated role passwords on the primary). */
  readonly superuserPassword: string;
  /** The replication role's. */
  readonly replicationPassword: string;
  /** The role pg_rewind connects as to bring an old primary back (Patroni creates it with just the grants it needs). */
  readonly rewindPassword: string;
  /** The REST API user's, for what changes the cluster (switchover, restart, reinit); reading needs none. */
  readonly restApiPassword: string;
  /** The K3s database user's (the post-bootstrap script creates the user with it). */
  readonly k3sPassword: string;
}

/** Whether Patroni runs in synchronous mode: `postgres.synchronousCommit` with a replica to wait for. */
export function patroniSynchronousMode(postgres: PostgresPlan): boolean {
  return postgres.synchronousCommit && postgres.nodes.length > 1;
}

/**
 * The cluster-wide settings Patroni keeps in etcd (`bootstrap.dcs` at the first start; later changes go through
 * `patronictl edit-config`, which the converge step runs). Failure detection follows `postgres.failover`;
 * `primary_start_timeout: 0` fails over at once when the primary's PostgreSQL crashes instead of restarting it in
 * place for up to 5 minutes, which is safe here because synchronous mode only ever promotes a replica that has every
 * acknowledged commit.
 */
export function patroniDynamicSettings(postgres: PostgresPlan): Record<string, string | number | boolean> {
  const synchronous = patroniSynchronousMode(postgres);
  return {
    ttl: postgres.failover.ttlSeconds,
    loop_wait: postgres.failover.loopWaitSeconds,
    retry_timeout: postgres.failover.retryTimeoutSeconds,
    maximum_lag_on_failover: 1048576,
    primary_start_timeout: synchronous ? 0 : 300,
    synchronous_mode: synchronous,
    synchronous_mode_strict: synchronous && postgres.synchronousModeStrict,
  };
}

/** etcd client endpoints for a datastore node: its own member first (see {@link renderPatroniConfig}). */
function etcdHosts(postgres: PostgresPlan, hostName: string): string[] {
  const own = postgres.etcdMembers.filter((m) => m.name === hostName);
  const others = postgres.etcdMembers.filter((m) => m.name !== hostName);
  return [...own, ...others].map((m) => `${m.ip}:${ETCD_CLIENT_PORT}`);
}

/**
 * Patroni's configuration of one datastore node (`/etc/patroni/config.yml`). No secret is in it: passwords come
 * from the environment file (`PATRONI_SUPERUSER_PASSWORD` …), which Patroni lets override the file.
 *
 * - etcd: the node's own member first and `use_proxies` (no topology discovery), so a replica keeps talking to
 *   its local member when the primary's host drops off the network, instead of hanging on a connection to the
 *   unreachable member for the kernel's TCP timeout (measured: ~30 s before failover instead of ~11 s).
 * - With `postgres.tls`: the REST API serves TLS with the node's certificate, etcd is reached with it as client
 *   certificate, and replication connects with `sslmode=verify-full`.
 */
export function renderPatroniConfig(plan: SitePlan, hostName: string): string {
  const { postgres, host } = requireDatastoreNode(plan, hostName);
  const paths = postgresPaths(plan);
  const tls = postgres.tls;
  // WAL archiving and replicas from the repository when the site backs the datastore up (renderers/postgres/pgbackrest.ts).
  const pgbackrest = patroniPgbackrestSettings(plan);
  const config = {
    scope: PATRONI_SCOPE,
    namespace: PATRONI_NAMESPACE,
    name: hostName,
    restapi: {
      listen: `${host.ip}:${PATRONI_API_PORT}`,
      connect_address: `${host.ip}:${PATRONI_API_PORT}`,
      ...(tls ? { certfile: POSTGRES_TLS_CERT_PATH, keyfile: POSTGRES_TLS_KEY_PATH, cafile: POSTGRES_TLS_CA_PATH } : {}),
    },
    ...(tls ? { ctl: { cacert: POSTGRES_TLS_CA_PATH, certfile: POSTGRES_TLS_CERT_PATH, keyfile: POSTGRES_TLS_KEY_PATH } } : {}),
    etcd3: {
      hosts: etcdHosts(postgres, hostName),
      use_proxies: true,
      protocol: tls ? 'https' : 'http',
      ...(tls ? { cacert: POSTGRES_TLS_CA_PATH, cert: POSTGRES_TLS_CERT_PATH, key: POSTGRES_TLS_KEY_PATH } : {}),
    },
    bootstrap: {
      dcs: {
        ...patroniDynamicSettings(postgres),
        postgresql: { use_pg_rewind: true, use_slots: true },
      },
      initdb: [{ encoding: 'UTF8' }, 'data-checksums'],
      // Patroni 3.0's validator still asks for it here; postgresql.pg_hba below is what Patroni writes.
      pg_hba: postgresHbaLines(plan, hostName),
      // Patroni appends the connection string: the script gets DATABASE USER CONNSTRING.
      post_bootstrap: `${PATRONI_POST_BOOTSTRAP_PATH} ${postgres.database} ${postgres.user}`,
    },
    postgresql: {
      listen: `${host.ip},127.0.0.1:${postgres.port}`,
      connect_address: `${host.ip}:${postgres.port}`,
      data_dir: paths.dataDir,
      bin_dir: paths.binDir,
      pgpass: '/var/lib/postgresql/.pgpass.patroni',
      use_unix_socket: true,
      use_unix_socket_repl: true,
      // A replica's clone (first boot, reinit) starts at once instead of waiting for a spread checkpoint (minutes).
      basebackup: [{ checkpoint: 'fast' }],
      authentication: {
        superuser: { username: POSTGRES_SUPERUSER, ...(tls ? { sslmode: 'verify-full', sslrootcert: POSTGRES_TLS_CA_PATH } : {}) },
        replication: { username: POSTGRES_REPLICATION_USER, ...(tls ? { sslmode: 'verify-full', sslrootcert: POSTGRES_TLS_CA_PATH } : {}) },
        rewind: { username: POSTGRES_REWIND_USER, ...(tls ? { sslmode: 'verify-full', sslrootcert: POSTGRES_TLS_CA_PATH } : {}) },
      },
      parameters: { ...postgresNodeParameters(plan, hostName), ...pgbackrest?.parameters },
      pg_hba: postgresHbaLines(plan, hostName),
      ...pgbackrest?.postgresql,
    },
    // Used when the VM has a watchdog device Patroni may open; without one Patroni runs on without it.
    watchdog: { mode: 'automatic' },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
  };
  return `${renderedHeader(plan, hostName)}\n# Passwords come from ${PATRONI_ENV_PATH} (PATRONI_*_PASSWORD), never from this file.\n${stringify(config, { lineWidth: 0, version: '1.1' })}`;
}

/** One of Patroni's own passwords: the secret it holds and the PostgreSQL role that has it (none: the REST API's). */
export interface PatroniOwnPassword {
  readonly secret: keyof PatroniSecrets;
  readonly role?: string;
}

/**
 * Patroni's own passwords by their variable in {@link PATRONI_ENV_PATH}, the superuser's first. Patroni reads them only
 * when it starts, so a converge that changes one sets the roles' passwords on the primary and restarts Patroni paused
 * (`patroni-rotate-passwords.sh`); the K3s user's (`PKH_K3S_PASSWORD`) is set on the primary alone.
 */
export const PATRONI_OWN_PASSWORDS: Readonly<Record<string, PatroniOwnPassword>> = {
  PATRONI_SUPERUSER_PASSWORD: { secret: 'superuserPassword', role: POSTGRES_SUPERUSER },
  PATRONI_REPLICATION_PASSWORD: { secret: 'replicationPassword', role: POSTGRES_REPLICATION_USER },
  PATRONI_REWIND_PASSWORD: { secret: 'rewindPassword', role: POSTGRES_REWIND_USER },
  PATRONI_RESTAPI_PASSWORD: { secret: 'restApiPassword' },
};

/**
 * Patroni's environment file (0600, root: systemd reads it). Pass Terraform references of letters-and-digits
 * passwords, never literal values.
 */
export function renderPatroniEnvironmentFile(secrets: PatroniSecrets): string {
  return [
    '# Rendered by proxmox-k3s-ha: the datastore passwords, read by Patroni and its post-bootstrap script. Root only.',
    ...Object.entries(PATRONI_OWN_PASSWORDS).flatMap(([name, { secret }]) => [
      // The REST API's user stands before its password, as in every file rendered so far.
      ...(secret === 'restApiPassword' ? [`PATRONI_RESTAPI_USERNAME=${PATRONI_API_USER}`] : []),
      `${name}=${secrets[secret]}`,
    ]),
    `PKH_K3S_PASSWORD=${secrets.k3sPassword}`,
    '',
  ].join('\n');
}

/**
 * A drop-in for Debian's `patroni.service`: the environment file; a start after the network and the local etcd
 * member, once that member is healthy (it has a leader and a quorum answers, whichever member is missing); Patroni
 * run through `patroni-etcd-v3.py`, which keeps it on etcd's v3 API while a member that never answered keeps the
 * cluster version at 3.0; and restarts without a limit when the wait gives up or Patroni exits, so a datastore node
 * whose etcd peers come later starts Patroni by itself once they are there.
 */
export function renderPatroniServiceDropIn(plan: SitePlan, hostName: string): string {
  const { postgres, host } = requireDatastoreNode(plan, hostName);
  const tls = postgres.tls ? ` --cacert ${POSTGRES_TLS_CA_PATH} --cert ${POSTGRES_TLS_CERT_PATH} --key ${POSTGRES_TLS_KEY_PATH}` : '';
  return [
    renderedHeader(plan, hostName),
    '[Unit]',
    'Wants=network-online.target',
    'After=network-online.target etcd.service',
    'StartLimitIntervalSec=0',
    '',
    '[Service]',
    `EnvironmentFile=${PATRONI_ENV_PATH}`,
    `ExecStartPre=${ETCD_WAIT_READY_PATH} ${postgres.tls ? 'https' : 'http'}://${host.ip}:${ETCD_CLIENT_PORT}${tls}`,
    'ExecStart=',
    `ExecStart=${PATRONI_ETCD_V3_COMMAND} patroni ${PATRONI_CONFIG_PATH}`,
    'Restart=on-failure',
    'RestartSec=5s',
    '',
  ].join('\n');
}

/**
 * `patronictl edit-config` arguments that set the cluster-wide settings to what the site says (idempotent: an
 * unchanged setting prints "Not changed"). The converge step runs it after Patroni reloaded.
 */
export function patroniEditConfigArguments(plan: SitePlan): string[] {
  const settings = patroniDynamicSettings(requirePostgres(plan));
  return ['edit-config', '--force', '--quiet', ...Object.entries(settings).flatMap(([key, value]) => ['--set', `${key}=${String(value)}`])];
}
