import { resolve } from 'path';
import { AnnotationMetadataEntryType } from 'cdktf';
import { HostRole, Protocol, SitePlan, defineSite, hostsWithRole } from '../../constructs';
import { CONFIGURE_SCRIPT_PATH, configureScriptSteps } from '../../constructs/cloud-init';
import {
  KUBEADM_CA_CERT_BASE64_PATH, KUBEADM_CA_KEY_BASE64_PATH, KUBEADM_DISCOVERY_KUBECONFIG_PATH, KUBEADM_INIT_CONFIG_PATH, KUBEADM_INIT_SCRIPT_PATH, KUBEADM_JOIN_CONFIG_PATH, KUBEADM_JOIN_SCRIPT_PATH, KUBEADM_NODE_PREP_SCRIPT_PATH,
} from '../../constructs/renderers';
import kubeadmMulti from '../../sites/kubeadm-multi';
import kubeadmStacked from '../../sites/kubeadm-stacked';
import { loadSites } from '../../sites';
import { checkTerraformJson, formatProblems, loadProviderSchema } from '../support/provider-schema-checker';
import { resourcesByPath } from '../support/synth';
import { describeWithTools } from '../support/tools';
import { cloudInitSchema, shellcheck } from '../support/validators';
import { kubeadmDocumentProblems } from './kubeadm-schema';
import { TEST_CA_CERT_PEM, TEST_CA_KEY_PEM, synthKubeadmSite, yamlDocuments } from './support';

const schema = loadProviderSchema(process.env.PROXMOX_SCHEMA ?? resolve(__dirname, '../../../shared/providers/bpg-proxmox/schema.json'));
const STACKED = defineSite(kubeadmStacked);
const MULTI = defineSite(kubeadmMulti);
const SITES: readonly SitePlan[] = [STACKED, MULTI];

const TOKEN_REFERENCE = /^\$\{random_string\.ControlPlane_BootstrapTokenId_[0-9A-F]{8}\.result\}\.\$\{random_string\.ControlPlane_BootstrapTokenSecret_[0-9A-F]{8}\.result\}$/;
const NODE_ROLES = [HostRole.CONTROL_PLANE, HostRole.WORKER];

function warnings(site: SitePlan): string[] {
  return synthKubeadmSite(site).stack.node.findAll()
    .flatMap((construct) => construct.node.metadata.filter((entry) => entry.type === AnnotationMetadataEntryType.WARN).map((entry) => String(entry.data)));
}

test('both kubeadm sites are registered', () => {
  expect(loadSites().filter((site) => site.controlPlane.distribution === 'kubeadm').map((site) => site.name)).toEqual(['kubeadm-stacked', 'kubeadm-multi']);
});

describe.each(SITES.map((site) => [site.name, site] as const))('kubeadm site %s, synthesized', (_, site) => {
  const synthesized = synthKubeadmSite(site);
  const { json, text, hosts } = synthesized;
  const nodes = site.hosts.filter((host) => NODE_ROLES.some((role) => host.roles.includes(role)));
  const [first, ...otherControlPlanes] = hostsWithRole(site, HostRole.CONTROL_PLANE);
  const joiners = [...otherControlPlanes, ...hostsWithRole(site, HostRole.WORKER)];

  test('the bootstrap token is two generated strings of kubeadm\'s format, joined by a dot: a Terraform expression, never a literal', () => {
    expect(Object.values(json.resource.random_string)).toEqual([
      { length: 6, lower: true, numeric: true, special: false, upper: false },
      { length: 16, lower: true, numeric: true, special: false, upper: false },
    ]);
    const raw = [
      ...(yamlDocuments(hosts.get(first.name)!.rawFiles.get(KUBEADM_INIT_CONFIG_PATH)!)[0].bootstrapTokens.map((t: { token: string }) => t.token)),
      ...joiners.map((host) => yamlDocuments(hosts.get(host.name)!.rawFiles.get(KUBEADM_JOIN_CONFIG_PATH)!)[0].discovery.tlsBootstrapToken),
    ];
    expect(raw).toHaveLength(nodes.length);
    raw.forEach((token) => expect(token).toMatch(TOKEN_REFERENCE));
    // What the machines receive once Terraform resolves it:
    const resolved = yamlDocuments(hosts.get(first.name)!.files.get(KUBEADM_INIT_CONFIG_PATH)!)[0].bootstrapTokens[0].token;
    expect(resolved).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  });

  test('the certificate key is 32 random bytes in hex; the CA is a generated RSA key and a 10-year self-signed CA certificate', () => {
    expect(Object.values(json.resource.random_id)).toEqual([{ byte_length: 32 }]);
    expect(Object.values(json.resource.tls_private_key)).toEqual([{ algorithm: 'RSA', rsa_bits: 2048 }]);
    const [certificate] = Object.values(json.resource.tls_self_signed_cert) as Record<string, unknown>[];
    expect(certificate).toEqual({
      private_key_pem: expect.stringMatching(/^\$\{tls_private_key\.ControlPlane_CaKey_[0-9A-F]{8}\.private_key_pem\}$/),
      is_ca_certificate: true,
      set_subject_key_id: true,
      subject: [{ common_name: 'kubernetes' }],
      validity_period_hours: 87600,
      allowed_uses: ['cert_signing', 'crl_signing', 'digital_signature', 'key_encipherment'],
    });
    expect(json.provider.tls).toEqual([{}]);
    expect(json.provider.random).toEqual([{}]);
  });

  test('no secret is written as a value: the token, key and CA are references; no PEM appears', () => {
    expect(text).not.toMatch(/BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)/);
    expect(text).not.toContain(TEST_CA_KEY_PEM.split('\n')[1]);
    for (const host of hosts.values()) {
      for (const [path, content] of host.rawFiles) {
        if ([KUBEADM_CA_CERT_BASE64_PATH, KUBEADM_CA_KEY_BASE64_PATH].includes(path)) {
          expect(content).toMatch(/^\$\{base64encode\(tls_(self_signed_cert|private_key)\.ControlPlane_Ca(Certificate|Key)_[0-9A-F]{8}\.(cert_pem|private_key_pem)\)\}\n$/);
        }
      }
    }
    const certificateKeys = [...hosts.values()].flatMap((host) => [...host.raw.matchAll(/certificateKey: (\S+)/g)].map((m) => m[1]));
    expect(certificateKeys).toHaveLength(hostsWithRole(site, HostRole.CONTROL_PLANE).length);
    certificateKeys.forEach((key) => expect(key).toMatch(/^\$\{random_id\.ControlPlane_CertificateKey_[0-9A-F]{8}\.hex\}$/));
  });

  test('exactly one node initializes the cluster; only it holds the CA key; every other node joins with the CA in its discovery file', () => {
    const initializing = [...hosts.values()].filter((host) => host.files.has(KUBEADM_INIT_CONFIG_PATH)).map((host) => host.name);
    expect(initializing).toEqual([first.name]);
    const withKey = [...hosts.values()].filter((host) => host.raw.includes('tls_private_key.')).map((host) => host.name);
    expect(withKey).toEqual([first.name]);
    const initDocuments = [...hosts.values()].flatMap((host) => yamlDocuments(host.files.get(KUBEADM_INIT_CONFIG_PATH) ?? ''));
    expect(initDocuments.filter((d) => d?.kind === 'InitConfiguration')).toHaveLength(1);
    expect(configureScriptSteps(hosts.get(first.name)!.files.get(CONFIGURE_SCRIPT_PATH)!).slice(-2)).toEqual([KUBEADM_NODE_PREP_SCRIPT_PATH, KUBEADM_INIT_SCRIPT_PATH]);
    for (const host of joiners) {
      const files = hosts.get(host.name)!.files;
      expect(files.has(KUBEADM_CA_KEY_BASE64_PATH)).toBe(false);
      const discovery = yamlDocuments(files.get(KUBEADM_DISCOVERY_KUBECONFIG_PATH)!)[0];
      expect(discovery.clusters[0].cluster).toEqual({ server: `https://${site.network.etcHosts ? site.apiEndpoint.dnsName : site.apiEndpoint.address}:6443`, 'certificate-authority-data': Buffer.from(TEST_CA_CERT_PEM).toString('base64') });
      expect(configureScriptSteps(files.get(CONFIGURE_SCRIPT_PATH)!).slice(-2)).toEqual([KUBEADM_NODE_PREP_SCRIPT_PATH, KUBEADM_JOIN_SCRIPT_PATH]);
    }
  });

  test('every kubeadm document on the machines is valid v1beta3, joins verify the CA, the endpoint and pod CIDR are the plan\'s', () => {
    for (const host of nodes) {
      const files = hosts.get(host.name)!.files;
      const documents = yamlDocuments(files.get(KUBEADM_INIT_CONFIG_PATH) ?? files.get(KUBEADM_JOIN_CONFIG_PATH)!);
      for (const document of documents) {
        expect({ host: host.name, kind: document.kind, problems: kubeadmDocumentProblems(document) }).toEqual({ host: host.name, kind: document.kind, problems: [] });
        expect(JSON.stringify(document)).not.toContain('unsafeSkipCAVerification');
        if (document.kind === 'ClusterConfiguration') {
          expect(document.controlPlaneEndpoint).toBe(`${site.network.etcHosts ? site.apiEndpoint.dnsName : site.apiEndpoint.address}:${site.apiEndpoint.port}`);
          expect(document.networking.podSubnet).toBe(site.cluster.podCidr);
          expect(document.apiServer.certSANs).toEqual(expect.arrayContaining([site.apiEndpoint.address, site.apiEndpoint.dnsName]));
        }
        if (document.kind === 'JoinConfiguration') {
          expect(document.discovery.file.kubeConfigPath).toBe(KUBEADM_DISCOVERY_KUBECONFIG_PATH);
        }
      }
    }
  });

  test('secret-bearing files are readable by root only', () => {
    for (const host of nodes) {
      const modes = Object.fromEntries(hosts.get(host.name)!.document.write_files.map((f: { path: string; permissions: string }) => [f.path, f.permissions]));
      for (const path of [KUBEADM_INIT_CONFIG_PATH, KUBEADM_JOIN_CONFIG_PATH, KUBEADM_DISCOVERY_KUBECONFIG_PATH, KUBEADM_CA_CERT_BASE64_PATH, KUBEADM_CA_KEY_BASE64_PATH]) {
        expect([undefined, '0600']).toContain(modes[path]);
      }
    }
  });

  test('port claims: API server and etcd on control planes, the kubelet on every node', () => {
    const ports = (name: string) => synthesized.stack.hosts.get(name)!.cloudConfig.ports.filter((p) => p.protocol === Protocol.TCP).map((p) => p.port).sort((a, b) => a - b);
    // 2381: etcd's metrics (listen-metrics-urls); 9100: node_exporter on every host.
    expect(ports(first.name)).toEqual([2379, 2380, 2381, 6443, 9100, 10250, 10257, 10259]);
    hostsWithRole(site, HostRole.WORKER).forEach((worker) => expect(ports(worker.name)).toEqual([9100, 10250]));
  });

  test('the HAProxy VM balances the API over the control planes on 6443 and no ingress frontends', () => {
    const [lb] = hostsWithRole(site, HostRole.LOAD_BALANCER);
    const haproxy = hosts.get(lb.name)!.files.get('/etc/haproxy/haproxy.cfg')!;
    const servers = [...haproxy.matchAll(/^\s+server (\S+) (\S+)$/gm)].map(([, name, address]) => `${name} ${address}`);
    expect(servers).toEqual(hostsWithRole(site, HostRole.CONTROL_PLANE).map((h) => `${h.name} ${h.ip}:6443`));
    expect(haproxy).toContain(`bind *:${site.apiEndpoint.port}`);
    expect(haproxy).toContain('option httpchk GET /readyz');
    expect(haproxy).not.toContain('ingress_http');
    expect(hosts.get(lb.name)!.document.packages).not.toContain('keepalived');
  });

  test('every proxmox resource matches the bpg/proxmox 0.111.1 schema', () => {
    expect(formatProblems(checkTerraformJson(json, schema, 'registry.terraform.io/bpg/proxmox', 'proxmox'))).toBe('');
  });

  test('outputs the kubeadm admin kubeconfig command and the endpoint', () => {
    expect(json.output.kubeconfig_command.value).toBe(`ssh k3sadmin@${first.ip} sudo cat /etc/kubernetes/admin.conf > ${site.name}.kubeconfig`);
    expect(json.output.api_endpoint.value).toBe(site.apiEndpoint.url);
  });
});

describe('seed 003: kubeadm-stacked', () => {
  const { json, hosts } = synthKubeadmSite(STACKED);

  test('1 HAProxy VM, 3 control planes, 2 workers, at the invented TEST-NET-2 addresses', () => {
    const vms = resourcesByPath(json, 'proxmox_virtual_environment_vm');
    expect(Object.values(vms).sort((a, b) => a.vm_id - b.vm_id).map((vm) => [vm.name, vm.initialization.ip_config[0].ipv4.address, vm.tags.filter((t: string) => !['proxmox-k3s-ha', 'kubeadm-stacked'].includes(t))])).toEqual([
      ['haproxy', '198.51.100.10/24', ['load-balancer']],
      ['controlplane1', '198.51.100.11/24', ['control-plane']],
      ['controlplane2', '198.51.100.12/24', ['control-plane']],
      ['controlplane3', '198.51.100.13/24', ['control-plane']],
      ['worker1', '198.51.100.21/24', ['worker']],
      ['worker2', '198.51.100.22/24', ['worker']],
    ]);
    expect(STACKED.apiEndpoint).toMatchObject({ address: '198.51.100.10', port: 6443, floating: false });
  });

  test('seed prerequisites on every node: overlay and br_netfilter, bridge sysctls and forwarding, swap off, node IP', () => {
    for (const name of ['controlplane1', 'controlplane2', 'controlplane3', 'worker1', 'worker2']) {
      const { files, document } = hosts.get(name)!;
      expect(files.get('/etc/modules-load.d/proxmox-k3s-ha.conf')).toBe('br_netfilter\noverlay\n');
      expect(files.get('/etc/sysctl.d/90-proxmox-k3s-ha.conf')).toEqual(expect.stringContaining('net.bridge.bridge-nf-call-iptables = 1\n'));
      expect(files.get('/etc/sysctl.d/90-proxmox-k3s-ha.conf')).toEqual(expect.stringContaining('net.ipv4.ip_forward = 1\n'));
      expect(files.get(KUBEADM_NODE_PREP_SCRIPT_PATH)).toContain('swapoff -a');
      const config = yamlDocuments(files.get(KUBEADM_INIT_CONFIG_PATH) ?? files.get(KUBEADM_JOIN_CONFIG_PATH)!)[0];
      expect(config.nodeRegistration.kubeletExtraArgs['node-ip']).toBe(STACKED.hosts.find((h) => h.name === name)!.ip);
      // No etcHosts: cloud-init keeps managing /etc/hosts.
      expect(document.manage_etc_hosts).toBe(true);
    }
  });

  test('the control planes join through the load balancer\'s address', () => {
    expect(hosts.get('controlplane3')!.files.get(KUBEADM_JOIN_SCRIPT_PATH)).toContain("endpoint='https://198.51.100.10:6443'");
  });

  test('warnings: the single load balancer, as stack annotations; 3 stacked etcd members need no quorum warning', () => {
    const all = warnings(STACKED);
    expect(all).toContain('hosts: a single load balancer ("haproxy") is a single point of failure for the API endpoint 198.51.100.10:6443');
    expect(all.some((w) => /tolerate no failure/.test(w))).toBe(false);
    expect(all.filter((w) => w.includes('single point of failure'))).toHaveLength(1);
  });
});

describe('seed 004: kubeadm-multi', () => {
  const { json, hosts } = synthKubeadmSite(MULTI);

  test('lb, master1–2 and worker1–2 at the seed\'s addresses in kube.com', () => {
    const vms = resourcesByPath(json, 'proxmox_virtual_environment_vm');
    expect(Object.values(vms).sort((a, b) => a.vm_id - b.vm_id).map((vm) => [vm.name, vm.initialization.ip_config[0].ipv4.address])).toEqual([
      ['lb', '10.0.1.10/24'], ['master1', '10.0.1.11/24'], ['master2', '10.0.1.12/24'], ['worker1', '10.0.1.13/24'], ['worker2', '10.0.1.14/24'],
    ]);
    expect(MULTI.hosts.map((h) => h.fqdn)).toEqual(['lb.kube.com', 'master1.kube.com', 'master2.kube.com', 'worker1.kube.com', 'worker2.kube.com']);
    expect(MULTI.apiEndpoint).toMatchObject({ address: '10.0.1.10', port: 6443, floating: false });
  });

  test('HAProxy takes a master out after 3 failed checks and back after 2 passed ones (the seed\'s fall 3 rise 2)', () => {
    const haproxy = hosts.get('lb')!.files.get('/etc/haproxy/haproxy.cfg')!;
    const defaults = haproxy.split('\n').find((line) => line.trim().startsWith('default-server') && line.includes('fall'))!;
    expect(defaults).toMatch(/ rise 2 fall 3 /);
    expect(haproxy).toMatch(/server master1 10\.0\.1\.11:6443\n\s+server master2 10\.0\.1\.12:6443\n/);
  });

  test('/etc/hosts on every node (and the load balancer) lists every host as the seed does, plus the API name', () => {
    for (const host of hosts.values()) {
      expect(host.document.manage_etc_hosts).toBe(false);
      expect(host.files.get('/etc/hosts')).toBe([
        '# Written by proxmox-k3s-ha; cloud-init and Proxmox leave this file alone.',
        '127.0.0.1 localhost',
        '::1 localhost ip6-localhost ip6-loopback',
        'ff02::1 ip6-allnodes',
        'ff02::2 ip6-allrouters',
        '10.0.1.10 lb.kube.com lb',
        '10.0.1.11 master1.kube.com master1',
        '10.0.1.12 master2.kube.com master2',
        '10.0.1.13 worker1.kube.com worker1',
        '10.0.1.14 worker2.kube.com worker2',
        '10.0.1.10 api.kube.com',
        '',
      ].join('\n'));
    }
    expect(hosts.size).toBe(5);
  });

  test('with /etc/hosts the endpoint is named: controlPlaneEndpoint api.kube.com:6443, joins through https://api.kube.com:6443', () => {
    const cluster = yamlDocuments(hosts.get('master1')!.files.get(KUBEADM_INIT_CONFIG_PATH)!)[1];
    expect(cluster.controlPlaneEndpoint).toBe('api.kube.com:6443');
    expect(cluster.apiServer.certSANs).toEqual(['10.0.1.10', 'api.kube.com', '10.0.1.11', 'master1.kube.com', 'master1', '10.0.1.12', 'master2.kube.com', 'master2']);
    expect(hosts.get('worker2')!.files.get(KUBEADM_JOIN_SCRIPT_PATH)).toContain("endpoint='https://api.kube.com:6443'");
  });

  test('warnings: two stacked etcd members tolerate no failure; the single load balancer — as stack annotations', () => {
    const all = warnings(MULTI);
    expect(all).toEqual(expect.arrayContaining([
      'hosts: 2 stacked etcd members tolerate no failure: losing either control-plane node stops the cluster (use 3)',
      'hosts: a single load balancer ("lb") is a single point of failure for the API endpoint 10.0.1.10:6443',
    ]));
    // Each said once, by the site model, not again by a construct.
    expect(all.filter((w) => w.includes('tolerate no failure'))).toHaveLength(1);
    expect(all.filter((w) => w.includes('single point of failure'))).toHaveLength(1);
  });
});

describeWithTools(['cloud-init'], 'cloud-init schema: every synthesized snippet of the kubeadm sites', () => {
  const snippets = SITES.flatMap((site) => [...synthKubeadmSite(site).hosts.values()].map((host) => [`${site.name}/${host.name}`, host.text] as const));

  test.each(snippets)('%s', (_, text) => {
    const result = cloudInitSchema(text);
    expect(result.output).toContain('Valid cloud-config');
    expect(result.ok).toBe(true);
  });
});

describeWithTools(['shellcheck'], 'shellcheck: every script in the kubeadm sites\' user data', () => {
  const scripts = SITES.flatMap((site) => [...synthKubeadmSite(site).hosts.values()].flatMap((host) => [...host.files]
    .filter(([, content]) => content.startsWith('#!/bin/sh'))
    .map(([path, content]) => [`${site.name}/${host.name}:${path}`, content] as const)));

  test('every node carries its scripts', () => {
    expect(scripts.filter(([name]) => name.endsWith(KUBEADM_NODE_PREP_SCRIPT_PATH))).toHaveLength(5 + 4);
  });

  test.each(scripts)('%s', (_, text) => {
    const result = shellcheck(text);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });
});
