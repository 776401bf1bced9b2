import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parse } from 'yaml';
import { CniKind, HostRole, SitePlan, SiteSpec, defineSite, hostsWithRole } from '../../constructs';
import {
  CRIO_SOCKET, FLANNEL_MANIFEST_URL, KUBEADM_BOOTSTRAP_TOKEN_TTL, KUBEADM_DISCOVERY_KUBECONFIG_PATH, kubeadmCertSans, kubeadmClusterConfiguration, kubeadmControlPlaneEndpoint, kubeadmEndpointUrl, kubeadmInitConfiguration, kubeadmJoinConfiguration, renderKubeadmConfig, renderKubeadmDiscoveryKubeconfig, renderKubeadmInitScript, renderKubeadmJoinScript, renderKubeadmNodePrepScript,
} from '../../constructs/renderers';
import lab from '../../sites/lab';
import kubeadmMulti from '../../sites/kubeadm-multi';
import kubeadmStacked from '../../sites/kubeadm-stacked';
import { TfJson } from '../support/synth';
import { describeWithTools } from '../support/tools';
import { shellcheck } from '../support/validators';
import { kubeadmDocumentProblems } from './kubeadm-schema';
import { yamlDocuments } from './support';

// Test inputs in the shape of the generated secrets (the stack passes Terraform references instead).
const TOKEN = 'k8s0a1.b2c3d4e5f6g7h8i9';
const CERTIFICATE_KEY = '0123456789abcdef'.repeat(4);
const CA_BASE64 = Buffer.from('-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n').toString('base64');

/** Seed 003 with what the real sites lack: a custom pod CIDR, /etc/hosts, node labels and taints. */
const customSpec: SiteSpec = {
  ...kubeadmStacked,
  name: 'kubeadm-custom',
  network: { ...kubeadmStacked.network, etcHosts: true },
  cluster: { cni: CniKind.FLANNEL, podCidr: '10.200.0.0/16', serviceCidr: '10.96.0.0/12', clusterDomain: 'custom.local' },
  hosts: kubeadmStacked.hosts.map((host) => host.name === 'controlplane2' ? { ...host, nodeTaints: ['dedicated=etcd:NoSchedule'] }
    : host.name === 'worker1' ? { ...host, nodeLabels: { 'example.com/pool': 'fast', tier: 'web' }, nodeTaints: ['gpu:NoExecute'] } : host),
};

const SITES: readonly SitePlan[] = [defineSite(kubeadmStacked), defineSite(kubeadmMulti), defineSite(customSpec)];

/** Every node's kubeadm documents: Init+Cluster on the first control plane, Join on the others. */
function nodeDocuments(site: SitePlan): { name: string; documents: TfJson[] }[] {
  const [first, ...others] = hostsWithRole(site, HostRole.CONTROL_PLANE);
  const joiners = [...others, ...hostsWithRole(site, HostRole.WORKER)];
  return [
    { name: first.name, documents: yamlDocuments(renderKubeadmConfig([kubeadmInitConfiguration(site, first.name, { bootstrapToken: TOKEN, certificateKey: CERTIFICATE_KEY }), kubeadmClusterConfiguration(site)])) },
    ...joiners.map((host) => ({ name: host.name, documents: yamlDocuments(renderKubeadmConfig([kubeadmJoinConfiguration(site, host.name, { bootstrapToken: TOKEN, certificateKey: CERTIFICATE_KEY })])) })),
  ];
}

describe.each(SITES.map((site) => [site.name, site] as const))('kubeadm documents of site %s', (_, site) => {
  const nodes = nodeDocuments(site);
  const all = nodes.flatMap((node) => node.documents);
  const cluster = all.find((d) => d.kind === 'ClusterConfiguration')!;
  const joins = all.filter((d) => d.kind === 'JoinConfiguration');
  const endpoint = `${site.network.etcHosts ? site.apiEndpoint.dnsName : site.apiEndpoint.address}:${site.apiEndpoint.port}`;

  test('every document is a valid kubeadm.k8s.io/v1beta3 object of the kind it claims (unknown fields rejected)', () => {
    expect(all.length).toBe(site.hosts.filter((h) => !h.roles.includes(HostRole.LOAD_BALANCER)).length + 1);
    for (const document of all) {
      expect({ kind: document.kind, problems: kubeadmDocumentProblems(document) }).toEqual({ kind: document.kind, problems: [] });
    }
  });

  test('exactly one InitConfiguration and one ClusterConfiguration, both for the first control plane', () => {
    expect(all.filter((d) => d.kind === 'InitConfiguration')).toHaveLength(1);
    expect(all.filter((d) => d.kind === 'ClusterConfiguration')).toHaveLength(1);
    expect(nodes[0].documents.map((d) => d.kind)).toEqual(['InitConfiguration', 'ClusterConfiguration']);
    expect(nodes[0].name).toBe(hostsWithRole(site, HostRole.CONTROL_PLANE)[0].name);
  });

  test('ClusterConfiguration: the load balancer as controlPlaneEndpoint, the plan\'s networking, Kubernetes version, stacked etcd', () => {
    expect(cluster.controlPlaneEndpoint).toBe(endpoint);
    expect(kubeadmControlPlaneEndpoint(site)).toBe(endpoint);
    expect(cluster.networking).toEqual({ podSubnet: site.cluster.podCidr, serviceSubnet: site.cluster.serviceCidr, dnsDomain: site.cluster.clusterDomain });
    expect(cluster.kubernetesVersion).toBe(`v${site.versions.kubernetes}`);
    expect(cluster.etcd).toEqual({ local: { dataDir: '/var/lib/etcd', extraArgs: { 'listen-metrics-urls': 'http://0.0.0.0:2381' } } });
    expect(cluster.clusterName).toBe(site.name);
  });

  test('certSANs hold the endpoint (address and name) and every control plane', () => {
    const controlPlanes = hostsWithRole(site, HostRole.CONTROL_PLANE);
    expect(cluster.apiServer.certSANs).toEqual(expect.arrayContaining([site.apiEndpoint.address, site.apiEndpoint.dnsName, ...controlPlanes.flatMap((h) => [h.ip, h.fqdn])]));
    expect(cluster.apiServer.certSANs).toEqual(kubeadmCertSans(site));
    expect(new Set(cluster.apiServer.certSANs).size).toBe(cluster.apiServer.certSANs.length);
  });

  test('every node registers with its own name and address, on CRI-O', () => {
    for (const { name, documents } of nodes) {
      const host = site.hosts.find((h) => h.name === name)!;
      const registration = documents[0].nodeRegistration;
      expect(registration).toMatchObject({ name, criSocket: CRIO_SOCKET, kubeletExtraArgs: { 'node-ip': host.ip } });
    }
    expect(nodes[0].documents[0].localAPIEndpoint).toEqual({ advertiseAddress: hostsWithRole(site, HostRole.CONTROL_PLANE)[0].ip, bindPort: 6443 });
  });

  test('the bootstrap token: kubeadm\'s format, a bounded TTL, default groups', () => {
    const [token] = nodes[0].documents[0].bootstrapTokens;
    expect(token).toMatchObject({ token: TOKEN, ttl: KUBEADM_BOOTSTRAP_TOKEN_TTL, usages: ['signing', 'authentication'], groups: ['system:bootstrappers:kubeadm:default-node-token'] });
    expect(token.ttl).not.toBe('0');
    expect(nodes[0].documents[0].certificateKey).toBe(CERTIFICATE_KEY);
  });

  test('joins use file discovery (the CA is verified), never unsafeSkipCAVerification; control planes carry the certificate key', () => {
    expect(joins).toHaveLength(site.hosts.filter((h) => !h.roles.includes(HostRole.LOAD_BALANCER)).length - 1);
    for (const join of joins) {
      expect(JSON.stringify(join)).not.toMatch(/unsafeSkipCAVerification|caCertHashes/);
      expect(join.discovery).toEqual({ file: { kubeConfigPath: KUBEADM_DISCOVERY_KUBECONFIG_PATH }, tlsBootstrapToken: TOKEN });
      const controlPlane = hostsWithRole(site, HostRole.CONTROL_PLANE).find((h) => h.name === join.nodeRegistration.name);
      expect(join.controlPlane).toEqual(controlPlane ? { localAPIEndpoint: { advertiseAddress: controlPlane.ip, bindPort: 6443 }, certificateKey: CERTIFICATE_KEY } : undefined);
    }
  });

  test('the discovery kubeconfig points at the endpoint with the CA as certificate-authority-data and holds no credentials', () => {
    const kubeconfig = parse(renderKubeadmDiscoveryKubeconfig(site, CA_BASE64));
    const context = kubeconfig.contexts.find((c: { name: string }) => c.name === kubeconfig['current-context']).context;
    const cluster = kubeconfig.clusters.find((c: { name: string }) => c.name === context.cluster).cluster;
    expect(cluster).toEqual({ server: `https://${endpoint}`, 'certificate-authority-data': CA_BASE64 });
    expect(kubeconfig.users.find((u: { name: string }) => u.name === context.user).user).toEqual({});
    expect(kubeadmEndpointUrl(site)).toBe(`https://${endpoint}`);
  });
});

test('the v1beta3 checker can fail: unknown fields, wrong types, bad tokens and keys, two discovery modes', () => {
  const site = defineSite(kubeadmStacked);
  const init = { ...kubeadmInitConfiguration(site, 'controlplane1', { bootstrapToken: 'ABCDEF.0123456789abcdef', certificateKey: 'xyz' }), podSubnet: '10.0.0.0/8' };
  expect(kubeadmDocumentProblems(init)).toEqual([
    'InitConfiguration.podSubnet: unknown field',
    'InitConfiguration.bootstrapTokens[].token: "ABCDEF.0123456789abcdef" is not [a-z0-9]{6}.[a-z0-9]{16}',
    'InitConfiguration: certificateKey "xyz" is not 32 bytes in hex',
  ]);
  const join = kubeadmJoinConfiguration(site, 'worker1', { bootstrapToken: TOKEN });
  expect(kubeadmDocumentProblems({ ...join, apiVersion: 'kubeadm.k8s.io/v1beta4', discovery: { ...join.discovery, bootstrapToken: { token: TOKEN, unsafeSkipCAVerification: 'yes' } } })).toEqual([
    'apiVersion: "kubeadm.k8s.io/v1beta4" is not kubeadm.k8s.io/v1beta3',
    'JoinConfiguration.discovery.bootstrapToken.unsafeSkipCAVerification: "yes" is not a boolean',
    'JoinConfiguration.discovery: exactly one of bootstrapToken and file',
  ]);
  expect(kubeadmDocumentProblems({ ...kubeadmClusterConfiguration(site), kind: 'KubeletConfiguration' })).toEqual(['kind: "KubeletConfiguration" is not a kubeadm v1beta3 kind']);
});

describe('kubeadm documents: node labels and taints', () => {
  const site = defineSite(customSpec);

  test('host labels reach the kubelet; host taints add to kubeadm\'s control-plane taint', () => {
    const worker = kubeadmJoinConfiguration(site, 'worker1', { bootstrapToken: TOKEN });
    expect(worker.nodeRegistration.kubeletExtraArgs).toEqual({ 'node-ip': '198.51.100.21', 'node-labels': 'example.com/pool=fast,tier=web' });
    expect(worker.nodeRegistration.taints).toEqual([{ key: 'gpu', effect: 'NoExecute' }]);
    const controlPlane = kubeadmJoinConfiguration(site, 'controlplane2', { bootstrapToken: TOKEN, certificateKey: CERTIFICATE_KEY });
    expect(controlPlane.nodeRegistration.taints).toEqual([
      { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
      { key: 'dedicated', value: 'etcd', effect: 'NoSchedule' },
    ]);
    // Without taints of its own a node keeps kubeadm's defaults (the field stays unset).
    expect(kubeadmJoinConfiguration(site, 'controlplane3', { bootstrapToken: TOKEN, certificateKey: CERTIFICATE_KEY }).nodeRegistration.taints).toBeUndefined();
  });

  test('with /etc/hosts the endpoint is its DNS name; without, its address', () => {
    expect(kubeadmControlPlaneEndpoint(site)).toBe('api.stacked.k8s.internal:6443');
    expect(kubeadmControlPlaneEndpoint(defineSite(kubeadmStacked))).toBe('198.51.100.10:6443');
  });
});

describe('kubeadm renderers fail clearly', () => {
  const site = defineSite(kubeadmStacked);

  test.each([
    ['a K3s site', () => kubeadmClusterConfiguration(defineSite(lab)), 'controlPlane.distribution "k3s" — expected "kubeadm"'],
    ['an unknown host', () => kubeadmJoinConfiguration(site, 'nope', { bootstrapToken: TOKEN }), 'host "nope" — expected a host with role control-plane or worker'],
    ['the load balancer as a node', () => renderKubeadmJoinScript(site, 'haproxy'), 'host "haproxy" — expected a host with role control-plane or worker'],
    ['init on a joining control plane', () => kubeadmInitConfiguration(site, 'controlplane2', { bootstrapToken: TOKEN, certificateKey: CERTIFICATE_KEY }), 'expected the first control plane (controlplane1)'],
    ['a join config for the first control plane', () => kubeadmJoinConfiguration(site, 'controlplane1', { bootstrapToken: TOKEN }), 'expected a joining node, not the first control plane'],
    ['a join script for the first control plane', () => renderKubeadmJoinScript(site, 'controlplane1'), 'expected a joining node, not the first control plane'],
    ['a joining control plane without certificate key', () => kubeadmJoinConfiguration(site, 'controlplane2', { bootstrapToken: TOKEN }), 'certificateKey: undefined — the key of the certificates'],
    // defineSite() rejects Cilium on kubeadm (test/site); the renderer still guards plans built by hand.
    ['Cilium on a kubeadm site', () => renderKubeadmInitScript({ ...site, cluster: { ...site.cluster, cni: CniKind.CILIUM } }), 'cluster.cni "cilium" — expected "flannel"'],
  ])('fails on %s', (_, render, message) => {
    expect(render).toThrow(message);
  });
});

describe('kubeadm node scripts', () => {
  const site = defineSite(kubeadmStacked);
  const custom = defineSite(customSpec);

  test('node preparation: swap off, pkgs.k8s.io v1.30 for Kubernetes and CRI-O, pinned and held packages, services enabled', () => {
    const script = renderKubeadmNodePrepScript(site);
    expect(script).toContain('swapoff -a');
    expect(script).toContain("minor='v1.30'");
    expect(script).toContain("package_version='1.30.14-1.1'");
    expect(script).toContain("crio_package_version='1.30.14-1.1'");
    expect(script).toContain('add_repository kubernetes "https://pkgs.k8s.io/core:/stable:/$minor/deb"');
    expect(script).toContain('add_repository cri-o "https://pkgs.k8s.io/addons:/cri-o:/stable:/$minor/deb"');
    expect(script).toContain('gpg --dearmor');
    expect(script).toContain('keyring="/etc/apt/keyrings/$1-apt-keyring.gpg"');
    expect(script).toContain('"cri-o=$crio_package_version" "kubelet=$package_version" "kubeadm=$package_version" "kubectl=$package_version"');
    expect(script).toContain('apt-mark hold cri-o kubelet kubeadm kubectl');
    expect(script).toContain('rm -f /etc/cni/net.d/11-crio-ipv4-bridge.conflist\nsystemctl enable crio\nsystemctl restart crio\n');
    expect(script).toContain('systemctl enable kubelet');
  });

  test('apt installs every package at its pinned version and holds every one (the script\'s lines run with recording apt stand-ins)', () => {
    const script = renderKubeadmNodePrepScript(site);
    const lines = script.split('\n');
    const variables = lines.filter((line) => /^(minor|package_version|crio_package_version)=/.test(line));
    const install = script.slice(script.indexOf('apt-get install'), script.indexOf('\n', script.indexOf('apt-mark hold')));
    const dir = mkdtempSync(join(tmpdir(), 'pkh-apt-'));
    try {
      for (const tool of ['apt-get', 'apt-mark']) {
        writeFileSync(join(dir, tool), `#!/bin/sh\nprintf '%s\\n' "${tool} $*" >> "${join(dir, 'calls')}"\n`, { mode: 0o755 });
      }
      const result = spawnSync('sh', ['-eu', '-c', [...variables, install].join('\n')], { encoding: 'utf8', env: { PATH: `${dir}:/usr/bin:/bin` } });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const [installed, held] = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n').map((call) => call.split(' ').filter((word) => !word.startsWith('-') && !['apt-get', 'apt-mark', 'install', 'hold', 'Dpkg::Options::=--force-confold'].includes(word)));
      expect(installed).toEqual(['cri-o=1.30.14-1.1', 'kubelet=1.30.14-1.1', 'kubeadm=1.30.14-1.1', 'kubectl=1.30.14-1.1']);
      expect(held).toEqual(installed.map((pinned) => pinned.split('=')[0]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a site\'s own Kubernetes and CRI-O releases of one minor select that minor\'s repositories and pins', () => {
    const script = renderKubeadmNodePrepScript(defineSite({ ...kubeadmStacked, versions: { kubernetes: '1.31.4', crio: '1.31.2' } }));
    expect(script).toContain("minor='v1.31'");
    expect(script).toContain("package_version='1.31.4-1.1'");
    expect(script).toContain("crio_package_version='1.31.2-1.1'");
  });

  test.each([
    ['CRI-O of another minor than Kubernetes', { crio: '1.31.2' }, '- versions.crio: "1.31.2" — a CRI-O 1.30.x release, the minor of versions.kubernetes 1.30.14 (CRI-O follows Kubernetes\' minor releases)'],
    ['Kubernetes moved to another minor, CRI-O left at the default', { kubernetes: '1.31.4' }, '- versions.crio: "1.30.14" — a CRI-O 1.31.x release, the minor of versions.kubernetes 1.31.4'],
  ])('a kubeadm site with %s is rejected, naming versions.crio', (_, versions, message) => {
    expect(() => defineSite({ ...kubeadmStacked, versions })).toThrow(message);
  });

  test('a K3s site needs no CRI-O of its Kubernetes minor (it installs no CRI-O)', () => {
    expect(defineSite({ ...lab, versions: { crio: '1.31.2' } }).versions.crio).toBe('1.31.2');
  });

  test('the fstab edit comments out swap lines only, and only once (run for real on a copy)', () => {
    const sed = renderKubeadmNodePrepScript(site).split('\n').find((line) => line.startsWith('sed -i'))!;
    const dir = mkdtempSync(join(tmpdir(), 'pkh-fstab-'));
    try {
      const fstab = join(dir, 'fstab');
      writeFileSync(fstab, 'LABEL=cloudimg-rootfs / ext4 discard,errors=remount-ro 0 1\n/swap.img\tnone\tswap\tsw\t0\t0\n# /old none swap sw 0 0\nUUID=x /boot ext4 defaults 0 2\n');
      for (let run = 0; run < 2; run++) {
        const result = spawnSync('sh', ['-c', sed.replace('/etc/fstab', '"$1"'), 'sh', fstab], { encoding: 'utf8' });
        expect(result.status).toBe(0);
      }
      expect(readFileSync(fstab, 'utf8')).toBe('LABEL=cloudimg-rootfs / ext4 discard,errors=remount-ro 0 1\n# /swap.img\tnone\tswap\tsw\t0\t0\n# /old none swap sw 0 0\nUUID=x /boot ext4 defaults 0 2\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('init: installs the given CA, kubeadm init --upload-certs unless initialized, then Flannel from its pinned release', () => {
    const script = renderKubeadmInitScript(site);
    expect(script).toContain('install_ca \'/etc/kubernetes/kubeadm/ca.key.b64\' "$pki/ca.key" 0600');
    expect(script).toContain('if [ ! -f /etc/kubernetes/admin.conf ]; then\n  kubeadm init --config \'/etc/kubernetes/kubeadm/init.yaml\' --upload-certs\nfi');
    expect(script).toContain(`'${FLANNEL_MANIFEST_URL}'`);
    expect(FLANNEL_MANIFEST_URL).toMatch(/^https:\/\/github\.com\/flannel-io\/flannel\/releases\/download\/v0\.26\.\d+\/kube-flannel\.yml$/);
    expect(script).toContain('export KUBECONFIG=/etc/kubernetes/admin.conf');
    expect(script).not.toContain('sed -i');
  });

  test('init: the CA is decoded with the right modes, only when absent (install_ca run for real on temporary files)', () => {
    const script = renderKubeadmInitScript(site);
    const installCa = script.slice(script.indexOf('install_ca() {'), script.indexOf('\n}\n', script.indexOf('install_ca() {')) + 3);
    const dir = mkdtempSync(join(tmpdir(), 'pkh-ca-'));
    try {
      writeFileSync(join(dir, 'ca.key.b64'), `${Buffer.from('KEY PEM\n').toString('base64')}\n`);
      const run = () => spawnSync('sh', ['-c', `set -eu\n${installCa}install_ca "$1/ca.key.b64" "$1/ca.key" 0600`, 'sh', dir], { encoding: 'utf8' });
      expect(run().status).toBe(0);
      expect(readFileSync(join(dir, 'ca.key'), 'utf8')).toBe('KEY PEM\n');
      expect(statSync(join(dir, 'ca.key')).mode & 0o777).toBe(0o600);
      writeFileSync(join(dir, 'ca.key.b64'), `${Buffer.from('OTHER\n').toString('base64')}\n`);
      expect(run().status).toBe(0);
      expect(readFileSync(join(dir, 'ca.key'), 'utf8')).toBe('KEY PEM\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('init: a pod CIDR other than Flannel\'s default is written into the manifest', () => {
    expect(renderKubeadmInitScript(custom)).toContain(`sed -i 's#"Network": "10.244.0.0/16"#"Network": "10.200.0.0/16"#' "$manifest"`);
  });

  test('join: waits (bounded) for /readyz and cluster-info through the endpoint, then joins unless joined already', () => {
    const script = renderKubeadmJoinScript(site, 'worker1');
    expect(script).toContain('if [ -f /etc/kubernetes/kubelet.conf ]; then\n  exit 0\nfi');
    expect(script).toContain("endpoint='https://198.51.100.10:6443'");
    expect(script).toContain('curl -ksf --max-time 5 -o /dev/null "$endpoint/readyz"');
    expect(script).toContain('wait_deadline=$((wait_started + 1800))');
    expect(script).toContain("until kubeadm join --config '/etc/kubernetes/kubeadm/join.yaml'; do");
    expect(renderKubeadmJoinScript(site, 'controlplane3')).toContain('as a control plane');
  });

  test('node preparation: a failed key download fails the step and leaves no keyring, empty or not (run for real)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pkh-keyring-'));
    try {
      const script = renderKubeadmNodePrepScript(site);
      const start = script.indexOf('add_repository() {');
      const body = script.slice(start, script.indexOf('\n}\n', start) + 3).split('/etc/apt/keyrings').join(`${dir}/keyrings`);
      // Port 9 on loopback refuses connections, which curl does not retry: the download fails at once.
      const result = spawnSync('sh', ['-c', `set -eu\nmkdir -p '${dir}/keyrings'\n${body}\nadd_repository kubernetes http://127.0.0.1:9/deb\necho unreachable`],
        { encoding: 'utf8', timeout: 60_000, cwd: dir });
      expect(result.status).toBe(1);
      expect(result.stdout).not.toContain('unreachable');
      expect(result.stderr).toContain('could not fetch the signing key of the kubernetes repository from http://127.0.0.1:9/deb/Release.key');
      expect(readdirSync(join(dir, 'keyrings'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('no script contains a literal Terraform template sequence or a secret', () => {
    for (const script of [renderKubeadmNodePrepScript(site), renderKubeadmInitScript(custom), renderKubeadmJoinScript(site, 'controlplane2')]) {
      expect(script).not.toMatch(/\$\{|%\{/);
      expect(script).not.toMatch(/token|certificate-key/i);
    }
  });
});

describeWithTools(['shellcheck'], 'shellcheck: every kubeadm script', () => {
  const scripts: [string, string][] = SITES.flatMap((site): [string, string][] => [
    [`${site.name} node preparation`, renderKubeadmNodePrepScript(site)],
    [`${site.name} init`, renderKubeadmInitScript(site)],
    ...[...hostsWithRole(site, HostRole.CONTROL_PLANE).slice(1), ...hostsWithRole(site, HostRole.WORKER)]
      .map((host): [string, string] => [`${site.name} join ${host.name}`, renderKubeadmJoinScript(site, host.name)]),
  ]);

  test.each(scripts)('%s', (_, script) => {
    const result = shellcheck(script);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });
});
