import * as fc from 'fast-check';
import { FuzzPath, FuzzValue, Json, Mutation, SEED_NAMES } from './mutations';

/**
 * What the fuzz generates: a seed site and one to four mutations. Three kinds of mutation, mixed:
 * - plausible: a known field gets a value of its own kind, often one that collides with another part of the site
 *   (a port, an address, a name), so that many sites still validate and reach synthesis;
 * - edge and hostile: a known field gets an edge value (0, -1, 2^53, '', huge text) or hostile text (template
 *   sequences, shell and YAML metacharacters, control characters, token markers, unicode);
 * - structural and JavaScript-level: keys deleted, hosts duplicated or removed, holes in lists, BigInts, Symbols,
 *   functions, cycles, Proxies, getters that throw or change, `__proto__` keys.
 */

/** Text that must reach Terraform literally; `fuzzcanary` marks text that must never end up interpolated. */
export const HOSTILE_TEXT: readonly string[] = [
  '${var.proxmox_api_token}', '%{if true}fuzzcanary%{endif}', '${var.fuzzcanary}', '${upper("fuzzcanary")}', '$${fuzzcanary}',
  '${', '%{', '$', '$$', '}', '{', '${}', '%{}', 'x${"$"}{fuzzcanary}', '$${var.fuzzcanary}$', 'fuzzcanary${',
  '\'"`\\', '$(touch /tmp/fuzzcanary)', '`id`', '; rm -rf /', '&& reboot', '\n- injected: yes', 'key: value', '# comment',
  '{{ fuzzcanary }}', '<script>', 'ünïcödé ✓ 🚀', 'עברית', '\u202eRTL', 'a\tb', 'line1\nline2', '\r\n', '\u0000', '\u0007', '\ud800',
  '${TfToken[TOKEN.1]}', '${Token[TOKEN.3]}', '__proto__', 'constructor', 'toString', '', ' ', '-', '.', '..', '*', '@', 'null', 'undefined',
];

const SSH_KEY_BODY = 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const ROLES = ['k3s-server', 'k3s-agent', 'load-balancer', 'datastore', 'dns', 'control-plane', 'worker'];
const PORTS = [0, 1, 22, 53, 80, 443, 2379, 2380, 5432, 5433, 6443, 6444, 8008, 8404, 8405, 8443, 9345, 10250, 30080, 30443, 32767, 65535, 65536];
const CRONS = ['0 */6 * * *', '*/5 * * * *', '0 0 * * 0', '0 0 * * 7', '0 3 * * MON-FRI', '0 0 1 JAN *', '@daily', '@every 6h', '@reboot',
  '0 0 31 2 *', '60 * * * *', '* 24 * * *', '* * * *', '0 */6 * * * *', '*/0 * * * *', '5-1 * * * *', '0 0 * * 8', '0,30 1-5/2 * * *', 'x y z a b', '0 0 ? * *'];
const LABEL_KEYS = ['node-role.kubernetes.io/worker', 'node-role.kubernetes.io/edge', 'kubernetes.io/hostname', 'node.kubernetes.io/instance-type',
  'kubelet.kubernetes.io/x', 'topology.kubernetes.io/zone', 'k8s.io/x', 'example.k8s.io/x', 'example.com/tier', 'tier', 'a'.repeat(64), 'constructor'];
const TAINTS = ['dedicated=db:NoSchedule', 'node-role.kubernetes.io/control-plane:NoSchedule', 'x:NoExecute', 'CriticalAddonsOnly=true:NoExecute', 'bad', 'a=b:Maybe'];
const HOST_NAMES = ['proxmox', 'random', 'tls', 'backend', 'api', 'ns1', 'pve1', 'dns', 'loadbalancers', 'controlplane', 'datastore', 'agents', 'workers',
  '0abc', '123', 'a', 'a'.repeat(63), 'x--y', 'host-drain', 'www', 'hostmaster', 'nginx', 'localhost'];

const pick = <T>(values: readonly T[]) => fc.constantFrom(...values);
const json = (arbitrary: fc.Arbitrary<Json>): fc.Arbitrary<FuzzValue> => arbitrary.map((value) => ({ kind: 'json', value }));
const text = (values: readonly string[]) => json(pick(values));
const hostile = pick(HOSTILE_TEXT);

/** A host index; the mutation takes it modulo the number of hosts. */
const hostIndex = fc.integer({ min: 0, max: 7 });

/** An IPv4 address near the site's own (a host's, shifted), the gateway, the VIP, or one from elsewhere. */
const IP: fc.Arbitrary<FuzzValue> = fc.oneof(
  hostIndex.chain((i) => fc.integer({ min: -3, max: 40 }).map((offset): FuzzValue => ({ kind: 'ip-offset', path: ['hosts', i, 'ip'], offset }))),
  fc.constant<FuzzValue>({ kind: 'copy', path: ['network', 'gateway'] }),
  fc.constant<FuzzValue>({ kind: 'copy', path: ['apiEndpoint', 'vip'] }),
  text(['192.168.168.100', '10.10.10.150', '8.8.8.8', '0.0.0.0', '255.255.255.255', '127.0.0.1']),
);

/** Values of a known kind that often collide with the rest of the site. */
const KIND: Record<string, fc.Arbitrary<FuzzValue>> = {
  port: json(fc.oneof(pick(PORTS), fc.integer({ min: 1, max: 65535 }))),
  nodePort: json(fc.oneof(pick([30000, 30080, 30443, 32767, 8404, 6443]), fc.integer({ min: 29990, max: 32770 }))),
  bool: json(fc.boolean()),
  smallInt: json(fc.oneof(fc.integer({ min: -2, max: 12 }), pick([100, 255, 256, 1000, 1440, 1441]))),
  ip: IP,
  ipList: fc.array(IP, { maxLength: 3 }).map((items): FuzzValue => ({ kind: 'list', items })),
  hostName: fc.oneof(text(HOST_NAMES), hostIndex.map((i): FuzzValue => ({ kind: 'copy', path: ['hosts', i, 'name'] }))),
  roles: json(fc.subarray(ROLES, { minLength: 1, maxLength: 3 })),
  cron: text(CRONS),
  labels: json(fc.dictionary(pick(LABEL_KEYS), pick(['', 'a', 'true', 'x'.repeat(64), 'bad value']), { maxKeys: 2 })),
  taints: json(fc.subarray(TAINTS, { maxLength: 2 })),
  dnsName: text(['api.k3s.test.local', 'api.homelab.internal', 'k3s.test.local', 'cp1.homelab.internal', 'a.b', `${'x'.repeat(63)}.${'y'.repeat(63)}.${'z'.repeat(63)}.${'w'.repeat(60)}`]),
  domain: text(['k3s.test.local', 'homelab.internal', 'example.net', 'test.local', `${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(63)}.${'g'.repeat(55)}`]),
  url: fc.tuple(pick(['https://img.example.net/', 'http://img.example.net:8080/a/', 'https://pve1.example.net:8006/']), hostile)
    .map(([base, tail]): FuzzValue => ({ kind: 'json', value: `${base}${tail}` })),
  sshKey: hostile.map((comment): FuzzValue => ({ kind: 'json', value: `ssh-ed25519 ${SSH_KEY_BODY} ${comment}` })),
  sshKeys: fc.array(hostile, { maxLength: 2 }).map((comments): FuzzValue => ({ kind: 'json', value: comments.map((c) => `ssh-ed25519 ${SSH_KEY_BODY} ${c}`) })),
  text: json(hostile),
  enumLike: text(['k3s', 'kubeadm', 'postgres', 'embedded-etcd', 'cilium', 'flannel', 'readyz', 'ping', 'tcp', 'vm', 'lxc', 'sha256', 'md5']),
  vrrpVersion: json(pick([2, 3, 4])),
  priorities: json(fc.array(fc.integer({ min: 0, max: 256 }), { maxLength: 4 })),
  advert: json(pick([100, 250, 1000, 2000, 90, 105])),
  bastion: text(['jump.example.net', 'ops@jump.example.net:2222', 'ops@jump:70000', 'bad host']),
};

/** Known fields (host fields under `hosts[i]`) and the kind of value each takes. */
const FIELDS: readonly [FuzzPath, string][] = [
  [['name'], 'hostName'], [['description'], 'text'],
  [['network', 'gateway'], 'ip'], [['network', 'dnsServers'], 'ipList'], [['network', 'searchDomain'], 'domain'], [['network', 'etcHosts'], 'bool'],
  [['proxmox', 'endpoint'], 'url'], [['proxmox', 'vlanId'], 'smallInt'], [['proxmox', 'cloudImage', 'url'], 'url'], [['proxmox', 'lxcTemplate', 'url'], 'url'],
  [['proxmox', 'insecureTls'], 'bool'], [['proxmox', 'sshUser'], 'hostName'],
  [['apiEndpoint', 'vip'], 'ip'], [['apiEndpoint', 'port'], 'port'], [['apiEndpoint', 'dnsName'], 'dnsName'],
  [['access', 'sshAuthorizedKeys'], 'sshKeys'], [['access', 'adminUser'], 'hostName'], [['access', 'ntpServers'], 'ipList'],
  [['rollout', 'agentConcurrency'], 'smallInt'], [['rollout', 'bastion'], 'bastion'], [['rollout', 'allowUnsafeServerRemoval'], 'bool'],
  [['cluster', 'cni'], 'enumLike'], [['cluster', 'kubeProxyReplacement'], 'bool'], [['cluster', 'clusterDomain'], 'domain'],
  [['ingress', 'httpNodePort'], 'nodePort'], [['ingress', 'httpsNodePort'], 'nodePort'],
  [['loadBalancer', 'statsPort'], 'port'], [['loadBalancer', 'vrrpVersion'], 'vrrpVersion'], [['loadBalancer', 'vrrpAdvertIntervalMs'], 'advert'],
  [['loadBalancer', 'vrrpPriorities'], 'priorities'], [['loadBalancer', 'vrrpAuthentication'], 'bool'], [['loadBalancer', 'vrrpMulticast'], 'bool'],
  [['loadBalancer', 'apiHealthCheck'], 'enumLike'], [['loadBalancer', 'ingressFrontends'], 'bool'], [['loadBalancer', 'vrrpRouterId'], 'smallInt'],
  [['controlPlane', 'distribution'], 'enumLike'], [['controlPlane', 'datastore'], 'enumLike'], [['controlPlane', 'etcdSnapshotScheduleCron'], 'cron'],
  [['controlPlane', 'allowEvenServerCount'], 'bool'], [['controlPlane', 'dedicatedServers'], 'bool'], [['controlPlane', 'etcdSnapshotRetention'], 'smallInt'],
  [['postgres', 'port'], 'port'], [['postgres', 'writerPort'], 'port'], [['postgres', 'witness'], 'hostName'], [['postgres', 'tls'], 'bool'],
  [['postgres', 'synchronousModeStrict'], 'bool'],
  [['dns', 'forwarders'], 'ipList'], [['dns', 'zone'], 'domain'], [['dns', 'wildcardToEndpoint'], 'bool'],
];
const HOST_FIELDS: readonly [string, string][] = [
  ['name', 'hostName'], ['ip', 'ip'], ['roles', 'roles'], ['kind', 'enumLike'], ['nodeLabels', 'labels'], ['nodeTaints', 'taints'],
  ['sshHostKey', 'sshKey'], ['decommission', 'bool'], ['generation', 'smallInt'], ['proxmoxNode', 'hostName'],
];

const fieldPath: fc.Arbitrary<{ path: FuzzPath; kind: string }> = fc.oneof(
  pick(FIELDS).map(([path, kind]) => ({ path, kind })),
  fc.tuple(hostIndex, pick(HOST_FIELDS)).map(([i, [key, kind]]) => ({ path: ['hosts', i, key] as FuzzPath, kind })),
);

/** Values at the edges of what JSON and the fields accept. */
const EDGE: fc.Arbitrary<FuzzValue> = fc.oneof(
  json(pick<Json>([0, -1, 1.5, 2 ** 31, 2 ** 53, '', ' ', [], {}, null, true, 'x'.repeat(300)])),
  pick<FuzzValue>([
    { kind: 'undefined' }, { kind: 'special-number', value: 'NaN' }, { kind: 'special-number', value: 'Infinity' },
    { kind: 'special-number', value: '-Infinity' }, { kind: 'special-number', value: '-0' }, { kind: 'special-number', value: '2**53+2' },
    { kind: 'huge-string', text: 'fuzz', times: 20_000 }, { kind: 'huge-string', text: '${x}', times: 2_000 },
  ]),
  json(hostile),
);

/** Values a TypeScript site file can hold and JSON cannot. */
const EXOTIC: fc.Arbitrary<FuzzValue> = fc.oneof(
  fc.integer({ min: 0, max: 70000 }).map((n): FuzzValue => ({ kind: 'bigint', value: String(n) })),
  pick<FuzzValue>([{ kind: 'symbol' }, { kind: 'function' }, { kind: 'date' }, { kind: 'map' }, { kind: 'throwing-proxy' }, { kind: 'throwing-getter' }]),
  fc.constantFrom<FuzzPath>([], ['hosts'], ['network'], ['proxmox']).map((path): FuzzValue => ({ kind: 'reference', path })),
  fc.constantFrom<FuzzPath>(['hosts', 0], ['network'], ['proxmox', 'nodes'], ['apiEndpoint']).map((path): FuzzValue => ({ kind: 'transparent-proxy', path })),
  text(['8443']).map((): FuzzValue => ({ kind: 'boxed-string', value: 'k3s-server' })),
  fc.tuple(pick<Json>(['k3s-server', 8443, true]), pick<Json>(['minion', -1, 'x'])).map(([first, later]): FuzzValue => ({ kind: 'changing-getter', first, later })),
);

const LIST_PATHS: readonly FuzzPath[] = [['hosts'], ['proxmox', 'nodes'], ['dns', 'forwarders'], ['network', 'dnsServers'], ['access', 'sshAuthorizedKeys']];
const SECTIONS: readonly FuzzPath[] = [['network'], ['proxmox'], ['apiEndpoint'], ['loadBalancer'], ['controlPlane'], ['postgres'], ['dns'], ['cluster'], ['access'], ['versions']];

const plausible: fc.Arbitrary<Mutation> = fieldPath.chain(({ path, kind }) => KIND[kind].map((value): Mutation => ({ op: 'set', path, value })));
const edgeOrHostile: fc.Arbitrary<Mutation> = fc.tuple(fieldPath, EDGE).map(([{ path }, value]): Mutation => ({ op: 'set', path, value }));
const structural: fc.Arbitrary<Mutation> = fc.oneof(
  fieldPath.map(({ path }): Mutation => ({ op: 'delete', path })),
  hostIndex.map((i): Mutation => ({ op: 'push', path: ['hosts'], value: { kind: 'copy', path: ['hosts', i] } })),
  hostIndex.map((i): Mutation => ({ op: 'remove', path: ['hosts', i] })),
  fc.tuple(pick(LIST_PATHS), fc.integer({ min: 0, max: 4 })).map(([path, i]): Mutation => ({ op: 'hole', path: [...path, i] })),
  fc.tuple(pick(SECTIONS), pick<Json>([{}, [], 'x', 0])).map(([path, value]): Mutation => ({ op: 'set', path, value: { kind: 'json', value } })),
  fc.tuple(pick<FuzzPath>([[], ['network'], ['loadBalancer'], ['hosts', 0]]), pick<Json>([{ roles: ['k3s-agent'] }, { vip: '1.2.3.4' }, { polluted: true }]))
    .map(([path, value]): Mutation => ({ op: 'proto-key', path, value })),
);
const exotic: fc.Arbitrary<Mutation> = fc.tuple(fc.oneof(fieldPath.map(({ path }) => path), pick(LIST_PATHS).map((path) => [...path, 0] as FuzzPath), pick(SECTIONS)), EXOTIC)
  .map(([path, value]): Mutation => ({ op: 'set', path, value }));

/** One generated site description: a seed and the mutations applied to it. */
export interface FuzzCase {
  readonly seed: string;
  readonly mutations: readonly Mutation[];
}

/** Sites from the five seeds, weighted towards plausible changes so that a good share still synthesizes. */
export const fuzzCase: fc.Arbitrary<FuzzCase> = fc.record({
  seed: pick(SEED_NAMES),
  mutations: fc.array(fc.oneof(
    { arbitrary: plausible, weight: 8 },
    { arbitrary: edgeOrHostile, weight: 2 },
    { arbitrary: structural, weight: 2 },
    { arbitrary: exotic, weight: 1 },
  ), { minLength: 1, maxLength: 3 }),
});
