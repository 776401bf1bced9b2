import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { TlsProvider } from '@cdktf/provider-tls/lib/provider';
import { TerraformOutput, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { dirname } from 'path';
import { parse } from 'yaml';
import {
  CloudConfig, CloudConfigConflictError, DatastoreKind, FileEncoding, HaLoadBalancerPair, HostRole, PostgresDatastore, Protocol, ServiceChange, SitePlan, SiteStack, defineSite,
  k3sServerManifests,
} from '../../constructs';
import {
  ETCD_DROP_IN_PATH, ETCD_ENV_PATH, ETCD_TLS_CA_PATH, ETCD_TLS_CERT_PATH, ETCD_TLS_KEY_PATH, HAPROXY_DATASTORE_CA_PATH, PATRONI_CONFIG_PATH, PATRONI_DROP_IN_PATH,
  ETCD_INITIAL_STATE_PATH, ETCD_WAIT_READY_PATH, PATRONI_ROTATE_PASSWORDS_PATH, POSTGRES_SCRAM_VERIFIER_PATH, HAPROXY_WRITER_DOWN_STATE_PATH, HAPROXY_WRITER_DROP_IN_PATH, HAPROXY_WRITER_STATE_PATH, HAPROXY_WRITER_STATE_SCRIPT_PATH, PATRONI_ENV_PATH,
  PATRONI_ETCD_V3_COMMAND, PATRONI_ETCD_V3_PATH, PATRONI_POST_BOOTSTRAP_PATH, PATRONICTL_PATH, POSTGRES_CREATECLUSTER_PATH, POSTGRES_PREPARE_PATH, POSTGRES_RUNBOOK_PATH, POSTGRES_SYNC_K3S_PASSWORD_PATH, POSTGRES_TLS_CA_PATH,
  POSTGRES_TLS_CERT_PATH, POSTGRES_TLS_KEY_PATH, PostgresAsset, postgresAsset, renderEtcdEnvironmentFile, renderHaproxyWriterDropIn, renderPatroniConfig, renderPostgresRunbook,
  renderPostgresWriterHaproxySections, renderWriterDownStateFile,
} from '../../constructs/renderers';
import {
  addLoadBalancerService, applyDatastoreRole, applyDatastoreWitnessRole, applyLoadBalancerRole, applyWriterEndpointStartState,
} from '../../constructs/roles';
import { renderCloudConfig } from '../../constructs/cloud-init';
import lab from '../../sites/lab';
import { colocatedSite, pgHomelabSite, singleNodeSite } from './fixtures';

/** The writer endpoint as PostgresDatastore adds it to the load balancers. */
const writerService = (plan: SitePlan) => ({ description: 'haproxy postgres writer frontend', port: plan.postgres!.writerPort, sections: renderPostgresWriterHaproxySections(plan) });

const homelab = defineSite(pgHomelabSite);
const plain = defineSite({ ...pgHomelabSite, postgres: { tls: false } });
const colocated = defineSite(colocatedSite);
const single = defineSite(singleNodeSite);
const REF = /^\$\{random_password\.[A-Za-z0-9_-]+\.result\}$/;

function builder(plan: SitePlan, name: string): CloudConfig {
  return new CloudConfig({ hostname: name, fqdn: `${name}.${plan.network.searchDomain}` });
}

const secrets = {
  k3sPassword: '${random_password.k3s.result}',
  replicationPassword: '${random_password.repl.result}',
  superuserPassword: '${random_password.su.result}',
  rewindPassword: '${random_password.rewind.result}',
  restApiPassword: '${random_password.api.result}',
};
const tls = {
  caCertificateBase64: '${base64encode(tls_self_signed_cert.ca.cert_pem)}',
  certificateBase64: '${base64encode(tls_locally_signed_cert.node.cert_pem)}',
  privateKeyBase64: '${base64encode(tls_private_key.node.private_key_pem)}',
};

/** [path, mode, owner, encoding] of a builder's files. */
const fileSummary = (config: CloudConfig) => config.files.map((f) => [f.path, f.mode, f.owner, f.encoding]);
const fileAt = (config: CloudConfig, path: string) => config.files.find((f) => f.path === path);

describe('applyDatastoreRole', () => {
  test('packages: PostgreSQL of the site\'s version, Patroni, the etcd server and client', () => {
    const config = builder(colocated, 'db-1');
    applyDatastoreRole(config, colocated, 'db-1', secrets, tls);
    expect(config.packages).toEqual(['curl', 'etcd-client', 'etcd-server', 'patroni', 'postgresql-16']);
    const v15 = defineSite({ ...colocatedSite, postgres: { ...colocatedSite.postgres, version: 15 } });
    const other = builder(v15, 'db-1');
    applyDatastoreRole(other, v15, 'db-1', secrets, tls);
    expect(other.packages).toContain('postgresql-15');
    expect(other.commands[0]).toBe(`${POSTGRES_PREPARE_PATH} 15`);
  });

  test('without TLS: files at their paths with their owners and modes, rendered for this node', () => {
    const config = builder(plain, 'pg-node-1');
    applyDatastoreRole(config, plain, 'pg-node-1', secrets);
    const text = FileEncoding.TEXT;
    expect(fileSummary(config)).toEqual([
      [PATRONI_CONFIG_PATH, '0640', 'root:postgres', text],
      [POSTGRES_CREATECLUSTER_PATH, '0644', 'root:root', text],
      [ETCD_ENV_PATH, '0644', 'root:root', text],
      [PATRONI_ENV_PATH, '0600', 'root:root', text],
      [ETCD_DROP_IN_PATH, '0644', 'root:root', text],
      [PATRONI_DROP_IN_PATH, '0644', 'root:root', text],
      [PATRONICTL_PATH, '0755', 'root:root', text],
      [ETCD_INITIAL_STATE_PATH, '0755', 'root:root', text],
      [ETCD_WAIT_READY_PATH, '0755', 'root:root', text],
      [PATRONI_ETCD_V3_PATH, '0644', 'root:root', text],
      [PATRONI_POST_BOOTSTRAP_PATH, '0755', 'root:root', text],
      [PATRONI_ROTATE_PASSWORDS_PATH, '0755', 'root:root', text],
      // Code-unit order: upper-case RUNBOOK before the lower-case script name.
      [POSTGRES_RUNBOOK_PATH, '0644', 'root:root', text],
      [POSTGRES_PREPARE_PATH, '0755', 'root:root', text],
      [POSTGRES_SCRAM_VERIFIER_PATH, '0644', 'root:root', text],
      [POSTGRES_SYNC_K3S_PASSWORD_PATH, '0755', 'root:root', text],
    ]);
    // The rotation script runs the verifier from its own directory.
    expect(dirname(PATRONI_ROTATE_PASSWORDS_PATH)).toBe(dirname(POSTGRES_SCRAM_VERIFIER_PATH));
    expect(fileAt(config, PATRONI_ROTATE_PASSWORDS_PATH)!.content).toBe(postgresAsset(PostgresAsset.ROTATE_PASSWORDS));
    expect(fileAt(config, POSTGRES_SCRAM_VERIFIER_PATH)!.content).toBe(postgresAsset(PostgresAsset.SCRAM_VERIFIER));
    expect(fileAt(config, PATRONI_CONFIG_PATH)!.content).toBe(renderPatroniConfig(plain, 'pg-node-1'));
    expect(fileAt(config, ETCD_ENV_PATH)!.content).toBe(renderEtcdEnvironmentFile(plain, 'pg-node-1'));
    expect(fileAt(config, POSTGRES_RUNBOOK_PATH)!.content).toBe(renderPostgresRunbook(plain));
    expect(fileAt(config, POSTGRES_PREPARE_PATH)!.content).toBe(postgresAsset(PostgresAsset.PREPARE));
    expect(fileAt(config, PATRONI_POST_BOOTSTRAP_PATH)!.content).toBe(postgresAsset(PostgresAsset.POST_BOOTSTRAP));
    expect(fileAt(config, ETCD_WAIT_READY_PATH)!.content).toBe(postgresAsset(PostgresAsset.ETCD_WAIT_READY));
    expect(fileAt(config, PATRONI_ETCD_V3_PATH)!.content).toBe(postgresAsset(PostgresAsset.PATRONI_ETCD_V3));
    // What an operator types runs Patroni's patronictl through the same script.
    // The shipped wrapper names the paths these constants hold: the environment file and the v3 wrapper.
    const wrapper = fileAt(config, PATRONICTL_PATH)!.content;
    expect(wrapper).toBe(postgresAsset(PostgresAsset.PATRONICTL));
    expect(wrapper).toContain(`env_file=${PATRONI_ENV_PATH}\n`);
    expect(wrapper).toContain(`exec ${PATRONI_ETCD_V3_COMMAND} patronictl "$@"\n`);
    expect(fileAt(config, POSTGRES_CREATECLUSTER_PATH)!.content).toContain('\ncreate_main_cluster = false\n');
    expect(fileAt(config, PATRONI_ENV_PATH)!.content.split('\n').filter((l) => l.includes('PASSWORD='))).toEqual([
      'PATRONI_SUPERUSER_PASSWORD=${random_password.su.result}',
      'PATRONI_REPLICATION_PASSWORD=${random_password.repl.result}',
      'PATRONI_REWIND_PASSWORD=${random_password.rewind.result}',
      'PATRONI_RESTAPI_PASSWORD=${random_password.api.result}',
      'PKH_K3S_PASSWORD=${random_password.k3s.result}',
    ]);
    // The passwords are in the root-only env file and nowhere else.
    for (const file of config.files.filter((f) => f.path !== PATRONI_ENV_PATH)) {
      expect(file.content).not.toContain('random_password');
    }
  });

  test('with TLS: CA, certificate and key base64-encoded, for PostgreSQL and Patroni (owner postgres) and a copy for etcd (owner etcd), keys 0600', () => {
    const config = builder(homelab, 'pg-node-1');
    applyDatastoreRole(config, homelab, 'pg-node-1', secrets, tls);
    const b64 = FileEncoding.BASE64;
    expect(fileSummary(config).filter(([path]) => String(path).includes('-tls/'))).toEqual([
      [ETCD_TLS_CA_PATH, '0644', 'etcd:etcd', b64],
      [ETCD_TLS_CERT_PATH, '0644', 'etcd:etcd', b64],
      [ETCD_TLS_KEY_PATH, '0600', 'etcd:etcd', b64],
      [POSTGRES_TLS_CA_PATH, '0644', 'postgres:postgres', b64],
      [POSTGRES_TLS_CERT_PATH, '0644', 'postgres:postgres', b64],
      [POSTGRES_TLS_KEY_PATH, '0600', 'postgres:postgres', b64],
    ]);
    expect([ETCD_TLS_CA_PATH, ETCD_TLS_CERT_PATH, ETCD_TLS_KEY_PATH].map((path) => fileAt(config, path)!.content))
      .toEqual([tls.caCertificateBase64, tls.certificateBase64, tls.privateKeyBase64]);
    expect([POSTGRES_TLS_CA_PATH, POSTGRES_TLS_CERT_PATH, POSTGRES_TLS_KEY_PATH].map((path) => fileAt(config, path)!.content))
      .toEqual([tls.caCertificateBase64, tls.certificateBase64, tls.privateKeyBase64]);
    // cloud-init decodes them: `encoding: b64` in write_files.
    const document = parse(renderCloudConfig(config)) as { write_files: Record<string, unknown>[] };
    expect(document.write_files.filter((f) => String(f.path).includes('-tls/')).map((f) => [f.path, f.encoding, f.owner, f.permissions])).toEqual([
      [ETCD_TLS_CA_PATH, 'b64', 'etcd:etcd', '0644'],
      [ETCD_TLS_CERT_PATH, 'b64', 'etcd:etcd', '0644'],
      [ETCD_TLS_KEY_PATH, 'b64', 'etcd:etcd', '0600'],
      [POSTGRES_TLS_CA_PATH, 'b64', 'postgres:postgres', '0644'],
      [POSTGRES_TLS_CERT_PATH, 'b64', 'postgres:postgres', '0644'],
      [POSTGRES_TLS_KEY_PATH, 'b64', 'postgres:postgres', '0600'],
    ]);
    expect(document.write_files.find((f) => f.path === PATRONI_CONFIG_PATH)).not.toHaveProperty('encoding');
  });

  test('port claims: PostgreSQL on the node address and loopback, Patroni\'s REST API, etcd client (address and loopback) and peer', () => {
    const config = builder(homelab, 'pg-node-1');
    applyDatastoreRole(config, homelab, 'pg-node-1', secrets, tls);
    expect(config.ports.map((p) => [p.port, p.protocol, p.address])).toEqual([
      [5432, Protocol.TCP, '10.10.10.151'], [5432, Protocol.TCP, '127.0.0.1'], [8008, Protocol.TCP, '10.10.10.151'],
      [2379, Protocol.TCP, '10.10.10.151'], [2379, Protocol.TCP, '127.0.0.1'], [2380, Protocol.TCP, '10.10.10.151'],
    ]);
  });

  test('commands: the prepare script with the version, then etcd (restarted on a change) before Patroni (reloaded, cluster settings pushed)', () => {
    const config = builder(homelab, 'pg-node-2');
    applyDatastoreRole(config, homelab, 'pg-node-2', secrets, tls);
    expect(config.commands[0]).toBe(`${POSTGRES_PREPARE_PATH} 16`);
    expect(config.commands[1]).toBe('systemctl daemon-reload');
    expect(config.services.map((s) => [s.unit, s.onChange])).toEqual([['etcd', ServiceChange.RESTART], ['patroni', ServiceChange.RELOAD]]);
    const [etcd, patroni] = config.services;
    expect(etcd.watches).toEqual([ETCD_ENV_PATH, ETCD_DROP_IN_PATH, ETCD_TLS_CA_PATH, ETCD_TLS_CERT_PATH, ETCD_TLS_KEY_PATH]);
    expect(patroni.watches).toEqual([PATRONI_CONFIG_PATH, PATRONI_ENV_PATH, PATRONI_DROP_IN_PATH, POSTGRES_TLS_CA_PATH, POSTGRES_TLS_CERT_PATH, POSTGRES_TLS_KEY_PATH]);
    expect(patroni.apply).toContain('systemctl reload patroni');
    expect(patroni.apply).toContain(`${PATRONICTL_PATH} -c ${PATRONI_CONFIG_PATH} edit-config --force --quiet --set ttl=8 --set loop_wait=2 --set retry_timeout=3`);
    expect(patroni.apply).toContain('systemctl start --no-block patroni');
    // A running node hands a rotated K3s password to the primary (the script acts only there), as the superuser over the socket.
    const running = patroni.apply!.split('\nelse\n')[0];
    expect(running).toContain(`${POSTGRES_SYNC_K3S_PASSWORD_PATH} ${PATRONI_ENV_PATH} k3s /usr/lib/postgresql/16/bin/psql 'host=/var/run/postgresql port=5432 dbname=postgres user=postgres'`);
    // The service steps are commands in the same order: etcd's before Patroni's.
    const etcdStep = config.commands.findIndex((c) => c.includes('systemctl enable etcd'));
    const patroniStep = config.commands.findIndex((c) => c.includes('systemctl enable patroni'));
    expect([etcdStep, patroniStep]).toEqual([2, 3]);
    expect(config.commands[etcdStep]).toContain('systemctl restart etcd');
  });

  test('gates: the etcd member, then Patroni with a primary, over TLS with the datastore CA', () => {
    const config = builder(homelab, 'pg-node-1');
    applyDatastoreRole(config, homelab, 'pg-node-1', secrets, tls);
    expect(config.gates).toHaveLength(2);
    const [etcd, patroni] = config.gates;
    expect(etcd.check).toContain('etcdctl --endpoints https://127.0.0.1:2379 --cacert /etc/proxmox-k3s-ha/etcd-tls/ca.crt');
    expect(etcd.check).toContain('endpoint health');
    expect(patroni.check).toContain('--cacert /etc/proxmox-k3s-ha/postgres-tls/ca.crt');
    expect(patroni.check).toContain('https://10.10.10.151:8008/health');
    expect(patroni.check).toContain('"role": "leader"');
    const plainConfig = builder(plain, 'pg-node-1');
    applyDatastoreRole(plainConfig, plain, 'pg-node-1', secrets);
    expect(plainConfig.gates[1].check).toContain('http://10.10.10.151:8008/health');
    expect(plainConfig.gates.map((g) => g.check).join('\n')).not.toContain('cacert');
  });

  test('TLS files are required with postgres.tls and refused without it', () => {
    expect(() => applyDatastoreRole(builder(homelab, 'pg-node-1'), homelab, 'pg-node-1', secrets))
      .toThrow('tls: undefined — the host\'s CA, certificate and key, since postgres.tls is true for site pg-homelab');
    expect(() => applyDatastoreRole(builder(plain, 'pg-node-1'), plain, 'pg-node-1', secrets, tls))
      .toThrow('tls: TLS files — undefined, since postgres.tls is false for site pg-homelab');
  });

  test('co-located with the load balancer role (seed 000): no conflict, the writer port is HAProxy\'s', () => {
    const config = builder(homelab, 'pg-node-2');
    const lbSecrets = { statsPassword: '${random_password.stats.result}' };
    applyLoadBalancerRole(config, homelab, 'pg-node-2', lbSecrets);
    addLoadBalancerService(config, homelab, 'pg-node-2', lbSecrets, [writerService(homelab)]);
    applyDatastoreRole(config, homelab, 'pg-node-2', secrets, tls);
    expect(config.ports.find((p) => p.port === 5433)).toMatchObject({ role: 'load-balancer', description: 'haproxy postgres writer frontend' });
    expect(config.ports.filter((p) => [5432, 8008, 2379, 2380].includes(p.port)).every((p) => p.role === 'datastore')).toBe(true);
    expect(fileAt(config, '/etc/haproxy/haproxy.cfg')!.content).toContain('backend postgres_writer');
    expect(config.services.map((s) => s.unit)).toEqual(expect.arrayContaining(['haproxy', 'etcd', 'patroni']));
  });

  test('fails when the writer port is the PostgreSQL port on a shared host: the site model says so first, the builder too', () => {
    expect(() => defineSite({ ...pgHomelabSite, postgres: { writerPort: 5432 } })).toThrow(/postgres\.writerPort: 5432 — /);
    // The builder's own port claims catch it as well (a plan whose PostgreSQL port moved onto the writer port).
    const plan = { ...homelab, postgres: { ...homelab.postgres!, port: homelab.postgres!.writerPort } };
    const config = builder(plan, 'pg-node-1');
    applyLoadBalancerRole(config, plan, 'pg-node-1', { statsPassword: 'x' });
    addLoadBalancerService(config, plan, 'pg-node-1', { statsPassword: 'x' }, [writerService(plan)]);
    expect(() => applyDatastoreRole(config, plan, 'pg-node-1', secrets, tls)).toThrow(CloudConfigConflictError);
    expect(() => applyDatastoreRole(builder(plan, 'pg-node-1'), plan, 'pg-node-1', secrets, tls)).not.toThrow();
  });

  test('fails for a host that is not a datastore node (the witness included), and for a site without postgres', () => {
    expect(() => applyDatastoreRole(builder(homelab, 'cp1'), homelab, 'cp1', secrets, tls))
      .toThrow('site pg-homelab: host "cp1" is not a datastore node (datastore nodes: pg-node-1, pg-node-2)');
    expect(() => applyDatastoreRole(builder(homelab, 'x'), defineSite(lab), 'lx-k3s-server-01', secrets)).toThrow('expected "postgres"');
  });
});

describe('applyWriterEndpointStartState', () => {
  test('a load balancer gets the DOWN state twice (the state HAProxy loads, and the one each start copies), the script, the drop-in, curl and a daemon-reload', () => {
    const config = builder(homelab, 'pg-node-1');
    applyWriterEndpointStartState(config, homelab);
    expect(fileSummary(config)).toEqual([
      [HAPROXY_WRITER_DOWN_STATE_PATH, '0644', 'root:root', FileEncoding.TEXT],
      [HAPROXY_WRITER_DROP_IN_PATH, '0644', 'root:root', FileEncoding.TEXT],
      [HAPROXY_WRITER_STATE_SCRIPT_PATH, '0755', 'root:root', FileEncoding.TEXT],
      [HAPROXY_WRITER_STATE_PATH, '0644', 'root:root', FileEncoding.TEXT],
    ]);
    expect(fileAt(config, HAPROXY_WRITER_STATE_PATH)!.content).toBe(renderWriterDownStateFile(homelab));
    expect(fileAt(config, HAPROXY_WRITER_DOWN_STATE_PATH)!.content).toBe(renderWriterDownStateFile(homelab));
    expect(fileAt(config, HAPROXY_WRITER_DROP_IN_PATH)!.content).toBe(renderHaproxyWriterDropIn());
    expect(fileAt(config, HAPROXY_WRITER_STATE_SCRIPT_PATH)!.content).toBe(postgresAsset(PostgresAsset.HAPROXY_WRITER_STATE));
    expect(config.packages).toEqual(['curl']);
    expect(config.commands).toEqual(['systemctl daemon-reload']);
  });

  test('co-located with the load balancer and datastore roles (seed 000): no conflict', () => {
    const config = builder(homelab, 'pg-node-2');
    const lbSecrets = { statsPassword: '${random_password.stats.result}' };
    applyLoadBalancerRole(config, homelab, 'pg-node-2', lbSecrets);
    addLoadBalancerService(config, homelab, 'pg-node-2', lbSecrets, [writerService(homelab)]);
    applyDatastoreRole(config, homelab, 'pg-node-2', secrets, tls);
    applyWriterEndpointStartState(config, homelab);
    expect(config.files.map((f) => f.path)).toEqual(expect.arrayContaining([HAPROXY_WRITER_STATE_PATH, '/etc/haproxy/haproxy.cfg', PATRONI_CONFIG_PATH]));
  });
});

describe('applyDatastoreWitnessRole', () => {
  test('the witness gets an etcd member and nothing else', () => {
    const config = builder(homelab, 'cp1');
    applyDatastoreWitnessRole(config, homelab, 'cp1', tls);
    expect(config.packages).toEqual(['etcd-client', 'etcd-server']);
    expect(fileSummary(config)).toEqual([
      [ETCD_TLS_CA_PATH, '0644', 'etcd:etcd', FileEncoding.BASE64],
      [ETCD_TLS_CERT_PATH, '0644', 'etcd:etcd', FileEncoding.BASE64],
      [ETCD_TLS_KEY_PATH, '0600', 'etcd:etcd', FileEncoding.BASE64],
      [ETCD_ENV_PATH, '0644', 'root:root', FileEncoding.TEXT],
      [ETCD_DROP_IN_PATH, '0644', 'root:root', FileEncoding.TEXT],
      [ETCD_INITIAL_STATE_PATH, '0755', 'root:root', FileEncoding.TEXT],
    ]);
    expect(fileAt(config, ETCD_ENV_PATH)!.content).toBe(renderEtcdEnvironmentFile(homelab, 'cp1'));
    expect(fileAt(config, ETCD_INITIAL_STATE_PATH)!.content).toBe(postgresAsset(PostgresAsset.ETCD_INITIAL_STATE));
    expect(config.ports.map((p) => [p.port, p.address, p.role])).toEqual([
      [2379, '10.10.10.153', 'datastore-witness'], [2379, '127.0.0.1', 'datastore-witness'], [2380, '10.10.10.153', 'datastore-witness'],
    ]);
    expect(config.services.map((s) => [s.unit, s.onChange])).toEqual([['etcd', ServiceChange.RESTART]]);
    expect(config.gates.map((g) => g.check).join('\n')).toContain('endpoint health');
    expect(config.commands.join('\n')).not.toMatch(/patroni|postgres/);
  });

  test('without TLS: no TLS files', () => {
    const config = builder(plain, 'cp1');
    applyDatastoreWitnessRole(config, plain, 'cp1');
    expect(config.files.map((f) => f.path)).toEqual([ETCD_ENV_PATH, ETCD_DROP_IN_PATH, ETCD_INITIAL_STATE_PATH]);
    expect(() => applyDatastoreWitnessRole(builder(plain, 'cp1'), plain, 'cp1', tls)).toThrow('tls: TLS files — undefined, since postgres.tls is false');
    expect(() => applyDatastoreWitnessRole(builder(homelab, 'cp1'), homelab, 'cp1')).toThrow('tls: undefined');
  });

  test('co-located with the load balancer role (the witness server-1 of the co-located site): no conflict', () => {
    const config = builder(colocated, 'server-1');
    applyLoadBalancerRole(config, colocated, 'server-1', { statsPassword: 'x' });
    addLoadBalancerService(config, colocated, 'server-1', { statsPassword: 'x' }, [writerService(colocated)]);
    expect(() => applyDatastoreWitnessRole(config, colocated, 'server-1', tls)).not.toThrow();
    expect(config.services.map((s) => s.unit)).toEqual(['haproxy', 'keepalived', 'etcd']);
  });

  test('refuses a host that is not the witness, a site without a witness, a site without postgres', () => {
    expect(() => applyDatastoreWitnessRole(builder(homelab, 'cp2'), homelab, 'cp2', tls))
      .toThrow('site pg-homelab: host "cp2" is not the datastore\'s etcd witness ("cp1")');
    expect(() => applyDatastoreWitnessRole(builder(homelab, 'pg-node-1'), homelab, 'pg-node-1', tls)).toThrow('is not the datastore\'s etcd witness ("cp1")');
    expect(() => applyDatastoreWitnessRole(builder(single, 'server-1'), single, 'server-1', tls))
      .toThrow('site pg-single: host "server-1" is not the datastore\'s etcd witness (the site has none)');
    expect(() => applyDatastoreWitnessRole(builder(homelab, 'x'), defineSite(lab), 'lx-k3s-server-01')).toThrow('expected "postgres" for the PostgreSQL datastore');
  });
});

describe('PostgresDatastore', () => {
  interface SynthOptions {
    /** Pass the plan's witness host (default: when the plan has one). */
    readonly witness?: boolean;
  }

  function synth(plan: SitePlan = homelab, options: SynthOptions = {}) {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'test');
    new RandomProvider(stack, 'random');
    new TlsProvider(stack, 'tls');
    const configs = new Map(plan.hosts.map((h) => [h.name, builder(plan, h.name)]));
    const loadBalancers = plan.loadBalancer
      ? new HaLoadBalancerPair(stack, 'LoadBalancers', {
        site: plan,
        hosts: plan.loadBalancer.nodes.map((n) => ({ name: n.name, cloudConfig: configs.get(n.name)! })),
        // From a variable: this suite counts the datastore's own random_password resources.
        statsPassword: new TerraformVariable(stack, 'stats_password', { type: 'string', sensitive: true }).stringValue,
      })
      : undefined;
    const hosts = plan.postgres!.nodes.map((n) => ({ name: n.name, cloudConfig: configs.get(n.name)! }));
    const witnessName = plan.postgres!.witness?.name;
    const witness = (options.witness ?? true) && witnessName ? { name: witnessName, cloudConfig: configs.get(witnessName)! } : undefined;
    const datastore = new PostgresDatastore(stack, 'Datastore', { site: plan, hosts, loadBalancers, witness });
    const server = plan.hosts.find((h) => h.roles.includes(HostRole.K3S_SERVER))!.name;
    const binding = datastore.bind(server, 0);
    // Outputs resolve the tokens the way the host snippets will.
    plan.hosts.forEach((host) => new TerraformOutput(stack, `user_data_${host.name}`, { value: renderCloudConfig(configs.get(host.name)!), sensitive: true }));
    new TerraformOutput(stack, 'k3s_environment', { value: binding.serverEnvironment, sensitive: true });
    const text = Testing.synth(stack, true);
    return { datastore, binding, text, json: JSON.parse(text) };
  }

  test('generates the five passwords as random_password: 32 letters and digits', () => {
    const { json, datastore } = synth();
    const passwords = json.resource.random_password as Record<string, Record<string, unknown>>;
    expect(Object.keys(passwords).map((id) => id.split('_')[1]).sort())
      .toEqual(['K3sPassword', 'ReplicationPassword', 'RestApiPassword', 'RewindPassword', 'SuperuserPassword']);
    Object.values(passwords).forEach((password) => expect(password).toMatchObject({ length: 32, special: false }));
    expect([...datastore.generatedPasswords.keys()].sort()).toEqual(['k3s', 'replication', 'restApi', 'rewind', 'superuser']);
  });

  test('bind(): the DSN with the password reference and sslmode=verify-full, the CA as datastore-cafile, nothing secret in the server config', () => {
    const { datastore, binding, json } = synth();
    expect(datastore.kind).toBe(DatastoreKind.POSTGRES);
    expect(binding.serverConfig).toEqual({ 'datastore-cafile': '/etc/rancher/k3s/datastore-ca.crt' });
    // The CA itself, decoded by cloud-init: no decode command, nothing to run before K3s starts.
    // With the monitoring on (the default), also Prometheus's scrape Secret as a K3s manifest (test/monitoring).
    expect(binding.serverFiles).toEqual([{
      path: '/etc/rancher/k3s/datastore-ca.crt', content: expect.stringMatching(/^\$\{TfToken\[TOKEN\.\d+\]\}$/), encoding: FileEncoding.BASE64, mode: '0644',
    }, { path: '/var/lib/rancher/k3s/server/manifests/pkh-datastore-scrape-tls.yaml', content: expect.stringContaining('kind: Secret'), mode: '0600' }]);
    expect(binding.serverCommands).toBeUndefined();
    expect(json.output.k3s_environment.value).toEqual({
      K3S_DATASTORE_ENDPOINT: expect.stringMatching(/^postgres:\/\/k3s:\$\{random_password\.Datastore_K3sPassword_\w+\.result\}@10\.10\.10\.150:5433\/k3s\?sslmode=verify-full$/),
    });
    expect([datastore.datastoreEndpointAddress, datastore.datastoreEndpointPort]).toEqual(['10.10.10.150', 5433]);
  });

  test('without TLS: no tls resource, no CA for K3s or HAProxy, a DSN without sslmode', () => {
    const { datastore, binding, json, text } = synth(plain);
    expect(Object.keys(json.resource).filter((type) => type.startsWith('tls_'))).toEqual([]);
    expect(binding).toEqual({ serverConfig: {}, serverEnvironment: { K3S_DATASTORE_ENDPOINT: expect.stringMatching(/@10\.10\.10\.150:5433\/k3s$/) }, serverFiles: [] });
    expect([datastore.tlsCaCertificate, datastore.tlsServerCertificates.size]).toEqual([undefined, 0]);
    expect(text).not.toContain(HAPROXY_DATASTORE_CA_PATH);
  });

  test('TLS: a CA, and a key and a certificate it signs for both datastore nodes and the witness, for server and client use', () => {
    const { datastore, json } = synth();
    // Prometheus's client certificate (monitoring on) is the monitoring's: test/monitoring/cluster/datastore-scrape-secret.test.ts.
    const hostsOnly = <T>(entries: Record<string, T>) => Object.fromEntries(Object.entries(entries).filter(([id]) => !id.includes('_ScrapeClient')));
    const keys = hostsOnly(json.resource.tls_private_key as Record<string, Record<string, unknown>>);
    expect(Object.keys(keys).map((id) => id.split('_')[1]).sort()).toEqual(['TlsCaKey', 'TlsKey-cp1', 'TlsKey-pg-node-1', 'TlsKey-pg-node-2']);
    Object.values(keys).forEach((key) => expect(key).toMatchObject({ algorithm: 'ECDSA', ecdsa_curve: 'P256' }));
    const [ca] = Object.values(json.resource.tls_self_signed_cert) as Record<string, unknown>[];
    expect(ca).toMatchObject({ is_ca_certificate: true, allowed_uses: expect.arrayContaining(['cert_signing']) });
    const requests = Object.entries(hostsOnly(json.resource.tls_cert_request)) as [string, Record<string, unknown>][];
    expect(requests.map(([id, request]) => [id.split('_')[1], request.dns_names, request.ip_addresses]).sort()).toEqual([
      ['TlsCertRequest-cp1', ['cp1.homelab.test', 'localhost'], expect.arrayContaining(['10.10.10.153', '127.0.0.1'])],
      ['TlsCertRequest-pg-node-1', ['pg-node-1.homelab.test', 'api.homelab.test', 'localhost'], expect.arrayContaining(['10.10.10.151', '10.10.10.150'])],
      ['TlsCertRequest-pg-node-2', ['pg-node-2.homelab.test', 'api.homelab.test', 'localhost'], expect.arrayContaining(['10.10.10.152', '10.10.10.150'])],
    ]);
    expect((requests.find(([id]) => id.includes('cp1'))![1].ip_addresses as string[])).not.toContain('10.10.10.150');
    const certificates = Object.values(hostsOnly(json.resource.tls_locally_signed_cert)) as Record<string, unknown>[];
    expect(certificates).toHaveLength(3);
    certificates.forEach((certificate) => expect(certificate).toMatchObject({
      ca_cert_pem: expect.stringMatching(/^\$\{tls_self_signed_cert\.Datastore_TlsCaCertificate_\w+\.cert_pem\}$/),
      ca_private_key_pem: expect.stringMatching(/^\$\{tls_private_key\.Datastore_TlsCaKey_\w+\.private_key_pem\}$/),
      allowed_uses: expect.arrayContaining(['digital_signature', 'key_encipherment', 'server_auth', 'client_auth']),
    }));
    expect([...datastore.tlsServerCertificates.keys()]).toEqual(['pg-node-1', 'pg-node-2', 'cp1']);
  });

  test('TLS: each host gets only its own key and certificate, base64 references; the CA key is in no user-data', () => {
    const { json, text } = synth();
    expect(text).not.toMatch(/-----BEGIN [A-Z ]*-----/);
    const userData = (host: string): string => json.output[`user_data_${host}`].value;
    for (const host of ['pg-node-1', 'cp1']) {
      expect(userData(host)).toMatch(new RegExp(`\\$\\{base64encode\\(tls_private_key\\.Datastore_TlsKey-${host}_\\w+\\.private_key_pem\\)\\}`));
      expect(userData(host)).toMatch(new RegExp(`\\$\\{base64encode\\(tls_locally_signed_cert\\.Datastore_TlsCertificate-${host}_\\w+\\.cert_pem\\)\\}`));
    }
    expect(userData('pg-node-1')).not.toContain('pg-node-2_');
    expect(userData('pg-node-1')).not.toContain('TlsKey-cp1');
    expect(userData('cp1')).not.toContain('TlsKey-pg-node');
    expect(userData('cp2')).not.toContain('tls_private_key');
    expect(JSON.stringify(json.output)).not.toContain('TlsCaKey');
  });

  test('the witness gets its etcd member; the datastore nodes Patroni; the other K3s servers neither', () => {
    const { json } = synth();
    const files = (host: string) => (parse(json.output[`user_data_${host}`].value as string) as { write_files?: { path: string }[] }).write_files?.map((f) => f.path) ?? [];
    expect(files('cp1')).toEqual(expect.arrayContaining([ETCD_ENV_PATH, ETCD_DROP_IN_PATH, ETCD_TLS_KEY_PATH]));
    expect(files('cp1')).not.toContain(PATRONI_CONFIG_PATH);
    expect(files('pg-node-2')).toEqual(expect.arrayContaining([ETCD_ENV_PATH, PATRONI_CONFIG_PATH, PATRONI_ENV_PATH, POSTGRES_TLS_KEY_PATH]));
    expect(files('cp2')).not.toContain(ETCD_ENV_PATH);
  });

  test('the HAProxy CA file on every load balancer, decoded by cloud-init, and the writer sections in haproxy.cfg', () => {
    const { json } = synth(colocated);
    for (const host of ['server-1', 'server-2', 'server-3']) {
      const document = parse(json.output[`user_data_${host}`].value as string) as { write_files: Record<string, string>[] };
      expect(document.write_files.find((f) => f.path === HAPROXY_DATASTORE_CA_PATH)).toMatchObject({
        encoding: 'b64', permissions: '0644', content: expect.stringMatching(/^\$\{base64encode\(tls_self_signed_cert\.Datastore_TlsCaCertificate_\w+\.cert_pem\)\}$/),
      });
      expect(document.write_files.find((f) => f.path === '/etc/haproxy/haproxy.cfg')!.content).toContain(`ca-file ${HAPROXY_DATASTORE_CA_PATH} verifyhost db-1.fixture.test`);
    }
    const db = parse(json.output['user_data_db-1'].value as string) as { write_files: Record<string, string>[] };
    expect(db.write_files.map((f) => f.path)).not.toContain(HAPROXY_DATASTORE_CA_PATH);
  });

  test('every load balancer, and only they, gets the writer servers\' start state: the state files, the script and the haproxy.service drop-in', () => {
    const { json } = synth(colocated);
    const files = (host: string) => (parse(json.output[`user_data_${host}`].value as string) as { write_files: { path: string; content: string }[] }).write_files;
    for (const host of ['server-1', 'server-2', 'server-3']) {
      expect(files(host).find((f) => f.path === HAPROXY_WRITER_STATE_PATH)!.content).toBe(renderWriterDownStateFile(colocated));
      expect(files(host).map((f) => f.path)).toEqual(expect.arrayContaining([HAPROXY_WRITER_DOWN_STATE_PATH, HAPROXY_WRITER_STATE_SCRIPT_PATH, HAPROXY_WRITER_DROP_IN_PATH]));
    }
    for (const host of ['db-1', 'db-2']) {
      expect(files(host).map((f) => f.path)).not.toContain(HAPROXY_WRITER_DROP_IN_PATH);
    }
  });

  test('no secret is a literal: passwords appear only as references, in the env files and the DSN', () => {
    const { json, text } = synth();
    const ids = Object.keys(json.resource.random_password);
    const ref = (name: string) => `\${random_password.${ids.find((id) => id.includes(name))!}.result}`;
    const env = (host: string) => /PATRONI_SUPERUSER_PASSWORD=(.*)\n\s*PATRONI_REPLICATION_PASSWORD=(.*)\n\s*PATRONI_REWIND_PASSWORD=(.*)\n\s*PATRONI_RESTAPI_USERNAME=patroni\n\s*PATRONI_RESTAPI_PASSWORD=(.*)\n\s*PKH_K3S_PASSWORD=(.*)\n/
      .exec(json.output[`user_data_${host}`].value as string)!.slice(1);
    for (const host of ['pg-node-1', 'pg-node-2']) {
      expect(env(host)).toEqual([ref('SuperuserPassword'), ref('ReplicationPassword'), ref('RewindPassword'), ref('RestApiPassword'), ref('K3sPassword')]);
      env(host).forEach((value) => expect(value).toMatch(REF));
    }
    // Each reference once per datastore node's env file, the K3s one also in the DSN: nowhere else.
    expect(text.split(ref('K3sPassword')).length - 1).toBe(3);
    for (const name of ['SuperuserPassword', 'ReplicationPassword', 'RewindPassword', 'RestApiPassword']) {
      expect(text.split(ref(name)).length - 1).toBe(2);
    }
    expect(json.output.user_data_cp1.value).not.toContain('random_password');
    expect(text).not.toMatch(/(PATRONI_\w+_PASSWORD|PKH_K3S_PASSWORD)=(?!\$\{random_password\.)/);
    expect(text).not.toMatch(/postgres:\/\/k3s:(?!\$\{random_password\.)/);
  });

  test('passwords given as references are used instead of generated ones', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'test');
    const configs = new Map(single.hosts.map((h) => [h.name, builder(single, h.name)]));
    const passwords = { k3s: '${var.k3s}', replication: '${var.repl}', superuser: '${var.su}', rewind: '${var.rewind}', restApi: '${var.api}' };
    new TlsProvider(stack, 'tls');
    const datastore = new PostgresDatastore(stack, 'Datastore', { site: single, hosts: [{ name: 'db-1', cloudConfig: configs.get('db-1')! }], passwords });
    expect(datastore.generatedPasswords.size).toBe(0);
    expect(JSON.parse(Testing.synth(stack)).resource.random_password).toBeUndefined();
    expect(datastore.bind('server-1', 0).serverEnvironment).toEqual({ K3S_DATASTORE_ENDPOINT: 'postgres://k3s:${var.k3s}@198.18.0.41:5432/k3s?sslmode=verify-full' });
    expect(configs.get('db-1')!.files.find((f) => f.path === PATRONI_ENV_PATH)!.content).toContain('PATRONI_REWIND_PASSWORD=${var.rewind}\n');
  });

  test('SiteStack with secrets from variables: the five datastore passwords are sensitive variables, no random_password, etcd on the witness', () => {
    const site = defineSite({ ...pgHomelabSite, postgres: { tls: false } });
    const stack = new SiteStack(Testing.app(), site.name, { site, serverManifests: k3sServerManifests(site), secrets: 'variables' });
    const text = Testing.synth(stack, true);
    const json = JSON.parse(text);
    for (const name of ['postgres_k3s_password', 'postgres_replication_password', 'postgres_superuser_password', 'postgres_rewind_password', 'patroni_api_password']) {
      expect(json.variable[name]).toMatchObject({ type: 'string', sensitive: true });
      expect(text).toContain(`\${var.${name}}`);
    }
    expect(json.resource.random_password).toBeUndefined();
    expect(text).toContain('PATRONI_REWIND_PASSWORD=${var.postgres_rewind_password}');
    expect(text).toContain('PATRONI_RESTAPI_PASSWORD=${var.patroni_api_password}');
    expect(text).toContain('ETCD_NAME=cp1');
  });

  test('the witness host is required when the plan has one, and refused when it has none or another', () => {
    expect(() => synth(homelab, { witness: false })).toThrow('witness: undefined — the host of the etcd witness, "cp1"');
    const app = Testing.app();
    const stack = new TerraformStack(app, 'test');
    const hosts = single.postgres!.nodes.map((n) => ({ name: n.name, cloudConfig: builder(single, n.name) }));
    expect(() => new PostgresDatastore(stack, 'Datastore', { site: single, hosts, witness: { name: 'server-1', cloudConfig: builder(single, 'server-1') } }))
      .toThrow('witness: "server-1" — undefined: the site has no etcd witness');
    const homelabHosts = homelab.postgres!.nodes.map((n) => ({ name: n.name, cloudConfig: builder(homelab, n.name) }));
    expect(() => new PostgresDatastore(new TerraformStack(Testing.app(), 'test'), 'Datastore', {
      site: homelab, hosts: homelabHosts, witness: { name: 'cp2', cloudConfig: builder(homelab, 'cp2') },
    })).toThrow('witness: "cp2" — the host of the etcd witness, "cp1"');
  });

  test('the writer endpoint needs the load balancers when the site has them', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'test');
    const hosts = homelab.postgres!.nodes.map((n) => ({ name: n.name, cloudConfig: builder(homelab, n.name) }));
    expect(() => new PostgresDatastore(stack, 'Datastore', { site: homelab, hosts, witness: { name: 'cp1', cloudConfig: builder(homelab, 'cp1') } }))
      .toThrow(`loadBalancers: undefined — the site's HaLoadBalancerPair, which carries the writer endpoint on port ${homelab.postgres!.writerPort} (site ${homelab.name} has load balancers)`);
  });

  test('fails when the hosts are not the datastore nodes in site order', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'test');
    const hosts = ['pg-node-2', 'pg-node-1'].map((name) => ({ name, cloudConfig: builder(homelab, name) }));
    expect(() => new PostgresDatastore(stack, 'Datastore', { site: homelab, hosts }))
      .toThrow('hosts: "pg-node-2, pg-node-1" — the site\'s hosts with role datastore in site order (pg-node-1, pg-node-2)');
  });

  test('fails to bind a host that is not a K3s server, and for a site without postgres', () => {
    expect(() => synth().datastore.bind('pg-node-1', 0)).toThrow('serverName: "pg-node-1" — one of the site\'s K3s servers (cp1, cp2, cp3)');
    const app = Testing.app();
    expect(() => new PostgresDatastore(new TerraformStack(app, 'test'), 'Datastore', { site: defineSite(lab), hosts: [] })).toThrow('expected "postgres"');
  });
});
