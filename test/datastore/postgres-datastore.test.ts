import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { TerraformOutput, TerraformStack, Testing } from 'cdktf';
import {
  CloudConfig, CloudConfigConflictError, DatastoreKind, POSTGRES_ENV_PATH, POSTGRES_PRIMARY_INIT_PATH, POSTGRES_REPLICA_INIT_PATH, PostgresDatastore, Protocol,
  SitePlan, applyDatastoreRole, applyLoadBalancerRole, defineSite, renderCloudConfig,
} from '../../constructs';
import lab from '../../sites/lab';
import { pgHomelabSite } from './fixtures';

const homelab = defineSite(pgHomelabSite);
const REF = /^\$\{random_password\.[A-Za-z0-9_-]+\.result\}$/;

function builder(plan: SitePlan, name: string): CloudConfig {
  return new CloudConfig({ hostname: name, fqdn: `${name}.${plan.network.searchDomain}` });
}

describe('applyDatastoreRole', () => {
  const secrets = { k3sPassword: '${random_password.k3s.result}', replicationPassword: '${random_password.repl.result}' };

  test('package, files at the Debian paths with their owners and modes, port claims', () => {
    const config = builder(homelab, 'pg-node-1');
    applyDatastoreRole(config, homelab, 'pg-node-1', secrets);
    expect(config.packages).toEqual(['curl', 'postgresql-16']);
    expect(config.files.map((f) => [f.path, f.mode, f.owner])).toEqual([
      ['/etc/postgresql/16/main/conf.d/50-proxmox-k3s-ha.conf', '0644', 'postgres:postgres'],
      ['/etc/postgresql/16/main/pg_hba.conf', '0640', 'postgres:postgres'],
      ['/etc/proxmox-k3s-ha/postgres.env', '0600', 'root:root'],
      ['/etc/systemd/system/postgres-role-check.socket', '0644', 'root:root'],
      ['/etc/systemd/system/postgres-role-check@.service', '0644', 'root:root'],
      ['/etc/systemd/system/postgresql@16-main.service.d/10-proxmox-k3s-ha.conf', '0644', 'root:root'],
      ['/usr/local/lib/proxmox-k3s-ha/postgres-primary-init.sh', '0755', 'root:root'],
      ['/usr/local/lib/proxmox-k3s-ha/postgres-promote.sh', '0755', 'root:root'],
      ['/usr/local/lib/proxmox-k3s-ha/postgres-replica-init.sh', '0755', 'root:root'],
      ['/usr/local/lib/proxmox-k3s-ha/postgres-role-check.sh', '0755', 'root:root'],
      ['/usr/local/lib/proxmox-k3s-ha/postgres-RUNBOOK.md', '0644', 'root:root'],
    ]);
    expect(config.ports.map((p) => [p.port, p.protocol, p.address])).toEqual([
      [5432, Protocol.TCP, '10.10.10.151'], [5432, Protocol.TCP, '127.0.0.1'], [8008, Protocol.TCP, '10.10.10.151'],
    ]);
    expect(config.files.find((f) => f.path === POSTGRES_ENV_PATH)!.content).toContain('PGHA_K3S_PASSWORD=${random_password.k3s.result}\n');
  });

  test('the first node initializes the primary, the others clone it; the role check is enabled last', () => {
    const first = builder(homelab, 'pg-node-1');
    const second = builder(homelab, 'pg-node-2');
    applyDatastoreRole(first, homelab, 'pg-node-1', secrets);
    applyDatastoreRole(second, homelab, 'pg-node-2', secrets);
    expect(first.commands).toEqual(['systemctl daemon-reload', POSTGRES_PRIMARY_INIT_PATH, 'systemctl enable --now postgres-role-check.socket']);
    expect(second.commands).toEqual(['systemctl daemon-reload', POSTGRES_REPLICA_INIT_PATH, 'systemctl enable --now postgres-role-check.socket']);
  });

  test('co-located with the load balancer role (seed 000): no conflict, the writer port is claimed by HAProxy', () => {
    const config = builder(homelab, 'pg-node-2');
    applyLoadBalancerRole(config, homelab, 'pg-node-2', { statsPassword: '${random_password.stats.result}' });
    applyDatastoreRole(config, homelab, 'pg-node-2', secrets);
    expect(config.ports.find((p) => p.port === 5433)).toMatchObject({ role: 'load-balancer', description: 'haproxy postgres writer frontend' });
    expect(config.files.find((f) => f.path === '/etc/haproxy/haproxy.cfg')!.content).toContain('backend postgres_writer');
  });

  test('fails when the writer port is the PostgreSQL port on a shared host', () => {
    const plan = defineSite({ ...pgHomelabSite, postgres: { writerPort: 5432 } });
    const config = builder(plan, 'pg-node-1');
    applyLoadBalancerRole(config, plan, 'pg-node-1', { statsPassword: 'x' });
    expect(() => applyDatastoreRole(config, plan, 'pg-node-1', secrets)).toThrow(CloudConfigConflictError);
    expect(() => applyDatastoreRole(builder(plan, 'pg-node-1'), plan, 'pg-node-1', secrets)).not.toThrow();
  });

  test('fails for a host that is not a datastore node, and for a site without postgres', () => {
    expect(() => applyDatastoreRole(builder(homelab, 'cp1'), homelab, 'cp1', secrets))
      .toThrow('site pg-homelab: host "cp1" is not a datastore node (datastore nodes: pg-node-1, pg-node-2)');
    expect(() => applyDatastoreRole(builder(homelab, 'x'), defineSite(lab), 'lx-k3s-server-01', secrets)).toThrow('expected "postgres"');
  });
});

describe('PostgresDatastore', () => {
  function synth(plan: SitePlan = homelab) {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'test');
    new RandomProvider(stack, 'random');
    const hosts = plan.postgres!.nodes.map((n) => ({ name: n.name, cloudConfig: builder(plan, n.name) }));
    const datastore = new PostgresDatastore(stack, 'Datastore', { site: plan, hosts });
    const binding = datastore.bind('cp2', 1);
    // Outputs resolve the tokens the way the host snippets will.
    hosts.forEach((host) => new TerraformOutput(stack, `user_data_${host.name}`, { value: renderCloudConfig(host.cloudConfig), sensitive: true }));
    new TerraformOutput(stack, 'k3s_environment', { value: binding.serverEnvironment, sensitive: true });
    const text = Testing.synth(stack, true);
    return { datastore, binding, text, json: JSON.parse(text) };
  }

  test('generates both passwords as random_password: 32 letters and digits, stable addresses', () => {
    const { json } = synth();
    expect(json.resource.random_password).toEqual({
      Datastore_K3sPassword_63D76CFE: expect.objectContaining({ length: 32, special: false }),
      Datastore_ReplicationPassword_4DCE0DF0: expect.objectContaining({ length: 32, special: false }),
    });
  });

  test('bind(): the DSN with the password reference in the server environment, nothing secret in the server config', () => {
    const { datastore, binding, json } = synth();
    expect(datastore.kind).toBe(DatastoreKind.POSTGRES);
    expect(binding.serverConfig).toEqual({});
    expect(binding.serverFiles).toEqual([]);
    expect(json.output.k3s_environment.value).toEqual({
      K3S_DATASTORE_ENDPOINT: 'postgres://k3s:${random_password.Datastore_K3sPassword_63D76CFE.result}@10.10.10.150:5433/k3s',
    });
    expect([datastore.datastoreEndpointAddress, datastore.datastoreEndpointPort]).toEqual(['10.10.10.150', 5433]);
  });

  test('no secret is a literal: passwords appear only as references, only in the env file and the DSN', () => {
    const { json, text } = synth();
    const userData: string = json.output['user_data_pg-node-1'].value;
    const env = /PGHA_K3S_PASSWORD=(.*)\n\s*PGHA_REPLICATION_PASSWORD=(.*)\n/.exec(userData)!;
    expect(env[1]).toMatch(REF);
    expect(env[2]).toMatch(REF);
    expect(env[2]).toContain('ReplicationPassword');
    // Each password reference occurs once per host snippet (its env file) plus once in the DSN: nowhere else.
    expect(text.split('${random_password.Datastore_K3sPassword_63D76CFE.result}').length - 1).toBe(3);
    expect(text.split('${random_password.Datastore_ReplicationPassword_4DCE0DF0.result}').length - 1).toBe(2);
    expect(json.resource.random_password.Datastore_K3sPassword_63D76CFE.result).toBeUndefined();
    expect(text).not.toMatch(/PGHA_(K3S|REPLICATION)_PASSWORD=(?!\$\{random_password\.)/);
    expect(text).not.toMatch(/postgres:\/\/k3s:(?!\$\{random_password\.)/);
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
