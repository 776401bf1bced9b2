import { resolve } from 'path';
import { AnnotationMetadataEntryType, Testing } from 'cdktf';
import { parse as parseYaml } from 'yaml';
import { Distribution, HostRole, SiteStack, defineSite } from '../../constructs';
import { renderCiliumBootstrapManifest } from '../../constructs/k8s';
import { HUBBLE_METRICS } from '../../constructs/k8s/cilium-cni';
import lab from '../../sites/lab';
import { loadSites } from '../../sites';
import { pgHomelabSite } from '../datastore/fixtures';
import { lxcSite, vmSite } from '../fixtures/sites';
import { checkTerraformJson, formatProblems, loadProviderSchema } from '../support/provider-schema-checker';
import { TfJson, resourcesByPath, synthSite } from '../support/synth';
import { convergeScripts } from '../support/user-data';

/** The user data snippets of a synthesized stack by construct path (the meta-data snippets left out). */
const userDataSnippets = (json: TfJson) => Object.fromEntries(Object.entries(resourcesByPath(json, 'proxmox_virtual_environment_file')).filter(([path]) => path.endsWith('/UserData')));

const schema = loadProviderSchema(process.env.PROXMOX_SCHEMA ?? resolve(__dirname, '../../../shared/providers/bpg-proxmox/schema.json'));
const SITES = { lab: defineSite(lab), 'fixture-vm': defineSite(vmSite), 'fixture-lxc': defineSite(lxcSite) };

describe('SiteStack for the lab (seed 002)', () => {
  const { stack, json } = synthSite(SITES.lab);
  const vms = resourcesByPath(json, 'proxmox_virtual_environment_vm');

  test('has the 5 seed hosts as VMs with their names, addresses, VM ids and Proxmox nodes', () => {
    const summary = Object.values(vms).map((vm) => [vm.name, vm.initialization.ip_config[0].ipv4.address, vm.vm_id, vm.node_name])
      .sort((a, b) => Number(a[2]) - Number(b[2]));
    expect(summary).toEqual([
      ['lx-k3s-server-01', '192.168.168.111/24', 111, 'pve1'],
      ['lx-k3s-server-02', '192.168.168.112/24', 112, 'pve2'],
      ['lx-k3s-server-03', '192.168.168.113/24', 113, 'pve3'],
      ['lx-k3s-agent-01', '192.168.168.121/24', 121, 'pve1'],
      ['lx-k3s-agent-02', '192.168.168.122/24', 122, 'pve2'],
    ]);
    expect(json.resource.proxmox_virtual_environment_container).toBeUndefined();
  });

  test('downloads the cloud image once per Proxmox node that has VMs, and VMs import it from their own node', () => {
    const downloads = resourcesByPath(json, 'proxmox_download_file');
    expect(Object.values(downloads).map((d) => [d.node_name, d.content_type, d.datastore_id, d.file_name, d.overwrite])).toEqual([
      ['pve1', 'import', 'local', 'ubuntu-24.04-server-cloudimg-amd64.qcow2', false],
      ['pve2', 'import', 'local', 'ubuntu-24.04-server-cloudimg-amd64.qcow2', false],
      ['pve3', 'import', 'local', 'ubuntu-24.04-server-cloudimg-amd64.qcow2', false],
    ]);
    const server3 = vms['lab/lx-k3s-server-03/Resource'];
    expect(server3.disk[0].import_from).toMatch(/^\$\{proxmox_download_file\.CloudImage-pve3_[0-9A-F]+\.id\}$/);
  });

  test('keeps the Terraform addresses of the hosts stable (renaming them would replace the VMs)', () => {
    expect(Object.keys(json.resource.proxmox_virtual_environment_vm).sort()).toEqual([
      'lx-k3s-agent-01_4AC7D91B', 'lx-k3s-agent-02_851A6293', 'lx-k3s-server-01_81C29233', 'lx-k3s-server-02_48C0B2C4', 'lx-k3s-server-03_50483682',
    ]);
  });

  test('provider credentials come from a sensitive variable; snippet upload over SSH is configured', () => {
    expect(json.provider.proxmox).toEqual([{
      endpoint: 'https://pve1.k3s.test.local:8006/', api_token: '${var.proxmox_api_token}', insecure: false, ssh: { agent: true, username: 'root' },
    }]);
    expect(json.variable.proxmox_api_token).toMatchObject({ type: 'string', sensitive: true });
    expect(json.variable.proxmox_api_token.default).toBeUndefined();
    expect(json.variable.admin_ssh_public_key).toMatchObject({ type: 'string' });
    expect(json.variable.ssh_private_key).toMatchObject({ type: 'string', sensitive: true });
    expect(json.terraform.required_providers.proxmox).toEqual({ source: 'bpg/proxmox', version: '0.111.1' });
  });

  test('every host gets the admin user with the key variable; K3s hosts get the kernel prerequisites', () => {
    const snippets = userDataSnippets(json);
    expect(Object.keys(snippets)).toHaveLength(5);
    for (const [path, snippet] of Object.entries(snippets)) {
      const data: string = snippet.source_raw.data;
      expect(data).toContain('- name: k3sadmin');
      expect(data).toContain('- ${var.admin_ssh_public_key}');
      expect(data).toContain('  - qemu-guest-agent');
      expect(data).toContain('br_netfilter');
      expect(data).toContain('net.bridge.bridge-nf-call-iptables = 1');
      expect(path).toMatch(/^lab\/lx-k3s-(server|agent)-0\d\/UserData$/);
    }
  });

  test('outputs the API endpoint (the VIP\'s DNS name on port 8443, never 127.0.0.1) and host addresses', () => {
    expect(json.output.api_endpoint.value).toBe('https://api.k3s.test.local:8443');
    expect(json.output.host_addresses.value).toMatchObject({ 'lx-k3s-server-01': '192.168.168.111', 'lx-k3s-agent-02': '192.168.168.122' });
  });

  test('site warnings become cdktf warning annotations', () => {
    const warnings = stack.node.metadata.filter((entry) => entry.type === AnnotationMetadataEntryType.WARN).map((entry) => entry.data);
    expect(warnings).toEqual([
      'backup: no backup target: the cluster state has no off-site copy (losing the control-plane machines loses the cluster); add a backup section',
      'proxmox.cloudImage.checksum: no checksum: Proxmox does not verify ubuntu-24.04-server-cloudimg-amd64.qcow2 after downloading it',
    ]);
  });

  test('Bind9 runs on the two agents: primary on the first, secondary on the second, zone k3s.test.local', () => {
    const data = (name: string) => resourcesByPath(json, 'proxmox_virtual_environment_file')[`lab/${name}/UserData`].source_raw.data as string;
    expect(data('lx-k3s-agent-01')).toContain('zone "k3s.test.local"');
    expect(data('lx-k3s-agent-01')).toMatch(/type primary;/);
    expect(data('lx-k3s-agent-02')).toMatch(/type secondary;/);
    expect(data('lx-k3s-server-01')).not.toContain('bind9');
  });
});

describe('SiteStack with LXC load balancers', () => {
  const { json } = synthSite(SITES['fixture-lxc']);

  test('load balancers are unprivileged containers provisioned over SSH with a sensitive key variable', () => {
    const containers = resourcesByPath(json, 'proxmox_virtual_environment_container');
    expect(Object.keys(containers)).toEqual(['fixture-lxc/lb-1/Resource', 'fixture-lxc/lb-2/Resource']);
    expect(containers['fixture-lxc/lb-1/Resource']).toMatchObject({ unprivileged: true, cpu: { cores: 2 }, memory: { dedicated: 512 } });
    expect(json.variable.ssh_private_key).toMatchObject({ sensitive: true });
    const templates = resourcesByPath(json, 'proxmox_download_file');
    expect(Object.values(templates).map((t) => `${t.node_name}:${t.content_type}`).sort()).toEqual(['pve-a:import', 'pve-a:vztmpl', 'pve-b:import', 'pve-b:vztmpl', 'pve-c:import']);
  });

  test('containers get no guest agent or time sync (they share the host kernel and clock)', () => {
    const scripts = [...convergeScripts(SITES['fixture-lxc'], json, true).values()];
    expect(scripts).toHaveLength(2);
    for (const script of scripts) {
      expect(script).not.toContain('qemu-guest-agent');
      expect(script).not.toContain('timedatectl');
      expect(script).toContain("useradd --create-home --shell '/bin/bash' 'k3sadmin'");
    }
  });
});

describe('site facts flow from the plan', () => {
  test('a host\'s size override and role defaults reach the VM', () => {
    const vms = resourcesByPath(synthSite(SITES['fixture-vm']).json, 'proxmox_virtual_environment_vm');
    expect(vms['fixture-vm/agent-1/Resource']).toMatchObject({ cpu: { cores: 4 }, memory: { dedicated: 8192 } });
    expect(vms['fixture-vm/agent-1/Resource'].disk[0].size).toBe(80);
    expect(vms['fixture-vm/server-1/Resource']).toMatchObject({ cpu: { cores: 2 }, memory: { dedicated: 4096 }, tags: ['fixture-vm', 'k3s-server', 'load-balancer', 'proxmox-k3s-ha'] });
  });

  test('NTP servers and time zone from the site reach the cloud-config', () => {
    const snippets = resourcesByPath(synthSite(SITES['fixture-vm']).json, 'proxmox_virtual_environment_file');
    const data: string = snippets['fixture-vm/server-1/UserData'].source_raw.data;
    expect(data).toContain('NTP=ntp.fixture.test');
    expect(data).toContain('timedatectl set-timezone Europe/Berlin');
    expect(data).toContain('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKsecondkey second@example');
  });

  test('roles listed on hosts select the hosts', () => {
    expect(SITES.lab.hosts.filter((h) => h.roles.includes(HostRole.LOAD_BALANCER)).map((h) => h.name)).toEqual(['lx-k3s-server-01', 'lx-k3s-server-02', 'lx-k3s-server-03']);
  });
});

const ALL_SITES = [...Object.values(SITES), ...loadSites().filter((site) => !(site.name in SITES))];

describe.each(ALL_SITES.map((site) => [site.name, site] as const))('synthesized stack %s', (_, site) => {
  const { json, text } = synthSite(site);

  test('snapshot of the site stack (tripwire beside the fine-grained tests)', () => {
    expect(json).toMatchSnapshot();
  });

  test('every proxmox resource and the provider block match the bpg/proxmox 0.111.1 schema', () => {
    expect(formatProblems(checkTerraformJson(json, schema, 'registry.terraform.io/bpg/proxmox', 'proxmox'))).toBe('');
  });

  test('no secret value is written: credentials are variable references', () => {
    expect(text).not.toMatch(/"(api_token|password|private_key|token)"\s*:\s*"(?!\$\{)/);
    expect(text).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY/);
  });

  test('exactly one tls provider when kubeadm\'s CA or the PostgreSQL datastore\'s TLS needs it, none otherwise', () => {
    const needsTls = site.controlPlane.distribution === Distribution.KUBEADM || site.postgres?.tls === true;
    expect(json.provider.tls ?? []).toHaveLength(needsTls ? 1 : 0);
  });
});

describe('SiteStack K3s wiring', () => {
  const { json, stack } = synthSite(SITES.lab);
  const files = userDataSnippets(json);

  test('servers and agents carry the token as a reference to one generated password, never a literal', () => {
    expect(json.resource.random_password).toHaveProperty(['ControlPlane_Token_FDCEE444'], expect.objectContaining({ length: 48, special: false }));
    for (const file of Object.values(files)) {
      expect(file.source_raw.data).toMatch(/path: \/etc\/rancher\/k3s\/token\n {4}content: \|\n {6}\$\{random_password\.ControlPlane_Token_FDCEE444\.result\}\n {4}permissions: "0600"/);
    }
  });

  test('the first server initializes the cluster; the other servers and the agents wait for the API endpoint first', () => {
    const data = (name: string) => files[`lab/${name}/UserData`].source_raw.data as string;
    expect(data('lx-k3s-server-01')).toContain('cluster-init: true');
    expect(data('lx-k3s-server-01')).not.toContain('wait-for-api.sh');
    for (const name of ['lx-k3s-server-02', 'lx-k3s-server-03', 'lx-k3s-agent-01']) {
      expect(data(name)).toContain('/usr/local/lib/proxmox-k3s-ha/wait-for-api.sh');
      expect(data(name)).toContain('server: https://192.168.168.100:8443');
    }
    expect(data('lx-k3s-agent-02')).toMatch(/\n +systemctl enable k3s-agent\n +systemctl restart k3s-agent\n/);
  });

  test('with k3sServerManifests(site) the first server, and only it, carries the Cilium bootstrap HelmChart (K3s runs without flannel)', () => {
    const withCilium = Object.entries(files).filter(([, file]) => (file.source_raw.data as string).includes('path: /var/lib/rancher/k3s/server/manifests/cilium.yaml'));
    expect(withCilium.map(([path]) => path)).toEqual(['lab/lx-k3s-server-01/UserData']);
    expect(withCilium[0][1].source_raw.data).toContain(renderCiliumBootstrapManifest(SITES.lab).content.split('\n')[1]);
    expect(withCilium[0][1].source_raw.data).toMatch(/bootstrap: true[\s\S]*clusterPoolIPv4PodCIDRList/);
  });

  test('a K3s site with Cilium and no serverManifests is an error naming the property and what to pass', () => {
    expect(() => new SiteStack(Testing.app(), 'lab', { site: SITES.lab }))
      .toThrow('site lab: SiteStackProps.serverManifests: undefined — expected the CNI\'s bootstrap manifest, k3sServerManifests(site)');
  });

  test('serverManifests: an empty list puts no CNI manifest on any server', () => {
    const app = Testing.app();
    const bare = JSON.parse(Testing.synth(new SiteStack(app, 'lab', { site: SITES.lab, serverManifests: [] })));
    const data = Object.values(bare.resource.proxmox_virtual_environment_file).map((file: any) => file.source_raw.data as string);
    expect(data.some((text) => text.includes('/var/lib/rancher/k3s/server/manifests/'))).toBe(false);
  });

  test('a kubeconfig command that points at the API endpoint, not 127.0.0.1', () => {
    expect(json.output.kubeconfig_command.value).toBe("ssh k3sadmin@192.168.168.111 sudo cat /etc/rancher/k3s/k3s.yaml | sed 's#https://127.0.0.1:6443#https://api.k3s.test.local:8443#' > lab.kubeconfig");
    expect(stack.controlPlane?.datastore.kind).toBe('embedded-etcd');
  });
});

describe('SiteStack for the homelab (seed 000): external PostgreSQL', () => {
  const site = loadSites().find((s) => s.name === 'homelab')!;
  const { json } = synthSite(site);
  const files = resourcesByPath(json, 'proxmox_virtual_environment_file');
  const data = (name: string) => files[`homelab/${name}/UserData`].source_raw.data as string;

  test('the seed\'s IP table: 2 database nodes that also balance, 3 servers, VIP 10.10.10.150', () => {
    const vms = Object.values(resourcesByPath(json, 'proxmox_virtual_environment_vm')).map((vm) => `${vm.name}=${vm.initialization.ip_config[0].ipv4.address}`).sort();
    expect(vms).toEqual(['cp1=10.10.10.153/24', 'cp2=10.10.10.154/24', 'cp3=10.10.10.155/24', 'pg-node-1=10.10.10.151/24', 'pg-node-2=10.10.10.152/24']);
    expect(data('pg-node-1')).toContain('10.10.10.150/24 dev eth0');
    expect(data('pg-node-1')).toContain('priority 200');
    expect(data('pg-node-2')).toContain('priority 150');
  });

  test('servers reach the datastore through the writer endpoint on the VIP, credentials only in a 0600 environment file', () => {
    for (const server of ['cp1', 'cp2', 'cp3']) {
      const text = data(server);
      expect(text).toMatch(/path: \/etc\/rancher\/k3s\/k3s\.env\n {4}content: \|\n {6}K3S_DATASTORE_ENDPOINT=postgres:\/\/k3s:\$\{random_password\.[A-Za-z0-9_]+\.result\}@10\.10\.10\.150:5433\/k3s/);
      expect(text).toMatch(/path: \/etc\/rancher\/k3s\/k3s\.env\n {4}content: \|\n {6}K3S_DATASTORE_ENDPOINT=[^\n]*\n {4}permissions: "0600"\n/);
      expect(text).not.toContain('cluster-init');
      expect(text).not.toMatch(/datastore-endpoint: /);
    }
  });

  test('TLS by default: servers get the datastore CA as datastore-cafile and connect with sslmode=verify-full; one tls provider', () => {
    expect(site.postgres!.tls).toBe(true);
    expect(json.provider.tls).toEqual([{}]);
    for (const server of ['cp1', 'cp2', 'cp3']) {
      const text = data(server);
      expect(text).toContain('datastore-cafile: /etc/rancher/k3s/datastore-ca.crt\n');
      expect(text).toMatch(/K3S_DATASTORE_ENDPOINT=postgres:\/\/k3s:\$\{random_password\.\w+\.result\}@10\.10\.10\.150:5433\/k3s\?sslmode=verify-full\n/);
      expect(text).toMatch(/path: \/etc\/rancher\/k3s\/datastore-ca\.crt\n {4}content: \$\{base64encode\(tls_self_signed_cert\.Datastore_TlsCaCertificate_\w+\.cert_pem\)\}\n {4}encoding: b64\n/);
    }
    // The two datastore nodes and the etcd witness (cp1, the first K3s server: the load balancers are the database
    // nodes), and Prometheus's client certificate (the monitoring is on).
    expect(Object.keys(json.resource.tls_locally_signed_cert).map((id) => id.split('_')[1]).sort())
      .toEqual(['ScrapeClientCertificate', 'TlsCertificate-cp1', 'TlsCertificate-pg-node-1', 'TlsCertificate-pg-node-2']);
  });

  test('with postgres.tls: false no tls provider or resource, and a DSN without sslmode', () => {
    const plain = synthSite(defineSite({ ...pgHomelabSite, postgres: { tls: false } })).json;
    expect(plain.provider.tls).toBeUndefined();
    expect(Object.keys(plain.resource).filter((type) => type.startsWith('tls_'))).toEqual([]);
    const cp1 = resourcesByPath(plain, 'proxmox_virtual_environment_file')['pg-homelab/cp1/UserData'].source_raw.data as string;
    expect(cp1).toMatch(/K3S_DATASTORE_ENDPOINT=postgres:\/\/k3s:\$\{random_password\.\w+\.result\}@10\.10\.10\.150:5433\/k3s\n/);
    expect(cp1).not.toContain('datastore-cafile');
  });

  test('the load balancers on the database nodes carry the writer frontend checking Patroni; Patroni and etcd on both nodes, etcd on the witness', () => {
    expect(data('pg-node-1')).toContain('bind *:5433');
    // Patroni on both nodes (whichever takes the leader key first initializes), etcd on both and on the witness cp1.
    for (const node of ['pg-node-1', 'pg-node-2']) {
      expect(data(node)).toContain('path: /etc/patroni/config.yml');
      expect(data(node)).toContain('path: /etc/proxmox-k3s-ha/etcd.env');
      expect(data(node)).toMatch(/- patroni\n/);
    }
    expect(data('cp1')).toContain('ETCD_NAME=cp1');
    expect(data('cp1')).toContain('ETCD_INITIAL_CLUSTER=pg-node-1=https://10.10.10.151:2380,pg-node-2=https://10.10.10.152:2380,cp1=https://10.10.10.153:2380');
    expect(data('cp1')).not.toContain('patroni');
    expect(data('cp2')).not.toContain('ETCD_NAME');
    expect(data('pg-node-1')).toContain('option httpchk GET /primary');
  });
});

describe('SiteStack for prod (seed 001): LXC load balancers, embedded etcd', () => {
  const site = loadSites().find((s) => s.name === 'prod')!;
  const { json } = synthSite(site);
  const containers = resourcesByPath(json, 'proxmox_virtual_environment_container');
  const scripts = Object.fromEntries(convergeScripts(site, json, true));
  const userData = Object.fromEntries(Object.entries(userDataSnippets(json))
    .map(([path, file]) => [path.split('/')[1], file.source_raw.data as string]));
  /** A file the provisioning script installs, unquoted as sh would (`'\''` is one quote). */
  const installed = (script: string, path: string) => {
    const match = new RegExp(`printf '%s' '((?:[^']|'\\\\'')*)' \\| install_file '${path.replace(/[./]/g, '\\$&')}'`).exec(script);
    expect(match).not.toBeNull();
    return match![1].replace(/'\\''/g, "'");
  };

  test('3 unprivileged LXC load balancers k3s-prod-lb-01..03: 2 vCPU, 512 MB, the Ubuntu 24.04 template, at .211–.213', () => {
    const downloads = json.resource.proxmox_download_file;
    const summary = Object.values(containers).map((c) => {
      const template = downloads[/^\$\{proxmox_download_file\.([^.]+)\.id\}$/.exec(c.operating_system.template_file_id)![1]];
      return [c.initialization.hostname, c.cpu.cores, c.memory.dedicated, c.unprivileged, c.operating_system.type, template.content_type,
        template.file_name, template.node_name === c.node_name, c.initialization.ip_config[0].ipv4.address];
    });
    expect(summary).toEqual([1, 2, 3].map((i) => [`k3s-prod-lb-0${i}`, 2, 512, true, 'ubuntu', 'vztmpl', 'ubuntu-24.04-standard_24.04-2_amd64.tar.zst', true, `192.168.0.21${i}/24`]));
    expect(Object.keys(scripts).sort()).toEqual(['k3s-prod-lb-01', 'k3s-prod-lb-02', 'k3s-prod-lb-03']);
  });

  test('3 K3s servers k3s-prod-cp-01..03 at 192.168.0.201–203, the API endpoint on the VIP 192.168.0.210:6443', () => {
    const vms = Object.values(resourcesByPath(json, 'proxmox_virtual_environment_vm'));
    expect(vms.map((vm) => `${vm.name}=${vm.initialization.ip_config[0].ipv4.address}`))
      .toEqual(['k3s-prod-cp-01=192.168.0.201/24', 'k3s-prod-cp-02=192.168.0.202/24', 'k3s-prod-cp-03=192.168.0.203/24']);
    expect(json.output.api_endpoint.value).toBe('https://api.prod.internal:6443');
    for (const script of Object.values(scripts)) {
      const haproxy = installed(script, '/etc/haproxy/haproxy.cfg');
      expect(haproxy).toMatch(/bind \*:6443\b/);
      const apiBackend = /^backend k3s_api\n((?:[ \t].*\n?)*)/m.exec(haproxy)![1];
      expect([...apiBackend.matchAll(/^\s*server (\S+) (\S+)/gm)].map(([, name, address]) => `${name} ${address}`))
        .toEqual(['k3s-prod-cp-01 192.168.0.201:6443', 'k3s-prod-cp-02 192.168.0.202:6443', 'k3s-prod-cp-03 192.168.0.203:6443']);
    }
  });

  test('keepalived.conf on the load balancers: priorities 200/150/100, the VIP 192.168.0.210/24, unicast to the other two', () => {
    const vrrp = Object.entries(scripts).map(([host, script]) => {
      const conf = installed(script, '/etc/keepalived/keepalived.conf');
      const instance = /vrrp_instance \S+ \{([\s\S]*?)\n\}/.exec(conf)![1];
      return [host, Number(/\n\s*priority (\d+)/.exec(instance)![1]), /virtual_ipaddress \{\s*(\S+)/.exec(instance)![1],
        /unicast_peer \{([^}]*)\}/.exec(instance)![1].trim().split(/\s+/).join(' ')];
    });
    expect(vrrp).toEqual([
      ['k3s-prod-lb-01', 200, '192.168.0.210/24', '192.168.0.212 192.168.0.213'],
      ['k3s-prod-lb-02', 150, '192.168.0.210/24', '192.168.0.211 192.168.0.213'],
      ['k3s-prod-lb-03', 100, '192.168.0.210/24', '192.168.0.211 192.168.0.212'],
    ]);
  });

  test('embedded etcd: exactly one server initializes the cluster, the others join through the VIP; no external datastore', () => {
    const configs = Object.fromEntries(Object.entries(userData).map(([host, data]) => [host, (parseYaml(data).write_files as { path: string; content: string }[])
      .find((file) => file.path === '/etc/rancher/k3s/config.yaml')!.content]));
    expect(Object.entries(configs).filter(([, config]) => parseYaml(config)['cluster-init'] === true).map(([host]) => host)).toEqual(['k3s-prod-cp-01']);
    for (const host of ['k3s-prod-cp-02', 'k3s-prod-cp-03']) {
      expect(parseYaml(configs[host])).toMatchObject({ server: 'https://192.168.0.210:6443' });
    }
    for (const [host, data] of Object.entries(userData)) {
      expect([host, /datastore-endpoint|K3S_DATASTORE_ENDPOINT/.test(data)]).toEqual([host, false]);
    }
    expect(site.controlPlane.datastore).toBe('embedded-etcd');
  });
});

describe('homelab (seed 000): Cilium with Hubble in the first server\'s bootstrap HelmChart', () => {
  const site = loadSites().find((s) => s.name === 'homelab')!;
  const files = resourcesByPath(synthSite(site).json, 'proxmox_virtual_environment_file');
  const manifest = (host: string) => (parseYaml(files[`homelab/${host}/UserData`].source_raw.data).write_files as { path: string; content: string }[])
    .find((file) => file.path === '/var/lib/rancher/k3s/server/manifests/cilium.yaml');

  test('cp1 carries the HelmChart; its values enable Hubble, its relay and UI, and replace kube-proxy', () => {
    const chart = parseYaml(manifest('cp1')!.content);
    expect(chart).toMatchObject({ apiVersion: 'helm.cattle.io/v1', kind: 'HelmChart', spec: { chart: 'cilium', bootstrap: true } });
    const values = parseYaml(chart.spec.valuesContent);
    expect(values.hubble).toEqual({ enabled: true, relay: { enabled: true }, ui: { enabled: true }, metrics: { enabled: HUBBLE_METRICS } });
    expect(values.kubeProxyReplacement).toBe(true);
    expect([manifest('cp2'), manifest('cp3')]).toEqual([undefined, undefined]);
  });
});
