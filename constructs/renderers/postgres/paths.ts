import { HostPlan, SitePlan } from '../../site/plan';
import { DatastoreKind } from '../../site/spec';

/** Where the datastore's scripts and runbook are installed. */
export const POSTGRES_LIB_DIR = '/usr/local/lib/proxmox-k3s-ha';
/** The operator's runbook ({@link renderPostgresRunbook}), on every datastore node. */
export const POSTGRES_RUNBOOK_PATH = `${POSTGRES_LIB_DIR}/postgres-RUNBOOK.md`;
/** The first-boot preparation script (asset `postgres-prepare.sh`). */
export const POSTGRES_PREPARE_PATH = `${POSTGRES_LIB_DIR}/postgres-prepare.sh`;
/** The script Patroni runs once after initializing the cluster (asset `patroni-post-bootstrap.sh`). */
export const PATRONI_POST_BOOTSTRAP_PATH = `${POSTGRES_LIB_DIR}/patroni-post-bootstrap.sh`;
/** Sets the K3s user's password on the primary after Patroni's environment file changed (asset `postgres-sync-k3s-password.sh`). */
export const POSTGRES_SYNC_K3S_PASSWORD_PATH = `${POSTGRES_LIB_DIR}/postgres-sync-k3s-password.sh`;
/** Rotates Patroni's own passwords after its environment file changed (asset `patroni-rotate-passwords.sh`). */
export const PATRONI_ROTATE_PASSWORDS_PATH = `${POSTGRES_LIB_DIR}/patroni-rotate-passwords.sh`;
/** Beside it, which runs it from its own directory: a password's SCRAM verifier (asset `postgres-scram-verifier.py`). */
export const POSTGRES_SCRAM_VERIFIER_PATH = `${POSTGRES_LIB_DIR}/postgres-scram-verifier.py`;
/** Patroni's ExecStartPre (asset `etcd-wait-ready.sh`). */
export const ETCD_WAIT_READY_PATH = `${POSTGRES_LIB_DIR}/etcd-wait-ready.sh`;
/** etcd's ExecStartPre (asset `etcd-initial-state.sh`): a new or a rebuilt member's ETCD_INITIAL_CLUSTER_STATE. */
export const ETCD_INITIAL_STATE_PATH = `${POSTGRES_LIB_DIR}/etcd-initial-state.sh`;
/** Where that script writes the state, read by etcd's unit after the rendered settings. */
export const ETCD_INITIAL_STATE_ENV_PATH = '/run/proxmox-k3s-ha/etcd-initial-state.env';
/**
 * Runs `patroni` and `patronictl` on etcd's v3 API whatever the etcd cluster version (asset `patroni-etcd-v3.py`), run
 * as {@link PATRONI_ETCD_V3_COMMAND}.
 */
export const PATRONI_ETCD_V3_PATH = `${POSTGRES_LIB_DIR}/patroni-etcd-v3.py`;
/** Debian's and Ubuntu's interpreter of Patroni with that script: what `patroni …` and `patronictl …` start with. */
export const PATRONI_ETCD_V3_COMMAND = `/usr/bin/python3 ${PATRONI_ETCD_V3_PATH}`;
/** `patronictl` through {@link PATRONI_ETCD_V3_PATH}, ahead of Debian's `/usr/bin/patronictl` on root's PATH. */
export const PATRONICTL_PATH = '/usr/local/bin/patronictl';
/** The role streaming replication connects as. */
export const POSTGRES_REPLICATION_USER = 'replicator';
/** The PostgreSQL superuser Patroni connects as (over the local socket only). */
export const POSTGRES_SUPERUSER = 'postgres';
/** The role pg_rewind connects to a peer as. */
export const POSTGRES_REWIND_USER = 'rewind';
/** The user of Patroni's REST API for what changes the cluster (switchover, restart, reinit). */
export const PATRONI_API_USER = 'patroni';
/** Patroni's REST API port: HAProxy's writer backend asks `GET /primary` here. */
export const PATRONI_API_PORT = 8008;
/** etcd's client and peer ports. */
export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;
/** Name of the writer frontend and backend in `haproxy.cfg`. */
export const POSTGRES_WRITER_BACKEND = 'postgres_writer';
/** The writer backend's fixed HAProxy id: the state file that every start begins from names the backend by it. */
export const POSTGRES_WRITER_BACKEND_ID = 5432;
/** The state the writer backend's servers start in (HAProxy's `server-state-file-name`), prepared by the script below. */
export const HAPROXY_WRITER_STATE_PATH = '/var/lib/haproxy/postgres-writer.state';
/** The same state with every writer server DOWN: what HAProxy starts from, except on a reload. */
export const HAPROXY_WRITER_DOWN_STATE_PATH = '/etc/haproxy/postgres-writer-down.state';
/** Prepares {@link HAPROXY_WRITER_STATE_PATH} before HAProxy starts or reloads (asset `haproxy-writer-state.sh`). */
export const HAPROXY_WRITER_STATE_SCRIPT_PATH = `${POSTGRES_LIB_DIR}/haproxy-writer-state.sh`;
/** A drop-in for `haproxy.service` that runs that script at every start and around every reload. */
export const HAPROXY_WRITER_DROP_IN_PATH = '/etc/systemd/system/haproxy.service.d/20-proxmox-k3s-ha-postgres-writer.conf';
/** Patroni's cluster name (`scope`) and its key prefix in etcd. */
export const PATRONI_SCOPE = 'k3s-datastore';
export const PATRONI_NAMESPACE = '/proxmox-k3s-ha/';

/** Patroni's configuration (secrets come from {@link PATRONI_ENV_PATH}). */
export const PATRONI_CONFIG_PATH = '/etc/patroni/config.yml';
/** Patroni's environment file: the passwords, as Terraform references (0600, root; systemd reads it). */
export const PATRONI_ENV_PATH = '/etc/proxmox-k3s-ha/patroni.env';
/** A drop-in for Debian's `patroni.service`: the environment file, ordering after etcd and the network. */
export const PATRONI_DROP_IN_PATH = '/etc/systemd/system/patroni.service.d/10-proxmox-k3s-ha.conf';
/** The etcd member's settings (`ETCD_*` variables), read through {@link ETCD_DROP_IN_PATH}. */
export const ETCD_ENV_PATH = '/etc/proxmox-k3s-ha/etcd.env';
/** A drop-in for Debian's `etcd.service`: our environment file after the package's `/etc/default/etcd`. */
export const ETCD_DROP_IN_PATH = '/etc/systemd/system/etcd.service.d/10-proxmox-k3s-ha.conf';
/**
 * The etcd member's data directory. Not the package's `/var/lib/etcd/default`: the package starts a single-member
 * etcd there on install, before our settings exist, and etcd ignores the initial cluster once a data dir exists.
 */
export const ETCD_DATA_DIR = '/var/lib/etcd/proxmox-k3s-ha';
/** Stops the package's main cluster from being created by a later `postgresql-<v>` install. */
export const POSTGRES_CREATECLUSTER_PATH = '/etc/postgresql-common/createcluster.d/50-proxmox-k3s-ha.conf';

/** With `postgres.tls`: the datastore node's TLS files for PostgreSQL and Patroni (owner postgres). */
export const POSTGRES_TLS_DIR = '/etc/proxmox-k3s-ha/postgres-tls';
/** The datastore CA certificate (replicas, Patroni and etcd verify their peers against it). */
export const POSTGRES_TLS_CA_PATH = `${POSTGRES_TLS_DIR}/ca.crt`;
/** The node's certificate: PostgreSQL's server certificate, Patroni's REST API and etcd client certificate. */
export const POSTGRES_TLS_CERT_PATH = `${POSTGRES_TLS_DIR}/server.crt`;
/** The node's key (0600, owner postgres: PostgreSQL refuses a looser key). */
export const POSTGRES_TLS_KEY_PATH = `${POSTGRES_TLS_DIR}/server.key`;
/** With `postgres.tls`: the etcd member's TLS files (owner etcd: etcd runs as that user). */
export const ETCD_TLS_DIR = '/etc/proxmox-k3s-ha/etcd-tls';
export const ETCD_TLS_CA_PATH = `${ETCD_TLS_DIR}/ca.crt`;
export const ETCD_TLS_CERT_PATH = `${ETCD_TLS_DIR}/member.crt`;
export const ETCD_TLS_KEY_PATH = `${ETCD_TLS_DIR}/member.key`;
/** With `postgres.tls`: the datastore CA on the load balancers, for checking Patroni's REST API. */
export const HAPROXY_DATASTORE_CA_PATH = '/etc/haproxy/datastore-ca.crt';
/** With `postgres.tls`: the datastore CA on every K3s server, K3s's `datastore-cafile`. */
export const K3S_DATASTORE_CA_PATH = '/etc/rancher/k3s/datastore-ca.crt';

/** The resolved `postgres` part of a plan. */
export type PostgresPlan = NonNullable<SitePlan['postgres']>;

/** Where Debian's postgresql-common puts the binaries and the data of a major version. */
export interface PostgresPaths {
  /** `/usr/lib/postgresql/<v>/bin` */
  readonly binDir: string;
  /** `<binDir>/psql`: this version's client (Debian's `/usr/bin/psql` wrapper may pick another cluster's). */
  readonly psql: string;
  /** `/var/lib/postgresql/<v>/main`: the data directory Patroni manages (its configuration files live in it). */
  readonly dataDir: string;
  /** `/var/run/postgresql`, the directory of the local Unix socket */
  readonly socketDir: string;
  /** `/etc/postgresql/<v>/main`: Debian's configuration of the package's own cluster, which Patroni replaces. */
  readonly debianConfigDir: string;
}

/** The Debian paths of a site's PostgreSQL version. */
export function postgresPaths(plan: SitePlan): PostgresPaths {
  const { version } = requirePostgres(plan);
  const binDir = `/usr/lib/postgresql/${version}/bin`;
  return {
    binDir,
    psql: `${binDir}/psql`,
    dataDir: `/var/lib/postgresql/${version}/main`,
    socketDir: '/var/run/postgresql',
    debianConfigDir: `/etc/postgresql/${version}/main`,
  };
}

/** The `postgres` plan of a site, or an error saying the site uses another datastore. */
export function requirePostgres(plan: SitePlan): PostgresPlan {
  if (!plan.postgres) {
    throw new Error(`site ${plan.name}: controlPlane.datastore is ${JSON.stringify(plan.controlPlane.datastore)}, expected "${DatastoreKind.POSTGRES}" for the PostgreSQL datastore`);
  }
  return plan.postgres;
}

/** A datastore node of the plan, or an error naming the datastore nodes. */
export function requireDatastoreNode(plan: SitePlan, hostName: string): { postgres: PostgresPlan; host: HostPlan; index: number } {
  const postgres = requirePostgres(plan);
  const index = postgres.nodes.findIndex((n) => n.name === hostName);
  const host = plan.hosts.find((h) => h.name === hostName);
  if (index < 0 || !host) {
    throw new Error(`site ${plan.name}: host ${JSON.stringify(hostName)} is not a datastore node (datastore nodes: ${postgres.nodes.map((n) => n.name).join(', ')})`);
  }
  return { postgres, host, index };
}

/** An etcd member of the datastore (a datastore node or the witness), or an error naming the members. */
export function requireEtcdMember(plan: SitePlan, hostName: string): { postgres: PostgresPlan; host: HostPlan } {
  const postgres = requirePostgres(plan);
  const host = plan.hosts.find((h) => h.name === hostName);
  if (!host || !postgres.etcdMembers.some((m) => m.name === hostName)) {
    throw new Error(`site ${plan.name}: host ${JSON.stringify(hostName)} is not an etcd member of the datastore (members: ${postgres.etcdMembers.map((m) => m.name).join(', ')})`);
  }
  return { postgres, host };
}

/** The first line of every rendered file. */
export const renderedHeader = (plan: SitePlan, hostName: string, comment = '#') => `${comment} Rendered by proxmox-k3s-ha for ${hostName} (site ${plan.name}); do not edit by hand.`;
