import { HostPlan, SitePlan, hostsWithRole } from '../site/plan';
import { DatastoreKind, HostRole } from '../site/spec';

/**
 * Renderers for the external PostgreSQL datastore (seed 000): one primary and one or more streaming replicas on the
 * hosts with role `datastore`, and a writer endpoint on the load balancers that always reaches the primary.
 *
 * What is automatic and what is not:
 * - the writer endpoint follows whichever node reports itself primary (HAProxy checks every node's role-check
 *   endpoint, `GET /primary`, on port {@link POSTGRES_ROLE_CHECK_PORT});
 * - promotion is NOT automatic: with two nodes there is no quorum and no fencing, so a node cannot tell "the primary
 *   is dead" from "I cannot reach it", and promoting on a guess risks two primaries and lost writes. An operator runs
 *   the promotion script (see {@link renderPostgresRunbook}).
 *
 * The scripts take their paths and service commands from `PGHA_*` environment variables whose defaults are the
 * Debian/Ubuntu production paths, so the test lab can point them at its own clusters without editing them.
 */

/** Port of the per-node HTTP role check HAProxy's writer backend asks (`GET /primary`); Patroni uses the same. */
export const POSTGRES_ROLE_CHECK_PORT = 8008;
/** Name of the writer frontend and backend in `haproxy.cfg`. */
export const POSTGRES_WRITER_BACKEND = 'postgres_writer';
/** The role streaming replication connects as. */
export const POSTGRES_REPLICATION_USER = 'replicator';
/** Where the datastore scripts and the runbook are installed. */
export const POSTGRES_LIB_DIR = '/usr/local/lib/proxmox-k3s-ha';
/** The 0600 root-only environment file holding both passwords (Terraform references at synth). */
export const POSTGRES_ENV_PATH = '/etc/proxmox-k3s-ha/postgres.env';
/** The replication password in libpq passfile format, written by the replica init script (owner postgres, 0600). */
export const POSTGRES_PASSFILE_PATH = '/etc/proxmox-k3s-ha/replication.pgpass';
/** The primary init script ({@link renderPostgresPrimaryInitScript}). */
export const POSTGRES_PRIMARY_INIT_PATH = `${POSTGRES_LIB_DIR}/postgres-primary-init.sh`;
/** The replica init script ({@link renderPostgresReplicaInitScript}); `--force` re-clones a node. */
export const POSTGRES_REPLICA_INIT_PATH = `${POSTGRES_LIB_DIR}/postgres-replica-init.sh`;
/** The promotion script an operator runs on a replica ({@link renderPostgresPromoteScript}). */
export const POSTGRES_PROMOTE_PATH = `${POSTGRES_LIB_DIR}/postgres-promote.sh`;
/** The role check script ({@link renderPostgresRoleCheckScript}) the role-check service runs per connection. */
export const POSTGRES_ROLE_CHECK_PATH = `${POSTGRES_LIB_DIR}/postgres-role-check.sh`;
/** The operator's runbook ({@link renderPostgresRunbook}), installed next to the scripts. */
export const POSTGRES_RUNBOOK_PATH = `${POSTGRES_LIB_DIR}/postgres-RUNBOOK.md`;
/** The role check's systemd units: a listening socket with `Accept=yes` and the per-connection service template. */
export const POSTGRES_ROLE_CHECK_SOCKET_PATH = '/etc/systemd/system/postgres-role-check.socket';
/** The role check's per-connection service template ({@link renderPostgresRoleCheckService}). */
export const POSTGRES_ROLE_CHECK_SERVICE_PATH = '/etc/systemd/system/postgres-role-check@.service';
/** With `postgres.tls`: the directory of the datastore's TLS files on each datastore node. */
export const POSTGRES_TLS_DIR = '/etc/proxmox-k3s-ha/postgres-tls';
/** The datastore CA certificate on each datastore node (replicas verify their primary against it). */
export const POSTGRES_TLS_CA_PATH = `${POSTGRES_TLS_DIR}/ca.crt`;
/** The node's server certificate, PostgreSQL's `ssl_cert_file` (0644, owner postgres). */
export const POSTGRES_TLS_CERT_PATH = `${POSTGRES_TLS_DIR}/server.crt`;
/** The node's server key, PostgreSQL's `ssl_key_file` (0600, owner postgres: PostgreSQL refuses a looser key). */
export const POSTGRES_TLS_KEY_PATH = `${POSTGRES_TLS_DIR}/server.key`;
/** The script that decodes the base64 TLS files cloud-init writes into the PEM files PostgreSQL reads. */
export const POSTGRES_TLS_INSTALL_PATH = `${POSTGRES_LIB_DIR}/postgres-tls-install.sh`;
/** With `postgres.tls`: the datastore CA on every K3s server, K3s's `datastore-cafile`. */
export const K3S_DATASTORE_CA_PATH = '/etc/rancher/k3s/datastore-ca.crt';

/**
 * Where cloud-init writes the base64 of a PEM file (`<path>.b64`). PEM text from a Terraform reference cannot go
 * into the cloud-config YAML as is: interpolated into a block scalar, its second and later lines would lose the
 * indentation. Base64 is one line; a script or command decodes it on the host.
 */
export function postgresTlsBase64Path(path: string): string {
  return `${path}.b64`;
}

/** The resolved `postgres` part of a plan. */
export type PostgresPlan = NonNullable<SitePlan['postgres']>;

/** Where Debian's postgresql-common puts cluster `main` of a major version, and how systemd names it. */
export interface PostgresPaths {
  /** `/usr/lib/postgresql/<v>/bin` */
  readonly binDir: string;
  /** `/etc/postgresql/<v>/main` */
  readonly configDir: string;
  /** The drop-in `conf.d/50-proxmox-k3s-ha.conf` (Debian's postgresql.conf includes conf.d last, so it wins). */
  readonly settingsPath: string;
  /** `/etc/postgresql/<v>/main/pg_hba.conf` */
  readonly hbaPath: string;
  /** `/var/lib/postgresql/<v>/main` */
  readonly dataDir: string;
  /** `/var/run/postgresql`, the directory of the local Unix socket */
  readonly socketDir: string;
  /** `postgresql@<v>-main` */
  readonly service: string;
  /** A drop-in for that service, ordering it after the network is online. */
  readonly serviceDropInPath: string;
}

/** The Debian paths of a site's PostgreSQL version. */
export function postgresPaths(plan: SitePlan): PostgresPaths {
  const { version } = requirePostgres(plan);
  const configDir = `/etc/postgresql/${version}/main`;
  return {
    binDir: `/usr/lib/postgresql/${version}/bin`,
    configDir,
    settingsPath: `${configDir}/conf.d/50-proxmox-k3s-ha.conf`,
    hbaPath: `${configDir}/pg_hba.conf`,
    dataDir: `/var/lib/postgresql/${version}/main`,
    socketDir: '/var/run/postgresql',
    service: `postgresql@${version}-main`,
    serviceDropInPath: `/etc/systemd/system/postgresql@${version}-main.service.d/10-proxmox-k3s-ha.conf`,
  };
}

/** The `postgres` plan of a site, or an error saying the site uses another datastore. */
export function requirePostgres(plan: SitePlan): PostgresPlan {
  if (!plan.postgres) {
    throw new Error(`site ${plan.name}: controlPlane.datastore is ${JSON.stringify(plan.controlPlane.datastore)}, expected "${DatastoreKind.POSTGRES}" for the PostgreSQL datastore`);
  }
  return plan.postgres;
}

function requireDatastoreNode(plan: SitePlan, hostName: string): { postgres: PostgresPlan; host: HostPlan; index: number } {
  const postgres = requirePostgres(plan);
  const index = postgres.nodes.findIndex((n) => n.name === hostName);
  const host = plan.hosts.find((h) => h.name === hostName);
  if (index < 0 || !host) {
    throw new Error(`site ${plan.name}: host ${JSON.stringify(hostName)} is not a datastore node (datastore nodes: ${postgres.nodes.map((n) => n.name).join(', ')})`);
  }
  return { postgres, host, index };
}

/** The physical replication slot a node streams from when it is a replica (node names are RFC 1123 labels). */
export function postgresReplicationSlot(nodeName: string): string {
  return `replica_${nodeName.replace(/-/g, '_')}`;
}

/** Subject alternative names of a datastore node's server certificate. */
export interface PostgresCertificateNames {
  /** The node's FQDN, and the API endpoint's DNS name when the writer endpoint is on the load balancers. */
  readonly dnsNames: readonly string[];
  /** The node's address, and the writer endpoint's address (the VIP) when that is another address. */
  readonly ipAddresses: readonly string[];
}

/**
 * The names a datastore node's server certificate must be valid for. K3s connects to the writer endpoint, and
 * HAProxy passes the TCP stream (TLS included) through to the primary, so with `sslmode=verify-full` the primary's
 * certificate must name the writer endpoint's address; replicas connect to their peer's own address.
 */
export function postgresServerCertificateNames(plan: SitePlan, hostName: string): PostgresCertificateNames {
  const { host } = requireDatastoreNode(plan, hostName);
  const writer = postgresWriterAddress(plan);
  return {
    dnsNames: [...new Set([host.fqdn, ...(plan.loadBalancer ? [plan.apiEndpoint.dnsName] : [])])],
    ipAddresses: [...new Set([host.ip, writer.address])],
  };
}

/** Memory settings derived from a host's memory size, in MiB. */
export interface PostgresMemorySettings {
  /** `shared_buffers`: a quarter of the memory. */
  readonly sharedBuffersMiB: number;
  /** `effective_cache_size`: half of the memory. */
  readonly effectiveCacheSizeMiB: number;
  /** `work_mem`: 1/256 of the memory, 4 to 64 MiB. */
  readonly workMemMiB: number;
  /** `maintenance_work_mem`: 1/16 of the memory, 64 to 1024 MiB. */
  readonly maintenanceWorkMemMiB: number;
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/**
 * PostgreSQL memory settings for a host with `memoryMiB` of RAM, assuming PostgreSQL is its main tenant:
 * `shared_buffers` 25 %, `effective_cache_size` 50 % (HAProxy, Keepalived and the OS share the page cache),
 * `work_mem` 1/256 (4–64 MiB: K3s's kine runs small indexed queries, many connections), `maintenance_work_mem`
 * 1/16 (64–1024 MiB, for vacuum of the churning kine table).
 */
export function postgresMemorySettings(memoryMiB: number): PostgresMemorySettings {
  if (!Number.isInteger(memoryMiB) || memoryMiB < 256) {
    throw new Error(`memoryMiB: ${JSON.stringify(memoryMiB)} — a whole number of MiB, at least 256 for PostgreSQL`);
  }
  return {
    sharedBuffersMiB: Math.floor(memoryMiB / 4),
    effectiveCacheSizeMiB: Math.floor(memoryMiB / 2),
    workMemMiB: clamp(Math.floor(memoryMiB / 256), 4, 64),
    maintenanceWorkMemMiB: clamp(Math.floor(memoryMiB / 16), 64, 1024),
  };
}

/** Whether commits wait for a replica: only when asked for and there is a replica to wait for. */
function waitsForReplica(postgres: PostgresPlan): boolean {
  return postgres.synchronousCommit && postgres.nodes.length > 1;
}

const header = (plan: SitePlan, hostName: string, comment = '#') => `${comment} Rendered by proxmox-k3s-ha for ${hostName} (site ${plan.name}); do not edit by hand.`;

/**
 * The `postgresql.conf` drop-in for one datastore node (`conf.d/50-proxmox-k3s-ha.conf`). Every node gets the same
 * replication settings, since any of them may become the primary; only `listen_addresses` and memory differ.
 */
export function renderPostgresSettings(plan: SitePlan, hostName: string): string {
  const { postgres, host } = requireDatastoreNode(plan, hostName);
  const memory = postgresMemorySettings(host.size.memoryMiB);
  // A replica gone for good must not fill the primary's disk through its slot: past this much WAL the slot is
  // invalidated and the replica has to be re-cloned (the replica init script does that).
  const maxSlotWalKeepMiB = Math.floor((host.size.diskGiB * 1024) / 4);
  const lines = [
    header(plan, hostName),
    `listen_addresses = '${host.ip},localhost'`,
    `port = ${postgres.port}`,
    "password_encryption = 'scram-sha-256'",
    ...(postgres.tls ? [
      '',
      '# TLS: K3s (through the writer endpoint) and the replicas connect with sslmode=verify-full against the datastore CA.',
      'ssl = on',
      `ssl_cert_file = '${POSTGRES_TLS_CERT_PATH}'`,
      `ssl_key_file = '${POSTGRES_TLS_KEY_PATH}'`,
      "ssl_min_protocol_version = 'TLSv1.2'",
    ] : []),
    '',
    '# Streaming replication: the same on every node, so any of them can be promoted.',
    'wal_level = replica',
    'max_wal_senders = 10',
    'max_replication_slots = 10',
    "wal_keep_size = '512MB'",
    `max_slot_wal_keep_size = '${maxSlotWalKeepMiB}MB'`,
    'hot_standby = on',
  ];
  if (waitsForReplica(postgres)) {
    lines.push(
      '# A commit is acknowledged once a replica has flushed it, so promoting that replica loses no acknowledged write.',
      '# The price: with every replica down, commits wait (see the runbook).',
      'synchronous_commit = on',
      "synchronous_standby_names = 'ANY 1 (*)'",
    );
  } else {
    lines.push(
      postgres.synchronousCommit
        ? '# A single node has no replica to wait for.'
        : '# Asynchronous replication: a promotion may lose the last commits the replica had not received.',
      'synchronous_commit = on',
      "synchronous_standby_names = ''",
    );
  }
  lines.push(
    '',
    `# Memory, from the host's ${host.size.memoryMiB} MiB.`,
    `shared_buffers = '${memory.sharedBuffersMiB}MB'`,
    `effective_cache_size = '${memory.effectiveCacheSizeMiB}MB'`,
    `work_mem = '${memory.workMemMiB}MB'`,
    `maintenance_work_mem = '${memory.maintenanceWorkMemMiB}MB'`,
  );
  return `${lines.join('\n')}\n`;
}

function hbaLine(type: string, database: string, user: string, address: string, method: string, comment?: string): string {
  const columns = [type.padEnd(7), database.padEnd(12), user.padEnd(12), address.padEnd(18), method];
  return `${columns.join(' ').trimEnd()}${comment ? `  # ${comment}` : ''}`;
}

/**
 * `pg_hba.conf` for one datastore node. Only three kinds of access, each with scram-sha-256 from single addresses:
 * the K3s user to the K3s database from every K3s server and every load balancer, replication from the other
 * datastore nodes, and the `postgres` superuser over the local socket (peer). Anything else matches no line and is
 * rejected.
 *
 * With `postgres.tls` the K3s and replication lines are `hostssl`: a connection without TLS matches no line and is
 * rejected. Replication is TLS-only too, because the stream carries the whole cluster state, and the replicas
 * verify their primary's certificate (`sslmode=verify-full`) against the datastore CA like K3s does. Without TLS
 * they are `host` lines and the traffic is plain text.
 */
export function renderPgHba(plan: SitePlan, hostName: string): string {
  const { postgres } = requireDatastoreNode(plan, hostName);
  const clients = new Map<string, string[]>();
  const addClient = (ip: string, label: string) => clients.set(ip, [...(clients.get(ip) ?? []), label]);
  hostsWithRole(plan, HostRole.K3S_SERVER).forEach((server) => addClient(server.ip, `${server.name} (k3s server)`));
  // K3s reaches the primary through the writer endpoint: HAProxy on the load balancers opens the connection, so
  // PostgreSQL sees the load balancer's own address, not the server's.
  (plan.loadBalancer?.nodes ?? []).forEach((lb) => addClient(lb.ip, `${lb.name} (load balancer, writer endpoint)`));
  const type = postgres.tls ? 'hostssl' : 'host';
  const lines = [
    header(plan, hostName),
    `# Only what the K3s datastore needs; a connection that matches no line is rejected${postgres.tls ? ' (so is any without TLS)' : ''}.`,
    hbaLine('# TYPE', 'DATABASE', 'USER', 'ADDRESS', 'METHOD'),
    hbaLine('local', 'all', 'postgres', '', 'peer', 'the setup scripts and the role check, as the postgres OS user'),
    ...[...clients.entries()].map(([ip, labels]) => hbaLine(type, postgres.database, postgres.user, `${ip}/32`, 'scram-sha-256', labels.join(', '))),
    ...postgres.nodes.filter((n) => n.name !== hostName)
      .map((peer) => hbaLine(type, 'replication', POSTGRES_REPLICATION_USER, `${peer.ip}/32`, 'scram-sha-256', `${peer.name} (datastore peer)`)),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The environment file the setup scripts read (mode 0600, root). Pass Terraform references (letters and digits
 * only: the scripts refuse anything else, since the values are written into SQL and a passfile unquoted).
 */
export function renderPostgresEnvironmentFile(k3sPassword: string, replicationPassword: string): string {
  return [
    '# Rendered by proxmox-k3s-ha: passwords of the K3s datastore, read by the setup scripts. Root only.',
    `PGHA_K3S_PASSWORD=${k3sPassword}`,
    `PGHA_REPLICATION_PASSWORD=${replicationPassword}`,
    '',
  ].join('\n');
}

/** The `PGHA_*` defaults every script starts with: production paths, overridable from the environment. */
function scriptDefaults(plan: SitePlan, hostName: string, extra: readonly string[] = []): string[] {
  const paths = postgresPaths(plan);
  const { postgres } = requireDatastoreNode(plan, hostName);
  return [
    `PGHA_BIN=\${PGHA_BIN:-${paths.binDir}}`,
    `PGHA_DATA=\${PGHA_DATA:-${paths.dataDir}}`,
    `PGHA_SOCKET_DIR=\${PGHA_SOCKET_DIR:-${paths.socketDir}}`,
    `PGHA_PORT=\${PGHA_PORT:-${postgres.port}}`,
    ...extra,
  ];
}

function peerAddresses(plan: SitePlan, hostName: string): string {
  return requirePostgres(plan).nodes.filter((n) => n.name !== hostName).map((n) => n.ip).join(' ');
}

/** Shell helpers shared by the setup scripts (run as root). */
const SCRIPT_HELPERS = [
  'log() { printf \'%s: %s\\n\' "${0##*/}" "$*" >&2; }',
  'die() { log "error: $*"; exit 1; }',
  'as_postgres() { runuser -u postgres -- "$@"; }',
  'local_psql() { as_postgres "$PGHA_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGHA_SOCKET_DIR" -p "$PGHA_PORT" -d postgres "$@"; }',
  'local_ready() { as_postgres "$PGHA_BIN/pg_isready" -q -h "$PGHA_SOCKET_DIR" -p "$PGHA_PORT"; }',
  '# Waits (bounded) until the local server accepts connections.',
  'wait_local_ready() {',
  '  waited=0',
  '  until local_ready; do',
  '    waited=$((waited + 1))',
  '    [ "$waited" -le "$PGHA_WAIT_SECONDS" ] || die "postgresql did not accept connections within ${PGHA_WAIT_SECONDS}s"',
  '    sleep 1',
  '  done',
  '}',
];

/** Helpers of the scripts that read the passwords. */
const SECRET_HELPERS = [
  '# The passwords go into SQL and a passfile unquoted: letters and digits only (Terraform random_password, special = false).',
  'require_secret() {',
  '  case $2 in',
  '    \'\' | *[!A-Za-z0-9]*) die "$1 in $PGHA_ENV_FILE must be letters and digits only, and not empty" ;;',
  '  esac',
  '}',
  'load_secrets() {',
  '  [ -r "$PGHA_ENV_FILE" ] || die "cannot read $PGHA_ENV_FILE"',
  '  # shellcheck source=/dev/null',
  '  . "$PGHA_ENV_FILE"',
  '  require_secret PGHA_K3S_PASSWORD "${PGHA_K3S_PASSWORD:-}"',
  '  require_secret PGHA_REPLICATION_PASSWORD "${PGHA_REPLICATION_PASSWORD:-}"',
  '}',
];

/** The header lines documenting the `PGHA_*` variables a script reads. */
function environmentDoc(options: { services: boolean; secrets: boolean }): string[] {
  return [
    '# Environment (defaults are the Debian production paths; the test lab points them at its own clusters):',
    '#   PGHA_BIN, PGHA_DATA, PGHA_SOCKET_DIR, PGHA_PORT   binaries, data directory, local socket, port',
    ...(options.services ? ['#   PGHA_START, PGHA_STOP, PGHA_RESTART             commands that start/stop/restart this node\'s PostgreSQL'] : []),
    ...(options.secrets ? ['#   PGHA_ENV_FILE                                   the 0600 file with the passwords'] : []),
    '#   PGHA_WAIT_SECONDS                               upper bound of every wait',
  ];
}

function serviceDefaults(plan: SitePlan): string[] {
  const { service } = postgresPaths(plan);
  return [
    `PGHA_START=\${PGHA_START:-systemctl start ${service}}`,
    `PGHA_STOP=\${PGHA_STOP:-systemctl stop ${service}}`,
    `PGHA_RESTART=\${PGHA_RESTART:-systemctl restart ${service}}`,
    `PGHA_ENV_FILE=\${PGHA_ENV_FILE:-${POSTGRES_ENV_PATH}}`,
  ];
}

/**
 * The primary init script (first datastore node, at first boot; idempotent): applies the settings (restarting only
 * when a setting needs it), then creates or updates the K3s role and database and the replication role with the
 * passwords from the environment file, and a physical replication slot per replica.
 */
export function renderPostgresPrimaryInitScript(plan: SitePlan, hostName: string): string {
  const { postgres } = requireDatastoreNode(plan, hostName);
  const slots = postgres.nodes.filter((n) => n.name !== hostName).map((n) => postgresReplicationSlot(n.name));
  const lines = [
    '#!/bin/sh',
    header(plan, hostName),
    '# Primary init of the K3s datastore (idempotent): roles, database and replication slots on this node, the',
    '# initial primary. Passwords come from the environment file, never from the command line.',
    ...environmentDoc({ services: true, secrets: true }),
    'set -eu',
    '',
    ...scriptDefaults(plan, hostName, [...serviceDefaults(plan), 'PGHA_WAIT_SECONDS=${PGHA_WAIT_SECONDS:-120}']),
    '',
    ...SCRIPT_HELPERS,
    ...SECRET_HELPERS,
    '',
    '# Every session commits locally: no replica is attached yet to acknowledge synchronous commits.',
    "export PGOPTIONS='-c synchronous_commit=local'",
    'load_secrets',
    'if local_ready; then',
    '  # Apply the rendered settings; restart only when one of them (listen_addresses, shared_buffers, ...) needs it.',
    '  local_psql -tAc \'select pg_reload_conf()\' >/dev/null',
    '  sleep 1',
    '  if [ "$(local_psql -tAc \'select count(*) from pg_settings where pending_restart\')" != 0 ]; then',
    '    log "restarting postgresql to apply the settings"',
    '    sh -c "$PGHA_RESTART"',
    '  fi',
    'else',
    '  sh -c "$PGHA_START"',
    'fi',
    'wait_local_ready',
    '[ "$(local_psql -tAc \'select pg_is_in_recovery()\')" = f ] || die "this node is a replica; primary init runs on the primary only"',
    '',
    'local_psql <<SQL',
    `\\set k3s_user ${postgres.user}`,
    `\\set database ${postgres.database}`,
    `\\set replication_user ${POSTGRES_REPLICATION_USER}`,
    "\\set k3s_password '$PGHA_K3S_PASSWORD'",
    "\\set replication_password '$PGHA_REPLICATION_PASSWORD'",
    "SELECT format('CREATE ROLE %I', :'k3s_user') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'k3s_user') \\gexec",
    'ALTER ROLE :"k3s_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :\'k3s_password\';',
    "SELECT format('CREATE ROLE %I', :'replication_user') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'replication_user') \\gexec",
    'ALTER ROLE :"replication_user" WITH LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :\'replication_password\';',
    "SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'k3s_user') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \\gexec",
    'ALTER DATABASE :"database" OWNER TO :"k3s_user";',
    'REVOKE ALL ON DATABASE :"database" FROM PUBLIC;',
    ...slots.map((slot) => `SELECT pg_create_physical_replication_slot('${slot}') WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = '${slot}');`),
    'SQL',
    `log "primary ready: database ${postgres.database} owned by ${postgres.user}${slots.length > 0 ? `, replication slots ${slots.join(' ')}` : ''}"`,
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The replica init script (every other datastore node; idempotent): finds the current primary (the peer whose role
 * check answers `/primary` with 200, or `PGHA_PRIMARY_HOST`), clones it with `pg_basebackup -R` through this node's
 * replication slot into a new directory, then swaps it in and starts streaming. It refuses to overwrite a primary
 * that holds the K3s database unless given `--force` (re-attaching a failed primary, see the runbook).
 */
export function renderPostgresReplicaInitScript(plan: SitePlan, hostName: string): string {
  const { postgres } = requireDatastoreNode(plan, hostName);
  const lines = [
    '#!/bin/sh',
    header(plan, hostName),
    '# Replica init of the K3s datastore (idempotent): clone the current primary and stream from it.',
    '# Usage: postgres-replica-init.sh [--force]   (--force discards this node\'s data even if it was a primary)',
    ...environmentDoc({ services: true, secrets: true }),
    '#   PGHA_PRIMARY_HOST   clone this primary instead of asking the peers\' role checks which one is primary',
    ...(postgres.tls ? ['#   PGHA_SSL_ROOT_CERT  the datastore CA the primary\'s certificate is verified against (sslmode=verify-full)'] : []),
    'set -eu',
    '',
    ...scriptDefaults(plan, hostName, [
      ...serviceDefaults(plan),
      'PGHA_WAIT_SECONDS=${PGHA_WAIT_SECONDS:-900}',
      `PGHA_PASSFILE=\${PGHA_PASSFILE:-${POSTGRES_PASSFILE_PATH}}`,
      `PGHA_PEERS=\${PGHA_PEERS-${peerAddresses(plan, hostName)}}`,
      `PGHA_ROLE_CHECK_PORT=\${PGHA_ROLE_CHECK_PORT:-${POSTGRES_ROLE_CHECK_PORT}}`,
      'PGHA_PRIMARY_HOST=${PGHA_PRIMARY_HOST:-}',
      ...(postgres.tls ? [`PGHA_SSL_ROOT_CERT=\${PGHA_SSL_ROOT_CERT:-${POSTGRES_TLS_CA_PATH}}`] : []),
    ]),
    `node=${hostName}`,
    `slot=${postgresReplicationSlot(hostName)}`,
    '',
    ...SCRIPT_HELPERS,
    ...SECRET_HELPERS,
    '',
    'force=no',
    'case ${1:-} in',
    '  --force) force=yes ;;',
    "  '') ;;",
    '  *) die "unknown argument $1 (usage: ${0##*/} [--force])" ;;',
    'esac',
    '',
    'if [ -f "$PGHA_DATA/standby.signal" ] && [ "$force" = no ]; then',
    '  log "already a replica ($PGHA_DATA/standby.signal exists); --force clones the primary again"',
    '  exit 0',
    'fi',
    'if local_ready; then',
    "  if [ \"$(local_psql -tAc 'select pg_is_in_recovery()')\" = f ] && [ \"$force\" = no ] \\",
    `    && [ "$(local_psql -tAc "select count(*) from pg_database where datname = '${postgres.database}'")" != 0 ]; then`,
    `    die "this node is a primary holding database ${postgres.database}; re-attaching it as a replica discards that data: make sure it is not the writer, then run with --force (see the runbook)"`,
    '  fi',
    'elif [ -f "$PGHA_DATA/PG_VERSION" ] && [ "$force" = no ]; then',
    '  die "postgresql is not running and $PGHA_DATA holds a cluster: cannot tell whether it is the only copy; run with --force to discard it"',
    'fi',
    '',
    'load_secrets',
    '# The replication password lives in a passfile that pg_basebackup -R also writes into primary_conninfo, so',
    '# it never appears on a command line or in the cluster\'s configuration.',
    '(umask 077 && printf \'*:%s:replication:%s:%s\\n\' "$PGHA_PORT" ' + `${POSTGRES_REPLICATION_USER} "$PGHA_REPLICATION_PASSWORD" > "$PGHA_PASSFILE")`,
    'chown postgres:postgres "$PGHA_PASSFILE"',
    '',
    'find_primary() {',
    '  if [ -n "$PGHA_PRIMARY_HOST" ]; then',
    '    echo "$PGHA_PRIMARY_HOST"',
    '    return 0',
    '  fi',
    '  for peer in $PGHA_PEERS; do',
    '    if curl -fsS --connect-timeout 2 --max-time 5 -o /dev/null "http://$peer:$PGHA_ROLE_CHECK_PORT/primary" 2>/dev/null; then',
    '      echo "$peer"',
    '      return 0',
    '    fi',
    '  done',
    '  return 1',
    '}',
    '',
    'new="$PGHA_DATA.clone"',
    '# backup_from HOST [OPTION...]',
    'backup_from() {',
    '  from=$1',
    '  shift',
    '  rm -rf "$new"',
    `  as_postgres "$PGHA_BIN/pg_basebackup" -D "$new" -R -X stream -c fast --no-password -S "$slot" "$@" \\`,
    `    -d "host=$from port=$PGHA_PORT user=${POSTGRES_REPLICATION_USER} passfile=$PGHA_PASSFILE application_name=$node connect_timeout=5${postgres.tls ? ' sslmode=verify-full sslrootcert=$PGHA_SSL_ROOT_CERT' : ''}"`,
    '}',
    '# Bounded: at first boot the primary may still be installing; it answers /primary once its init is done.',
    'deadline=$(( $(date +%s) + PGHA_WAIT_SECONDS ))',
    'cloned=no',
    'while [ "$(date +%s)" -lt "$deadline" ]; do',
    '  if primary=$(find_primary); then',
    '    log "cloning $primary through slot $slot"',
    '    if backup_from "$primary" 2>"$new.log"; then',
    '      cloned=yes',
    '      break',
    '    fi',
    '    # A primary promoted by hand may lack this node\'s slot; create it with the clone.',
    '    if grep -q \'does not exist\' "$new.log" && backup_from "$primary" -C 2>>"$new.log"; then',
    '      cloned=yes',
    '      break',
    '    fi',
    '    log "pg_basebackup from $primary failed: $(tail -n 1 "$new.log")"',
    '  fi',
    '  sleep 2',
    'done',
    'rm -f "$new.log"',
    '[ "$cloned" = yes ] || die "no primary could be cloned within ${PGHA_WAIT_SECONDS}s (peers: $PGHA_PEERS)"',
    '',
    'sh -c "$PGHA_STOP" || true',
    'waited=0',
    'while local_ready; do',
    '  waited=$((waited + 1))',
    '  [ "$waited" -le "$PGHA_WAIT_SECONDS" ] || die "postgresql did not stop within ${PGHA_WAIT_SECONDS}s"',
    '  sleep 1',
    'done',
    'case $PGHA_DATA in',
    "  '' | /) die \"refusing to replace PGHA_DATA=$PGHA_DATA\" ;;",
    'esac',
    'rm -rf "$PGHA_DATA.old"',
    'if [ -d "$PGHA_DATA" ]; then mv "$PGHA_DATA" "$PGHA_DATA.old"; fi',
    'mv "$new" "$PGHA_DATA"',
    'rm -rf "$PGHA_DATA.old"',
    'sh -c "$PGHA_START"',
    'wait_local_ready',
    '[ "$(local_psql -tAc \'select pg_is_in_recovery()\')" = t ] || die "the clone did not start as a replica"',
    'waited=0',
    'until [ "$(local_psql -tAc \'select status from pg_stat_wal_receiver\')" = streaming ]; do',
    '  waited=$((waited + 1))',
    '  [ "$waited" -le "$PGHA_WAIT_SECONDS" ] || die "the replica did not start streaming within ${PGHA_WAIT_SECONDS}s"',
    '  sleep 1',
    'done',
    'log "replica of $primary, streaming through slot $slot"',
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The promotion script, run BY AN OPERATOR on the replica to promote. It refuses while the primary is evidently
 * alive (this replica still streams from it, or a peer's role check still says primary) unless `--force`, relaxes
 * synchronous commit (there is no replica left to wait for) unless `--keep-synchronous`, promotes, and creates the
 * replication slots the other nodes need to re-attach.
 *
 * Fencing caveat: "unreachable" is not "dead". If the old primary is only cut off from this node, promoting makes
 * two primaries; power it off first (Proxmox: `qm stop <vmid>`).
 */
export function renderPostgresPromoteScript(plan: SitePlan, hostName: string): string {
  const { postgres } = requireDatastoreNode(plan, hostName);
  const peers = postgres.nodes.filter((n) => n.name !== hostName);
  const lines = [
    '#!/bin/sh',
    header(plan, hostName),
    '# Promotes this replica to primary. A human decision: see postgres-RUNBOOK.md next to this script.',
    '# Usage: postgres-promote.sh [--force] [--keep-synchronous]',
    '#   --force             promote even though the old primary still looks alive',
    '#   --keep-synchronous  keep waiting for a replica on every commit (writes stall until one is re-attached)',
    '#',
    '# FENCING CAVEAT: with two nodes nothing can tell "the primary is dead" from "this node cannot reach it". The',
    '# checks below only see what this node sees. If the old primary may still be running (a network partition, a',
    '# hung VM), power it off first (Proxmox: qm stop <vmid>); otherwise K3s may write to both and one side\'s',
    '# writes are lost. The role check keeps a restarted old primary out of the writer endpoint only while it can',
    '# reach this node.',
    ...environmentDoc({ services: false, secrets: false }),
    'set -eu',
    '',
    ...scriptDefaults(plan, hostName, [
      'PGHA_WAIT_SECONDS=${PGHA_WAIT_SECONDS:-60}',
      `PGHA_PEERS=\${PGHA_PEERS-${peerAddresses(plan, hostName)}}`,
      `PGHA_ROLE_CHECK_PORT=\${PGHA_ROLE_CHECK_PORT:-${POSTGRES_ROLE_CHECK_PORT}}`,
    ]),
    '',
    ...SCRIPT_HELPERS,
    '',
    'force=no',
    'keep_synchronous=no',
    'for argument in "$@"; do',
    '  case $argument in',
    '    --force) force=yes ;;',
    '    --keep-synchronous) keep_synchronous=yes ;;',
    '    *) die "unknown argument $argument (usage: ${0##*/} [--force] [--keep-synchronous])" ;;',
    '  esac',
    'done',
    '',
    '# Commits of this script (slot creation) must not wait for a replica that may not exist.',
    "export PGOPTIONS='-c synchronous_commit=local'",
    'local_ready || die "postgresql is not running on this node; start it first"',
    'create_slots() {',
    ...peers.map((peer) => {
      const slot = postgresReplicationSlot(peer.name);
      return `  local_psql -tAc "select pg_create_physical_replication_slot('${slot}') where not exists (select from pg_replication_slots where slot_name = '${slot}')" >/dev/null`;
    }),
    '  :',
    '}',
    'if [ "$(local_psql -tAc \'select pg_is_in_recovery()\')" = f ]; then',
    '  log "already the primary"',
    '  create_slots',
    '  exit 0',
    'fi',
    '',
    'refuse() {',
    '  if [ "$force" = yes ]; then',
    '    log "warning: $* -- promoting anyway (--force)"',
    '  else',
    '    die "refusing to promote: $*; stop the old primary first (power its VM off), or run with --force"',
    '  fi',
    '}',
    'receiver=$(local_psql -tAc "select status || \' from \' || coalesce(sender_host, \'?\') from pg_stat_wal_receiver")',
    'case $receiver in',
    '  streaming*) refuse "this replica is still ${receiver}: the primary is alive" ;;',
    'esac',
    'for peer in $PGHA_PEERS; do',
    '  if role=$(curl -fsS --connect-timeout 2 --max-time 3 "http://$peer:$PGHA_ROLE_CHECK_PORT/role" 2>/dev/null); then',
    '    case $role in',
    '      primary*) refuse "$peer still answers as a primary ($role)" ;;',
    '      *) log "$peer: $role" ;;',
    '    esac',
    '  else',
    '    log "warning: $peer does not answer (down, or cut off from this node: see the fencing caveat)"',
    '  fi',
    'done',
    '',
    'if [ "$keep_synchronous" = no ]; then',
    '  # No replica is left to acknowledge commits: without this, every K3s write would wait for one.',
    '  local_psql -c "alter system set synchronous_standby_names = \'\'" -c \'select pg_reload_conf()\' >/dev/null',
    'fi',
    'log "promoting"',
    '[ "$(local_psql -tAc "select pg_promote(true, $PGHA_WAIT_SECONDS)")" = t ] || die "pg_promote did not finish within ${PGHA_WAIT_SECONDS}s"',
    'create_slots',
    'log "this node is the primary; the writer endpoint follows within seconds"',
    'log "next: re-attach the old primary with postgres-replica-init.sh --force on it, then re-enable synchronous commit here (see the runbook)"',
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The role check (inetd style: one HTTP/1.0 exchange on stdin/stdout, run per connection by the systemd socket
 * unit as user `postgres`). `GET /primary` answers 200 only on a primary that no reachable peer outranks (a peer
 * that is primary on the same or a later timeline makes it 503: a restarted old primary stays out of the writer
 * endpoint); `GET /replica` 200 on a replica; `GET /role` says `primary <timeline>` or `replica` (what peers read).
 */
export function renderPostgresRoleCheckScript(plan: SitePlan, hostName: string): string {
  requireDatastoreNode(plan, hostName);
  const roleQuery = "select case when pg_is_in_recovery() then 'replica' "
    + "else 'primary ' || ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int end";
  const lines = [
    '#!/bin/sh',
    header(plan, hostName),
    '# Role check of the K3s datastore for HAProxy\'s writer backend (inetd style: the request on stdin, the',
    '# response on stdout; postgres-role-check.socket runs it per connection as user postgres).',
    '#   GET /primary  200 on the primary, 503 on a replica, when PostgreSQL does not answer, or when a peer is a',
    '#                 primary on the same or a later timeline (a restarted old primary must not take writes)',
    '#   GET /replica  200 on a replica',
    '#   GET /role     "primary <timeline>" or "replica" (what the peers and the scripts read)',
    'set -u',
    '',
    ...scriptDefaults(plan, hostName, [
      `PGHA_PEERS=\${PGHA_PEERS-${peerAddresses(plan, hostName)}}`,
      `PGHA_ROLE_CHECK_PORT=\${PGHA_ROLE_CHECK_PORT:-${POSTGRES_ROLE_CHECK_PORT}}`,
    ]),
    '',
    'respond() {',
    '  body="$3',
    '"',
    '  printf \'HTTP/1.0 %s %s\\r\\nContent-Type: text/plain\\r\\nContent-Length: %s\\r\\nConnection: close\\r\\n\\r\\n%s\' "$1" "$2" "${#body}" "$body"',
    '  exit 0',
    '}',
    'unavailable() { respond 503 \'Service Unavailable\' "$1"; }',
    '',
    'cr=$(printf \'\\r\')',
    "request=''",
    'IFS= read -r request || true',
    'request=${request%"$cr"}',
    '# Read the headers (bounded) so that closing does not reset the connection before the response is read.',
    'headers=0',
    'while [ "$headers" -lt 64 ] && IFS= read -r line; do',
    '  line=${line%"$cr"}',
    '  [ -n "$line" ] || break',
    '  headers=$((headers + 1))',
    'done',
    'method=${request%% *}',
    'target=${request#"$method" }',
    'target=${target%% *}',
    '[ "$method" = GET ] || respond 405 \'Method Not Allowed\' \'GET only\'',
    '',
    `role=$(PGCONNECT_TIMEOUT=2 PGOPTIONS='-c statement_timeout=2000' "$PGHA_BIN/psql" -X -qtA -h "$PGHA_SOCKET_DIR" -p "$PGHA_PORT" -d postgres -c "${roleQuery}" 2>/dev/null) || role=down`,
    '[ -n "$role" ] || role=down',
    '',
    'case $target in',
    '  /role)',
    '    [ "$role" != down ] || unavailable \'postgresql does not answer\'',
    '    respond 200 OK "$role" ;;',
    '  /replica)',
    '    [ "$role" = replica ] || unavailable "$role"',
    '    respond 200 OK replica ;;',
    '  /primary)',
    '    case $role in',
    '      primary\\ *) ;;',
    '      down) unavailable \'postgresql does not answer\' ;;',
    '      *) unavailable "$role" ;;',
    '    esac',
    '    timeline=${role#primary }',
    '    for peer in $PGHA_PEERS; do',
    '      peer_role=$(curl -fsS --connect-timeout 1 --max-time 1 "http://$peer:$PGHA_ROLE_CHECK_PORT/role" 2>/dev/null) || continue',
    '      case $peer_role in',
    '        primary\\ *) ;;',
    '        *) continue ;;',
    '      esac',
    '      peer_timeline=${peer_role#primary }',
    '      case $peer_timeline in',
    '        \'\' | *[!0-9]*) continue ;;',
    '      esac',
    '      if [ "$peer_timeline" -gt "$timeline" ]; then',
    '        unavailable "stale primary: $peer is primary on timeline $peer_timeline, this node on $timeline"',
    '      elif [ "$peer_timeline" -eq "$timeline" ]; then',
    '        # Cannot tell which one is right: refusing writes on both beats letting them diverge.',
    '        unavailable "two primaries on timeline $timeline ($peer too): an operator must re-attach one"',
    '      fi',
    '    done',
    '    respond 200 OK "$role" ;;',
    '  *) respond 404 \'Not Found\' \'GET /primary, /replica or /role\' ;;',
    'esac',
  ];
  return `${lines.join('\n')}\n`;
}

/** The role check's listening socket, on the node's own address; each connection starts one script instance. */
export function renderPostgresRoleCheckSocket(plan: SitePlan, hostName: string): string {
  const { host } = requireDatastoreNode(plan, hostName);
  return [
    header(plan, hostName),
    '[Unit]',
    'Description=PostgreSQL role check for the K3s datastore writer endpoint (HAProxy GET /primary)',
    '',
    '[Socket]',
    `ListenStream=${host.ip}:${POSTGRES_ROLE_CHECK_PORT}`,
    '# Bind even before the address is configured at boot.',
    'FreeBind=yes',
    'Accept=yes',
    'MaxConnections=32',
    '',
    '[Install]',
    'WantedBy=sockets.target',
    '',
  ].join('\n');
}

/** The per-connection service of the role check (a template: `Accept=yes` starts one instance per connection). */
export function renderPostgresRoleCheckService(): string {
  return [
    '# Rendered by proxmox-k3s-ha; do not edit by hand.',
    '[Unit]',
    'Description=PostgreSQL role check (one connection)',
    '',
    '[Service]',
    `ExecStart=${POSTGRES_ROLE_CHECK_PATH}`,
    'StandardInput=socket',
    'StandardOutput=socket',
    'StandardError=journal',
    'User=postgres',
    'Group=postgres',
    'RuntimeMaxSec=10',
    '# Every load balancer checks every second: keep the per-connection "Started ..." lines out of the journal.',
    'LogLevelMax=notice',
    'NoNewPrivileges=yes',
    'ProtectSystem=full',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    '',
  ].join('\n');
}

/** A drop-in for the PostgreSQL service: `listen_addresses` names the node's address, which must exist first. */
export function renderPostgresServiceDropIn(): string {
  return [
    '# Rendered by proxmox-k3s-ha; do not edit by hand.',
    '# listen_addresses names the node address: PostgreSQL only warns when it cannot bind it, and stays unreachable.',
    '[Unit]',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
  ].join('\n');
}

function block(headerLine: string, lines: readonly string[]): string {
  return [headerLine, ...lines.map((line) => `    ${line}`)].join('\n');
}

/**
 * The HAProxy sections of the writer endpoint, appended to every load balancer's `haproxy.cfg`: a TCP frontend on
 * `postgres.writerPort` and a backend with every datastore node, checked with `GET /primary` on the role check.
 * Only the primary answers 200, so only it receives connections; `on-marked-down shutdown-sessions` closes K3s's
 * connections to a node that stops being primary, so they reconnect to the new one.
 */
export function renderPostgresWriterHaproxySections(plan: SitePlan): string[] {
  const postgres = requirePostgres(plan);
  return [
    block(`frontend ${POSTGRES_WRITER_BACKEND}`, [
      `bind *:${postgres.writerPort}`,
      `default_backend ${POSTGRES_WRITER_BACKEND}`,
    ]),
    block(`backend ${POSTGRES_WRITER_BACKEND}`, [
      // If two nodes ever both answered 200, every connection would still go to one of them.
      'balance first',
      'option httpchk GET /primary',
      'http-check expect status 200',
      // The primary's check asks its peers' role checks (1 s at most) before answering.
      'timeout check 2s',
      `default-server check port ${POSTGRES_ROLE_CHECK_PORT} inter 1s fastinter 250ms downinter 500ms rise 2 fall 2 on-marked-down shutdown-sessions`,
      ...postgres.nodes.map((node) => `server ${node.name} ${node.ip}:${postgres.port}`),
    ]),
  ];
}

/**
 * The address K3s reaches the primary at: the writer endpoint on the load balancers (the VIP when it floats), or
 * the only datastore node directly when the site has no load balancer.
 */
export function postgresWriterAddress(plan: SitePlan): { readonly address: string; readonly port: number } {
  const postgres = requirePostgres(plan);
  if (plan.loadBalancer) {
    return { address: plan.apiEndpoint.address, port: postgres.writerPort };
  }
  if (postgres.nodes.length === 1) {
    return { address: postgres.nodes[0].ip, port: postgres.port };
  }
  throw new Error(`site ${plan.name}: no host has role ${HostRole.LOAD_BALANCER}, expected load balancers for the writer endpoint of ${postgres.nodes.length} datastore nodes`);
}

/**
 * K3s's `datastore-endpoint`: `postgres://<user>:<password>@<writer address>:<port>/<database>`, with
 * `?sslmode=verify-full` when `postgres.tls` is on (K3s verifies the server against its `datastore-cafile`, the
 * datastore CA, and the writer address against the certificate's names). Without TLS there is no `sslmode`, and
 * K3s's kine then connects with `sslmode=disable`: the datastore traffic is plain text.
 *
 * @param password a Terraform reference to a letters-and-digits password (no URL escaping needed), never a literal
 */
export function postgresDatastoreEndpoint(plan: SitePlan, password: string): string {
  const postgres = requirePostgres(plan);
  const writer = postgresWriterAddress(plan);
  return `postgres://${postgres.user}:${password}@${writer.address}:${writer.port}/${postgres.database}${postgres.tls ? '?sslmode=verify-full' : ''}`;
}

/**
 * The TLS install script of a datastore node (with `postgres.tls`; idempotent): decodes the base64 files
 * cloud-init wrote next to {@link POSTGRES_TLS_CA_PATH}, {@link POSTGRES_TLS_CERT_PATH} and
 * {@link POSTGRES_TLS_KEY_PATH} into the PEM files, owned by postgres, the key 0600. Runs before the init scripts.
 */
export function renderPostgresTlsInstallScript(plan: SitePlan, hostName: string): string {
  const { postgres } = requireDatastoreNode(plan, hostName);
  if (!postgres.tls) {
    throw new Error(`site ${plan.name}: postgres.tls is false, expected true for the datastore TLS files`);
  }
  const files: readonly (readonly [string, string])[] = [[POSTGRES_TLS_CA_PATH, '0644'], [POSTGRES_TLS_CERT_PATH, '0644'], [POSTGRES_TLS_KEY_PATH, '0600']];
  const lines = [
    '#!/bin/sh',
    header(plan, hostName),
    '# Installs the datastore TLS files: cloud-init writes them base64-encoded (PEM does not survive YAML indentation),',
    '# this decodes them for PostgreSQL (owner postgres; the key 0600, or PostgreSQL refuses to start).',
    '# Environment: PGHA_TLS_DIR, the directory of the files (the test lab points it at its own).',
    'set -eu',
    '',
    `PGHA_TLS_DIR=\${PGHA_TLS_DIR:-${POSTGRES_TLS_DIR}}`,
    '',
    'log() { printf \'%s: %s\\n\' "${0##*/}" "$*" >&2; }',
    'die() { log "error: $*"; exit 1; }',
    '# install_pem NAME MODE: $PGHA_TLS_DIR/NAME.b64 -> $PGHA_TLS_DIR/NAME',
    'install_pem() {',
    '  [ -s "$PGHA_TLS_DIR/$1.b64" ] || die "$PGHA_TLS_DIR/$1.b64 is missing or empty"',
    '  (umask 077 && base64 -d < "$PGHA_TLS_DIR/$1.b64" > "$PGHA_TLS_DIR/$1.tmp") || die "$PGHA_TLS_DIR/$1.b64 is not base64"',
    '  grep -q -- \'-----BEGIN \' "$PGHA_TLS_DIR/$1.tmp" || die "$PGHA_TLS_DIR/$1.b64 does not hold PEM"',
    '  chown postgres:postgres "$PGHA_TLS_DIR/$1.tmp"',
    '  chmod "$2" "$PGHA_TLS_DIR/$1.tmp"',
    '  mv "$PGHA_TLS_DIR/$1.tmp" "$PGHA_TLS_DIR/$1"',
    '}',
    ...files.map(([path, mode]) => `install_pem ${path.slice(POSTGRES_TLS_DIR.length + 1)} ${mode}`),
    'log "installed the datastore CA, server certificate and key in $PGHA_TLS_DIR"',
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The command that installs the datastore CA on a K3s server (with `postgres.tls`): cloud-init writes its base64
 * next to {@link K3S_DATASTORE_CA_PATH}; this decodes it (0644: a certificate is not secret) before K3s starts.
 */
export function postgresDatastoreCaInstallCommand(): string {
  const source = postgresTlsBase64Path(K3S_DATASTORE_CA_PATH);
  const temporary = `${K3S_DATASTORE_CA_PATH}.tmp`;
  return `base64 -d < ${source} > ${temporary} && chmod 0644 ${temporary} && mv ${temporary} ${K3S_DATASTORE_CA_PATH}`;
}

/**
 * The operator's runbook for the datastore, installed next to the scripts: what happens by itself, what needs a
 * human, and why.
 */
export function renderPostgresRunbook(plan: SitePlan): string {
  const postgres = requirePostgres(plan);
  const writer = postgresWriterAddress(plan);
  const nodes = postgres.nodes.map((n, i) => `- ${n.name} (${n.ip})${i === 0 ? ': the initial primary' : ': a replica at first'}`);
  const sync = postgres.synchronousCommit && postgres.nodes.length > 1;
  return `# K3s datastore runbook (site ${plan.name})

PostgreSQL ${postgres.version}, database \`${postgres.database}\`, user \`${postgres.user}\`, port ${postgres.port} on:
${nodes.join('\n')}

K3s reaches the primary at ${writer.address}:${writer.port}${plan.loadBalancer ? ` (the writer endpoint: HAProxy on ${plan.loadBalancer.nodes.map((n) => n.name).join(', ')})` : ''}.
${postgres.tls ? `Connections are TLS only (\`hostssl\`): K3s and the replicas verify the server's certificate against the datastore CA
(${POSTGRES_TLS_CA_PATH} here, ${K3S_DATASTORE_CA_PATH} on the K3s servers); Terraform generates the CA and the certificates.` : 'TLS is off (`postgres.tls: false`): the datastore traffic crosses the network in plain text.'}
Scripts live in ${POSTGRES_LIB_DIR}; run them as root on the datastore node named.

## What is automatic

- **The writer endpoint follows the primary.** HAProxy asks every node's role check (\`GET /primary\` on port
  ${POSTGRES_ROLE_CHECK_PORT}, about every second) and sends connections only to the node that answers 200. When the primary stops
  answering, HAProxy closes the connections to it; K3s reconnects and lands on whichever node is primary.
- **A restarted old primary stays out.** A primary whose peer is primary on a later timeline (it was promoted
  while this one was down) answers 503, and so do two primaries on the same timeline, as long as they can reach
  each other's role check.
- ${sync ? '**No acknowledged write is lost on promotion.** Commits are synchronous (`ANY 1 (*)`): a commit returns only once a replica has flushed it.' : '**Replication is asynchronous**: a promotion may lose the last commits the replica had not yet received.'}

## What is not automatic, and why

**Promotion is a human decision.** With two nodes there is no quorum and no fencing: a replica cannot tell "the
primary is dead" from "I cannot reach the primary". Promoting on that guess can leave two primaries taking writes,
and one side's writes are lost when they are reconciled. So nothing promotes by itself.${sync ? `
While every replica is down, the primary cannot acknowledge commits and K3s writes stall: that is the price of
losing nothing. To keep writing without a replica (accepting that a failover would lose those writes), run on the
primary: \`runuser -u postgres -- psql -c "alter system set synchronous_standby_names = ''" -c "select pg_reload_conf()"\`.` : ''}

### Promote a replica (the primary is lost)

1. Make sure the old primary is really down: power its VM off in Proxmox (\`qm stop <vmid>\`). This is the fencing
   the cluster cannot do by itself.
2. On the replica: \`${POSTGRES_PROMOTE_PATH}\`. It refuses while this replica still streams from the primary or
   the primary's role check still says primary (\`--force\` overrides, after step 1). It relaxes synchronous
   commit (there is no replica left to wait for; \`--keep-synchronous\` keeps it), promotes, and creates the
   replication slots the other nodes need to re-attach.
3. The writer endpoint follows within a few seconds; K3s reconnects by itself.

### Re-attach the old primary as a replica

Its data may hold writes the new primary never received${sync ? ' (only unacknowledged ones, with synchronous commit)' : ''}; they are discarded.

1. Start its VM. Its PostgreSQL starts as a stale primary; the role check keeps it out of the writer endpoint.
2. On it: \`${POSTGRES_REPLICA_INIT_PATH} --force\`. It finds the current primary through the role checks
   (or \`PGHA_PRIMARY_HOST=<address>\`), clones it with \`pg_basebackup\` through its replication slot, and streams.
3. On the primary, re-enable synchronous commit:
   \`runuser -u postgres -- psql -c "alter system reset synchronous_standby_names" -c "select pg_reload_conf()"\`.
4. Check: \`runuser -u postgres -- psql -c "select application_name, state, sync_state from pg_stat_replication"\`.

### Other checks

- Which node is primary: \`curl http://<node>:${POSTGRES_ROLE_CHECK_PORT}/role\`.
- A replica down for long: its slot keeps WAL on the primary up to \`max_slot_wal_keep_size\`; past that the slot is
  invalidated and the replica must be re-cloned (\`${POSTGRES_REPLICA_INIT_PATH} --force\` on it).
`;
}
