import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { TlsProvider } from '@cdktf/provider-tls/lib/provider';
import { TerraformOutput, TerraformStack, Testing } from 'cdktf';
import { CloudConfig, HostRole, KubeadmControlPlane, KubeadmWorkers, SitePlan, defineSite, hostsWithRole } from '../../constructs';
import lab from '../../sites/lab';
import kubeadmStacked from '../../sites/kubeadm-stacked';

const SITE = defineSite(kubeadmStacked);

function stack(): TerraformStack {
  const scope = new TerraformStack(Testing.app(), 'test');
  new RandomProvider(scope, 'random');
  new TlsProvider(scope, 'tls');
  return scope;
}

const hostsOf = (site: SitePlan, role: HostRole) => hostsWithRole(site, role).map((h) => ({ name: h.name, cloudConfig: new CloudConfig({ hostname: h.name, fqdn: h.fqdn }) }));

describe('KubeadmControlPlane', () => {
  test('exposes its secrets as Terraform references and configures every control plane', () => {
    const scope = stack();
    const controlPlanes = hostsOf(SITE, HostRole.CONTROL_PLANE);
    const construct = new KubeadmControlPlane(scope, 'ControlPlane', { site: SITE, controlPlanes });
    new TerraformOutput(scope, 'token', { value: construct.joinSecrets.bootstrapToken, sensitive: true });
    new TerraformOutput(scope, 'ca', { value: construct.joinSecrets.caCertificateBase64 });
    const json = JSON.parse(Testing.synth(scope, true));
    expect(json.output.token.value).toMatch(/^\$\{random_string\.ControlPlane_BootstrapTokenId_\w+\.result\}\.\$\{random_string\.ControlPlane_BootstrapTokenSecret_\w+\.result\}$/);
    expect(json.output.ca.value).toMatch(/^\$\{base64encode\(tls_self_signed_cert\.ControlPlane_CaCertificate_\w+\.cert_pem\)\}$/);
    expect(controlPlanes.map((h) => h.cloudConfig.commands.slice(-1)[0])).toEqual([
      '/usr/local/lib/proxmox-k3s-ha/kubeadm-init.sh', '/usr/local/lib/proxmox-k3s-ha/kubeadm-join.sh', '/usr/local/lib/proxmox-k3s-ha/kubeadm-join.sh',
    ]);
    expect(Object.keys(json.resource).sort()).toEqual(['random_id', 'random_string', 'tls_private_key', 'tls_self_signed_cert']);
  });

  test('fails when the hosts are not the site\'s control planes in site order', () => {
    const [a, b, c] = hostsOf(SITE, HostRole.CONTROL_PLANE);
    expect(() => new KubeadmControlPlane(stack(), 'ControlPlane', { site: SITE, controlPlanes: [b, a, c] }))
      .toThrow('hosts: "controlplane2, controlplane1, controlplane3" — the site\'s hosts with role control-plane in site order (controlplane1, controlplane2, controlplane3)');
  });

  test('fails on a K3s site', () => {
    const site = defineSite(lab);
    expect(() => new KubeadmControlPlane(stack(), 'ControlPlane', { site, controlPlanes: [] }))
      .toThrow('site: controlPlane.distribution "k3s" — expected "kubeadm"');
  });
});

describe('KubeadmWorkers', () => {
  test('joins every worker with the given secrets; fails on hosts that are not the site\'s workers', () => {
    const scope = stack();
    const workers = hostsOf(SITE, HostRole.WORKER);
    const joinSecrets = { bootstrapToken: 'ref-token', caCertificateBase64: 'ref-ca' };
    new KubeadmWorkers(scope, 'Workers', { site: SITE, workers, joinSecrets });
    expect(workers[0].cloudConfig.files.find((f) => f.path === '/etc/kubernetes/kubeadm/join.yaml')?.content).toContain('tlsBootstrapToken: ref-token');
    expect(() => new KubeadmWorkers(stack(), 'Workers', { site: SITE, workers: workers.slice(1), joinSecrets }))
      .toThrow('hosts: "worker2" — the site\'s hosts with role worker in site order (worker1, worker2)');
  });
});
