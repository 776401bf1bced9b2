import { parse } from 'yaml';
import { HostRole, SitePlan, defineSite } from '../../constructs';
import { readFileSync } from 'fs';
import { join } from 'path';
import {
  ETCD_DATA_DIR, HAPROXY_ADMIN_SOCKET_PATH, HAPROXY_DATASTORE_CA_PATH, HAPROXY_WRITER_DOWN_STATE_PATH, HAPROXY_WRITER_STATE_PATH, HAPROXY_WRITER_STATE_SCRIPT_PATH,
  PATRONI_ENV_PATH, PATRONI_POST_BOOTSTRAP_PATH, POSTGRES_ASSET_DIR, POSTGRES_TLS_CA_PATH, POSTGRES_TLS_CERT_PATH, POSTGRES_TLS_KEY_PATH, POSTGRES_WRITER_BACKEND_ID, PostgresAsset,
  etcdctlCommand, patroniDynamicSettings, patroniEditConfigArguments, postgresDatastoreEndpoint, postgresHbaLines, postgresMemorySettings,
  postgresNodeParameters, postgresPaths, postgresServerCertificateNames, postgresWriterAddress, renderEtcdEnvironmentFile,
  renderEtcdServiceDropIn, renderHaproxyConfig, renderHaproxyWriterDropIn, renderPatroniConfig, renderPatroniEnvironmentFile, renderPatroniServiceDropIn, renderPostgresRunbook,
  renderPostgresWriterHaproxySections, renderWriterDownStateFile,
} from '../../constructs/renderers';
import lab from '../../sites/lab';
import { colocatedSite, pgHomelabSite, singleNodeSite } from './fixtures';

const homelab = defineSite(pgHomelabSite);
const colocated = defineSite(colocatedSite);
const single = defineSite(singleNodeSite);
const labPlan = defineSite(lab);
/** Seed 000 with `postgres.tls: false`. */
const plain = defineSite({ ...pgHomelabSite, postgres: { tls: false } });
/** Seed 000 with asynchronous replication. */
const asyncPlan = defineSite({ ...pgHomelabSite, name: 'pg-async', postgres: { synchronousCommit: false } });
/** Seed 000 with strict synchronous mode and slower failure detection. */
const strict = defineSite({ ...pgHomelabSite, name: 'pg-strict', postgres: { synchronousModeStrict: true, failover: { ttlSeconds: 30, loopWaitSeconds: 10, retryTimeoutSeconds: 10 } } });

/** The fields of pg_hba lines (`local` lines have no address). */
const fields = (lines: readonly string[]) => lines.map((line) => line.trim().split(/\s+/));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Yaml = Record<string, any>;
/** Patroni reads its configuration with PyYAML, a YAML 1.1 parser: parse the same way. */
const patroni = (plan: SitePlan, host: string): Yaml => parse(renderPatroniConfig(plan, host), { version: '1.1' }) as Yaml;

/** `KEY=value` lines of an environment file, comments left out. */
const envOf = (text: string): Record<string, string> => Object.fromEntries(text.split('\n').filter((line) => line !== '' && !line.startsWith('#'))
  .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));

/** Every key in a parsed document, at any depth. */
function allKeys(value: unknown): string[] {
  if (Array.isArray(value)) {
    return value.flatMap(allKeys);
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, inner]) => [key, ...allKeys(inner)]);
  }
  return [];
}

describe('postgresHbaLines', () => {
  test('seed 000 with TLS: hostssl, the K3s user from each server and each load balancer, replication, rewind and the superuser (a rotation) from the peer only', () => {
    expect(fields(postgresHbaLines(homelab, 'pg-node-1'))).toEqual([
      ['local', 'all', 'postgres', 'peer'],
      ['local', 'replication', 'replicator', 'scram-sha-256'],
      ['hostssl', 'k3s', 'k3s', '10.10.10.153/32', 'scram-sha-256'],
      ['hostssl', 'k3s', 'k3s', '10.10.10.154/32', 'scram-sha-256'],
      ['hostssl', 'k3s', 'k3s', '10.10.10.155/32', 'scram-sha-256'],
      ['hostssl', 'k3s', 'k3s', '10.10.10.151/32', 'scram-sha-256'],
      ['hostssl', 'k3s', 'k3s', '10.10.10.152/32', 'scram-sha-256'],
      ['hostssl', 'replication', 'replicator', '10.10.10.152/32', 'scram-sha-256'],
      ['hostssl', 'postgres', 'rewind', '10.10.10.152/32', 'scram-sha-256'],
      ['hostssl', 'postgres', 'postgres', '10.10.10.152/32', 'scram-sha-256'],
    ]);
  });

  test('without TLS: the same rules as host lines; the peer of pg-node-2 is pg-node-1', () => {
    const lines = fields(postgresHbaLines(plain, 'pg-node-2'));
    expect(lines.filter(([type]) => type.startsWith('host')).map(([type]) => type)).toEqual(Array(8).fill('host'));
    expect(lines.filter(([, database]) => database === 'replication' || database === 'postgres').filter(([type]) => type !== 'local')).toEqual([
      ['host', 'replication', 'replicator', '10.10.10.151/32', 'scram-sha-256'],
      ['host', 'postgres', 'rewind', '10.10.10.151/32', 'scram-sha-256'],
      ['host', 'postgres', 'postgres', '10.10.10.151/32', 'scram-sha-256'],
    ]);
  });

  test('a K3s server that is also a load balancer is listed once; the site\'s database and user names are used', () => {
    expect(fields(postgresHbaLines(colocated, 'db-2')).filter(([type]) => type === 'hostssl')).toEqual([
      ['hostssl', 'kine', 'kine_user', '198.18.0.11/32', 'scram-sha-256'],
      ['hostssl', 'kine', 'kine_user', '198.18.0.12/32', 'scram-sha-256'],
      ['hostssl', 'kine', 'kine_user', '198.18.0.13/32', 'scram-sha-256'],
      ['hostssl', 'replication', 'replicator', '198.18.0.41/32', 'scram-sha-256'],
      ['hostssl', 'postgres', 'rewind', '198.18.0.41/32', 'scram-sha-256'],
      ['hostssl', 'postgres', 'postgres', '198.18.0.41/32', 'scram-sha-256'],
    ]);
  });

  test('only scram-sha-256 over the network, only /32 addresses, no "all" database or user there; peer auth only for postgres on the socket', () => {
    for (const plan of [homelab, plain, colocated]) {
      for (const node of plan.postgres!.nodes) {
        const lines = fields(postgresHbaLines(plan, node.name));
        for (const [type, database, user, address, method] of lines.filter(([t]) => t !== 'local')) {
          expect([type, method]).toEqual([plan.postgres!.tls ? 'hostssl' : 'host', 'scram-sha-256']);
          expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+\/32$/);
          expect([database, user]).not.toContain('all');
        }
        expect(lines.filter(([, , , method]) => method === 'peer')).toEqual([['local', 'all', 'postgres', 'peer']]);
        expect(lines.filter((line) => line.includes('trust') || line.includes('md5') || line.includes('password'))).toEqual([]);
      }
    }
  });

  test('a single node has no replication, rewind or superuser line over the network', () => {
    const lines = fields(postgresHbaLines(single, 'db-1'));
    expect(lines.filter(([type]) => type !== 'local')).toEqual([['hostssl', 'k3s', 'k3s', '198.18.0.11/32', 'scram-sha-256']]);
  });
});

describe('postgresNodeParameters', () => {
  test('seed 000 (2 GiB, 40 GiB disk): TLS settings, scram, WAL for replication and pg_rewind, memory from the host size', () => {
    expect(postgresNodeParameters(homelab, 'pg-node-2')).toEqual({
      unix_socket_directories: '/var/run/postgresql',
      password_encryption: 'scram-sha-256',
      ssl: 'on',
      ssl_cert_file: POSTGRES_TLS_CERT_PATH,
      ssl_key_file: POSTGRES_TLS_KEY_PATH,
      ssl_min_protocol_version: 'TLSv1.2',
      wal_level: 'replica',
      wal_log_hints: 'on',
      hot_standby: 'on',
      max_wal_senders: 10,
      max_replication_slots: 10,
      wal_keep_size: '512MB',
      max_slot_wal_keep_size: '10240MB',
      shared_buffers: '512MB',
      effective_cache_size: '1024MB',
      work_mem: '8MB',
      maintenance_work_mem: '128MB',
    });
  });

  test('without TLS: no ssl setting at all, everything else the same', () => {
    const withTls = postgresNodeParameters(homelab, 'pg-node-2');
    const without = postgresNodeParameters(plain, 'pg-node-2');
    expect(Object.keys(without).filter((key) => key.startsWith('ssl'))).toEqual([]);
    expect(without).toEqual(Object.fromEntries(Object.entries(withTls).filter(([key]) => !key.startsWith('ssl'))));
  });

  test('memory follows the host size (4 GiB) and the slot WAL limit the disk (100 GiB)', () => {
    expect(postgresNodeParameters(colocated, 'db-1')).toMatchObject({
      shared_buffers: '1024MB', effective_cache_size: '2048MB', work_mem: '16MB', maintenance_work_mem: '256MB', max_slot_wal_keep_size: '25600MB',
    });
  });

  test.each([
    [512, { sharedBuffersMiB: 128, effectiveCacheSizeMiB: 256, workMemMiB: 4, maintenanceWorkMemMiB: 64 }],
    [1024, { sharedBuffersMiB: 256, effectiveCacheSizeMiB: 512, workMemMiB: 4, maintenanceWorkMemMiB: 64 }],
    [2048, { sharedBuffersMiB: 512, effectiveCacheSizeMiB: 1024, workMemMiB: 8, maintenanceWorkMemMiB: 128 }],
    [8192, { sharedBuffersMiB: 2048, effectiveCacheSizeMiB: 4096, workMemMiB: 32, maintenanceWorkMemMiB: 512 }],
    [65536, { sharedBuffersMiB: 16384, effectiveCacheSizeMiB: 32768, workMemMiB: 64, maintenanceWorkMemMiB: 1024 }],
  ])('memory settings for %i MiB', (memoryMiB, expected) => {
    expect(postgresMemorySettings(memoryMiB)).toEqual(expected);
  });

  test('memory settings fail for less than 256 MiB or a fraction', () => {
    expect(() => postgresMemorySettings(128)).toThrow('memoryMiB: 128 — a whole number of MiB, at least 256 for PostgreSQL');
    expect(() => postgresMemorySettings(1024.5)).toThrow('memoryMiB: 1024.5');
  });

  test('Debian paths of the site\'s version', () => {
    expect(postgresPaths(colocated)).toEqual({
      binDir: '/usr/lib/postgresql/16/bin',
      psql: '/usr/lib/postgresql/16/bin/psql',
      dataDir: '/var/lib/postgresql/16/main',
      socketDir: '/var/run/postgresql',
      debianConfigDir: '/etc/postgresql/16/main',
    });
  });
});

describe('renderPatroniConfig', () => {
  test('starts with the rendered-by header and says where the passwords come from', () => {
    const text = renderPatroniConfig(homelab, 'pg-node-1');
    expect(text.split('\n').slice(0, 2)).toEqual([
      '# Rendered by proxmox-k3s-ha for pg-node-1 (site pg-homelab); do not edit by hand.',
      `# Passwords come from ${PATRONI_ENV_PATH} (PATRONI_*_PASSWORD), never from this file.`,
    ]);
  });

  test('cluster name, namespace and member name; the REST API on the node address with the node certificate', () => {
    const config = patroni(homelab, 'pg-node-2');
    expect([config.scope, config.namespace, config.name]).toEqual(['k3s-datastore', '/proxmox-k3s-ha/', 'pg-node-2']);
    expect(config.restapi).toEqual({
      listen: '10.10.10.152:8008', connect_address: '10.10.10.152:8008', certfile: POSTGRES_TLS_CERT_PATH, keyfile: POSTGRES_TLS_KEY_PATH, cafile: POSTGRES_TLS_CA_PATH,
    });
    expect(config.ctl).toEqual({ cacert: POSTGRES_TLS_CA_PATH, certfile: POSTGRES_TLS_CERT_PATH, keyfile: POSTGRES_TLS_KEY_PATH });
  });

  test('etcd3: the node\'s own member first, then the others (the witness included), no topology discovery, https with the node certificate', () => {
    expect(patroni(homelab, 'pg-node-1').etcd3).toEqual({
      hosts: ['10.10.10.151:2379', '10.10.10.152:2379', '10.10.10.153:2379'],
      use_proxies: true, protocol: 'https', cacert: POSTGRES_TLS_CA_PATH, cert: POSTGRES_TLS_CERT_PATH, key: POSTGRES_TLS_KEY_PATH,
    });
    expect(patroni(homelab, 'pg-node-2').etcd3.hosts).toEqual(['10.10.10.152:2379', '10.10.10.151:2379', '10.10.10.153:2379']);
    expect(patroni(colocated, 'db-2').etcd3.hosts).toEqual(['198.18.0.42:2379', '198.18.0.41:2379', '198.18.0.11:2379']);
  });

  test('without TLS: http to etcd, a plain REST API, no ctl section, no sslmode', () => {
    const config = patroni(plain, 'pg-node-1');
    expect(config.etcd3).toEqual({ hosts: ['10.10.10.151:2379', '10.10.10.152:2379', '10.10.10.153:2379'], use_proxies: true, protocol: 'http' });
    expect(config.restapi).toEqual({ listen: '10.10.10.151:8008', connect_address: '10.10.10.151:8008' });
    expect(config).not.toHaveProperty('ctl');
    expect(config.postgresql.authentication).toEqual({ superuser: { username: 'postgres' }, replication: { username: 'replicator' }, rewind: { username: 'rewind' } });
    expect(renderPatroniConfig(plain, 'pg-node-1')).not.toMatch(/ssl|tls/i);
  });

  test('bootstrap: the cluster-wide settings, initdb with checksums, pg_hba, the post-bootstrap script', () => {
    const { bootstrap } = patroni(homelab, 'pg-node-1');
    expect(bootstrap.dcs).toEqual({
      ...patroniDynamicSettings(homelab.postgres!),
      postgresql: { use_pg_rewind: true, use_slots: true },
    });
    expect(bootstrap.initdb).toEqual([{ encoding: 'UTF8' }, 'data-checksums']);
    expect(bootstrap.pg_hba).toEqual(postgresHbaLines(homelab, 'pg-node-1'));
    expect(bootstrap.post_bootstrap.split(' ')[0]).toBe(PATRONI_POST_BOOTSTRAP_PATH);
  });

  // Patroni runs `shlex.split(post_bootstrap) + [connstring]`; the script wants `DATABASE USER CONNSTRING`.
  test('post_bootstrap passes the site\'s database and user before the connection string Patroni appends', () => {
    expect(patroni(colocated, 'db-1').bootstrap.post_bootstrap).toBe(`${PATRONI_POST_BOOTSTRAP_PATH} kine kine_user`);
    expect(patroni(homelab, 'pg-node-1').bootstrap.post_bootstrap).toBe(`${PATRONI_POST_BOOTSTRAP_PATH} k3s k3s`);
  });

  test('postgresql: listens on the node address and loopback, the Debian paths of the site\'s version, verify-full to peers', () => {
    const { postgresql } = patroni(colocated, 'db-1');
    expect(postgresql).toMatchObject({
      listen: '198.18.0.41,127.0.0.1:5432',
      connect_address: '198.18.0.41:5432',
      data_dir: '/var/lib/postgresql/16/main',
      bin_dir: '/usr/lib/postgresql/16/bin',
      use_unix_socket: true,
      use_unix_socket_repl: true,
      // Clones start without waiting for a spread checkpoint on the primary.
      basebackup: [{ checkpoint: 'fast' }],
    });
    const tlsAuth = { sslmode: 'verify-full', sslrootcert: POSTGRES_TLS_CA_PATH };
    expect(postgresql.authentication).toEqual({
      superuser: { username: 'postgres', ...tlsAuth }, replication: { username: 'replicator', ...tlsAuth }, rewind: { username: 'rewind', ...tlsAuth },
    });
    expect(postgresql.pg_hba).toEqual(postgresHbaLines(colocated, 'db-1'));
    expect(patroni(defineSite({ ...colocatedSite, postgres: { ...colocatedSite.postgres, version: 15, port: 6543 } }), 'db-2').postgresql)
      .toMatchObject({ listen: '198.18.0.42,127.0.0.1:6543', connect_address: '198.18.0.42:6543', bin_dir: '/usr/lib/postgresql/15/bin', data_dir: '/var/lib/postgresql/15/main' });
  });

  test('the node\'s parameters survive YAML 1.1 (PyYAML) as strings: "on" is not read as a boolean', () => {
    const { parameters } = patroni(homelab, 'pg-node-1').postgresql;
    expect(parameters).toEqual(postgresNodeParameters(homelab, 'pg-node-1'));
    expect([parameters.ssl, parameters.wal_log_hints, parameters.hot_standby]).toEqual(['on', 'on', 'on']);
  });

  test('no password anywhere: neither a password key nor a password value', () => {
    for (const plan of [homelab, plain, colocated, single]) {
      for (const node of plan.postgres!.nodes) {
        const text = renderPatroniConfig(plan, node.name);
        // pgpass is the path of the file Patroni writes itself; password_encryption a PostgreSQL setting.
        expect(allKeys(parse(text, { version: '1.1' })).filter((key) => /pass/i.test(key))).toEqual(['pgpass', 'password_encryption']);
        expect(text.split('\n').filter((line) => !line.startsWith('#') && /password(?!_encryption)/i.test(line))).toEqual([]);
      }
    }
  });

  test('watchdog when the VM has one; failover tags at their defaults', () => {
    const config = patroni(homelab, 'pg-node-1');
    expect(config.watchdog).toEqual({ mode: 'automatic' });
    expect(config.tags).toEqual({ nofailover: false, noloadbalance: false, clonefrom: false, nosync: false });
  });
});

describe('patroniDynamicSettings', () => {
  test('two nodes: synchronous mode, failover timing from postgres.failover, an immediate failover on a PostgreSQL crash', () => {
    expect(patroniDynamicSettings(homelab.postgres!)).toEqual({
      ttl: 8, loop_wait: 2, retry_timeout: 3, maximum_lag_on_failover: 1048576, primary_start_timeout: 0, synchronous_mode: true, synchronous_mode_strict: false,
    });
  });

  test('postgres.failover and synchronousModeStrict are followed', () => {
    expect(patroniDynamicSettings(strict.postgres!)).toMatchObject({ ttl: 30, loop_wait: 10, retry_timeout: 10, synchronous_mode: true, synchronous_mode_strict: true });
    expect(patroni(strict, 'pg-node-1').bootstrap.dcs).toMatchObject({ ttl: 30, loop_wait: 10, retry_timeout: 10, synchronous_mode_strict: true });
  });

  test('a single node or synchronousCommit: false is asynchronous, and then a crashed primary gets restarted in place first', () => {
    for (const plan of [single, asyncPlan]) {
      expect(patroniDynamicSettings(plan.postgres!)).toMatchObject({ synchronous_mode: false, synchronous_mode_strict: false, primary_start_timeout: 300 });
    }
  });

  test('a single node never runs strict synchronous mode (every commit would wait for a replica that does not exist)', () => {
    const plan = defineSite({ ...singleNodeSite, postgres: { synchronousModeStrict: true } });
    expect(patroniDynamicSettings(plan.postgres!)).toMatchObject({ synchronous_mode: false, synchronous_mode_strict: false });
  });

  test('patroniEditConfigArguments: the same settings as --set key=value, forced and quiet', () => {
    expect(patroniEditConfigArguments(homelab)).toEqual([
      'edit-config', '--force', '--quiet',
      '--set', 'ttl=8', '--set', 'loop_wait=2', '--set', 'retry_timeout=3', '--set', 'maximum_lag_on_failover=1048576',
      '--set', 'primary_start_timeout=0', '--set', 'synchronous_mode=true', '--set', 'synchronous_mode_strict=false',
    ]);
    expect(patroniEditConfigArguments(strict)).toEqual(expect.arrayContaining(['ttl=30', 'loop_wait=10', 'retry_timeout=10', 'synchronous_mode_strict=true']));
    expect(patroniEditConfigArguments(asyncPlan)).toEqual(expect.arrayContaining(['synchronous_mode=false', 'primary_start_timeout=300']));
  });
});

describe('environment files and drop-ins', () => {
  const secrets = {
    superuserPassword: '${random_password.su.result}',
    replicationPassword: '${random_password.repl.result}',
    rewindPassword: '${random_password.rewind.result}',
    restApiPassword: '${random_password.api.result}',
    k3sPassword: '${random_password.k3s.result}',
  };

  test('Patroni\'s environment file holds exactly the references it is given, under the names Patroni reads', () => {
    const text = renderPatroniEnvironmentFile(secrets);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n').filter((line) => line !== '' && !line.startsWith('#'))).toEqual([
      'PATRONI_SUPERUSER_PASSWORD=${random_password.su.result}',
      'PATRONI_REPLICATION_PASSWORD=${random_password.repl.result}',
      'PATRONI_REWIND_PASSWORD=${random_password.rewind.result}',
      'PATRONI_RESTAPI_USERNAME=patroni',
      'PATRONI_RESTAPI_PASSWORD=${random_password.api.result}',
      'PKH_K3S_PASSWORD=${random_password.k3s.result}',
    ]);
  });

  test('etcd on a datastore node: its name, its addresses, the 3 members in order, TLS with client certificates, not the package\'s data dir', () => {
    const env = envOf(renderEtcdEnvironmentFile(homelab, 'pg-node-2'));
    expect(env).toEqual({
      ETCD_NAME: 'pg-node-2',
      ETCD_DATA_DIR: ETCD_DATA_DIR,
      ETCD_LISTEN_PEER_URLS: 'https://10.10.10.152:2380',
      ETCD_LISTEN_CLIENT_URLS: 'https://10.10.10.152:2379,https://127.0.0.1:2379',
      ETCD_ADVERTISE_CLIENT_URLS: 'https://10.10.10.152:2379',
      ETCD_INITIAL_ADVERTISE_PEER_URLS: 'https://10.10.10.152:2380',
      ETCD_INITIAL_CLUSTER: 'pg-node-1=https://10.10.10.151:2380,pg-node-2=https://10.10.10.152:2380,cp1=https://10.10.10.153:2380',
      ETCD_INITIAL_CLUSTER_STATE: 'new',
      ETCD_INITIAL_CLUSTER_TOKEN: 'pg-homelab-k3s-datastore',
      ETCD_HEARTBEAT_INTERVAL: '100',
      ETCD_ELECTION_TIMEOUT: '1000',
      ETCD_PRE_VOTE: 'true',
      ETCD_AUTO_COMPACTION_MODE: 'periodic',
      ETCD_AUTO_COMPACTION_RETENTION: '1h',
      ETCD_ENABLE_V2: 'false',
      ETCD_CERT_FILE: '/etc/proxmox-k3s-ha/etcd-tls/member.crt',
      ETCD_KEY_FILE: '/etc/proxmox-k3s-ha/etcd-tls/member.key',
      ETCD_TRUSTED_CA_FILE: '/etc/proxmox-k3s-ha/etcd-tls/ca.crt',
      ETCD_CLIENT_CERT_AUTH: 'true',
      ETCD_PEER_CERT_FILE: '/etc/proxmox-k3s-ha/etcd-tls/member.crt',
      ETCD_PEER_KEY_FILE: '/etc/proxmox-k3s-ha/etcd-tls/member.key',
      ETCD_PEER_TRUSTED_CA_FILE: '/etc/proxmox-k3s-ha/etcd-tls/ca.crt',
      ETCD_PEER_CLIENT_CERT_AUTH: 'true',
    });
    expect(ETCD_DATA_DIR).not.toBe('/var/lib/etcd/default');
  });

  test('etcd on the witness: its own name and addresses in the same initial cluster', () => {
    const env = envOf(renderEtcdEnvironmentFile(colocated, 'server-1'));
    expect(env).toMatchObject({
      ETCD_NAME: 'server-1',
      ETCD_LISTEN_PEER_URLS: 'https://198.18.0.11:2380',
      ETCD_LISTEN_CLIENT_URLS: 'https://198.18.0.11:2379,https://127.0.0.1:2379',
      ETCD_ADVERTISE_CLIENT_URLS: 'https://198.18.0.11:2379',
      ETCD_INITIAL_ADVERTISE_PEER_URLS: 'https://198.18.0.11:2380',
      ETCD_INITIAL_CLUSTER: 'db-1=https://198.18.0.41:2380,db-2=https://198.18.0.42:2380,server-1=https://198.18.0.11:2380',
      ETCD_INITIAL_CLUSTER_TOKEN: 'pg-colocated-k3s-datastore',
    });
    expect(env.ETCD_INITIAL_CLUSTER).toBe(envOf(renderEtcdEnvironmentFile(colocated, 'db-1')).ETCD_INITIAL_CLUSTER);
  });

  test('etcd without TLS: http URLs and no TLS or client-cert setting', () => {
    const env = envOf(renderEtcdEnvironmentFile(plain, 'cp1'));
    expect(env.ETCD_INITIAL_CLUSTER).toBe('pg-node-1=http://10.10.10.151:2380,pg-node-2=http://10.10.10.152:2380,cp1=http://10.10.10.153:2380');
    expect(env.ETCD_LISTEN_CLIENT_URLS).toBe('http://10.10.10.153:2379,http://127.0.0.1:2379');
    expect(Object.keys(env).filter((key) => /CERT|KEY|CA_FILE/.test(key))).toEqual([]);
    expect(etcdctlCommand(plain, 'cp1')).toBe('etcdctl --endpoints http://127.0.0.1:2379');
  });

  test('etcdctl on a member uses the member\'s certificate with TLS', () => {
    expect(etcdctlCommand(homelab, 'pg-node-1')).toBe('etcdctl --endpoints https://127.0.0.1:2379 --cacert /etc/proxmox-k3s-ha/etcd-tls/ca.crt'
      + ' --cert /etc/proxmox-k3s-ha/etcd-tls/member.crt --key /etc/proxmox-k3s-ha/etcd-tls/member.key');
  });

  test('drop-ins: etcd reads our environment file (after the package\'s), Patroni its env file, both once the network is up, Patroni after etcd', () => {
    /** `[section, line]` pairs of a unit file, comments left out. */
    const sectioned = (text: string) => {
      let section = '';
      return text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).flatMap((line) => {
        if (line.startsWith('[')) {
          section = line;
          return [];
        }
        return [`${section} ${line}`];
      });
    };
    const etcd = sectioned(renderEtcdServiceDropIn(homelab, 'pg-node-1'));
    expect(etcd).toEqual([
      '[Unit] Wants=network-online.target', '[Unit] After=network-online.target', '[Service] Type=exec', '[Service] EnvironmentFile=/etc/proxmox-k3s-ha/etcd.env',
      // A rebuilt member asks the others whether it was added again (its own certificate), and etcd reads the answer last.
      '[Service] ExecStartPre=/usr/local/lib/proxmox-k3s-ha/etcd-initial-state.sh /run/proxmox-k3s-ha/etcd-initial-state.env https://10.10.10.151:2380 '
        + `${homelab.postgres!.etcdMembers.filter((m) => m.name !== 'pg-node-1').map((m) => `https://${m.ip}:2379`).join(',')} `
        + '--cacert /etc/proxmox-k3s-ha/etcd-tls/ca.crt --cert /etc/proxmox-k3s-ha/etcd-tls/member.crt --key /etc/proxmox-k3s-ha/etcd-tls/member.key',
      '[Service] EnvironmentFile=-/run/proxmox-k3s-ha/etcd-initial-state.env', '[Service] Restart=on-failure', '[Service] RestartSec=5s',
    ]);
    expect(sectioned(renderPatroniServiceDropIn(homelab, 'pg-node-1'))).toEqual([
      '[Unit] Wants=network-online.target', '[Unit] After=network-online.target etcd.service', '[Unit] StartLimitIntervalSec=0',
      `[Service] EnvironmentFile=${PATRONI_ENV_PATH}`,
      // Patroni starts once its own etcd member has a quorum, asked with the node's client certificate...
      '[Service] ExecStartPre=/usr/local/lib/proxmox-k3s-ha/etcd-wait-ready.sh https://10.10.10.151:2379 --cacert /etc/proxmox-k3s-ha/postgres-tls/ca.crt'
        + ' --cert /etc/proxmox-k3s-ha/postgres-tls/server.crt --key /etc/proxmox-k3s-ha/postgres-tls/server.key',
      // ...through the script that keeps it on etcd's v3 API whatever the cluster version (the package's ExecStart reset).
      '[Service] ExecStart=', '[Service] ExecStart=/usr/bin/python3 /usr/local/lib/proxmox-k3s-ha/patroni-etcd-v3.py patroni /etc/patroni/config.yml',
      '[Service] Restart=on-failure', '[Service] RestartSec=5s',
    ]);
    expect(sectioned(renderPatroniServiceDropIn(plain, 'pg-node-2'))).toContain('[Service] ExecStartPre=/usr/local/lib/proxmox-k3s-ha/etcd-wait-ready.sh http://10.10.10.152:2379');
  });
});

describe('writer endpoint', () => {
  test('HAProxy sections with TLS: a TCP frontend, a backend of every datastore node checked with GET /primary over verified TLS', () => {
    expect(renderPostgresWriterHaproxySections(homelab)).toEqual([
      ['frontend postgres_writer', '    bind *:5433', '    default_backend postgres_writer'].join('\n'),
      [
        'backend postgres_writer',
        '    id 5432',
        '    balance first',
        // The servers start from a state file (every server DOWN, or the old worker's on a reload), never UP.
        '    load-server-state-from-file local',
        '    server-state-file-name /var/lib/haproxy/postgres-writer.state',
        '    option httpchk GET /primary',
        // PostgreSQL runs as primary (not merely promoting); and Patroni's whole answer is read before its status is judged.
        `    http-check expect rstring '"role": *"(master|primary)"'`,
        '    http-check expect status 200',
        '    timeout check 2s',
        '    default-server check port 8008 inter 1s fastinter 250ms downinter 500ms rise 1 fall 2 on-marked-down shutdown-sessions',
        `    server pg-node-1 10.10.10.151:5432 check-ssl verify required ca-file ${HAPROXY_DATASTORE_CA_PATH} verifyhost pg-node-1.homelab.test check-sni pg-node-1.homelab.test`,
        `    server pg-node-2 10.10.10.152:5432 check-ssl verify required ca-file ${HAPROXY_DATASTORE_CA_PATH} verifyhost pg-node-2.homelab.test check-sni pg-node-2.homelab.test`,
      ].join('\n'),
    ]);
  });

  test('without TLS: the checks are plain HTTP; the site\'s ports are used', () => {
    const sections = renderPostgresWriterHaproxySections(plain);
    expect(sections.join('\n')).not.toMatch(/ssl|ca-file|verify/);
    expect(sections[1].split('\n').filter((line) => line.includes('server '))).toEqual([
      '    default-server check port 8008 inter 1s fastinter 250ms downinter 500ms rise 1 fall 2 on-marked-down shutdown-sessions',
      '    server pg-node-1 10.10.10.151:5432',
      '    server pg-node-2 10.10.10.152:5432',
    ]);
    expect(renderPostgresWriterHaproxySections(colocated).join('\n')).toMatch(/bind \*:15432\n[^]*server db-1 198\.18\.0\.41:5432 [^]*server db-2 198\.18\.0\.42:5432 /);
  });

  test('renderHaproxyConfig appends the sections it is given (the datastore adds the writer endpoint)', () => {
    const cfg = renderHaproxyConfig(colocated, 'server-2', 'pw', renderPostgresWriterHaproxySections(colocated));
    expect(cfg.endsWith(`${renderPostgresWriterHaproxySections(colocated).join('\n\n')}\n`)).toBe(true);
    expect(renderHaproxyConfig(labPlan, 'lx-k3s-server-01', 'pw')).not.toContain('postgres');
  });

  test('the state the writer servers start in: every datastore node DOWN, under the backend\'s fixed id, in HAProxy\'s format 1', () => {
    expect(renderWriterDownStateFile(homelab)).toBe([
      '1',
      '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result'
        + ' srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord',
      '5432 postgres_writer 1 pg-node-1 10.10.10.151 0 0 1 1 0 1 0 0 0 0 1 0 - 5432 -',
      '5432 postgres_writer 2 pg-node-2 10.10.10.152 0 0 1 1 0 1 0 0 0 0 1 0 - 5432 -',
      '',
    ].join('\n'));
    expect(renderWriterDownStateFile(colocated).split('\n').slice(2, 4).map((line) => line.split(' ').slice(0, 6).join(' ')))
      .toEqual(['5432 postgres_writer 1 db-1 198.18.0.41 0', '5432 postgres_writer 2 db-2 198.18.0.42 0']);
    expect(renderPostgresWriterHaproxySections(homelab)[1]).toContain(`    id ${POSTGRES_WRITER_BACKEND_ID}\n`);
  });

  test('haproxy.service drop-in: every start begins DOWN; a reload checks, saves the running state, signals the master, then settles', () => {
    const lines = renderHaproxyWriterDropIn().split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(lines).toEqual([
      '[Service]',
      `ExecStartPre=${HAPROXY_WRITER_STATE_SCRIPT_PATH} down`,
      // The package's ExecReload is replaced as a whole: its check and its signal, with the state saved between them.
      'ExecReload=',
      'ExecReload=/usr/sbin/haproxy -Ws -f $CONFIG -c -q $EXTRAOPTS',
      `ExecReload=${HAPROXY_WRITER_STATE_SCRIPT_PATH} save`,
      'ExecReload=/bin/kill -USR2 $MAINPID',
      `ExecReload=${HAPROXY_WRITER_STATE_SCRIPT_PATH} settle`,
    ]);
  });

  test('the state script\'s defaults are the rendered paths: the admin socket of haproxy.cfg, the state files, the backend', () => {
    const script = readFileSync(join(POSTGRES_ASSET_DIR, PostgresAsset.HAPROXY_WRITER_STATE), 'utf8');
    expect(script).toContain(`socket=\${PKH_HAPROXY_SOCKET:-${HAPROXY_ADMIN_SOCKET_PATH}}`);
    expect(script).toContain(`state=\${PKH_WRITER_STATE:-${HAPROXY_WRITER_STATE_PATH}}`);
    expect(script).toContain(`down_state=\${PKH_WRITER_DOWN_STATE:-${HAPROXY_WRITER_DOWN_STATE_PATH}}`);
    expect(script).toContain('backend=${PKH_WRITER_BACKEND:-postgres_writer}');
    expect(renderHaproxyConfig(homelab, 'pg-node-1', 'pw')).toContain(`    stats socket ${HAPROXY_ADMIN_SOCKET_PATH} mode 660 level admin`);
  });

  test('the writer address: the VIP on the writer port; without load balancers the only node directly', () => {
    expect(postgresWriterAddress(homelab)).toEqual({ address: '10.10.10.150', port: 5433 });
    expect(postgresWriterAddress(colocated)).toEqual({ address: '198.18.0.10', port: 15432 });
    expect(postgresWriterAddress(single)).toEqual({ address: '198.18.0.41', port: 5432 });
  });

  test('the DSN reaches the writer address with sslmode=verify-full; without TLS there is no sslmode', () => {
    expect(postgresDatastoreEndpoint(homelab, '${random_password.k3s.result}'))
      .toBe('postgres://k3s:${random_password.k3s.result}@10.10.10.150:5433/k3s?sslmode=verify-full');
    expect(postgresDatastoreEndpoint(colocated, 'PW')).toBe('postgres://kine_user:PW@198.18.0.10:15432/kine?sslmode=verify-full');
    expect(postgresDatastoreEndpoint(single, 'PW')).toBe('postgres://k3s:PW@198.18.0.41:5432/k3s?sslmode=verify-full');
    expect(postgresDatastoreEndpoint(plain, 'PW')).toBe('postgres://k3s:PW@10.10.10.150:5433/k3s');
  });

  test('fails for two datastore nodes without a load balancer to carry the writer endpoint (the site model first, the renderer too)', () => {
    const twoNodes = { ...singleNodeSite, hosts: [...singleNodeSite.hosts, { ...singleNodeSite.hosts[1], name: 'db-2', ip: '198.18.0.42', vmId: 1042 }] };
    expect(() => defineSite(twoNodes)).toThrow(/load-balancer/);
    const plan = { ...colocated, name: 'pg-no-lb', loadBalancer: undefined };
    expect(() => postgresWriterAddress(plan)).toThrow('site pg-no-lb: no host has role load-balancer, expected load balancers for the writer endpoint of 2 datastore nodes');
  });
});

describe('certificates', () => {
  test('a datastore node\'s certificate names the node and the writer endpoint (FQDN + API DNS name, address + VIP)', () => {
    expect(postgresServerCertificateNames(homelab, 'pg-node-2')).toEqual({
      dnsNames: ['pg-node-2.homelab.test', 'api.homelab.test', 'localhost'], ipAddresses: ['10.10.10.152', '10.10.10.150', '127.0.0.1'],
    });
    expect(postgresServerCertificateNames(colocated, 'db-1')).toEqual({
      dnsNames: ['db-1.fixture.test', 'api.fixture.test', 'localhost'], ipAddresses: ['198.18.0.41', '198.18.0.10', '127.0.0.1'],
    });
    expect(postgresServerCertificateNames(single, 'db-1')).toEqual({ dnsNames: ['db-1.fixture.test', 'localhost'], ipAddresses: ['198.18.0.41', '127.0.0.1'] });
  });

  test('the witness\'s certificate names only the witness: K3s never dials it', () => {
    const names = postgresServerCertificateNames(homelab, 'cp1');
    expect(names.dnsNames).toEqual(['cp1.homelab.test', 'localhost']);
    expect(names.ipAddresses).toContain('10.10.10.153');
    expect(names.ipAddresses).not.toContain('10.10.10.150');
    expect(postgresServerCertificateNames(colocated, 'server-1').dnsNames).toEqual(['server-1.fixture.test', 'localhost']);
  });

  // The etcd gate and the runbook run etcdctlCommand, which dials the member at 127.0.0.1 and verifies its
  // certificate against the CA: Go's TLS rejects a certificate without that address (checked with etcd 3.4).
  test.each([['pg-node-1'], ['pg-node-2'], ['cp1']])('%s: the member certificate names the address etcdctlCommand dials', (host) => {
    const endpoint = /--endpoints https:\/\/([\d.]+):/.exec(etcdctlCommand(homelab, host))![1];
    expect(postgresServerCertificateNames(homelab, host).ipAddresses).toContain(endpoint);
  });

  test('fails for a host that is not an etcd member', () => {
    expect(() => postgresServerCertificateNames(homelab, 'cp2'))
      .toThrow('site pg-homelab: host "cp2" is not an etcd member of the datastore (members: pg-node-1, pg-node-2, cp1)');
  });

});

describe('renderPostgresRunbook', () => {
  const runbook = renderPostgresRunbook(homelab);

  test('names this site\'s nodes, the witness and the writer endpoint', () => {
    expect(runbook).toContain('# K3s datastore runbook (site pg-homelab)');
    expect(runbook).toContain('PostgreSQL 16 managed by Patroni on pg-node-1 (10.10.10.151), pg-node-2 (10.10.10.152)');
    expect(runbook).toContain('on pg-node-1 (10.10.10.151), pg-node-2 (10.10.10.152), cp1 (10.10.10.153), the witness.');
    expect(runbook).toContain('K3s reaches the primary at 10.10.10.150:5433 (the writer endpoint: HAProxy on pg-node-1, pg-node-2');
    expect(renderPostgresRunbook(colocated)).toContain('server-1 (198.18.0.11), the witness');
    expect(renderPostgresRunbook(single)).not.toContain('the witness');
  });

  test('the commands for what a human decides: list, switchover, pause, reinit, quorum loss, backup and restore', () => {
    expect(runbook).toContain('`patronictl -c /etc/patroni/config.yml list`');
    expect(runbook).toContain('patronictl -c /etc/patroni/config.yml switchover k3s-datastore --primary <current primary> --candidate <replica> --force');
    expect(runbook).toContain('patronictl -c /etc/patroni/config.yml pause --wait');
    expect(runbook).toContain('patronictl -c /etc/patroni/config.yml reinit k3s-datastore <node> --force');
    expect(runbook).toContain('## etcd lost its quorum');
    expect(runbook).toContain('With 2 of 3 members down');
    expect(runbook).toContain('etcdctl member remove <id>');
    expect(runbook).toContain('## Backup and restore of the K3s database');
    expect(runbook).toContain('pg_dump -Fc -h /var/run/postgresql -d k3s');
    expect(runbook).toContain('pg_restore --clean --if-exists -h /var/run/postgresql -d k3s');
    expect(runbook).toContain(`loads the REST API's credentials from ${PATRONI_ENV_PATH}`);
  });

  test('what the witness is needed for and when: not for the first start (any 2 of 3 members), for failover; none without a witness', () => {
    expect(runbook).toContain('## The etcd witness (cp1)');
    expect(runbook).toContain('The datastore starts as soon as any 2 members are up, whichever is missing');
    expect(runbook).toContain('- **Failover:** needed.');
    expect(runbook).toContain('leaves 1 of 3 members: no quorum');
    expect(renderPostgresRunbook(colocated)).toContain('## The etcd witness (server-1)');
    expect(renderPostgresRunbook(single)).not.toContain('## The etcd witness');
  });

  test('patronictl is the one on etcd\'s v3 API; the writer endpoint never sends a connection to a replica (with load balancers)', () => {
    expect(runbook).toContain('`patronictl` (/usr/local/bin/patronictl, Debian\'s patronictl on etcd\'s v3 API');
    expect(runbook).toContain('**The writer endpoint never sends a connection to a replica**, also when HAProxy starts, reloads or restarts');
    expect(runbook).toContain(HAPROXY_WRITER_STATE_SCRIPT_PATH);
    expect(renderPostgresRunbook(single)).not.toContain('The writer endpoint never');
  });

  test('what is automatic follows the settings: synchronous or not, strict or not, TLS or not, the failover timing', () => {
    expect(runbook).toContain('**No acknowledged write is lost.**');
    expect(runbook).toContain('within 8 s');
    expect(runbook).toContain('`primary_start_timeout: 0`');
    expect(renderPostgresRunbook(strict)).toContain('`synchronous_mode_strict`');
    expect(renderPostgresRunbook(strict)).toContain('within 30 s');
    expect(renderPostgresRunbook(asyncPlan)).toContain('**Replication is asynchronous**');
    expect(renderPostgresRunbook(asyncPlan)).toContain('`primary_start_timeout: 300`');
    expect(runbook).toContain('--cacert /etc/proxmox-k3s-ha/postgres-tls/ca.crt https://<node>:8008/patroni');
    expect(renderPostgresRunbook(plain)).toContain('TLS is off (`postgres.tls: false`)');
    expect(renderPostgresRunbook(plain)).toContain('curl -s http://<node>:8008/patroni');
  });
});

describe('errors', () => {
  test.each([
    ['postgresHbaLines', () => postgresHbaLines(labPlan, 'lx-k3s-server-01')],
    ['postgresNodeParameters', () => postgresNodeParameters(labPlan, 'lx-k3s-server-01')],
    ['renderPatroniConfig', () => renderPatroniConfig(labPlan, 'lx-k3s-server-01')],
    ['renderEtcdEnvironmentFile', () => renderEtcdEnvironmentFile(labPlan, 'lx-k3s-server-01')],
    ['postgresServerCertificateNames', () => postgresServerCertificateNames(labPlan, 'lx-k3s-server-01')],
    ['patroniEditConfigArguments', () => patroniEditConfigArguments(labPlan)],
    ['renderPostgresWriterHaproxySections', () => renderPostgresWriterHaproxySections(labPlan)],
    ['renderPostgresRunbook', () => renderPostgresRunbook(labPlan)],
    ['postgresDatastoreEndpoint', () => postgresDatastoreEndpoint(labPlan, 'pw')],
    ['postgresPaths', () => postgresPaths(labPlan)],
  ])('fails for a site without postgres: %s', (_, render) => {
    expect(render).toThrow('site lab: controlPlane.datastore is "embedded-etcd", expected "postgres" for the PostgreSQL datastore');
  });

  test('fails for a host that is not a datastore node (the witness is not one)', () => {
    const message = 'site pg-homelab: host "cp1" is not a datastore node (datastore nodes: pg-node-1, pg-node-2)';
    expect(() => postgresHbaLines(homelab, 'cp1')).toThrow(message);
    expect(() => postgresNodeParameters(homelab, 'cp1')).toThrow(message);
    expect(() => renderPatroniConfig(homelab, 'cp1')).toThrow(message);
    expect(() => renderPatroniConfig(homelab, 'nope')).toThrow('host "nope" is not a datastore node');
  });

  test('fails for a host that is not an etcd member', () => {
    expect(() => renderEtcdEnvironmentFile(homelab, 'cp2'))
      .toThrow('site pg-homelab: host "cp2" is not an etcd member of the datastore (members: pg-node-1, pg-node-2, cp1)');
    expect(() => etcdctlCommand(single, 'server-1')).toThrow('site pg-single: host "server-1" is not an etcd member of the datastore (members: db-1)');
    // A datastore node is a member even on a site of one node without a witness.
    expect(envOf(renderEtcdEnvironmentFile(single, 'db-1')).ETCD_INITIAL_CLUSTER).toBe('db-1=https://198.18.0.41:2380');
  });

  test('the fixtures are what these tests assume', () => {
    expect(homelab.hosts.filter((h) => h.roles.includes(HostRole.LOAD_BALANCER)).map((h) => h.name)).toEqual(['pg-node-1', 'pg-node-2']);
    expect([homelab.postgres!.witness?.name, colocated.postgres!.witness?.name, single.postgres!.witness]).toEqual(['cp1', 'server-1', undefined]);
  });
});
