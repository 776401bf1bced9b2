import { PG_BIN_ROOT, PgNode, PostgresLab, installedPostgresVersion, sleep, waitFor } from './harness';
import { describeWithTools } from '../support/tools';

/**
 * The generated datastore against real PostgreSQL and HAProxy, in network namespaces (see harness.ts): provisioning
 * with the generated scripts, pg_hba enforcement, the writer endpoint, a crash of the primary, promotion with the
 * generated script, a restarted old primary, and re-attaching it. The tests run in order and share one lab.
 * TLS is on (the site default): certificates from openssl with the construct's names, K3s's connections with
 * `sslmode=verify-full` against the datastore CA, replication over TLS, and plain-text connections rejected.
 */
const version = installedPostgresVersion();
const TOOLS = ['ip', 'runuser', 'curl', 'haproxy', 'openssl', version ? `${PG_BIN_ROOT}/${version}/bin/initdb` : `${PG_BIN_ROOT}/<version>/bin/initdb`];

describeWithTools(TOOLS, 'the generated datastore on real PostgreSQL', () => {
  let lab: PostgresLab;
  let primary: PgNode;
  let replica: PgNode;
  /** Ids of rows whose commit the writer endpoint acknowledged. */
  const acknowledged: number[] = [];

  beforeAll(async () => {
    lab = new PostgresLab(version!);
    [primary, replica] = lab.nodes;
    await lab.provision();
  }, 180_000);

  afterAll(() => {
    lab?.stop();
  });

  const scalar = (node: PgNode, sql: string, database?: string) => {
    const result = lab.sql(node, sql, database);
    expect(result.status).toBe(0);
    return result.output;
  };

  test('primary init: the K3s role owns its database, the replicator may replicate, a slot waits for the replica', () => {
    expect(scalar(primary, "select rolcanlogin, rolsuper, rolreplication from pg_roles where rolname = 'k3s'")).toBe('t|f|f');
    expect(scalar(primary, "select rolcanlogin, rolsuper, rolreplication from pg_roles where rolname = 'replicator'")).toBe('t|f|t');
    expect(scalar(primary, "select pg_get_userbyid(datdba) from pg_database where datname = 'k3s'")).toBe('k3s');
    expect(scalar(primary, "select rolpassword like 'SCRAM-SHA-256$%' from pg_authid where rolname = 'k3s'")).toBe('t');
    expect(scalar(primary, 'select slot_name, slot_type, active from pg_replication_slots')).toBe('replica_pg_node_2|physical|t');
  });

  test('replica init: the replica streams through its slot and counts for synchronous commit', () => {
    expect(scalar(replica, 'select pg_is_in_recovery()')).toBe('t');
    expect(scalar(primary, 'select application_name, state, sync_state from pg_stat_replication')).toBe('pg-node-2|streaming|quorum');
    expect(scalar(primary, 'show synchronous_standby_names')).toBe('ANY 1 (*)');
  });

  test('both init scripts are idempotent', () => {
    const again = lab.runScript(primary, 'primaryInit');
    expect(again.output).toContain('primary ready: database k3s owned by k3s, replication slots replica_pg_node_2');
    expect(again.status).toBe(0);
    const replicaAgain = lab.runScript(replica, 'replicaInit');
    expect(replicaAgain.output).toContain('already a replica');
    expect(replicaAgain.status).toBe(0);
    expect(scalar(primary, 'select count(*) from pg_replication_slots')).toBe('1');
  });

  test('role check: /primary 200 on the primary and 503 on the replica; /role, /replica, unknown paths', () => {
    expect(lab.roleCheck(primary, '/primary')).toMatchObject({ status: 200, body: 'primary 1' });
    expect(lab.roleCheck(replica, '/primary')).toMatchObject({ status: 503, body: 'replica' });
    expect(lab.roleCheck(replica, '/replica')).toMatchObject({ status: 200, body: 'replica' });
    expect(lab.roleCheck(primary, '/replica')).toMatchObject({ status: 503 });
    expect(lab.roleCheck(replica, '/role')).toMatchObject({ status: 200, body: 'replica' });
    expect(lab.roleCheck(primary, '/nope')).toMatchObject({ status: 404 });
    expect(lab.roleCheck(primary, '/primary').raw).toMatch(/^HTTP\/1\.0 200 OK\r\nContent-Type: text\/plain\r\nContent-Length: 10\r\nConnection: close\r\n\r\nprimary 1\n$/);
  });

  test('pg_hba admits the K3s user from a K3s server, and nothing else', () => {
    const { k3s, replication } = lab.passwords;
    expect(lab.sqlVia(lab.directDsn(primary), 'select current_user')).toEqual({ status: 0, output: 'k3s' });
    expect(lab.sqlVia(lab.directDsn(primary, 'k3s', 'wrong0password'), 'select 1').output).toContain('password authentication failed for user "k3s"');
    expect(lab.sqlVia(lab.directDsn(primary, 'k3s', k3s, 'postgres'), 'select 1').output)
      .toContain('no pg_hba.conf entry for host "10.10.10.153", user "k3s", database "postgres"');
    expect(lab.sqlVia(lab.directDsn(primary, 'replicator', replication, 'k3s'), 'select 1').output).toContain('no pg_hba.conf entry');
    expect(lab.sqlVia(`host=${primary.ip} user=replicator password=${replication} dbname=replication replication=true`, 'IDENTIFY_SYSTEM').output)
      .toContain('no pg_hba.conf entry for replication connection from host "10.10.10.153", user "replicator"');
    expect(lab.sqlVia(lab.directDsn(primary, 'postgres', 'x', 'postgres'), 'select 1').output).toContain('no pg_hba.conf entry');
    expect(lab.sqlVia(lab.directDsn(primary), 'select 1', lab.outsider).output).toContain('no pg_hba.conf entry for host "10.10.10.160"');
  });

  test('TLS: through the writer endpoint with sslmode=verify-full and the datastore CA, K3s\'s connection is encrypted', () => {
    expect(lab.dsn).toBe(`postgres://k3s:${lab.passwords.k3s}@10.10.10.150:5433/k3s?sslmode=verify-full`);
    const result = lab.sqlVia(lab.dsn, 'select host(inet_server_addr()), ssl, version from pg_stat_ssl where pid = pg_backend_pid()');
    expect(result.status).toBe(0);
    expect(result.output).toMatch(/^10\.10\.10\.151\|t\|TLSv1\.[23]$/);
    expect(lab.sql(primary, 'show ssl_min_protocol_version').output).toBe('TLSv1.2');
  });

  test('TLS: verify-full really verifies: a client trusting another CA is refused the connection', () => {
    const result = lab.sqlVia(`${lab.dsn}&sslrootcert=${lab.otherCaCertificate}`, 'select 1');
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('certificate verify failed');
  });

  test('TLS: pg_hba rejects the K3s user without TLS (sslmode=disable), directly and through the writer endpoint', () => {
    expect(lab.sqlVia(`${lab.directDsn(primary)}?sslmode=disable`, 'select 1').output)
      .toContain('no pg_hba.conf entry for host "10.10.10.153", user "k3s", database "k3s", no encryption');
    expect(lab.sqlVia(lab.dsn.replace('sslmode=verify-full', 'sslmode=disable'), 'select 1').output)
      .toContain('no pg_hba.conf entry for host "10.10.10.151", user "k3s", database "k3s", no encryption');
    expect(lab.sqlVia(`${lab.directDsn(primary)}?sslmode=require`, 'select current_user')).toEqual({ status: 0, output: 'k3s' });
  });

  test('TLS: the replica streams over TLS, having verified the primary (sslmode=verify-full in its primary_conninfo)', () => {
    expect(scalar(primary, 'select s.ssl from pg_stat_replication r join pg_stat_ssl s using (pid)')).toBe('t');
    expect(scalar(replica, 'show primary_conninfo')).toMatch(/ sslmode='verify-full' .*sslrootcert='[^']*\/pg-node-2\/tls\/ca\.crt'/);
  });

  test('writes through the writer endpoint (the DSN K3s gets) land on the primary and show up on the replica', async () => {
    expect(lab.sqlVia(lab.dsn, 'create table lab_rows (id integer primary key, at timestamptz default now())').status).toBe(0);
    expect(lab.sqlVia(lab.dsn, 'insert into lab_rows (id) select generate_series(1, 100) returning host(inet_server_addr())').output.split('\n')[0])
      .toBe(primary.ip);
    // Synchronous commit: the replica has flushed the rows; applying them follows within moments.
    expect(await waitFor(() => lab.sql(replica, 'select count(*) from lab_rows', 'k3s').output === '100', 10_000)).toBe(true);
  });

  test('promotion refuses while the primary is alive', () => {
    const refused = lab.runScript(replica, 'promote');
    expect(refused.output).toContain('refusing to promote: this replica is still streaming from 10.10.10.151');
    expect(refused.status).not.toBe(0);
    expect(scalar(replica, 'select pg_is_in_recovery()')).toBe('t');
  });

  test('crash of the primary, promotion with the script: the writer endpoint follows and no acknowledged write is lost', async () => {
    // Four clients writing at once, so several commits are in flight when the primary dies.
    let writing = true;
    const writers = [0, 1, 2, 3].map(async (client) => {
      for (let id = 1000 + client; writing && id < 100_000; id += 4) {
        const result = await lab.sqlViaAsync(lab.dsn, `insert into lab_rows (id) values (${id})`, lab.client, 5_000);
        if (result.status === 0) {
          acknowledged.push(id);
        }
      }
    });
    expect(await waitFor(() => acknowledged.length >= 40, 20_000, 20)).toBe(true);
    expect(lab.crashPostgres(primary).status).toBe(0);
    await sleep(500);
    writing = false;
    await Promise.all(writers);

    const promoted = lab.runScript(replica, 'promote');
    expect(promoted.output).toContain('10.10.10.151 does not answer');
    expect(promoted.output).toContain('this node is the primary');
    expect(promoted.status).toBe(0);
    expect(await waitFor(() => lab.writerServerAddress() === replica.ip, 15_000, 100)).toBe(true);
    expect(lab.sqlVia(lab.dsn, 'insert into lab_rows (id) values (200000)').status).toBe(0);

    const present = new Set(lab.sql(replica, 'select id from lab_rows', 'k3s').output.split('\n').map(Number));
    expect(acknowledged.filter((id) => !present.has(id))).toEqual([]);
    expect(lab.roleCheck(replica, '/primary')).toMatchObject({ status: 200, body: 'primary 2' });
  }, 90_000);

  test('a restarted old primary is kept out of the writer endpoint (a peer is primary on a later timeline)', async () => {
    lab.startPostgres(primary);
    expect(scalar(primary, 'select pg_is_in_recovery()')).toBe('f');
    expect(lab.roleCheck(primary, '/primary')).toMatchObject({ status: 503, body: 'stale primary: 10.10.10.152 is primary on timeline 2, this node on 1' });
    expect(lab.roleCheck(replica, '/primary')).toMatchObject({ status: 200 });
    // HAProxy checks every second: a few seconds later writes still land on the new primary only.
    await sleep(3_000);
    for (let i = 0; i < 5; i++) {
      expect(lab.writerServerAddress()).toBe(replica.ip);
    }
  }, 30_000);

  test('re-attaching the old primary: refused without --force, cloned with it; synchronous commit back on', async () => {
    const refused = lab.runScript(primary, 'replicaInit');
    expect(refused.output).toContain('this node is a primary holding database k3s');
    expect(refused.status).not.toBe(0);

    const attached = lab.runScript(primary, 'replicaInit', ['--force']);
    expect(attached.output).toContain('replica of 10.10.10.152, streaming through slot replica_pg_node_1');
    expect(attached.status).toBe(0);
    expect(scalar(primary, 'select pg_is_in_recovery()')).toBe('t');
    expect(lab.roleCheck(primary, '/primary')).toMatchObject({ status: 503, body: 'replica' });

    expect(lab.reenableSynchronousCommit(replica).status).toBe(0);
    expect(await waitFor(() => lab.sql(replica, 'select application_name, sync_state from pg_stat_replication').output === 'pg-node-1|quorum', 10_000)).toBe(true);
    expect(lab.sqlVia(lab.dsn, 'insert into lab_rows (id) values (200001)').status).toBe(0);
    expect(await waitFor(() => lab.sql(primary, 'select count(*) from lab_rows where id >= 200000', 'k3s').output === '2', 10_000)).toBe(true);
  }, 90_000);
}, { needsRoot: true });
