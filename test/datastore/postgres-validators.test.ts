import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { CloudConfig, SitePlan, defineSite } from '../../constructs';
import {
  POSTGRES_ROLE_CHECK_PATH, renderHaproxyConfig, renderPostgresPrimaryInitScript, renderPostgresPromoteScript, renderPostgresReplicaInitScript, renderPostgresRoleCheckScript, renderPostgresTlsInstallScript, renderPostgresRoleCheckService, renderPostgresRoleCheckSocket,
  renderPostgresWriterHaproxySections,
} from '../../constructs/renderers';
import { addLoadBalancerService, applyDatastoreRole, applyLoadBalancerRole } from '../../constructs/roles';
import { renderCloudConfig, renderShellScript } from '../../constructs/cloud-init';
import { run } from '../support/netns';
import { describeWithTools } from '../support/tools';
import { cloudInitSchema, runOnFile, shellcheck } from '../support/validators';
import { colocatedSite, pgHomelabSite, singleNodeSite } from './fixtures';

const PLANS: SitePlan[] = [
  defineSite(pgHomelabSite),
  defineSite(colocatedSite),
  defineSite(singleNodeSite),
  defineSite({ ...pgHomelabSite, name: 'pg-async', postgres: { synchronousCommit: false, port: 6432, writerPort: 6433 } }),
  defineSite({ ...pgHomelabSite, name: 'pg-plain', postgres: { tls: false } }),
];
const NODES = PLANS.flatMap((plan) => plan.postgres!.nodes.map((node) => [`${plan.name}/${node.name}`, plan, node.name] as const));
const SCRIPTS = [
  ['primary init', renderPostgresPrimaryInitScript],
  ['replica init', renderPostgresReplicaInitScript],
  ['promotion', renderPostgresPromoteScript],
  ['role check', renderPostgresRoleCheckScript],
] as const;
const TLS_NODES = NODES.filter(([, plan]) => plan.postgres!.tls);

describeWithTools(['shellcheck'], 'shellcheck accepts every rendered datastore script (POSIX sh, every severity)', () => {
  test.each(NODES.flatMap(([label, plan, node]) => SCRIPTS.map(([name, render]) => [`${label} ${name}`, render(plan, node)] as const)))('%s', (_, script) => {
    const result = shellcheck(script);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });

  test.each(TLS_NODES.map(([label, plan, node]) => [`${label} TLS install`, renderPostgresTlsInstallScript(plan, node)] as const))('%s', (_, script) => {
    const result = shellcheck(script);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });

  test('the check can fail: an unquoted expansion is reported', () => {
    const broken = renderPostgresPromoteScript(PLANS[0], 'pg-node-2').replace('"$PGHA_BIN/psql"', '$PGHA_BIN/psql');
    expect(shellcheck(broken).ok).toBe(false);
  });
});

describeWithTools(['haproxy'], 'haproxy -c accepts load balancer configs with the writer sections', () => {
  const loadBalancers = PLANS.filter((plan) => plan.loadBalancer)
    .flatMap((plan) => plan.loadBalancer!.nodes.map((node) => [`${plan.name}/${node.name}`, plan, node.name] as const));

  test.each(loadBalancers)('%s', (_, plan, node) => {
    const cfg = renderHaproxyConfig(plan, node, 'S3cretFromTerraform', plan.postgres ? renderPostgresWriterHaproxySections(plan) : []);
    expect(cfg).toContain('backend postgres_writer');
    const result = runOnFile('haproxy', ['-c', '-f'], cfg, 'haproxy.cfg');
    expect(result.output).toContain('Configuration file is valid');
    expect(result.ok).toBe(true);
  });

  test('the check can fail: a bad health check expectation is rejected', () => {
    const broken = renderHaproxyConfig(PLANS[0], 'pg-node-1', 'pw', renderPostgresWriterHaproxySections(PLANS[0])).replace('http-check expect status 200', 'http-check expect statuz 200');
    expect(runOnFile('haproxy', ['-c', '-f'], broken, 'haproxy.cfg').ok).toBe(false);
  });
});

describeWithTools(['systemd-analyze'], 'systemd-analyze verify accepts the role check units', () => {
  /** Verifies the socket (and through it the service template), with ExecStart pointed at a real copy of the script. */
  const verify = (socket: string, service: string): { ok: boolean; output: string } => {
    const dir = mkdtempSync(join(tmpdir(), 'pkh-units-'));
    try {
      const script = join(dir, 'postgres-role-check.sh');
      writeFileSync(script, renderPostgresRoleCheckScript(PLANS[0], 'pg-node-1'), { mode: 0o755 });
      writeFileSync(join(dir, 'postgres-role-check.socket'), socket);
      writeFileSync(join(dir, 'postgres-role-check@.service'), service.replace(POSTGRES_ROLE_CHECK_PATH, script));
      const result = run('sh', ['-c', `cd ${dir} && systemd-analyze verify --man=no ./postgres-role-check.socket`]);
      return { ok: result.status === 0 && result.output.trim() === '', output: result.output };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  test('socket and service', () => {
    const result = verify(renderPostgresRoleCheckSocket(PLANS[0], 'pg-node-1'), renderPostgresRoleCheckService());
    expect(result.output.trim()).toBe('');
    expect(result.ok).toBe(true);
  });

  test('the check can fail: an unknown key is reported', () => {
    expect(verify(renderPostgresRoleCheckSocket(PLANS[0], 'pg-node-1'), renderPostgresRoleCheckService().replace('User=postgres', 'Userr=postgres')).ok).toBe(false);
  });
});

/** A seed-000 datastore node's whole builder: load balancer and datastore roles, passwords as Terraform references. */
function datastoreHost(): CloudConfig {
  const plan = PLANS[0];
  const config = new CloudConfig({ hostname: 'pg-node-1', fqdn: 'pg-node-1.homelab.test' });
  applyLoadBalancerRole(config, plan, 'pg-node-1', { statsPassword: '${random_password.stats.result}' });
  addLoadBalancerService(config, plan, 'pg-node-1', { statsPassword: '${random_password.stats.result}' },
    [{ description: 'haproxy postgres writer frontend', port: plan.postgres!.writerPort, sections: renderPostgresWriterHaproxySections(plan) }]);
  applyDatastoreRole(config, plan, 'pg-node-1', { k3sPassword: '${random_password.k3s.result}', replicationPassword: '${random_password.repl.result}' }, {
    caCertificateBase64: '${base64encode(tls_self_signed_cert.ca.cert_pem)}',
    certificateBase64: '${base64encode(tls_locally_signed_cert.node.cert_pem)}',
    privateKeyBase64: '${base64encode(tls_private_key.node.private_key_pem)}',
  });
  return config;
}

describeWithTools(['cloud-init'], 'cloud-init schema accepts a datastore node\'s cloud-config', () => {
  test('pg-node-1 (seed 000)', () => {
    const result = cloudInitSchema(renderCloudConfig(datastoreHost()));
    expect(result.output).toContain('Valid cloud-config');
    expect(result.ok).toBe(true);
  });
});

describeWithTools(['shellcheck'], 'shellcheck accepts a datastore node\'s LXC provisioning script', () => {
  test('pg-node-1 (seed 000)', () => {
    const result = shellcheck(renderShellScript(datastoreHost()));
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });
});
