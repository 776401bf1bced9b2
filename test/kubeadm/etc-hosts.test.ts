import { parse } from 'yaml';
import { CloudConfig, CloudConfigConflictError, EtcHostsEntry, defineSite } from '../../constructs';
import { ETC_HOSTS_FILE, renderCloudConfig, renderShellScript } from '../../constructs/cloud-init';
import { applyEtcHostsRole, siteEtcHostsEntries } from '../../constructs/roles';
import kubeadmMulti from '../../sites/kubeadm-multi';
import { lxcSite } from '../fixtures/sites';
import { resourcesByPath, synthSite } from '../support/synth';
import { convergeScripts } from '../support/user-data';
import { describeWithTools } from '../support/tools';
import { cloudInitSchema, shellcheck } from '../support/validators';

const newConfig = () => new CloudConfig({ hostname: 'h1', fqdn: 'h1.example.net' });
const ENTRIES: readonly EtcHostsEntry[] = [
  { address: '10.0.1.10', names: ['lb.kube.com', 'lb'] },
  { address: '10.0.1.11', names: ['master1.kube.com', 'master1'] },
];
const EXPECTED_HOSTS = [
  '# Written by proxmox-k3s-ha; cloud-init and Proxmox leave this file alone.',
  '127.0.0.1 localhost',
  '::1 localhost ip6-localhost ip6-loopback',
  'ff02::1 ip6-allnodes',
  'ff02::2 ip6-allrouters',
  '10.0.1.10 lb.kube.com lb',
  '10.0.1.11 master1.kube.com master1',
  '',
].join('\n');

function withEtcHosts(): CloudConfig {
  const config = newConfig();
  config.addPackages('base', 'qemu-guest-agent');
  config.writeEtcHosts('etc-hosts', ENTRIES);
  return config;
}

describe('CloudConfig.writeEtcHosts', () => {
  test('by default cloud-init manages /etc/hosts and no role writes it', () => {
    const config = newConfig();
    expect(config.manageEtcHosts).toBe(true);
    expect(parse(renderCloudConfig(config)).manage_etc_hosts).toBe(true);
    expect(renderShellScript(config)).not.toContain('/etc/hosts');
  });

  test('cloud-config: /etc/hosts is written with loopback lines first and cloud-init stops rewriting it', () => {
    const config = withEtcHosts();
    expect(config.manageEtcHosts).toBe(false);
    const document = parse(renderCloudConfig(config));
    expect(document.manage_etc_hosts).toBe(false);
    expect(document.write_files).toEqual([{ path: ETC_HOSTS_FILE, content: EXPECTED_HOSTS, permissions: '0644', owner: 'root:root', defer: true }]);
  });

  test('shell script (LXC): the same file, and Proxmox told not to rewrite it at container start', () => {
    const script = renderShellScript(withEtcHosts());
    expect(script).toContain(`printf '%s' '${EXPECTED_HOSTS}' | install_file '/etc/hosts' 0644 'root:root'`);
    expect(script).toContain("printf '%s' '' | install_file '/etc/.pve-ignore.hosts' 0644 'root:root'");
    expect(script.indexOf('/etc/.pve-ignore.hosts')).toBeLessThan(script.indexOf("install_file '/etc/hosts'"));
  });

  test('a second role with the same entries is fine; different entries conflict, naming both roles', () => {
    const config = withEtcHosts();
    config.writeEtcHosts('other', ENTRIES);
    expect(() => config.writeEtcHosts('dns', ENTRIES.slice(1)))
      .toThrow('h1: file /etc/hosts is written by role "etc-hosts" and differently by role "dns"');
  });

  test.each([
    ['writing /etc/hosts as a plain file', (c: CloudConfig) => c.addFile('r', { path: '/etc/hosts', content: '' }), 'is rendered from writeEtcHosts'],
    ['an address with a space', (c: CloudConfig) => c.writeEtcHosts('r', [{ address: '10.0.0.1 evil', names: ['x'] }]), 'address "10.0.0.1 evil" must be an IPv4 or IPv6 address'],
    ['an entry without names', (c: CloudConfig) => c.writeEtcHosts('r', [{ address: '10.0.0.1', names: [] }]), 'names [] for 10.0.0.1 must be one or more host names'],
    ['a name with a comment sign', (c: CloudConfig) => c.writeEtcHosts('r', [{ address: '10.0.0.1', names: ['a#b'] }]), 'must be one or more host names'],
  ])('fails on %s', (_, add, message) => {
    expect(() => add(newConfig())).toThrow(CloudConfigConflictError);
    expect(() => add(newConfig())).toThrow(message);
  });

  test('merge carries /etc/hosts over, with the same conflict check', () => {
    const target = newConfig();
    target.merge(withEtcHosts());
    expect(target.manageEtcHosts).toBe(false);
    expect(target.files.find((f) => f.path === ETC_HOSTS_FILE)?.content).toBe(EXPECTED_HOSTS);
    const clash = newConfig();
    clash.writeEtcHosts('dns', ENTRIES.slice(1));
    expect(() => clash.merge(withEtcHosts())).toThrow('written by role "dns" and differently by role "etc-hosts"');
  });
});

describe('applyEtcHostsRole', () => {
  test('every site host as "ip fqdn name", then the API endpoint name on its address', () => {
    const site = defineSite(kubeadmMulti);
    expect(siteEtcHostsEntries(site)).toEqual([
      { address: '10.0.1.10', names: ['lb.kube.com', 'lb'] },
      { address: '10.0.1.11', names: ['master1.kube.com', 'master1'] },
      { address: '10.0.1.12', names: ['master2.kube.com', 'master2'] },
      { address: '10.0.1.13', names: ['worker1.kube.com', 'worker1'] },
      { address: '10.0.1.14', names: ['worker2.kube.com', 'worker2'] },
      { address: '10.0.1.10', names: ['api.kube.com'] },
    ]);
    const config = newConfig();
    applyEtcHostsRole(config, site);
    expect(config.files.find((f) => f.path === ETC_HOSTS_FILE)?.content).toContain('10.0.1.14 worker2.kube.com worker2\n10.0.1.10 api.kube.com\n');
  });
});

describe('SiteStack with network.etcHosts', () => {
  const site = defineSite({ ...lxcSite, name: 'fixture-etc-hosts', network: { ...lxcSite.network, etcHosts: true } });
  const { json } = synthSite(site);

  test('VMs and LXC containers alike get the site\'s /etc/hosts', () => {
    const vmData = Object.entries(resourcesByPath(json, 'proxmox_virtual_environment_file')).filter(([path]) => path.endsWith('/UserData')).map(([, f]) => f.source_raw.data as string);
    const lxcScripts = [...convergeScripts(site, json, true).values()];
    expect(vmData).toHaveLength(3);
    expect(lxcScripts).toHaveLength(2);
    for (const data of vmData) {
      expect(data).toContain('manage_etc_hosts: false');
      expect(data).toContain('198.18.0.31 lb-1.fixture.test lb-1\n');
    }
    for (const script of lxcScripts) {
      expect(script).toContain("install_file '/etc/.pve-ignore.hosts'");
      expect(script).toContain('198.18.0.13 server-3.fixture.test server-3\n198.18.0.10 api.fixture.test\n');
    }
  });
});

describeWithTools(['cloud-init', 'shellcheck'], 'the real tools accept both renderings with /etc/hosts taken over', () => {
  test('cloud-init schema', () => {
    const result = cloudInitSchema(renderCloudConfig(withEtcHosts()));
    expect(result.output).toContain('Valid cloud-config');
    expect(result.ok).toBe(true);
  });

  test('shellcheck', () => {
    const result = shellcheck(renderShellScript(withEtcHosts()));
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });
});
