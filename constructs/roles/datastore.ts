import { ServiceChange } from '../cloud-init/service-step';
import { CloudConfig, Protocol } from '../cloud-init/cloud-config';
import {
  POSTGRES_ENV_PATH, POSTGRES_PRIMARY_INIT_PATH, POSTGRES_PROMOTE_PATH, POSTGRES_REPLICA_INIT_PATH, POSTGRES_ROLE_CHECK_PATH, POSTGRES_ROLE_CHECK_PORT,
  POSTGRES_ROLE_CHECK_SERVICE_PATH, POSTGRES_ROLE_CHECK_SOCKET_PATH, POSTGRES_RUNBOOK_PATH, POSTGRES_TLS_CA_PATH, POSTGRES_TLS_CERT_PATH,
  POSTGRES_TLS_INSTALL_PATH, POSTGRES_TLS_KEY_PATH, postgresPaths, postgresTlsBase64Path, renderPostgresTlsInstallScript, renderPgHba, renderPostgresEnvironmentFile,
  renderPostgresPrimaryInitScript, renderPostgresPromoteScript, renderPostgresReplicaInitScript, renderPostgresRoleCheckScript,
  renderPostgresRoleCheckService, renderPostgresRoleCheckSocket, renderPostgresRunbook, renderPostgresServiceDropIn, renderPostgresSettings,
  requirePostgres,
} from '../renderers/postgres';
import { SitePlan } from '../site/plan';

const ROLE = 'datastore';

/** Passwords the datastore role writes into its environment file, as Terraform references (never literal values). */
export interface DatastoreSecrets {
  /** Password of the K3s database user. */
  readonly k3sPassword: string;
  /** Password of the `replicator` role streaming replication connects as. */
  readonly replicationPassword: string;
}

/**
 * The node's TLS material with `postgres.tls`, as Terraform expressions of the base64 of each PEM (e.g.
 * `Fn.base64encode(cert.certPem)`), never literal values: the key is a secret.
 */
export interface DatastoreTlsFiles {
  /** Base64 of the datastore CA certificate's PEM (replicas verify their primary against it). */
  readonly caCertificateBase64: string;
  /** Base64 of this node's server certificate's PEM. */
  readonly certificateBase64: string;
  /** Base64 of this node's server private key's PEM. */
  readonly privateKeyBase64: string;
}

/**
 * Attaches a PostgreSQL datastore node to a host: the distribution's `postgresql-<version>` package, the settings
 * drop-in and `pg_hba.conf` at the Debian paths, the passwords in a root-only environment file, the setup and
 * promotion scripts with the runbook, and the role check HAProxy's writer backend asks (a systemd socket on port
 * 8008). The first datastore node initializes the primary; the others clone it and stream from it. The role check
 * is enabled last, so a node only ever reports the role it was set up for.
 *
 * With `postgres.tls`, `tls` is required: the CA, certificate and key are written base64-encoded (root, 0600) and
 * decoded into the files PostgreSQL reads by the TLS install script, before the init scripts run.
 *
 * @param tls the node's TLS files (Terraform references); required with `postgres.tls`, refused without it
 */
export function applyDatastoreRole(config: CloudConfig, plan: SitePlan, hostName: string, secrets: DatastoreSecrets, tls?: DatastoreTlsFiles): void {
  const postgres = requirePostgres(plan);
  const index = postgres.nodes.findIndex((n) => n.name === hostName);
  if (index < 0) {
    throw new Error(`site ${plan.name}: host ${JSON.stringify(hostName)} is not a datastore node (datastore nodes: ${postgres.nodes.map((n) => n.name).join(', ')})`);
  }
  const node = postgres.nodes[index];
  if (postgres.tls !== (tls !== undefined)) {
    throw new Error(`tls: ${tls === undefined ? 'undefined' : 'TLS files'} — ${postgres.tls
      ? `the node's CA, certificate and key, since postgres.tls is true for site ${plan.name}`
      : `undefined, since postgres.tls is false for site ${plan.name}`}`);
  }
  const paths = postgresPaths(plan);
  // curl: the role check asks its peers, the replica init asks which peer is primary.
  config.addPackages(ROLE, `postgresql-${postgres.version}`, 'curl');
  config.claimPort(ROLE, { port: postgres.port, protocol: Protocol.TCP, address: node.ip, description: 'postgresql' });
  config.claimPort(ROLE, { port: postgres.port, protocol: Protocol.TCP, address: '127.0.0.1', description: 'postgresql (local)' });
  config.claimPort(ROLE, { port: POSTGRES_ROLE_CHECK_PORT, protocol: Protocol.TCP, address: node.ip, description: 'postgresql role check for the writer endpoint' });

  config.addFile(ROLE, { path: paths.settingsPath, content: renderPostgresSettings(plan, hostName), owner: 'postgres:postgres' });
  config.addFile(ROLE, { path: paths.hbaPath, content: renderPgHba(plan, hostName), mode: '0640', owner: 'postgres:postgres' });
  config.addFile(ROLE, { path: paths.serviceDropInPath, content: renderPostgresServiceDropIn() });
  config.addFile(ROLE, { path: POSTGRES_ENV_PATH, content: renderPostgresEnvironmentFile(secrets.k3sPassword, secrets.replicationPassword), mode: '0600' });
  config.addFile(ROLE, { path: POSTGRES_PRIMARY_INIT_PATH, content: renderPostgresPrimaryInitScript(plan, hostName), mode: '0755' });
  config.addFile(ROLE, { path: POSTGRES_REPLICA_INIT_PATH, content: renderPostgresReplicaInitScript(plan, hostName), mode: '0755' });
  config.addFile(ROLE, { path: POSTGRES_PROMOTE_PATH, content: renderPostgresPromoteScript(plan, hostName), mode: '0755' });
  config.addFile(ROLE, { path: POSTGRES_ROLE_CHECK_PATH, content: renderPostgresRoleCheckScript(plan, hostName), mode: '0755' });
  config.addFile(ROLE, { path: POSTGRES_RUNBOOK_PATH, content: renderPostgresRunbook(plan) });
  config.addFile(ROLE, { path: POSTGRES_ROLE_CHECK_SOCKET_PATH, content: renderPostgresRoleCheckSocket(plan, hostName) });
  config.addFile(ROLE, { path: POSTGRES_ROLE_CHECK_SERVICE_PATH, content: renderPostgresRoleCheckService() });

  if (tls) {
    for (const [path, content] of [[POSTGRES_TLS_CA_PATH, tls.caCertificateBase64], [POSTGRES_TLS_CERT_PATH, tls.certificateBase64],
      [POSTGRES_TLS_KEY_PATH, tls.privateKeyBase64]] as const) {
      config.addFile(ROLE, { path: postgresTlsBase64Path(path), content: `${content}\n`, mode: '0600' });
    }
    config.addFile(ROLE, { path: POSTGRES_TLS_INSTALL_PATH, content: renderPostgresTlsInstallScript(plan, hostName), mode: '0755' });
  }

  config.addCommand(ROLE, 'systemctl daemon-reload');
  if (tls) {
    config.addCommand(ROLE, POSTGRES_TLS_INSTALL_PATH);
  }
  config.addCommand(ROLE, index === 0 ? POSTGRES_PRIMARY_INIT_PATH : POSTGRES_REPLICA_INIT_PATH);
  // A reload takes most settings; the few that need a restart (pg_settings.pending_restart) get one.
  const psql = `runuser -u postgres -- psql -X -A -t -p ${postgres.port} -h ${paths.socketDir}`;
  config.addService(ROLE, {
    unit: paths.service,
    watches: [paths.settingsPath, paths.hbaPath, paths.serviceDropInPath],
    onChange: ServiceChange.RELOAD,
    apply: `systemctl reload-or-restart ${paths.service}
if [ "$(${psql} -c 'SELECT count(*) FROM pg_settings WHERE pending_restart')" != 0 ]; then systemctl restart ${paths.service}; fi`,
  });
  config.addGate(ROLE, index === 0
    ? {
      description: 'postgresql accepts connections and streams to at least as many replicas as before',
      before: `${psql} -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"`,
      check: `n=$(${psql} -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") && [ "$n" -ge "\${before:-0}" ]`,
      timeoutSeconds: 120,
    }
    : {
      description: 'the replica streams from the primary',
      check: `[ "$(${psql} -c 'SELECT status FROM pg_stat_wal_receiver')" = streaming ]`,
      timeoutSeconds: 120,
    });
  config.addCommand(ROLE, 'systemctl enable --now postgres-role-check.socket');
}
