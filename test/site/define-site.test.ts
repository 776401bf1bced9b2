// defineSite(): a valid site resolves into a deep-frozen plan with every default filled in; each bad input is
// reported as exactly one `path: value — expected` problem; several problems come back together in one error;
// non-fatal availability findings come back as warnings; wrong shapes from plain JS never end in a TypeError.
import {
  ApiHealthCheck,
  ChecksumAlgorithm,
  CniKind,
  DEFAULT_K3S_VERSION,
  Distribution,
  HostKind,
  HostRole,
  SitePlan,
  SiteSpec,
  defineSite,
} from '../../constructs';
import lab from '../../sites/lab';
import { validationErrorOf } from '../support/validation-error';

// ---------------------------------------------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------------------------------------------

const SHA256_UPPER = 'A3C5E1F0B2D4968778695A4B3C2D1E0F00112233445566778899AABBCCDDEEFF';
const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl admin@lab';
const LXC_TEMPLATE = {
  url: 'http://download.proxmox.com/images/system/ubuntu-24.04-standard_24.04-2_amd64.tar.zst',
  fileName: 'ubuntu-24.04-standard_24.04-2_amd64.tar.zst',
};

/**
 * The shape of sites/lab.ts as plain data (3 servers that also balance, spread over 3 Proxmox nodes, 2 agents),
 * plus a DNS host and a pinned cloud-image checksum, so that it is valid and has no warnings at all.
 * Host indices: 0–2 servers + load balancers (pve1–pve3), 3–4 agents (pve1, pve2), 5 DNS (pve3).
 */
const BASE: SiteSpec = {
  name: 'lab',
  description: 'HA K3s lab',
  network: {
    cidr: '192.168.168.0/24',
    gateway: '192.168.168.1',
    dnsServers: ['192.168.168.1'],
    searchDomain: 'k3s.test.local',
  },
  proxmox: {
    endpoint: 'https://pve1.k3s.test.local:8006/',
    nodes: ['pve1', 'pve2', 'pve3'],
    bridge: 'vmbr0',
    datastores: { disks: 'local-lvm', snippets: 'local', images: 'local' },
    cloudImage: {
      url: 'https://cloud-images.ubuntu.com/releases/24.04/release/ubuntu-24.04-server-cloudimg-amd64.img',
      fileName: 'ubuntu-24.04-server-cloudimg-amd64.qcow2',
      checksum: SHA256_UPPER,
    },
  },
  hosts: [
    { name: 'lx-k3s-server-01', ip: '192.168.168.111', vmId: 111, proxmoxNode: 'pve1', roles: [HostRole.K3S_SERVER, HostRole.LOAD_BALANCER] },
    { name: 'lx-k3s-server-02', ip: '192.168.168.112', vmId: 112, proxmoxNode: 'pve2', roles: [HostRole.K3S_SERVER, HostRole.LOAD_BALANCER] },
    { name: 'lx-k3s-server-03', ip: '192.168.168.113', vmId: 113, proxmoxNode: 'pve3', roles: [HostRole.K3S_SERVER, HostRole.LOAD_BALANCER] },
    { name: 'lx-k3s-agent-01', ip: '192.168.168.121', vmId: 121, proxmoxNode: 'pve1', roles: [HostRole.K3S_AGENT] },
    { name: 'lx-k3s-agent-02', ip: '192.168.168.122', vmId: 122, proxmoxNode: 'pve2', roles: [HostRole.K3S_AGENT] },
    { name: 'lx-dns-01', ip: '192.168.168.131', vmId: 131, proxmoxNode: 'pve3', roles: [HostRole.DNS] },
  ],
  apiEndpoint: { vip: '192.168.168.100', port: 8443, dnsName: 'api.k3s.test.local' },
  // A backup target: without one the site is warned that its cluster state has no off-site copy.
  backup: { target: { endpoint: 'https://s3.k3s.test.local', bucket: 'lab-backups' } },
};

/**
 * The spec as writable data. Objects keep their keys (so a typo in a mutation is a type error) while leaf values
 * are loose, so a mutation can put a wrong value of any type in.
 */
type Loose<T> = T extends readonly (infer U)[] ? Loose<U>[] : T extends object ? { -readonly [K in keyof T]: Loose<T[K]> } : any; // eslint-disable-line @typescript-eslint/no-explicit-any
type Draft = Loose<SiteSpec>;

/** A deep copy of {@link BASE} with `mutate` applied; BASE itself never changes. */
function variant(mutate: (spec: Draft) => void): SiteSpec {
  const copy = structuredClone(BASE) as unknown as Draft;
  mutate(copy);
  return copy as unknown as SiteSpec;
}

function segments(path: string): string[] {
  return path.split(/[.[\]]+/).filter(Boolean);
}

/** A mutation that sets the value at `path` (e.g. `hosts[3].ip`), creating missing objects on the way. */
function setting(path: string, value: unknown): (spec: Draft) => void {
  return (spec) => {
    const keys = segments(path);
    const last = keys.pop()!;
    let target = spec as Record<string, unknown>;
    for (const key of keys) {
      target[key] ??= {};
      target = target[key] as Record<string, unknown>;
    }
    target[last] = value;
  };
}

/** A mutation that deletes the key at `path`. */
function removing(path: string): (spec: Draft) => void {
  return (spec) => {
    const keys = segments(path);
    const last = keys.pop()!;
    const target = keys.reduce((object, key) => object[key] as Record<string, unknown>, spec as Record<string, unknown>);
    delete target[last];
  };
}

/** A mutation that makes the base a kubeadm site: servers become control planes, agents workers. */
function asKubeadm(spec: Draft): void {
  spec.controlPlane = { distribution: Distribution.KUBEADM };
  [0, 1, 2].forEach((i) => {
    spec.hosts[i].roles = [HostRole.CONTROL_PLANE, HostRole.LOAD_BALANCER];
  });
  [3, 4].forEach((i) => {
    spec.hosts[i].roles = [HostRole.WORKER];
  });
}

/** How a value appears in an error message: JSON, or `(missing)` for undefined. */
function rendered(value: unknown): string {
  return value === undefined ? '(missing)' : JSON.stringify(value);
}

/** Every object and array inside `value` that is not frozen, by path. */
function unfrozenPaths(value: unknown, path = 'plan'): string[] {
  if (typeof value !== 'object' || value === null) {
    return [];
  }
  const own = Object.isFrozen(value) ? [] : [path];
  return [...own, ...Object.entries(value).flatMap(([key, child]) => unfrozenPaths(child, `${path}.${key}`))];
}

// ---------------------------------------------------------------------------------------------------------------
// Valid sites
// ---------------------------------------------------------------------------------------------------------------

describe('defineSite() with a valid site', () => {
  let plan: SitePlan;

  beforeAll(() => {
    plan = defineSite(BASE);
  });

  test('accepts the base fixture without warnings', () => {
    expect(() => defineSite(BASE)).not.toThrow();
    expect(plan.warnings).toEqual([]);
  });

  test('accepts sites/lab.ts, whose shape the base fixture copies', () => {
    const labPlan = defineSite(lab);
    expect(labPlan.name).toBe('lab');
    expect(labPlan.hosts.map((host) => host.name)).toEqual(plan.hosts.slice(0, 5).map((host) => host.name));
    expect(labPlan.network).toEqual(plan.network);
    expect(labPlan.apiEndpoint).toEqual(plan.apiEndpoint);
    // lab.ts has no backup target and does not pin the cloud image checksum: those are its only warnings.
    expect(labPlan.warnings.map((warning) => warning.path)).toEqual(['backup', 'proxmox.cloudImage.checksum']);
  });

  test('resolves the API endpoint from the VIP', () => {
    expect(plan.apiEndpoint).toEqual({
      address: '192.168.168.100', port: 8443, dnsName: 'api.k3s.test.local', floating: true, url: 'https://api.k3s.test.local:8443',
    });
  });

  test('defaults the API port to 6443 and the DNS name to api.<searchDomain>', () => {
    const resolved = defineSite(variant((spec) => {
      delete spec.apiEndpoint.port;
      delete spec.apiEndpoint.dnsName;
      // HAProxy may only take 6443 where no K3s server listens on it: move the load balancers off the servers.
      [0, 1, 2].forEach((i) => {
        spec.hosts[i].roles = [HostRole.K3S_SERVER];
      });
      [3, 4, 5].forEach((i) => {
        spec.hosts[i].roles.push(HostRole.LOAD_BALANCER);
      });
    }));
    expect(resolved.apiEndpoint).toEqual({
      address: '192.168.168.100', port: 6443, dnsName: 'api.k3s.test.local', floating: true, url: 'https://api.k3s.test.local:6443',
    });
  });

  test('uses the single load balancer as a non-floating endpoint when there is no VIP', () => {
    const resolved = defineSite(variant((spec) => {
      delete spec.apiEndpoint.vip;
      spec.hosts[1].roles = [HostRole.K3S_SERVER];
      spec.hosts[2].roles = [HostRole.K3S_SERVER];
    }));
    expect(resolved.apiEndpoint.address).toBe('192.168.168.111');
    expect(resolved.apiEndpoint.floating).toBe(false);
  });

  test('resolves the network and each host\'s FQDN and address with prefix', () => {
    expect(plan.network).toEqual({
      cidr: '192.168.168.0/24', prefixLength: 24, gateway: '192.168.168.1', dnsServers: ['192.168.168.1'], searchDomain: 'k3s.test.local', etcHosts: false,
    });
    expect(plan.hosts[0]).toMatchObject({
      name: 'lx-k3s-server-01', fqdn: 'lx-k3s-server-01.k3s.test.local', ip: '192.168.168.111', ipCidr: '192.168.168.111/24',
      vmId: 111, proxmoxNode: 'pve1', kind: HostKind.VM, roles: [HostRole.K3S_SERVER, HostRole.LOAD_BALANCER],
    });
    expect(plan.hosts[5].fqdn).toBe('lx-dns-01.k3s.test.local');
  });

  test('sizes hosts by role when no size is given, taking the largest of each', () => {
    expect(plan.hosts[0].size).toEqual({ cores: 2, memoryMiB: 4096, diskGiB: 40 }); // server + load balancer
    expect(plan.hosts[3].size).toEqual({ cores: 2, memoryMiB: 4096, diskGiB: 40 }); // agent
    expect(plan.hosts[5].size).toEqual({ cores: 1, memoryMiB: 1024, diskGiB: 10 }); // dns
    const resolved = defineSite(variant((spec) => {
      spec.hosts[5].roles = [HostRole.DATASTORE];
      (spec as { controlPlane?: unknown }).controlPlane = { datastore: 'postgres' };
      spec.hosts[4].size = { cores: 8 };
    }));
    expect(resolved.hosts[5].size).toEqual({ cores: 2, memoryMiB: 2048, diskGiB: 40 });
    expect(resolved.hosts[4].size).toEqual({ cores: 8, memoryMiB: 4096, diskGiB: 40 }); // only the given part overrides
  });

  test('defaults versions, access and the Proxmox SSH user and TLS check', () => {
    expect(plan.versions).toEqual({ k3s: DEFAULT_K3S_VERSION, kubernetes: '1.30.14', crio: '1.30.14' });
    expect(DEFAULT_K3S_VERSION).toMatch(/^v1\.\d+\.\d+\+k3s\d+$/);
    expect(plan.access).toEqual({ adminUser: 'k3sadmin', sshAuthorizedKeys: [], timezone: 'Etc/UTC', ntpServers: [] });
    expect(plan.proxmox.sshUser).toBe('root');
    expect(plan.proxmox.insecureTls).toBe(false);
  });

  test('an older K3s is fine when HAProxy checks /ping instead of /readyz', () => {
    const plan = defineSite(variant((spec) => {
      spec.versions = { k3s: 'v1.33.5+k3s1' };
      spec.loadBalancer = { ...spec.loadBalancer, apiHealthCheck: ApiHealthCheck.PING };
    }));
    expect(plan.versions.k3s).toBe('v1.33.5+k3s1');
  });

  test('defaults the CNI by distribution: Cilium on K3s, Flannel on kubeadm (which cannot install Cilium)', () => {
    expect(plan.cluster).toMatchObject({ cni: CniKind.CILIUM, kubeProxyReplacement: true });
    expect(defineSite(variant(asKubeadm)).cluster).toMatchObject({ cni: CniKind.FLANNEL, kubeProxyReplacement: false });
  });

  test('keeps values that are given instead of the defaults', () => {
    const resolved = defineSite(variant((spec) => {
      spec.versions = { k3s: 'v1.35.1+k3s1' };
      spec.access = { adminUser: 'ops', sshAuthorizedKeys: [SSH_KEY], timezone: 'Europe/Berlin', ntpServers: ['pool.ntp.org', '192.168.168.1'] };
      spec.proxmox.sshUser = 'terraform';
      spec.proxmox.insecureTls = true;
      spec.proxmox.vlanId = 168;
    }));
    expect(resolved.versions.k3s).toBe('v1.35.1+k3s1');
    expect(resolved.access).toEqual({ adminUser: 'ops', sshAuthorizedKeys: [SSH_KEY], timezone: 'Europe/Berlin', ntpServers: ['pool.ntp.org', '192.168.168.1'] });
    expect(resolved.proxmox).toMatchObject({ sshUser: 'terraform', insecureTls: true, vlanId: 168 });
  });

  test('lower-cases the checksum and defaults its algorithm to sha256', () => {
    expect(plan.proxmox.cloudImage).toEqual({
      url: BASE.proxmox.cloudImage.url, fileName: BASE.proxmox.cloudImage.fileName,
      checksum: SHA256_UPPER.toLowerCase(), checksumAlgorithm: ChecksumAlgorithm.SHA256,
    });
  });

  test('accepts LXC hosts for roles that need no kernel of their own, with the template\'s OS type defaulted', () => {
    const resolved = defineSite(variant((spec) => {
      spec.hosts[5].kind = HostKind.LXC;
      spec.proxmox.lxcTemplate = { ...LXC_TEMPLATE };
    }));
    expect(resolved.hosts[5].kind).toBe(HostKind.LXC);
    expect(resolved.proxmox.lxcTemplate).toEqual({ ...LXC_TEMPLATE, osType: 'ubuntu' });
  });

  test('returns a deeply frozen plan', () => {
    expect(unfrozenPaths(plan)).toEqual([]);
    expect(() => {
      (plan.hosts as unknown as unknown[]).push({});
    }).toThrow(TypeError);
    expect(() => {
      (plan.hosts[0].size as { cores: number }).cores = 64;
    }).toThrow(TypeError);
    expect(plan.hosts[0].size.cores).toBe(2);
  });

  test('neither freezes nor shares the caller\'s spec', () => {
    const spec = variant(() => undefined);
    const resolved = defineSite(spec);
    expect(Object.isFrozen(spec.network.dnsServers)).toBe(false);
    expect(Object.isFrozen(spec.hosts[0])).toBe(false);
    (spec.network.dnsServers as string[]).push('192.168.168.2');
    expect(resolved.network.dnsServers).toEqual(['192.168.168.1']);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// One bad input, one problem
// ---------------------------------------------------------------------------------------------------------------

interface BadInput {
  /** Completes "fails when ...". */
  readonly when: string;
  readonly mutate: (spec: Draft) => void;
  /** The path of the one problem expected. */
  readonly path: string;
  /** The value that problem reports. */
  readonly value: unknown;
  /** A fragment of what that problem says was expected. */
  readonly expected: string;
  /** Paths of further problems that follow from the same input, when the row expects any. */
  readonly alsoReported?: readonly string[];
}

/**
 * Where a problem about a field of BASE is reported: a host by its name (BASE's names are valid and unique), so
 * `hosts[3].ip` is reported as `hosts[lx-k3s-agent-01].ip`; a row that breaks or repeats a name keeps the index.
 */
function reportedAt(path: string): string {
  return path.endsWith('.name') ? path : path.replace(/^hosts\[(\d+)\]/, (_, i: string) => `hosts[${BASE.hosts[Number(i)].name}]`);
}

/** A row whose mutation sets `path` to `value`, and whose one problem is at that path (see {@link reportedAt}) with that value. */
function set(when: string, path: string, value: unknown, expected: string, alsoReported?: readonly string[]): BadInput {
  return { when, mutate: setting(path, value), path: reportedAt(path), value, expected, alsoReported };
}

const RFC1123_HOST = 'a host name of 1–63 lower-case letters, digits and hyphens';
const DOTTED_DECIMAL = 'an IPv4 address in dotted-decimal form';
const INSIDE_CIDR = 'a host address inside network.cidr 192.168.168.0/24 (not its network or broadcast address)';
const ALL_ROLES = 'one of k3s-server, k3s-agent, load-balancer, datastore, dns, control-plane, worker';

const BAD_INPUTS: readonly BadInput[] = [
  // site
  set('the site name has upper-case letters', 'name', 'Lab', 'a site name of 2–32 lower-case letters'),
  set('the site name has a dot', 'name', 'lab.site', 'starting with a letter'),
  set('the site name is a single character', 'name', 'l', 'a site name of 2–32'),

  // network
  set('network.cidr has no prefix length', 'network.cidr', '192.168.168.0', 'an IPv4 network in CIDR notation'),
  set('network.cidr is not an address', 'network.cidr', '192.168.168/24', 'an IPv4 network in CIDR notation'),
  set('network.cidr has host bits set', 'network.cidr', '192.168.168.1/24', 'the network address with host bits clear ("192.168.168.0/24")'),
  set('network.cidr has a prefix longer than /30', 'network.cidr', '192.168.168.0/31', 'a prefix length between /8 and /30'),
  set('network.cidr has a prefix shorter than /8', 'network.cidr', '0.0.0.0/0', 'a prefix length between /8 and /30'),
  set('network.cidr has a prefix beyond /32', 'network.cidr', '192.168.168.0/33', 'an IPv4 network in CIDR notation'),
  set('network.gateway is not an IPv4 address', 'network.gateway', '192.168.168.256', DOTTED_DECIMAL),
  set('network.gateway lies outside the network', 'network.gateway', '192.168.169.1', 'a host address inside network.cidr 192.168.168.0/24'),
  set('network.gateway is the broadcast address', 'network.gateway', '192.168.168.255', 'a host address inside network.cidr'),
  set('network.dnsServers is empty', 'network.dnsServers', [], 'a non-empty list of IPv4 addresses'),
  set('a DNS server is a name, not an address', 'network.dnsServers[1]', 'dns.google', DOTTED_DECIMAL),
  set('network.searchDomain has no dot', 'network.searchDomain', 'local', 'a lower-case DNS domain of RFC 1123 labels with at least one dot'),
  set('network.searchDomain has upper-case letters', 'network.searchDomain', 'K3s.Test.Local', 'a lower-case DNS domain'),
  set('network.searchDomain has an empty label', 'network.searchDomain', 'k3s..local', 'a lower-case DNS domain'),

  // proxmox
  set('proxmox.endpoint is plain http', 'proxmox.endpoint', 'http://pve1.k3s.test.local:8006/', 'the https URL of the Proxmox VE API'),
  set('proxmox.endpoint is not a URL', 'proxmox.endpoint', 'not a url', 'the https URL of the Proxmox VE API'),
  // Reported once: the hosts placed on those nodes do not each repeat it.
  set('proxmox.nodes is empty', 'proxmox.nodes', [], 'a non-empty list of Proxmox node names'),
  set('a Proxmox node is listed twice', 'proxmox.nodes[3]', 'pve2', 'a unique node name (already used by proxmox.nodes[1])'),
  set('a Proxmox node name is not an RFC 1123 label', 'proxmox.nodes[3]', 'PVE_4', 'a Proxmox node name (RFC 1123 label)'),
  set('proxmox.bridge is longer than 15 characters', 'proxmox.bridge', 'vmbr-lab-network0', 'a Linux bridge name of at most 15 characters'),
  set('proxmox.bridge has a slash', 'proxmox.bridge', 'vmbr0/1', 'a Linux bridge name'),
  set('proxmox.vlanId is above 4094', 'proxmox.vlanId', 4095, 'a VLAN id from 1 to 4094'),
  set('proxmox.vlanId is 0', 'proxmox.vlanId', 0, 'a VLAN id from 1 to 4094'),
  set('a datastore id has a space', 'proxmox.datastores.disks', 'local lvm', 'a Proxmox datastore id, e.g. "local" or "local-lvm"'),
  set('a datastore id is missing', 'proxmox.datastores.snippets', undefined, 'a Proxmox datastore id'),
  set('the cloud image URL is ftp', 'proxmox.cloudImage.url', 'ftp://cloud-images.ubuntu.com/noble.img', 'an http or https URL Proxmox downloads from'),
  set('the cloud image file name ends in .iso', 'proxmox.cloudImage.fileName', 'ubuntu-24.04.iso', 'a file name ending in .qcow2, .raw or .vmdk'),
  set('the cloud image checksum has the wrong length', 'proxmox.cloudImage.checksum', 'abc123', '64 hexadecimal digits (a sha256 digest)'),
  set('the cloud image checksum is not hexadecimal', 'proxmox.cloudImage.checksum', 'z'.repeat(64), '64 hexadecimal digits'),
  {
    when: 'the checksum is too short for its algorithm',
    mutate: setting('proxmox.cloudImage.checksumAlgorithm', ChecksumAlgorithm.SHA512),
    path: 'proxmox.cloudImage.checksum',
    value: SHA256_UPPER,
    expected: '128 hexadecimal digits (a sha512 digest)',
  },
  {
    when: 'checksumAlgorithm is set without a checksum',
    mutate: (spec) => {
      delete spec.proxmox.cloudImage.checksum;
      spec.proxmox.cloudImage.checksumAlgorithm = ChecksumAlgorithm.SHA256;
    },
    path: 'proxmox.cloudImage.checksum',
    value: undefined,
    expected: 'a checksum, since checksumAlgorithm is set',
  },
  set('checksumAlgorithm is unknown', 'proxmox.cloudImage.checksumAlgorithm', 'sha3', 'one of md5, sha1, sha224, sha256, sha384, sha512'),
  {
    when: 'the LXC template is not a tarball',
    mutate: (spec) => {
      spec.proxmox.lxcTemplate = { ...LXC_TEMPLATE, fileName: 'ubuntu-24.04-standard.zip' };
    },
    path: 'proxmox.lxcTemplate.fileName',
    value: 'ubuntu-24.04-standard.zip',
    expected: 'a template file name ending in .tar.gz, .tar.xz or .tar.zst',
  },
  set('proxmox.sshUser is not a Linux user name', 'proxmox.sshUser', 'Root', 'a Linux user name on the Proxmox nodes'),

  // hosts
  // Only the hosts problem: the VIP's missing load balancer would merely repeat it.
  set('hosts is empty', 'hosts', [], 'a non-empty list of hosts'),
  set('a host name has upper-case letters', 'hosts[0].name', 'Lx-K3s-Server-01', RFC1123_HOST),
  set('a host name has an underscore', 'hosts[3].name', 'lx_k3s_agent_01', RFC1123_HOST),
  set('a host name is longer than 63 characters', 'hosts[5].name', 'd'.repeat(64), RFC1123_HOST),
  set('a host name starts with a hyphen', 'hosts[5].name', '-lx-dns-01', 'not starting or ending with a hyphen'),
  set('a host IP has an octet above 255', 'hosts[3].ip', '192.168.168.300', DOTTED_DECIMAL),
  set('a host IP has a leading zero', 'hosts[3].ip', '192.168.168.011', DOTTED_DECIMAL),
  set('a host IP has three parts', 'hosts[3].ip', '192.168.168', DOTTED_DECIMAL),
  set('a host IP lies outside the network', 'hosts[3].ip', '10.0.0.121', INSIDE_CIDR),
  set('a host IP is the network address', 'hosts[3].ip', '192.168.168.0', INSIDE_CIDR),
  set('a host IP is the broadcast address', 'hosts[3].ip', '192.168.168.255', INSIDE_CIDR),
  set('a host IP is the gateway', 'hosts[3].ip', '192.168.168.1', 'an address other than network.gateway'),
  set('two hosts have the same name', 'hosts[4].name', 'lx-k3s-agent-01', 'a unique host name (already used by hosts[3].name)'),
  set('two hosts have the same IP', 'hosts[4].ip', '192.168.168.111', 'a unique IP address (already used by hosts[lx-k3s-server-01].ip)'),
  set('two hosts have the same VM id', 'hosts[5].vmId', 111, 'a unique VM id (already used by hosts[lx-k3s-server-01].vmId)'),
  set('a VM id is below 100', 'hosts[3].vmId', 99, 'a Proxmox VM id, an integer from 100 to 999999999'),
  set('a VM id is not an integer', 'hosts[3].vmId', 121.5, 'a Proxmox VM id, an integer from 100 to 999999999'),
  set('a VM id is a string', 'hosts[3].vmId', '121', 'a Proxmox VM id'),
  set('a host is placed on an undeclared Proxmox node', 'hosts[3].proxmoxNode', 'pve4', 'one of proxmox.nodes (pve1, pve2, pve3)'),
  set('a host kind is unknown', 'hosts[5].kind', 'container', 'one of vm, lxc'),
  set('a host has no roles', 'hosts[3].roles', [], 'a non-empty list of roles (k3s-server, k3s-agent, load-balancer, datastore, dns, control-plane, worker)'),
  {
    when: 'a host role is unknown',
    mutate: setting('hosts[3].roles', [HostRole.K3S_AGENT, 'minion']),
    path: 'hosts[lx-k3s-agent-01].roles[1]',
    value: 'minion',
    expected: ALL_ROLES,
  },
  {
    when: 'a K3s site gives a host a kubeadm role',
    mutate: setting('hosts[3].roles', [HostRole.WORKER]),
    path: 'hosts[lx-k3s-agent-01].roles[0]',
    value: HostRole.WORKER,
    expected: "role k3s-agent: the site's distribution is k3s",
  },
  {
    when: 'a host has the same role twice',
    mutate: setting('hosts[3].roles', [HostRole.K3S_AGENT, HostRole.K3S_AGENT]),
    path: 'hosts[lx-k3s-agent-01].roles[1]',
    value: HostRole.K3S_AGENT,
    expected: 'each role once per host',
  },
  {
    when: 'an LXC host has the k3s-server role',
    mutate: (spec) => {
      spec.hosts[0].kind = HostKind.LXC;
      spec.proxmox.lxcTemplate = { ...LXC_TEMPLATE };
    },
    path: 'hosts[lx-k3s-server-01].roles[0]',
    value: HostRole.K3S_SERVER,
    expected: 'Kubernetes nodes (K3s servers and agents, kubeadm nodes) must be VMs (kind: vm)',
  },
  {
    when: 'an LXC host has the k3s-agent role',
    mutate: (spec) => {
      spec.hosts[4].kind = HostKind.LXC;
      spec.proxmox.lxcTemplate = { ...LXC_TEMPLATE };
    },
    path: 'hosts[lx-k3s-agent-02].roles[0]',
    value: HostRole.K3S_AGENT,
    expected: 'a role an unprivileged LXC container can run',
  },
  {
    when: 'a host is LXC but proxmox.lxcTemplate is missing',
    mutate: setting('hosts[5].kind', HostKind.LXC),
    path: 'proxmox.lxcTemplate',
    value: undefined,
    expected: 'an LXC template, since the site has hosts of kind lxc',
  },
  set('a host has too little memory', 'hosts[5].size.memoryMiB', 256, 'an integer from 512 to 1048576 (MiB of memory)'),
  set('a host has no cores', 'hosts[5].size.cores', 0, 'an integer from 1 to 128 (CPU cores)'),
  set('a host disk size is fractional', 'hosts[5].size.diskGiB', 12.5, 'an integer from 4 to 65536 (GiB of disk)'),
  {
    when: 'no host has the k3s-server role',
    mutate: (spec) => [0, 1, 2].forEach((i) => {
      spec.hosts[i].roles = [HostRole.LOAD_BALANCER];
    }),
    path: 'hosts[*].roles',
    // The value is every role the hosts have, so the missing one is plain to see.
    value: [HostRole.DNS, HostRole.K3S_AGENT, HostRole.LOAD_BALANCER],
    expected: 'at least one host with role k3s-server',
  },

  // apiEndpoint
  set('the VIP is not an IPv4 address', 'apiEndpoint.vip', '192.168.168.1000', DOTTED_DECIMAL),
  set('the VIP lies outside the network', 'apiEndpoint.vip', '10.0.0.100',
    'an address inside network.cidr 192.168.168.0/24 (Keepalived moves the VIP within one layer-2 network)'),
  set('the VIP is a host\'s own IP', 'apiEndpoint.vip', '192.168.168.112', 'an address no host uses (host "lx-k3s-server-02" has it as its own IP)'),
  set('the VIP is the gateway', 'apiEndpoint.vip', '192.168.168.1', 'an address other than network.gateway'),
  {
    when: 'there is a VIP but no load balancer to hold it',
    mutate: (spec) => [0, 1, 2].forEach((i) => {
      spec.hosts[i].roles = [HostRole.K3S_SERVER];
    }),
    path: 'apiEndpoint.vip',
    value: '192.168.168.100',
    expected: 'at least one host with role load-balancer to hold the VIP',
  },
  {
    when: 'two load balancers have no VIP to share',
    mutate: (spec) => {
      delete spec.apiEndpoint.vip;
      spec.hosts[2].roles = [HostRole.K3S_SERVER];
    },
    path: 'apiEndpoint.vip',
    value: undefined,
    expected: 'a VIP, since 2 hosts have role load-balancer',
  },
  set('the API port is 0', 'apiEndpoint.port', 0, 'a TCP port from 1 to 65535'),
  set('the API port is 70000', 'apiEndpoint.port', 70000, 'a TCP port from 1 to 65535'),
  set('the API port is a string', 'apiEndpoint.port', '8443', 'a TCP port from 1 to 65535'),
  set('the API DNS name is a single label', 'apiEndpoint.dnsName', 'api', 'a fully qualified DNS name, e.g. "api.k3s.test.local"'),
  set('the API DNS name has a trailing dot', 'apiEndpoint.dnsName', 'api.k3s.test.local.', 'a fully qualified DNS name'),

  // versions
  set('versions.k3s has no +k3s suffix', 'versions.k3s', 'v1.36.3', 'a K3s release tag such as "v1.36.3+k3s1"'),
  set('versions.k3s has no leading v', 'versions.k3s', '1.36.3+k3s1', 'a K3s release tag'),
  set('versions.k3s is a channel name', 'versions.k3s', 'stable', 'a K3s release tag'),
  set('versions.kubernetes has a leading v', 'versions.kubernetes', 'v1.30.14', 'a Kubernetes release such as "1.30.14" (no leading v)'),
  set('versions.crio has a leading v', 'versions.crio', 'v1.30.14', 'a CRI-O release such as "1.30.14" (no leading v)'),
  set('versions.crio is a minor only', 'versions.crio', '1.30', 'a CRI-O release such as "1.30.14"'),
  set('versions.k3s predates the anonymous /readyz allowance HAProxy\'s default check needs', 'versions.k3s', 'v1.33.5+k3s1',
    'K3s v1.34 or later with loadBalancer.apiHealthCheck "readyz"'),

  // cluster
  {
    when: 'a kubeadm site asks for Cilium',
    mutate: (spec) => {
      asKubeadm(spec);
      spec.cluster = { cni: CniKind.CILIUM };
    },
    path: 'cluster.cni',
    value: CniKind.CILIUM,
    expected: '"flannel", the CNI kubeadm sites support (cilium is installed by K3s\'s Helm controller, which kubeadm lacks)',
  },

  // access
  set('access.adminUser is root', 'access.adminUser', 'root', 'a Linux user name other than root'),
  set('access.adminUser has upper-case letters', 'access.adminUser', 'Admin', 'a Linux user name other than root (lower-case'),
  {
    when: 'an SSH key is a private key',
    mutate: setting('access.sshAuthorizedKeys', [SSH_KEY, '-----BEGIN OPENSSH PRIVATE KEY-----']),
    path: 'access.sshAuthorizedKeys[1]',
    value: '-----BEGIN OPENSSH PRIVATE KEY-----',
    expected: 'an OpenSSH public key line ("ssh-ed25519 AAAA... comment"), never a private key',
  },
  {
    when: 'an SSH key has an unknown type',
    mutate: setting('access.sshAuthorizedKeys', ['ssh-foo AAAAC3Nz admin@lab']),
    path: 'access.sshAuthorizedKeys[0]',
    value: 'ssh-foo AAAAC3Nz admin@lab',
    expected: 'an OpenSSH public key line',
  },
  set('access.sshAuthorizedKeys is one string, not a list', 'access.sshAuthorizedKeys', SSH_KEY, 'a list of SSH public keys'),
  set('access.timezone has a space', 'access.timezone', 'Europe Berlin', 'an IANA time zone name, e.g. "Europe/Berlin"'),
  set('access.timezone has an empty part', 'access.timezone', 'Europe//Berlin', 'an IANA time zone name'),
  {
    when: 'an NTP server is neither a DNS name nor an address',
    mutate: setting('access.ntpServers', ['pool.ntp.org', 'ntp_1.example.net']),
    path: 'access.ntpServers[1]',
    value: 'ntp_1.example.net',
    expected: 'an NTP server DNS name or IPv4 address',
  },
];

describe('defineSite() with one bad input', () => {
  test('the table covers many distinct inputs', () => {
    expect(new Set(BAD_INPUTS.map((row) => row.when)).size).toBe(BAD_INPUTS.length);
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(30);
  });

  test.each(BAD_INPUTS)('fails when $when', ({ mutate, path, value, expected, alsoReported = [] }) => {
    const error = validationErrorOf(variant(mutate));

    const atPath = error.problems.filter((problem) => problem.path === path);
    expect(atPath).toHaveLength(1);
    expect(atPath[0].value).toEqual(value);
    expect(atPath[0].expected).toContain(expected);
    // Nothing else is reported, except what the row says follows from the same input.
    expect(error.problems.map((problem) => problem.path).sort()).toEqual([path, ...alsoReported].sort());

    expect(error.message).toContain(`  - ${path}: ${rendered(value)} — `);
    expect(error.message).toContain(expected);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Several problems at once
// ---------------------------------------------------------------------------------------------------------------

describe('defineSite() with several bad inputs', () => {
  test('fails when problems in every section are all listed in one error', () => {
    const error = validationErrorOf(variant((spec) => {
      spec.name = 'Lab';
      spec.network.gateway = '10.0.0.1';
      spec.proxmox.vlanId = 5000;
      spec.hosts[4].ip = '192.168.168.121';
      spec.apiEndpoint.port = 70000;
      spec.versions = { k3s: 'latest' };
      spec.access = { timezone: 'Mars Base' };
    }));
    const paths = ['name', 'network.gateway', 'proxmox.vlanId', 'hosts[lx-k3s-agent-02].ip', 'apiEndpoint.port', 'versions.k3s', 'access.timezone'];

    expect(error.problems.map((problem) => problem.path).sort()).toEqual([...paths].sort());
    const [firstLine, ...lines] = error.message.split('\n');
    expect(firstLine).toBe('site "Lab" has 7 problems:');
    expect(lines).toHaveLength(7);
    for (const path of paths) {
      expect(lines.filter((line) => line.startsWith(`  - ${path}: `))).toHaveLength(1);
    }
  });

  test('fails with "1 problem" in the singular', () => {
    const error = validationErrorOf(variant(setting('apiEndpoint.port', 0)));
    expect(error.message.split('\n')[0]).toBe('site "lab" has 1 problem:');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Warnings
// ---------------------------------------------------------------------------------------------------------------

describe('defineSite() warnings', () => {
  const messages = (plan: SitePlan) => plan.warnings.map((warning) => `${warning.path}: ${warning.message}`);

  test('warns when all k3s servers run on one Proxmox node', () => {
    const plan = defineSite(variant((spec) => {
      [0, 1, 2].forEach((i) => {
        spec.hosts[i].proxmoxNode = 'pve2';
      });
      // Keep the load balancers spread out, so that only the servers are concentrated.
      spec.hosts[3].roles = [HostRole.K3S_AGENT, HostRole.LOAD_BALANCER]; // pve1
      spec.hosts[5].roles = [HostRole.DNS, HostRole.LOAD_BALANCER]; // pve3
    }));
    // The node-loss warning (constructs/site/node-loss.ts) replaced "all 3 k3s servers run on one node".
    expect(messages(plan)).toEqual(['hosts: losing Proxmox node "pve2" stops the API: no k3s servers left (on it: lx-k3s-server-01, lx-k3s-server-02, lx-k3s-server-03); '
      + 'embedded etcd keeps 0 of 3 members, 2 needed for quorum']);
  });

  test('warns when all load balancers run on one Proxmox node', () => {
    const plan = defineSite(variant((spec) => {
      spec.hosts[0].roles = [HostRole.K3S_SERVER];
      spec.hosts[3].roles = [HostRole.K3S_AGENT, HostRole.LOAD_BALANCER]; // pve1
      spec.hosts[1].proxmoxNode = 'pve1';
      spec.hosts[2].roles = [HostRole.K3S_SERVER];
    }));
    // The node-loss warning replaced "all 2 load balancers run on one node", and also names what that one missed:
    // lx-k3s-server-02 moved to pve1 puts 2 of the 3 etcd members there.
    expect(messages(plan)).toEqual(['hosts: losing Proxmox node "pve1" stops the API: no load balancer left to hold the VIP 192.168.168.100 (on it: lx-k3s-server-02, lx-k3s-agent-01); '
      + 'embedded etcd keeps 1 of 3 members, 2 needed for quorum (on it: lx-k3s-server-01, lx-k3s-server-02)']);
  });

  test('warns that 2 K3s servers on embedded etcd tolerate no failure', () => {
    const plan = defineSite(variant((spec) => {
      spec.hosts[2].roles = [HostRole.K3S_AGENT, HostRole.LOAD_BALANCER];
    }));
    expect(messages(plan)).toEqual(['hosts: 2 embedded etcd members tolerate no failure: losing either control-plane node stops the cluster (use 3)']);
  });

  test('warns when a single load balancer holds the API endpoint', () => {
    const plan = defineSite(variant((spec) => {
      spec.hosts[1].roles = [HostRole.K3S_SERVER];
      spec.hosts[2].roles = [HostRole.K3S_SERVER];
    }));
    expect(messages(plan)).toEqual([
      'apiEndpoint.vip: the VIP 192.168.168.100 has a single load balancer ("lx-k3s-server-01") to hold it: Keepalived has no peer to move it to, and with no unicast peer it advertises by multicast',
      'hosts: a single load balancer ("lx-k3s-server-01") is a single point of failure for the API endpoint 192.168.168.100:8443',
    ]);
  });

  test('warns when several servers have no load balancer in front', () => {
    const plan = defineSite(variant((spec) => {
      delete spec.apiEndpoint.vip;
      [0, 1, 2].forEach((i) => {
        spec.hosts[i].roles = [HostRole.K3S_SERVER];
      });
    }));
    expect(messages(plan)).toEqual([
      'apiEndpoint: no load balancer: the API endpoint is server "lx-k3s-server-01" alone, so clients lose the API when it fails',
    ]);
    expect(plan.apiEndpoint).toMatchObject({ address: '192.168.168.111', floating: false });
  });

  test('does not warn about a single server without a load balancer', () => {
    const plan = defineSite(variant((spec) => {
      delete spec.apiEndpoint.vip;
      spec.hosts.splice(1, 2);
      spec.hosts[0].roles = [HostRole.K3S_SERVER];
    }));
    expect(plan.warnings).toEqual([]);
  });

  test('warns when a download has no checksum', () => {
    const plan = defineSite(variant((spec) => {
      delete spec.proxmox.cloudImage.checksum;
      spec.hosts[5].kind = HostKind.LXC;
      spec.proxmox.lxcTemplate = { ...LXC_TEMPLATE };
    }));
    expect(messages(plan)).toEqual([
      'proxmox.cloudImage.checksum: no checksum: Proxmox does not verify ubuntu-24.04-server-cloudimg-amd64.qcow2 after downloading it',
      `proxmox.lxcTemplate.checksum: no checksum: Proxmox does not verify ${LXC_TEMPLATE.fileName} after downloading it`,
    ]);
    expect(plan.proxmox.cloudImage).not.toHaveProperty('checksumAlgorithm');
  });

  test('gives the base site, spread over three nodes with three load balancers, none of the availability warnings', () => {
    const plan = defineSite(variant(removing('proxmox.cloudImage.checksum')));
    expect(plan.warnings.map((warning) => warning.path)).toEqual(['proxmox.cloudImage.checksum']);
    expect(defineSite(BASE).warnings).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Wrong shapes from plain JavaScript
// ---------------------------------------------------------------------------------------------------------------

describe('defineSite() with wrong shapes from plain JavaScript', () => {
  /** Applies `mutate` to a copy of BASE as untyped data, as a JS site file could. */
  const untyped = (mutate: (spec: Record<string, any>) => void): SiteSpec => // eslint-disable-line @typescript-eslint/no-explicit-any
    variant((spec) => mutate(spec as Record<string, unknown>)) as unknown as SiteSpec;

  /** The ValidationError's problems; any other error (a TypeError above all) fails the test. */
  const problemsOf = (spec: unknown) => validationErrorOf(spec as unknown as SiteSpec).problems;

  test('fails when hosts is not an array', () => {
    const problems = problemsOf(untyped((spec) => {
      spec.hosts = 'lx-k3s-server-01';
    }));
    expect(problems).toContainEqual({ path: 'hosts', value: 'lx-k3s-server-01', expected: 'a non-empty list of hosts' });
  });

  test('fails when hosts is an object keyed by index', () => {
    const problems = problemsOf(untyped((spec) => {
      spec.hosts = { ...spec.hosts };
    }));
    expect(problems.map((problem) => problem.path)).toContain('hosts');
    expect(problems.find((problem) => problem.path === 'hosts')!.expected).toBe('a non-empty list of hosts');
  });

  test('fails when network is missing', () => {
    const problems = problemsOf(untyped((spec) => {
      delete spec.network;
    }));
    expect(problems).toEqual([{ path: 'network', value: undefined, expected: 'an object' }]);
  });

  test('fails when network is a string', () => {
    const problems = problemsOf(untyped((spec) => {
      spec.network = '192.168.168.0/24';
    }));
    expect(problems).toEqual([{ path: 'network', value: '192.168.168.0/24', expected: 'an object' }]);
  });

  test('fails when a host is a string', () => {
    const problems = problemsOf(untyped((spec) => {
      spec.hosts[2] = 'lx-k3s-server-03';
    }));
    expect(problems).toEqual([{ path: 'hosts[2]', value: 'lx-k3s-server-03', expected: 'an object' }]);
  });

  test('fails when a host is null', () => {
    const problems = problemsOf(untyped((spec) => {
      spec.hosts[5] = null;
    }));
    expect(problems).toEqual([{ path: 'hosts[5]', value: null, expected: 'an object' }]);
  });

  test('fails when a host\'s roles is a string', () => {
    const problems = problemsOf(untyped((spec) => {
      spec.hosts[3].roles = 'k3s-agent';
    }));
    expect(problems).toEqual([{ path: 'hosts[lx-k3s-agent-01].roles', value: 'k3s-agent', expected: expect.stringContaining('a non-empty list of roles') }]);
  });

  test('fails when a host\'s size is a number', () => {
    const problems = problemsOf(untyped((spec) => {
      spec.hosts[3].size = 4096;
    }));
    expect(problems).toEqual([{ path: 'hosts[lx-k3s-agent-01].size', value: 4096, expected: 'an object' }]);
  });

  test('fails when apiEndpoint is missing', () => {
    const problems = problemsOf(untyped((spec) => {
      delete spec.apiEndpoint;
    }));
    expect(problems).toEqual([{ path: 'apiEndpoint', value: undefined, expected: 'an object' }]);
  });

  test('fails when proxmox is missing', () => {
    const problems = problemsOf(untyped((spec) => {
      delete spec.proxmox;
    }));
    expect(problems).toContainEqual({ path: 'proxmox', value: undefined, expected: 'an object' });
  });

  test('fails when the cloud image is a URL string instead of an object', () => {
    const problems = problemsOf(untyped((spec) => {
      spec.proxmox.cloudImage = BASE.proxmox.cloudImage.url;
    }));
    expect(problems).toEqual([{ path: 'proxmox.cloudImage', value: BASE.proxmox.cloudImage.url, expected: 'an object' }]);
  });

  test('fails when access is a list', () => {
    const problems = problemsOf(untyped((spec) => {
      spec.access = [SSH_KEY];
    }));
    expect(problems).toEqual([{ path: 'access', value: [SSH_KEY], expected: 'an object' }]);
  });

  test.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'lab'],
  ])('fails when the whole spec is %s', (_, spec) => {
    const problems = problemsOf(spec);
    expect(problems).toEqual([{ path: '(site)', value: spec, expected: 'a site specification object' }]);
  });

  test('fails when the whole spec is an empty object, listing every required section', () => {
    const paths = problemsOf({}).map((problem) => problem.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'network', 'proxmox', 'hosts', 'apiEndpoint']));
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Inputs an earlier validator accepted and now rejects: mistyped addresses as names, non-boolean flags, the
// 6443 clash of a co-located load balancer, and non-array hosts.
// ---------------------------------------------------------------------------------------------------------------

describe('defineSite() regressions', () => {
  const pathsOf = (spec: SiteSpec) => validationErrorOf(spec).problems.map((problem) => problem.path);

  test('fails when an NTP server is a mistyped IPv4 address (all-numeric labels pass as a DNS name)', () => {
    expect(pathsOf(variant(setting('access.ntpServers', ['192.168.168.300'])))).toEqual(['access.ntpServers[0]']);
  });

  test('fails when the API DNS name is a mistyped IPv4 address', () => {
    expect(pathsOf(variant(setting('apiEndpoint.dnsName', '192.168.168.999')))).toEqual(['apiEndpoint.dnsName']);
  });

  test('fails when network.searchDomain is all-numeric', () => {
    expect(pathsOf(variant(setting('network.searchDomain', '192.168.168')))).toEqual(['network.searchDomain']);
  });

  test('fails when proxmox.insecureTls is not a boolean (plain JS "false" is truthy)', () => {
    expect(pathsOf(variant(setting('proxmox.insecureTls', 'false')))).toEqual(['proxmox.insecureTls']);
  });

  test('fails when HAProxy would take port 6443 on a host where a K3s server already listens on it', () => {
    expect(pathsOf(variant(setting('apiEndpoint.port', 6443)))).toEqual(['apiEndpoint.port']);
  });

  test('fails with a ValidationError, not a TypeError, when hosts is an object with a "some" key', () => {
    expect(pathsOf(variant(setting('hosts', { some: 1 })))).toEqual(['hosts']);
  });
});
