import { SitePlan, hostsWithRole } from '../../site/plan';
import { HostRole } from '../../site/spec';
import { POSTGRES_REPLICATION_USER, POSTGRES_REWIND_USER, POSTGRES_SUPERUSER, POSTGRES_TLS_CERT_PATH, POSTGRES_TLS_KEY_PATH, postgresPaths, requireDatastoreNode } from './paths';

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
 * `shared_buffers` 25 %, `effective_cache_size` 50 % (HAProxy, Keepalived, etcd and the OS share the page cache),
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

/**
 * The PostgreSQL parameters of one node that Patroni writes into its `postgresql.conf` (the local part of Patroni's
 * configuration: it wins over the cluster-wide part in etcd). Replication settings are the same on every node,
 * since any of them may become the primary; memory follows the host.
 */
export function postgresNodeParameters(plan: SitePlan, hostName: string): Record<string, string | number> {
  const { postgres, host } = requireDatastoreNode(plan, hostName);
  const memory = postgresMemorySettings(host.size.memoryMiB);
  // A replica gone for good must not fill the primary's disk through its slot: past this much WAL the slot is
  // invalidated and Patroni re-clones the replica when it comes back.
  const maxSlotWalKeepMiB = Math.floor((host.size.diskGiB * 1024) / 4);
  return {
    unix_socket_directories: postgresPaths(plan).socketDir,
    password_encryption: 'scram-sha-256',
    ...(postgres.tls ? {
      ssl: 'on',
      ssl_cert_file: POSTGRES_TLS_CERT_PATH,
      ssl_key_file: POSTGRES_TLS_KEY_PATH,
      ssl_min_protocol_version: 'TLSv1.2',
    } : {}),
    wal_level: 'replica',
    // pg_rewind needs hints (or data checksums, which initdb turns on too) to bring an old primary back.
    wal_log_hints: 'on',
    hot_standby: 'on',
    max_wal_senders: 10,
    max_replication_slots: 10,
    wal_keep_size: '512MB',
    max_slot_wal_keep_size: `${maxSlotWalKeepMiB}MB`,
    shared_buffers: `${memory.sharedBuffersMiB}MB`,
    effective_cache_size: `${memory.effectiveCacheSizeMiB}MB`,
    work_mem: `${memory.workMemMiB}MB`,
    maintenance_work_mem: `${memory.maintenanceWorkMemMiB}MB`,
  };
}

function hbaLine(type: string, database: string, user: string, address: string, method: string): string {
  return [type.padEnd(7), database.padEnd(12), user.padEnd(12), address.padEnd(18), method].join(' ').trimEnd();
}

/**
 * The `pg_hba.conf` lines of one datastore node (Patroni writes them). Only what the datastore needs, each with
 * scram-sha-256 from single addresses: the K3s user to the K3s database from every K3s server and every load
 * balancer (HAProxy opens the writer endpoint's connections, so PostgreSQL sees the load balancer's address),
 * replication and pg_rewind's role from the other datastore nodes, and over the local socket the
 * `postgres` OS user (peer) and Patroni's own replication check. Anything else matches no line and is rejected.
 *
 * With `postgres.tls` the network lines are `hostssl`: a connection without TLS is rejected, and replicas verify
 * their primary's certificate (`sslmode=verify-full`) like K3s does.
 */
export function postgresHbaLines(plan: SitePlan, hostName: string): string[] {
  const { postgres } = requireDatastoreNode(plan, hostName);
  const clients = [...hostsWithRole(plan, HostRole.K3S_SERVER), ...(plan.loadBalancer?.nodes ?? [])].map((h) => h.ip);
  const peers = postgres.nodes.filter((n) => n.name !== hostName).map((n) => n.ip);
  const type = postgres.tls ? 'hostssl' : 'host';
  return [
    hbaLine('local', 'all', POSTGRES_SUPERUSER, '', 'peer'),
    hbaLine('local', 'replication', POSTGRES_REPLICATION_USER, '', 'scram-sha-256'),
    ...[...new Set(clients)].map((ip) => hbaLine(type, postgres.database, postgres.user, `${ip}/32`, 'scram-sha-256')),
    ...peers.map((ip) => hbaLine(type, 'replication', POSTGRES_REPLICATION_USER, `${ip}/32`, 'scram-sha-256')),
    ...peers.map((ip) => hbaLine(type, 'postgres', POSTGRES_REWIND_USER, `${ip}/32`, 'scram-sha-256')),
    // A replica sets rotated role passwords on the primary (patroni-rotate-passwords.sh); peers hold it already.
    ...peers.map((ip) => hbaLine(type, 'postgres', POSTGRES_SUPERUSER, `${ip}/32`, 'scram-sha-256')),
  ];
}
