import { defineSite } from '../../constructs';
import {
  POSTGRES_ROLE_CHECK_PATH, postgresDatastoreCaInstallCommand, postgresServerCertificateNames, postgresTlsBase64Path, renderPostgresTlsInstallScript, postgresDatastoreEndpoint, postgresMemorySettings, postgresPaths, postgresReplicationSlot, postgresWriterAddress, renderHaproxyConfig, renderPgHba, renderPostgresEnvironmentFile, renderPostgresPrimaryInitScript, renderPostgresPromoteScript, renderPostgresReplicaInitScript, renderPostgresRoleCheckScript, renderPostgresRoleCheckService, renderPostgresRoleCheckSocket, renderPostgresRunbook, renderPostgresServiceDropIn, renderPostgresSettings, renderPostgresWriterHaproxySections,
} from '../../constructs/renderers';
import lab from '../../sites/lab';
import { colocatedSite, pgHomelabSite, singleNodeSite } from './fixtures';

const homelab = defineSite(pgHomelabSite);
const colocated = defineSite(colocatedSite);
const single = defineSite(singleNodeSite);
const labPlan = defineSite(lab);
/** Seed 000 with `postgres.tls: false`: today's plain-text datastore. */
const plain = defineSite({ ...pgHomelabSite, postgres: { tls: false } });

/** Lines that are not comments or blank. */
const effective = (text: string) => text.split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
/** `key = value` settings of a postgresql.conf text. */
const settings = (text: string) => Object.fromEntries(effective(text).map((line) => line.split(' = ') as [string, string]));

describe('renderPgHba', () => {
  test('seed 000 with TLS (the default): hostssl only, k3s from each server and each load balancer, replication from the peer', () => {
    expect(effective(renderPgHba(homelab, 'pg-node-1'))).toEqual([
      'local   all          postgres                        peer  # the setup scripts and the role check, as the postgres OS user',
      'hostssl k3s          k3s          10.10.10.153/32    scram-sha-256  # cp1 (k3s server)',
      'hostssl k3s          k3s          10.10.10.154/32    scram-sha-256  # cp2 (k3s server)',
      'hostssl k3s          k3s          10.10.10.155/32    scram-sha-256  # cp3 (k3s server)',
      'hostssl k3s          k3s          10.10.10.151/32    scram-sha-256  # pg-node-1 (load balancer, writer endpoint)',
      'hostssl k3s          k3s          10.10.10.152/32    scram-sha-256  # pg-node-2 (load balancer, writer endpoint)',
      'hostssl replication  replicator   10.10.10.152/32    scram-sha-256  # pg-node-2 (datastore peer)',
    ]);
    expect(renderPgHba(homelab, 'pg-node-1')).toContain('# Only what the K3s datastore needs; a connection that matches no line is rejected (so is any without TLS).\n');
  });

  test('seed 000 without TLS: the same rules as host lines (TLS or not), nothing else', () => {
    expect(effective(renderPgHba(plain, 'pg-node-1'))).toEqual([
      'local   all          postgres                        peer  # the setup scripts and the role check, as the postgres OS user',
      'host    k3s          k3s          10.10.10.153/32    scram-sha-256  # cp1 (k3s server)',
      'host    k3s          k3s          10.10.10.154/32    scram-sha-256  # cp2 (k3s server)',
      'host    k3s          k3s          10.10.10.155/32    scram-sha-256  # cp3 (k3s server)',
      'host    k3s          k3s          10.10.10.151/32    scram-sha-256  # pg-node-1 (load balancer, writer endpoint)',
      'host    k3s          k3s          10.10.10.152/32    scram-sha-256  # pg-node-2 (load balancer, writer endpoint)',
      'host    replication  replicator   10.10.10.152/32    scram-sha-256  # pg-node-2 (datastore peer)',
    ]);
    expect(effective(renderPgHba(plain, 'pg-node-2')).filter((l) => l.startsWith('host    replication'))).toEqual([
      'host    replication  replicator   10.10.10.151/32    scram-sha-256  # pg-node-1 (datastore peer)',
    ]);
  });

  test('a server that is also a load balancer is listed once; the site\'s database and user names are used', () => {
    expect(effective(renderPgHba(colocated, 'db-2'))).toEqual([
      'local   all          postgres                        peer  # the setup scripts and the role check, as the postgres OS user',
      'hostssl kine         kine_user    198.18.0.11/32     scram-sha-256  # server-1 (k3s server), server-1 (load balancer, writer endpoint)',
      'hostssl kine         kine_user    198.18.0.12/32     scram-sha-256  # server-2 (k3s server), server-2 (load balancer, writer endpoint)',
      'hostssl kine         kine_user    198.18.0.13/32     scram-sha-256  # server-3 (k3s server), server-3 (load balancer, writer endpoint)',
      'hostssl replication  replicator   198.18.0.41/32     scram-sha-256  # db-1 (datastore peer)',
    ]);
  });

  test('only scram-sha-256, only /32 addresses, no "all" database or user over the network', () => {
    for (const line of effective(renderPgHba(homelab, 'pg-node-1')).filter((l) => l.startsWith('host'))) {
      const [, database, user, address, method] = line.split(/\s+/);
      expect(method).toBe('scram-sha-256');
      expect(address).toMatch(/\/32$/);
      expect([database, user]).not.toContain('all');
    }
  });

  test('a single node has no replication line', () => {
    expect(effective(renderPgHba(single, 'db-1')).filter((l) => l.includes('replication'))).toEqual([]);
  });
});

describe('renderPostgresSettings', () => {
  test('listens on the node address and localhost, TLS 1.2+ with the node certificate, replication on, scram, synchronous commit waiting for ANY 1 replica', () => {
    expect(settings(renderPostgresSettings(homelab, 'pg-node-2'))).toEqual({
      listen_addresses: "'10.10.10.152,localhost'",
      port: '5432',
      password_encryption: "'scram-sha-256'",
      ssl: 'on',
      ssl_cert_file: "'/etc/proxmox-k3s-ha/postgres-tls/server.crt'",
      ssl_key_file: "'/etc/proxmox-k3s-ha/postgres-tls/server.key'",
      ssl_min_protocol_version: "'TLSv1.2'",
      wal_level: 'replica',
      max_wal_senders: '10',
      max_replication_slots: '10',
      wal_keep_size: "'512MB'",
      max_slot_wal_keep_size: "'10240MB'",
      hot_standby: 'on',
      synchronous_commit: 'on',
      synchronous_standby_names: "'ANY 1 (*)'",
      shared_buffers: "'512MB'",
      effective_cache_size: "'1024MB'",
      work_mem: "'8MB'",
      maintenance_work_mem: "'128MB'",
    });
  });

  test('without TLS: no ssl setting at all (the settings of today\'s plain-text datastore)', () => {
    const rendered = settings(renderPostgresSettings(plain, 'pg-node-2'));
    expect(Object.keys(rendered).filter((key) => key.startsWith('ssl'))).toEqual([]);
    expect(rendered).toEqual(Object.fromEntries(Object.entries(settings(renderPostgresSettings(homelab, 'pg-node-2'))).filter(([key]) => !key.startsWith('ssl'))));
  });

  test('memory follows the host size (4 GiB) and the slot WAL limit the disk (100 GiB)', () => {
    expect(settings(renderPostgresSettings(colocated, 'db-1'))).toMatchObject({
      shared_buffers: "'1024MB'", effective_cache_size: "'2048MB'", work_mem: "'16MB'", maintenance_work_mem: "'256MB'", max_slot_wal_keep_size: "'25600MB'",
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

  test('fails for less than 256 MiB or a fraction', () => {
    expect(() => postgresMemorySettings(128)).toThrow('memoryMiB: 128 — a whole number of MiB, at least 256 for PostgreSQL');
    expect(() => postgresMemorySettings(1024.5)).toThrow('memoryMiB: 1024.5');
  });

  test('synchronousCommit: false replicates asynchronously', () => {
    const plan = defineSite({ ...pgHomelabSite, postgres: { synchronousCommit: false } });
    expect(settings(renderPostgresSettings(plan, 'pg-node-1'))).toMatchObject({ synchronous_commit: 'on', synchronous_standby_names: "''" });
    expect(renderPostgresSettings(plan, 'pg-node-1')).toContain('# Asynchronous replication: a promotion may lose');
    expect(renderPostgresRunbook(plan)).toContain('**Replication is asynchronous**');
  });

  test('a single node never waits for a replica (it would block every commit)', () => {
    expect(settings(renderPostgresSettings(single, 'db-1'))).toMatchObject({ synchronous_standby_names: "''" });
  });
});

describe('errors', () => {
  test.each([
    ['renderPgHba', () => renderPgHba(labPlan, 'lx-k3s-server-01')],
    ['renderPostgresSettings', () => renderPostgresSettings(labPlan, 'lx-k3s-server-01')],
    ['renderPostgresWriterHaproxySections', () => renderPostgresWriterHaproxySections(labPlan)],
    ['renderPostgresRunbook', () => renderPostgresRunbook(labPlan)],
    ['postgresDatastoreEndpoint', () => postgresDatastoreEndpoint(labPlan, 'pw')],
  ])('fails for a site without postgres: %s', (_, render) => {
    expect(render).toThrow('site lab: controlPlane.datastore is "embedded-etcd", expected "postgres" for the PostgreSQL datastore');
  });

  test('fails for a host that is not a datastore node', () => {
    expect(() => renderPgHba(homelab, 'cp1')).toThrow('site pg-homelab: host "cp1" is not a datastore node (datastore nodes: pg-node-1, pg-node-2)');
    expect(() => renderPostgresPrimaryInitScript(homelab, 'nope')).toThrow('host "nope" is not a datastore node');
  });

  test('fails for two datastore nodes without a load balancer to carry the writer endpoint', () => {
    const plan = defineSite({ ...singleNodeSite, hosts: [...singleNodeSite.hosts, { ...singleNodeSite.hosts[1], name: 'db-2', ip: '198.18.0.42', vmId: 1042 }] });
    expect(() => postgresWriterAddress(plan)).toThrow('site pg-single: no host has role load-balancer, expected load balancers for the writer endpoint of 2 datastore nodes');
  });
});

describe('writer endpoint', () => {
  test('HAProxy sections: TCP frontend on the writer port, backend of every node checked on the role check', () => {
    expect(renderPostgresWriterHaproxySections(homelab)).toEqual([
      ['frontend postgres_writer', '    bind *:5433', '    default_backend postgres_writer'].join('\n'),
      [
        'backend postgres_writer',
        '    balance first',
        '    option httpchk GET /primary',
        '    http-check expect status 200',
        '    timeout check 2s',
        '    default-server check port 8008 inter 1s fastinter 250ms downinter 500ms rise 2 fall 2 on-marked-down shutdown-sessions',
        '    server pg-node-1 10.10.10.151:5432',
        '    server pg-node-2 10.10.10.152:5432',
      ].join('\n'),
    ]);
  });

  test('renderHaproxyConfig appends the sections it is given (the datastore adds the writer endpoint)', () => {
    const cfg = renderHaproxyConfig(colocated, 'server-2', 'pw', renderPostgresWriterHaproxySections(colocated));
    expect(cfg.endsWith(`${renderPostgresWriterHaproxySections(colocated).join('\n\n')}\n`)).toBe(true);
    expect(cfg).toContain('bind *:15432');
    expect(renderHaproxyConfig(labPlan, 'lx-k3s-server-01', 'pw')).not.toContain('postgres');
  });

  test('the DSN reaches the VIP on the writer port with sslmode=verify-full; without load balancers the only node directly', () => {
    expect(postgresDatastoreEndpoint(homelab, '${random_password.k3s.result}'))
      .toBe('postgres://k3s:${random_password.k3s.result}@10.10.10.150:5433/k3s?sslmode=verify-full');
    expect(postgresDatastoreEndpoint(colocated, 'PW')).toBe('postgres://kine_user:PW@198.18.0.10:15432/kine?sslmode=verify-full');
    expect(postgresDatastoreEndpoint(single, 'PW')).toBe('postgres://k3s:PW@198.18.0.41:5432/k3s?sslmode=verify-full');
  });

  test('without TLS the DSN has no sslmode (K3s then connects in plain text)', () => {
    expect(postgresDatastoreEndpoint(plain, 'PW')).toBe('postgres://k3s:PW@10.10.10.150:5433/k3s');
  });
});

describe('TLS', () => {
  test('a node certificate names the node (address, FQDN) and the writer endpoint (VIP, API DNS name)', () => {
    expect(postgresServerCertificateNames(homelab, 'pg-node-2')).toEqual({
      dnsNames: ['pg-node-2.homelab.test', 'api.homelab.test'], ipAddresses: ['10.10.10.152', '10.10.10.150'],
    });
    expect(postgresServerCertificateNames(colocated, 'db-1')).toEqual({
      dnsNames: ['db-1.fixture.test', 'api.fixture.test'], ipAddresses: ['198.18.0.41', '198.18.0.10'],
    });
  });

  test('without load balancers K3s dials the only node itself: its own names suffice', () => {
    expect(postgresServerCertificateNames(single, 'db-1')).toEqual({ dnsNames: ['db-1.fixture.test'], ipAddresses: ['198.18.0.41'] });
  });

  test('the TLS install script decodes CA, certificate and key into the files the settings name, the key 0600', () => {
    const script = renderPostgresTlsInstallScript(homelab, 'pg-node-1');
    expect(script).toContain('PGHA_TLS_DIR=${PGHA_TLS_DIR:-/etc/proxmox-k3s-ha/postgres-tls}\n');
    expect(script.split('\n').filter((line) => line.startsWith('install_pem '))).toEqual([
      'install_pem ca.crt 0644', 'install_pem server.crt 0644', 'install_pem server.key 0600',
    ]);
    expect(script).toContain('chown postgres:postgres "$PGHA_TLS_DIR/$1.tmp"');
    expect(postgresTlsBase64Path('/etc/rancher/k3s/datastore-ca.crt')).toBe('/etc/rancher/k3s/datastore-ca.crt.b64');
    expect(() => renderPostgresTlsInstallScript(plain, 'pg-node-1')).toThrow('site pg-homelab: postgres.tls is false, expected true for the datastore TLS files');
  });

  test('K3s servers decode the CA next to datastore-cafile; replicas verify their primary against the CA', () => {
    expect(postgresDatastoreCaInstallCommand()).toBe('base64 -d < /etc/rancher/k3s/datastore-ca.crt.b64 > /etc/rancher/k3s/datastore-ca.crt.tmp'
      + ' && chmod 0644 /etc/rancher/k3s/datastore-ca.crt.tmp && mv /etc/rancher/k3s/datastore-ca.crt.tmp /etc/rancher/k3s/datastore-ca.crt');
    const replica = renderPostgresReplicaInitScript(homelab, 'pg-node-2');
    expect(replica).toContain('PGHA_SSL_ROOT_CERT=${PGHA_SSL_ROOT_CERT:-/etc/proxmox-k3s-ha/postgres-tls/ca.crt}\n');
    expect(replica).toContain('connect_timeout=5 sslmode=verify-full sslrootcert=$PGHA_SSL_ROOT_CERT"');
    expect(renderPostgresReplicaInitScript(plain, 'pg-node-2')).not.toContain('ssl');
    expect(renderPostgresRunbook(homelab)).toContain('Connections are TLS only (`hostssl`)');
    expect(renderPostgresRunbook(plain)).toContain('TLS is off (`postgres.tls: false`): the datastore traffic crosses the network in plain text.');
  });

  test.each([
    [{ tls: 'yes' }, 'postgres.tls: "yes" — true or false'],
    [{ tls: 1 }, 'postgres.tls: 1 — true or false'],
  ])('fails for a non-boolean postgres.tls %j', (postgres, message) => {
    expect(() => defineSite({ ...pgHomelabSite, postgres: postgres as never })).toThrow(message);
  });

  test('postgres.tls defaults to true', () => {
    expect([homelab.postgres!.tls, plain.postgres!.tls]).toEqual([true, false]);
  });
});

describe('scripts and units', () => {
  test('Debian paths of the site\'s version', () => {
    expect(postgresPaths(colocated)).toEqual({
      binDir: '/usr/lib/postgresql/16/bin',
      configDir: '/etc/postgresql/16/main',
      settingsPath: '/etc/postgresql/16/main/conf.d/50-proxmox-k3s-ha.conf',
      hbaPath: '/etc/postgresql/16/main/pg_hba.conf',
      dataDir: '/var/lib/postgresql/16/main',
      socketDir: '/var/run/postgresql',
      service: 'postgresql@16-main',
      serviceDropInPath: '/etc/systemd/system/postgresql@16-main.service.d/10-proxmox-k3s-ha.conf',
    });
  });

  test('every script defaults to the production paths and lets the environment override them', () => {
    for (const script of [renderPostgresPrimaryInitScript(homelab, 'pg-node-1'), renderPostgresReplicaInitScript(homelab, 'pg-node-2'),
      renderPostgresPromoteScript(homelab, 'pg-node-2'), renderPostgresRoleCheckScript(homelab, 'pg-node-1')]) {
      expect(script.startsWith('#!/bin/sh\n# Rendered by proxmox-k3s-ha for pg-node-')).toBe(true);
      expect(script).toContain('PGHA_BIN=${PGHA_BIN:-/usr/lib/postgresql/16/bin}');
      expect(script).toContain('PGHA_PORT=${PGHA_PORT:-5432}');
    }
    expect(renderPostgresPrimaryInitScript(homelab, 'pg-node-1')).toContain('PGHA_RESTART=${PGHA_RESTART:-systemctl restart postgresql@16-main}');
  });

  test('primary init: roles and database from psql variables, a slot per replica, passwords from the env file only', () => {
    const script = renderPostgresPrimaryInitScript(colocated, 'db-1');
    expect(script).toContain('\\set k3s_user kine_user\n\\set database kine\n');
    expect(script).toContain("SELECT pg_create_physical_replication_slot('replica_db_2') WHERE NOT EXISTS");
    expect(script).toContain('. "$PGHA_ENV_FILE"');
    expect(script).toContain("export PGOPTIONS='-c synchronous_commit=local'");
    expect(script).not.toMatch(/psql[^\n]*-v k3s_password/);
    expect(postgresReplicationSlot('pg-node-2')).toBe('replica_pg_node_2');
  });

  test('replica init and promotion know their peers and slots', () => {
    expect(renderPostgresReplicaInitScript(homelab, 'pg-node-2')).toContain('PGHA_PEERS=${PGHA_PEERS-10.10.10.151}\n');
    expect(renderPostgresReplicaInitScript(homelab, 'pg-node-2')).toContain('slot=replica_pg_node_2\n');
    expect(renderPostgresPromoteScript(homelab, 'pg-node-2')).toContain("pg_create_physical_replication_slot('replica_pg_node_1')");
    expect(renderPostgresPromoteScript(homelab, 'pg-node-2')).toContain('# FENCING CAVEAT');
    expect(renderPostgresRoleCheckScript(homelab, 'pg-node-1')).toContain('PGHA_PEERS=${PGHA_PEERS-10.10.10.152}\n');
  });

  test('the environment file holds exactly the two references it is given', () => {
    expect(effective(renderPostgresEnvironmentFile('${random_password.a.result}', '${random_password.b.result}'))).toEqual([
      'PGHA_K3S_PASSWORD=${random_password.a.result}',
      'PGHA_REPLICATION_PASSWORD=${random_password.b.result}',
    ]);
  });

  test('role check units: a socket on the node address with Accept=yes, a per-connection service as postgres', () => {
    const socket = effective(renderPostgresRoleCheckSocket(homelab, 'pg-node-2'));
    expect(socket).toEqual(expect.arrayContaining(['ListenStream=10.10.10.152:8008', 'Accept=yes', 'FreeBind=yes', 'WantedBy=sockets.target']));
    const service = effective(renderPostgresRoleCheckService());
    expect(service).toEqual(expect.arrayContaining([`ExecStart=${POSTGRES_ROLE_CHECK_PATH}`, 'StandardInput=socket', 'StandardOutput=socket',
      'User=postgres', 'RuntimeMaxSec=10']));
    expect(effective(renderPostgresServiceDropIn())).toEqual(['[Unit]', 'Wants=network-online.target', 'After=network-online.target']);
  });

  test('the runbook says what is automatic, what is not and why, with this site\'s names', () => {
    const runbook = renderPostgresRunbook(homelab);
    expect(runbook).toContain('## What is automatic');
    expect(runbook).toContain('**The writer endpoint follows the primary.**');
    expect(runbook).toContain('**Promotion is a human decision.** With two nodes there is no quorum and no fencing');
    expect(runbook).toContain('K3s reaches the primary at 10.10.10.150:5433 (the writer endpoint: HAProxy on pg-node-1, pg-node-2)');
    expect(runbook).toContain('/usr/local/lib/proxmox-k3s-ha/postgres-promote.sh');
    expect(runbook).toContain('postgres-replica-init.sh --force');
    expect(runbook).toContain('qm stop <vmid>');
  });
});
