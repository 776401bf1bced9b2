import { ServiceChange } from '../cloud-init/service-step';
import { CloudConfig, FileEncoding, Protocol } from '../cloud-init/cloud-config';
import {
  ETCD_CLIENT_PORT, ETCD_DROP_IN_PATH, ETCD_INITIAL_STATE_PATH, ETCD_WAIT_READY_PATH, ETCD_ENV_PATH, ETCD_PEER_PORT, ETCD_TLS_CA_PATH, ETCD_TLS_CERT_PATH, ETCD_TLS_KEY_PATH, PATRONI_API_PORT,
  PATRONI_CONFIG_PATH, PATRONI_DROP_IN_PATH, PATRONI_ENV_PATH, PATRONI_OWN_PASSWORDS, PATRONI_ROTATE_PASSWORDS_PATH, POSTGRES_SCRAM_VERIFIER_PATH, POSTGRES_SYNC_K3S_PASSWORD_PATH, PATRONI_ETCD_V3_PATH, PATRONI_POST_BOOTSTRAP_PATH, PATRONICTL_PATH, POSTGRES_CREATECLUSTER_PATH, POSTGRES_PREPARE_PATH,
  POSTGRES_RUNBOOK_PATH, POSTGRES_SUPERUSER, POSTGRES_TLS_CA_PATH, POSTGRES_TLS_CERT_PATH, POSTGRES_TLS_KEY_PATH, PatroniSecrets, PostgresAsset, etcdctlCommand,
  patroniEditConfigArguments, postgresAsset, postgresPaths, renderEtcdEnvironmentFile, renderEtcdServiceDropIn, renderPatroniConfig, renderPatroniEnvironmentFile,
  renderPatroniServiceDropIn, renderPostgresRunbook, requireDatastoreNode, requireEtcdMember, requirePostgres,
  HAPROXY_WRITER_DOWN_STATE_PATH, HAPROXY_WRITER_DROP_IN_PATH, HAPROXY_WRITER_STATE_PATH, HAPROXY_WRITER_STATE_SCRIPT_PATH, renderHaproxyWriterDropIn,
  renderWriterDownStateFile,
} from '../renderers/postgres';
import { SitePlan } from '../site/plan';
import { shellQuote } from '../cloud-init/shell-quote';

const ROLE = 'datastore';
const WITNESS_ROLE = 'datastore-witness';
const WRITER_ROLE = 'datastore-writer-endpoint';

export { PatroniSecrets as DatastoreSecrets };

/**
 * A host's TLS material with `postgres.tls`, as Terraform expressions of the base64 of each PEM (e.g.
 * `Fn.base64encode(cert.certPem)`), never literal values: the key is a secret.
 */
export interface DatastoreTlsFiles {
  /** Base64 of the datastore CA certificate's PEM. */
  readonly caCertificateBase64: string;
  /** Base64 of this host's certificate's PEM (server and client: PostgreSQL, Patroni's REST API, etcd). */
  readonly certificateBase64: string;
  /** Base64 of this host's private key's PEM. */
  readonly privateKeyBase64: string;
}

function checkTls(plan: SitePlan, tls: DatastoreTlsFiles | undefined): void {
  if (requirePostgres(plan).tls !== (tls !== undefined)) {
    throw new Error(`tls: ${tls === undefined ? 'undefined' : 'TLS files'} — ${plan.postgres!.tls
      ? `the host's CA, certificate and key, since postgres.tls is true for site ${plan.name}`
      : `undefined, since postgres.tls is false for site ${plan.name}`}`);
  }
}

/** Writes the three PEM files (decoded by cloud-init / the converge script) with an owner. */
function addTlsFiles(config: CloudConfig, role: string, tls: DatastoreTlsFiles, paths: { ca: string; cert: string; key: string }, owner: string): void {
  config.addFile(role, { path: paths.ca, content: tls.caCertificateBase64, encoding: FileEncoding.BASE64, mode: '0644', owner });
  config.addFile(role, { path: paths.cert, content: tls.certificateBase64, encoding: FileEncoding.BASE64, mode: '0644', owner });
  config.addFile(role, { path: paths.key, content: tls.privateKeyBase64, encoding: FileEncoding.BASE64, mode: '0600', owner });
}

/**
 * The etcd member every datastore node and the witness run: Debian's `etcd-server` with our settings through a
 * drop-in, a restart when they change (one member at a time in the rollout, so the quorum holds), and a gate that
 * waits for the member to be healthy.
 */
function addEtcdMember(config: CloudConfig, role: string, plan: SitePlan, hostName: string, tls: DatastoreTlsFiles | undefined): void {
  const { host } = requireEtcdMember(plan, hostName);
  config.addPackages(role, 'etcd-server', 'etcd-client');
  config.claimPort(role, { port: ETCD_CLIENT_PORT, protocol: Protocol.TCP, address: host.ip, description: 'etcd client (datastore DCS)' });
  config.claimPort(role, { port: ETCD_CLIENT_PORT, protocol: Protocol.TCP, address: '127.0.0.1', description: 'etcd client (local)' });
  config.claimPort(role, { port: ETCD_PEER_PORT, protocol: Protocol.TCP, address: host.ip, description: 'etcd peer (datastore DCS)' });
  config.addFile(role, { path: ETCD_ENV_PATH, content: renderEtcdEnvironmentFile(plan, hostName) });
  config.addFile(role, { path: ETCD_DROP_IN_PATH, content: renderEtcdServiceDropIn(plan, hostName) });
  config.addFile(role, { path: ETCD_INITIAL_STATE_PATH, content: postgresAsset(PostgresAsset.ETCD_INITIAL_STATE), mode: '0755' });
  const tlsPaths = tls ? [ETCD_TLS_CA_PATH, ETCD_TLS_CERT_PATH, ETCD_TLS_KEY_PATH] : [];
  if (tls) {
    addTlsFiles(config, role, tls, { ca: ETCD_TLS_CA_PATH, cert: ETCD_TLS_CERT_PATH, key: ETCD_TLS_KEY_PATH }, 'etcd:etcd');
  }
  config.addCommand(role, 'systemctl daemon-reload');
  config.addService(role, { unit: 'etcd', watches: [ETCD_ENV_PATH, ETCD_DROP_IN_PATH, ...tlsPaths], onChange: ServiceChange.RESTART });
  // Healthy means serving with a quorum; on a first rollout the first members wait for the later ones, so only a
  // member that was healthy before must be healthy again.
  const health = `${etcdctlCommand(plan, hostName)} endpoint health`;
  config.addGate(role, {
    description: 'the etcd member of the datastore is healthy again (when it was before)',
    before: `${health} >/dev/null 2>&1 && echo healthy || true`,
    check: `[ "$before" != healthy ] || ${health}`,
    timeoutSeconds: 120,
  });
}

/**
 * Attaches a datastore node to a host: PostgreSQL managed by Patroni (Debian's `patroni` package), whose leader key
 * lives in the datastore's etcd (a member runs here too), the post-bootstrap script that creates the K3s user and
 * database, the runbook, and the gates a rollout waits for.
 *
 * First boot: Debian's fresh cluster `main` is dropped (the preparation script refuses when it holds a datastore
 * from before Patroni), etcd starts, Patroni starts: the first node to take the leader key initializes the
 * cluster, the others clone it. Later converges: a changed Patroni configuration reloads Patroni (no restart of
 * PostgreSQL) and pushes the cluster-wide settings (`patronictl edit-config`); PostgreSQL settings that need a
 * restart show as "Pending restart" in `patronictl list` for the operator to schedule. A rotated K3s password is set
 * on the primary; a rotated password of Patroni's own (superuser, replication, rewind, REST API) is set on the
 * primary's roles first, then Patroni restarts in maintenance mode, so PostgreSQL keeps running
 * (`patroni-rotate-passwords.sh`).
 *
 * With `postgres.tls`, `tls` is required: the CA, certificate and key are written for PostgreSQL and Patroni
 * (owner postgres) and for etcd (owner etcd).
 *
 * @param secrets the datastore passwords (Terraform references), written only into Patroni's root-only environment file
 * @param tls the node's TLS files (Terraform references); required with `postgres.tls`, refused without it
 */
export function applyDatastoreRole(config: CloudConfig, plan: SitePlan, hostName: string, secrets: PatroniSecrets, tls?: DatastoreTlsFiles): void {
  const { postgres, host } = requireDatastoreNode(plan, hostName);
  checkTls(plan, tls);
  config.addPackages(ROLE, `postgresql-${postgres.version}`, 'patroni', 'curl');
  config.claimPort(ROLE, { port: postgres.port, protocol: Protocol.TCP, address: host.ip, description: 'postgresql' });
  config.claimPort(ROLE, { port: postgres.port, protocol: Protocol.TCP, address: '127.0.0.1', description: 'postgresql (local)' });
  config.claimPort(ROLE, { port: PATRONI_API_PORT, protocol: Protocol.TCP, address: host.ip, description: 'patroni REST API (the writer endpoint checks /primary)' });

  config.addFile(ROLE, { path: POSTGRES_CREATECLUSTER_PATH, content: '# Rendered by proxmox-k3s-ha: Patroni creates the clusters.\ncreate_main_cluster = false\n' });
  config.addFile(ROLE, { path: PATRONI_CONFIG_PATH, content: renderPatroniConfig(plan, hostName), mode: '0640', owner: 'root:postgres' });
  config.addFile(ROLE, { path: PATRONI_ENV_PATH, content: renderPatroniEnvironmentFile(secrets), mode: '0600' });
  config.addFile(ROLE, { path: PATRONI_DROP_IN_PATH, content: renderPatroniServiceDropIn(plan, hostName) });
  config.addFile(ROLE, { path: ETCD_WAIT_READY_PATH, content: postgresAsset(PostgresAsset.ETCD_WAIT_READY), mode: '0755' });
  // Python, started by its interpreter (no `#!` line): the unit and the wrapper below name /usr/bin/python3.
  config.addFile(ROLE, { path: PATRONI_ETCD_V3_PATH, content: postgresAsset(PostgresAsset.PATRONI_ETCD_V3) });
  // Operators and the runbook type `patronictl`: root's PATH finds this one before the package's.
  config.addFile(ROLE, { path: PATRONICTL_PATH, content: postgresAsset(PostgresAsset.PATRONICTL), mode: '0755' });
  config.addFile(ROLE, { path: POSTGRES_PREPARE_PATH, content: postgresAsset(PostgresAsset.PREPARE), mode: '0755' });
  config.addFile(ROLE, { path: PATRONI_POST_BOOTSTRAP_PATH, content: postgresAsset(PostgresAsset.POST_BOOTSTRAP), mode: '0755' });
  config.addFile(ROLE, { path: POSTGRES_SYNC_K3S_PASSWORD_PATH, content: postgresAsset(PostgresAsset.SYNC_K3S_PASSWORD), mode: '0755' });
  config.addFile(ROLE, { path: PATRONI_ROTATE_PASSWORDS_PATH, content: postgresAsset(PostgresAsset.ROTATE_PASSWORDS), mode: '0755' });
  config.addFile(ROLE, { path: POSTGRES_SCRAM_VERIFIER_PATH, content: postgresAsset(PostgresAsset.SCRAM_VERIFIER) });
  config.addFile(ROLE, { path: POSTGRES_RUNBOOK_PATH, content: renderPostgresRunbook(plan) });
  if (tls) {
    addTlsFiles(config, ROLE, tls, { ca: POSTGRES_TLS_CA_PATH, cert: POSTGRES_TLS_CERT_PATH, key: POSTGRES_TLS_KEY_PATH }, 'postgres:postgres');
  }

  config.addCommand(ROLE, `${POSTGRES_PREPARE_PATH} ${postgres.version}`);
  addEtcdMember(config, ROLE, plan, hostName, tls);
  const patronictl = `${PATRONICTL_PATH} -c ${PATRONI_CONFIG_PATH}`;
  const paths = postgresPaths(plan);
  const scheme = postgres.tls ? 'https' : 'http';
  const api = `${scheme}://${host.ip}:${PATRONI_API_PORT}`;
  const localSuperuser = `host=${paths.socketDir} port=${postgres.port} dbname=postgres user=${POSTGRES_SUPERUSER}`;
  const primarySuperuser = `port=${postgres.port} dbname=postgres user=${POSTGRES_SUPERUSER}${postgres.tls ? ` sslmode=verify-full sslrootcert=${POSTGRES_TLS_CA_PATH}` : ''}`;
  // Patroni's own passwords reach a running Patroni only through a restart, after the primary's roles took them.
  const rotatePasswords = [
    PATRONI_ROTATE_PASSWORDS_PATH, PATRONI_ENV_PATH, api, postgres.tls ? POSTGRES_TLS_CA_PATH : '-', paths.psql, shellQuote(localSuperuser), shellQuote(primarySuperuser),
    ...Object.entries(PATRONI_OWN_PASSWORDS).map(([name, { role }]) => `${name}:${role ?? ''}`),
  ].join(' ');
  // A reload does not change the running Patroni's environment, and the K3s user's password lives in PostgreSQL:
  // the primary takes a rotated one here, before the K3s servers (later in the rollout) use it.
  const syncK3sPassword = `${POSTGRES_SYNC_K3S_PASSWORD_PATH} ${PATRONI_ENV_PATH} ${postgres.user} ${paths.psql} ${shellQuote(localSuperuser)}`;
  config.addService(ROLE, {
    unit: 'patroni',
    watches: [PATRONI_CONFIG_PATH, PATRONI_ENV_PATH, PATRONI_DROP_IN_PATH, ...(tls ? [POSTGRES_TLS_CA_PATH, POSTGRES_TLS_CERT_PATH, POSTGRES_TLS_KEY_PATH] : [])],
    onChange: ServiceChange.RELOAD,
    // A running Patroni reloads (PostgreSQL keeps running) and the cluster-wide settings follow the site. A first
    // start bootstraps them from the configuration, and does not block: Patroni waits for an etcd quorum that
    // the next hosts of the rollout may only bring (systemd retries it).
    apply: `if systemctl is-active --quiet patroni; then
  ${rotatePasswords}
  systemctl reload patroni
  ${patronictl} ${patroniEditConfigArguments(plan).join(' ')}
  ${syncK3sPassword}
else
  systemctl start --no-block patroni
fi`,
  });
  const curl = `curl -fsS --max-time 5${postgres.tls ? ` --cacert ${POSTGRES_TLS_CA_PATH}` : ''}`;
  // As for etcd: on a first rollout the first node waits for an etcd quorum, so only a node that ran before must run again.
  const healthy = `${curl} -o /dev/null ${api}/health && ${curl} ${api}/cluster | grep -q '"role": "leader"'`;
  config.addGate(ROLE, {
    description: 'patroni runs postgresql here and the datastore has a primary (when it did before)',
    before: `{ ${healthy}; } >/dev/null 2>&1 && echo healthy || true`,
    check: `[ "$before" != healthy ] || { ${healthy}; }`,
    timeoutSeconds: 300,
  });
}

/**
 * Attaches the etcd witness to a host (`postgres.witness`): an etcd member and nothing else, so the datastore's
 * etcd keeps its quorum when one datastore node fails.
 *
 * @param tls the witness's TLS files (Terraform references); required with `postgres.tls`, refused without it
 */
export function applyDatastoreWitnessRole(config: CloudConfig, plan: SitePlan, hostName: string, tls?: DatastoreTlsFiles): void {
  const postgres = requirePostgres(plan);
  if (postgres.witness?.name !== hostName) {
    throw new Error(`site ${plan.name}: host ${JSON.stringify(hostName)} is not the datastore's etcd witness (${postgres.witness ? JSON.stringify(postgres.witness.name) : 'the site has none'})`);
  }
  checkTls(plan, tls);
  addEtcdMember(config, WITNESS_ROLE, plan, hostName, tls);
}

/**
 * What a load balancer needs besides the writer endpoint's HAProxy sections, so that no writer server starts UP:
 * the state file every start begins from (every server DOWN; also written in place, so the first start, before
 * systemd read the drop-in, begins from it too), the script that prepares it, and the `haproxy.service` drop-in that
 * runs that script at every start and around every reload (curl speaks to HAProxy's runtime API). systemd reads a
 * changed drop-in at the `daemon-reload` here: HAProxy's own step, earlier, may still reload with the package's
 * commands, and its servers then start DOWN from the file in place.
 */
export function applyWriterEndpointStartState(config: CloudConfig, plan: SitePlan): void {
  const down = renderWriterDownStateFile(plan);
  config.addPackages(WRITER_ROLE, 'curl');
  config.addFile(WRITER_ROLE, { path: HAPROXY_WRITER_STATE_SCRIPT_PATH, content: postgresAsset(PostgresAsset.HAPROXY_WRITER_STATE), mode: '0755' });
  config.addFile(WRITER_ROLE, { path: HAPROXY_WRITER_DOWN_STATE_PATH, content: down });
  config.addFile(WRITER_ROLE, { path: HAPROXY_WRITER_STATE_PATH, content: down });
  config.addFile(WRITER_ROLE, { path: HAPROXY_WRITER_DROP_IN_PATH, content: renderHaproxyWriterDropIn() });
  config.addCommand(WRITER_ROLE, 'systemctl daemon-reload');
}
