import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { TlsProvider } from '@cdktf/provider-tls/lib/provider';
import { TerraformOutput, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { CloudConfig, CloudConfigConflictError, DatastoreKind, HaLoadBalancerPair, PostgresDatastore, Protocol, SitePlan, defineSite } from '../../constructs';
import { POSTGRES_ENV_PATH, POSTGRES_PRIMARY_INIT_PATH, POSTGRES_REPLICA_INIT_PATH, POSTGRES_TLS_INSTALL_PATH, renderPostgresWriterHaproxySections } from '../../constructs/renderers';
import { addLoadBalancerService, applyDatastoreRole, applyLoadBalancerRole } from '../../constructs/roles';
import { renderCloudConfig } from '../../constructs/cloud-init';
import lab from '../../sites/lab';
import { pgHomelabSite } from './fixtures';

/** The writer endpoint as PostgresDatastore adds it to the load balancers. */
const writerService = (plan: SitePlan) => ({ description: 'haproxy postgres writer frontend', port: plan.postgres!.writerPort, sections: renderPostgresWriterHaproxySections(plan) });

const homelab = defineSite(pgHomelabSite);
const plain = defineSite({ ...pgHomelabSite, postgres: { tls: false } });
const REF = /^\$\{random_password\.[A-Za-z0-9_-]+\.result\}$/;

function builder(plan: SitePlan, name: string): CloudConfig {
  return new CloudConfig({ hostname: name, fqdn: `${name}.${plan.network.searchDomain}` });
}

describe('applyDatastoreRole', () => {
  const secrets = { k3sPassword: '${random_password.k3s.result}', replicationPassword: '${random_password.repl.result}' };
  const tls = {
    caCertificateBase64: '${base64encode(tls_self_signed_cert.ca.cert_pem)}',
    certificateBase64: '${base64encode(tls_locally_signed_cert.node.cert_pem)}',
    privateKeyBase64: '${base64encode(tls_private_key.node.private_key_pem)}',
  };

  test('package, files at the Debian paths with their owners and modes, port claims', () => {
    const config = builder(plain, 'pg-node-1');
    applyDatastoreRole(config, plain, 'pg-node-1', secrets);
    expect(config.packages).toEqual(['curl', 'postgresql-16']);
    expect(config.files.map((f) => [f.path, f.mode, f.owner])).toEqual([
      ['/etc/postgresql/16/main/conf.d/50-proxmox-k3s-ha.conf', '0644', 'postgres:postgres'],
      ['/etc/postgresql/16/main/pg_hba.conf', '0640', 'postgres:postgres'],
      ['/etc/proxmox-k3s-ha/postgres.env', '0600', 'root:root'],
      ['/etc/systemd/system/postgres-role-check.socket', '0644', 'root:root'],
      ['/etc/systemd/system/postgres-role-check@.service', '0644', 'root:root'],
      ['/etc/systemd/system/postgresql@16-main.service.d/10-proxmox-k3s-ha.conf', '0644', 'root:root'],
      // Code-unit order: upper-case RUNBOOK before the lower-case script names.
      ['/usr/local/lib/proxmox-k3s-ha/postgres-RUNBOOK.md', '0644', 'root:root'],
      ['/usr/local/lib/proxmox-k3s-ha/postgres-primary-init.sh', '0755', 'root:root'],
      ['/usr/local/lib/proxmox-k3s-ha/postgres-promote.sh', '0755', 'root:root'],
      ['/usr/local/lib/proxmox-k3s-ha/postgres-replica-init.sh', '0755', 'root:root'],
      ['/usr/local/lib/proxmox-k3s-ha/postgres-role-check.sh', '0755', 'root:root'],
    ]);
    expect(config.ports.map((p) => [p.port, p.protocol, p.address])).toEqual([
      [5432, Protocol.TCP, '10.10.10.151'], [5432, Protocol.TCP, '127.0.0.1'], [8008, Protocol.TCP, '10.10.10.151'],
    ]);
    expect(config.files.find((f) => f.path === POSTGRES_ENV_PATH)!.content).toContain('PGHA_K3S_PASSWORD=${random_password.k3s.result}\n');
  });

  test('with TLS (the default): the CA, certificate and key base64-encoded and root-only, decoded by the TLS install script first', () => {
    const config = builder(homelab, 'pg-node-1');
    applyDatastoreRole(config, homelab, 'pg-node-1', secrets, tls);
    const tlsFiles = config.files.filter((f) => f.path.startsWith('/etc/proxmox-k3s-ha/postgres-tls/') || f.path === POSTGRES_TLS_INSTALL_PATH);
    expect(tlsFiles.map((f) => [f.path, f.mode, f.owner, f.content.split('\n')[0]])).toEqual([
      ['/etc/proxmox-k3s-ha/postgres-tls/ca.crt.b64', '0600', 'root:root', tls.caCertificateBase64],
      ['/etc/proxmox-k3s-ha/postgres-tls/server.crt.b64', '0600', 'root:root', tls.certificateBase64],
      ['/etc/proxmox-k3s-ha/postgres-tls/server.key.b64', '0600', 'root:root', tls.privateKeyBase64],
      ['/usr/local/lib/proxmox-k3s-ha/postgres-tls-install.sh', '0755', 'root:root', '#!/bin/sh'],
    ]);
    expect(config.commands).toEqual(['systemctl daemon-reload', POSTGRES_TLS_INSTALL_PATH, POSTGRES_PRIMARY_INIT_PATH,
      expect.stringMatching(/^if pkh_pending [^]*\n {2}systemctl reload-or-restart postgresql@16-main\n[^]*pending_restart[^]*systemctl restart postgresql@16-main; fi\n/), 'systemctl enable --now postgres-role-check.socket']);
  });

  test('fails without the TLS files when postgres.tls is on, and with them when it is off', () => {
    expect(() => applyDatastoreRole(builder(homelab, 'pg-node-1'), homelab, 'pg-node-1', secrets))
      .toThrow('tls: undefined — the node\'s CA, certificate and key, since postgres.tls is true for site pg-homelab');
    expect(() => applyDatastoreRole(builder(plain, 'pg-node-1'), plain, 'pg-node-1', secrets, tls))
      .toThrow('tls: TLS files — undefined, since postgres.tls is false for site pg-homelab');
  });

  test('the first node initializes the primary, the others clone it; the role check is enabled last', () => {
    const first = builder(plain, 'pg-node-1');
    const second = builder(plain, 'pg-node-2');
    applyDatastoreRole(first, plain, 'pg-node-1', secrets);
    applyDatastoreRole(second, plain, 'pg-node-2', secrets);
    const serviceStep = expect.stringMatching(/^if pkh_pending '\/etc\/postgresql\/16\/main\/conf.d\/50-proxmox-k3s-ha.conf'/);
    expect(first.commands).toEqual(['systemctl daemon-reload', POSTGRES_PRIMARY_INIT_PATH, serviceStep, 'systemctl enable --now postgres-role-check.socket']);
    expect(second.commands).toEqual(['systemctl daemon-reload', POSTGRES_REPLICA_INIT_PATH, serviceStep, 'systemctl enable --now postgres-role-check.socket']);
    expect(first.gates[0].description).toBe('postgresql accepts connections and streams to at least as many replicas as before');
    expect(second.gates[0].description).toBe('the replica streams from the primary');
  });

  test('co-located with the load balancer role (seed 000): no conflict, the writer port is claimed by HAProxy', () => {
    const config = builder(homelab, 'pg-node-2');
    const lbSecrets = { statsPassword: '${random_password.stats.result}' };
    applyLoadBalancerRole(config, homelab, 'pg-node-2', lbSecrets);
    // What PostgresDatastore does through HaLoadBalancerPair.addTcpService.
    addLoadBalancerService(config, homelab, 'pg-node-2', lbSecrets, [writerService(homelab)]);
    applyDatastoreRole(config, homelab, 'pg-node-2', secrets, tls);
    expect(config.ports.find((p) => p.port === 5433)).toMatchObject({ role: 'load-balancer', description: 'haproxy postgres writer frontend' });
    expect(config.files.find((f) => f.path === '/etc/haproxy/haproxy.cfg')!.content).toContain('backend postgres_writer');
  });

  test('fails when the writer port is the PostgreSQL port on a shared host', () => {
    const plan = defineSite({ ...pgHomelabSite, postgres: { writerPort: 5432 } });
    const config = builder(plan, 'pg-node-1');
    applyLoadBalancerRole(config, plan, 'pg-node-1', { statsPassword: 'x' });
    addLoadBalancerService(config, plan, 'pg-node-1', { statsPassword: 'x' }, [writerService(plan)]);
    expect(() => applyDatastoreRole(config, plan, 'pg-node-1', secrets, tls)).toThrow(CloudConfigConflictError);
    expect(() => applyDatastoreRole(builder(plan, 'pg-node-1'), plan, 'pg-node-1', secrets, tls)).not.toThrow();
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
    const datastore = new PostgresDatastore(stack, 'Datastore', { site: plan, hosts, loadBalancers });
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

  test('bind(): the DSN with the password reference and sslmode=verify-full, the CA as datastore-cafile, nothing secret in the server config', () => {
    const { datastore, binding, json } = synth();
    expect(datastore.kind).toBe(DatastoreKind.POSTGRES);
    expect(binding.serverConfig).toEqual({ 'datastore-cafile': '/etc/rancher/k3s/datastore-ca.crt' });
    expect(binding.serverFiles).toEqual([{ path: '/etc/rancher/k3s/datastore-ca.crt.b64', content: expect.stringMatching(/^\$\{TfToken\[TOKEN\.\d+\]\}\n$/), mode: '0644' }]);
    expect(binding.serverCommands).toEqual([
      'base64 -d < /etc/rancher/k3s/datastore-ca.crt.b64 > /etc/rancher/k3s/datastore-ca.crt.tmp && chmod 0644 /etc/rancher/k3s/datastore-ca.crt.tmp'
      + ' && mv /etc/rancher/k3s/datastore-ca.crt.tmp /etc/rancher/k3s/datastore-ca.crt',
    ]);
    expect(json.output.k3s_environment.value).toEqual({
      K3S_DATASTORE_ENDPOINT: 'postgres://k3s:${random_password.Datastore_K3sPassword_63D76CFE.result}@10.10.10.150:5433/k3s?sslmode=verify-full',
    });
    expect([datastore.datastoreEndpointAddress, datastore.datastoreEndpointPort]).toEqual(['10.10.10.150', 5433]);
  });

  test('without TLS: no tls resource, no CA for K3s, a DSN without sslmode (plain text)', () => {
    const { datastore, binding, json } = synth(plain);
    expect(json.resource).not.toHaveProperty('tls_private_key');
    expect(json.resource).not.toHaveProperty('tls_self_signed_cert');
    expect(json.resource).not.toHaveProperty('tls_locally_signed_cert');
    expect(binding).toEqual({ serverConfig: {}, serverEnvironment: { K3S_DATASTORE_ENDPOINT: expect.stringMatching(/@10\.10\.10\.150:5433\/k3s$/) }, serverFiles: [] });
    expect([datastore.tlsCaCertificate, datastore.tlsServerCertificates.size]).toEqual([undefined, 0]);
  });

  test('TLS: a CA and per node a key and a certificate it signs, all tls resources, valid for the node and the writer endpoint', () => {
    const { datastore, json } = synth();
    const keys = json.resource.tls_private_key;
    expect(Object.keys(keys).sort()).toEqual([
      expect.stringMatching(/^Datastore_TlsCaKey_/), expect.stringMatching(/^Datastore_TlsKey-pg-node-1_/), expect.stringMatching(/^Datastore_TlsKey-pg-node-2_/),
    ]);
    Object.values(keys).forEach((key) => expect(key).toMatchObject({ algorithm: 'ECDSA', ecdsa_curve: 'P256' }));
    const [ca] = Object.values(json.resource.tls_self_signed_cert) as Record<string, unknown>[];
    expect(ca).toMatchObject({ is_ca_certificate: true, allowed_uses: expect.arrayContaining(['cert_signing']), private_key_pem: expect.stringMatching(/^\$\{tls_private_key\.Datastore_TlsCaKey_\w+\.private_key_pem\}$/) });
    const requests = Object.entries(json.resource.tls_cert_request) as [string, Record<string, unknown>][];
    expect(requests.map(([id, request]) => [id.split('_')[1], request.dns_names, request.ip_addresses])).toEqual([
      ['TlsCertRequest-pg-node-1', ['pg-node-1.homelab.test', 'api.homelab.test'], ['10.10.10.151', '10.10.10.150']],
      ['TlsCertRequest-pg-node-2', ['pg-node-2.homelab.test', 'api.homelab.test'], ['10.10.10.152', '10.10.10.150']],
    ]);
    const certificates = Object.values(json.resource.tls_locally_signed_cert) as Record<string, unknown>[];
    expect(certificates).toHaveLength(2);
    certificates.forEach((certificate) => expect(certificate).toMatchObject({
      ca_cert_pem: expect.stringMatching(/^\$\{tls_self_signed_cert\.Datastore_TlsCaCertificate_\w+\.cert_pem\}$/),
      ca_private_key_pem: expect.stringMatching(/^\$\{tls_private_key\.Datastore_TlsCaKey_\w+\.private_key_pem\}$/),
      allowed_uses: ['digital_signature', 'key_encipherment', 'server_auth'],
    }));
    expect([...datastore.tlsServerCertificates.keys()]).toEqual(['pg-node-1', 'pg-node-2']);
  });

  test('TLS: no PEM and no key is a literal; the node\'s own key and certificate reach only its user-data, as base64 references', () => {
    const { json, text } = synth();
    expect(text).not.toMatch(/-----BEGIN [A-Z ]*-----/);
    expect(text).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY/);
    const userData: string = json.output['user_data_pg-node-1'].value;
    expect(userData).toMatch(/\$\{base64encode\(tls_private_key\.Datastore_TlsKey-pg-node-1_\w+\.private_key_pem\)\}/);
    expect(userData).toMatch(/\$\{base64encode\(tls_locally_signed_cert\.Datastore_TlsCertificate-pg-node-1_\w+\.cert_pem\)\}/);
    expect(userData).toMatch(/\$\{base64encode\(tls_self_signed_cert\.Datastore_TlsCaCertificate_\w+\.cert_pem\)\}/);
    expect(userData).not.toContain('pg-node-2_');
    expect(userData).not.toContain('TlsCaKey');
    // The CA key signs in Terraform only: it is in no user-data and not in the K3s environment.
    expect(JSON.stringify(json.output)).not.toContain('TlsCaKey');
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

  test('the writer endpoint reaches the load balancers through HaLoadBalancerPair.addTcpService; without them it is an error', () => {
    const { json } = synth();
    const userData = JSON.stringify(json.output);
    expect(userData).toContain('backend postgres_writer');
    const app = Testing.app();
    const stack = new TerraformStack(app, 'test');
    const hosts = homelab.postgres!.nodes.map((n) => ({ name: n.name, cloudConfig: builder(homelab, n.name) }));
    expect(() => new PostgresDatastore(stack, 'Datastore', { site: homelab, hosts }))
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
