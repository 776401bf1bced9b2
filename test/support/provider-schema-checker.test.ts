// Proves the schema checker can fail: one valid fragment passes with zero problems, and each mutation of it
// produces exactly the expected problem. Facts about the schema (required, computed-only, deprecated, ...)
// are asserted from the real schema file first, so the tests do not rest on guesses.
import * as path from 'path';
import {
  checkTerraformJson,
  formatProblems,
  loadProviderSchema,
  ProviderSchemaFile,
  SchemaAttribute,
  SchemaBlock,
  SchemaProblem,
} from './provider-schema-checker';

const FQN = 'registry.terraform.io/bpg/proxmox';
const SCHEMA_PATH = process.env.PROXMOX_SCHEMA ?? path.resolve(__dirname, '../../../shared/providers/bpg-proxmox/schema.json');
const schema = loadProviderSchema(SCHEMA_PATH);
const VM = 'resource.proxmox_virtual_environment_vm.lab_vm';

type Json = { [key: string]: unknown };

/** Walks the real schema: block 'proxmox_virtual_environment_vm' then nested block names. */
function schemaBlock(resourceType: string | null, ...blocks: string[]): SchemaBlock {
  const provider = schema.provider_schemas[FQN];
  let block = resourceType === null ? provider.provider.block : provider.resource_schemas![resourceType].block;
  for (const name of blocks) block = block.block_types![name].block;
  return block;
}
function schemaAttr(resourceType: string | null, ...names: string[]): SchemaAttribute {
  const attr = names.pop()!;
  return schemaBlock(resourceType, ...names).attributes![attr];
}

function validVm(): Json {
  return {
    node_name: 'pve1',
    name: 'lab-vm',
    description: null, // explicit null for an optional attribute is fine
    vm_id: 101, // optional+computed may be set
    tags: ['k3s', '${var.extra_tag}'],
    started: true,
    agent: { enabled: true, wait_for_ip: { ipv4: true } }, // max_items=1 blocks as single objects (cdktf style)
    cpu: { cores: '${var.cores}', sockets: 1, type: 'x86-64-v2-AES' },
    memory: { dedicated: 4096 },
    disk: [
      {
        interface: 'virtio0',
        datastore_id: 'local-lvm',
        import_from: '${proxmox_download_file.ubuntu_img.id}',
        size: 32,
        discard: 'on',
        ssd: true,
      },
    ],
    network_device: [
      {
        bridge: 'vmbr0',
        disconnected: null,
        enabled: null,
        firewall: false,
        mac_address: null,
        model: 'virtio',
        mtu: null,
        queues: null,
        rate_limit: null,
        trunks: null,
        vlan_id: 20,
      },
    ],
    initialization: {
      datastore_id: 'local-lvm',
      dns: { domain: 'lab.internal', servers: ['10.0.0.1'] },
      ip_config: [{ ipv4: { address: '10.0.20.11/24', gateway: '10.0.20.1' } }],
      user_account: { username: 'k3s', keys: ['ssh-ed25519 AAAA test'] },
      user_data_file_id: '${proxmox_virtual_environment_file.x.id}',
    },
    operating_system: { type: 'l26' },
    serial_device: [{ device: 'socket' }],
    depends_on: ['proxmox_virtual_environment_file.x'],
    lifecycle: { ignore_changes: ['initialization'] },
    '//': { metadata: { path: 'lab/lab_vm', uniqueId: 'lab_vm' } },
  };
}

function validTf(vm: Json = validVm()): Json {
  return {
    '//': { metadata: { backend: 'local', stackName: 'lab', version: '0.21.0' } },
    terraform: { required_providers: { proxmox: { source: 'bpg/proxmox', version: '= 0.111.1' } } },
    variable: { cores: { type: 'number', default: 2 } },
    provider: {
      proxmox: [
        {
          endpoint: 'https://pve1:8006/',
          api_token: '${var.api_token}',
          insecure: true,
          ssh: { agent: true, username: 'root', node: [{ name: 'pve1', address: '10.0.0.2', port: 22 }] },
        },
        { alias: 'other', endpoint: 'https://pve2:8006/', '//': { note: 'cdktf metadata' } },
      ],
      random: [{}], // another provider's config is not ours to judge
    },
    resource: {
      random_password: { pw: { length: 'not checked' } }, // other provider: ignored
      proxmox_download_file: {
        ubuntu_img: {
          node_name: 'pve1',
          datastore_id: 'local',
          content_type: 'import',
          url: 'https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img',
          file_name: 'noble.qcow2',
          overwrite: false,
        },
      },
      proxmox_virtual_environment_file: {
        x: {
          node_name: 'pve1',
          datastore_id: 'local',
          content_type: 'snippets',
          source_raw: [{ data: '#cloud-config\n', file_name: 'lab-vm.yaml' }],
        },
      },
      proxmox_virtual_environment_container: {
        lb: {
          node_name: 'pve1',
          unprivileged: true,
          environment_variables: { ROLE: 'lb' },
          operating_system: { template_file_id: 'local:vztmpl/debian-12.tar.zst', type: 'debian' },
          initialization: { hostname: 'lb1', ip_config: [{ ipv4: { address: 'dhcp' } }] },
          network_interface: [{ name: 'eth0', bridge: 'vmbr0' }],
          count: 2,
        },
      },
      proxmox_virtual_environment_vm: { lab_vm: vm },
    },
  };
}

function check(tf: unknown, s: ProviderSchemaFile = schema): SchemaProblem[] {
  return checkTerraformJson(tf, s, FQN, 'proxmox');
}
/** Runs the checker on the valid tf JSON with the VM mutated. */
function checkVm(mutate: (vm: Json) => void): SchemaProblem[] {
  const vm = validVm();
  mutate(vm);
  return check(validTf(vm));
}
function checkResource(type: string, name: string, mutate: (r: Json) => void): SchemaProblem[] {
  const tf = validTf();
  mutate(((tf.resource as Json)[type] as Json)[name] as Json);
  return check(tf);
}
function expectOnly(problems: SchemaProblem[], path: string, fragment: string | RegExp): void {
  expect(problems).toHaveLength(1);
  expect(problems[0].path).toBe(path);
  expect(problems[0].message).toMatch(fragment);
}
const obj = (x: unknown): Json => x as Json;

describe('provider schema checker', () => {
  test('valid tf JSON (provider, download_file, file, container, VM) has zero problems', () => {
    const problems = check(validTf());
    expect(formatProblems(problems)).toBe('');
    expect(problems).toEqual([]);
  });

  test('rule 1: unknown keys are reported at every level; meta-arguments are allowed', () => {
    expectOnly(checkVm((vm) => (vm.cpus = 2)), `${VM}.cpus`, /unknown key "cpus"/);
    expectOnly(checkVm((vm) => (obj((obj(vm.initialization).ip_config as Json[])[0].ipv4).addr = '10.0.0.1/24')),
      `${VM}.initialization.ip_config[0].ipv4.addr`, /unknown key "addr"/);
    const tf = validTf();
    (obj(tf.provider).proxmox as Json[])[0].endpoit = 'https://x';
    expectOnly(check(tf), 'provider.proxmox[0].endpoit', /unknown key/);
    // A resource type with the provider's prefix that the schema does not know is most likely a typo.
    const typo = validTf();
    obj(typo.resource).proxmox_virtual_environment_vmm = { a: { node_name: 'pve1' } };
    expectOnly(check(typo), 'resource.proxmox_virtual_environment_vmm', /unknown resource type/);
    // `alias` is allowed for providers only.
    expectOnly(checkVm((vm) => (vm.alias = 'x')), `${VM}.alias`, /unknown key/);
    expect(checkVm((vm) => Object.assign(vm, { count: 1, provider: 'proxmox.other', provisioner: [], connection: {} })))
      .toEqual([]);
  });

  test('rule 2: missing required attributes and required blocks', () => {
    expect(schemaAttr('proxmox_virtual_environment_vm', 'node_name').required).toBe(true);
    expect(schemaAttr('proxmox_virtual_environment_vm', 'disk', 'interface').required).toBe(true);
    expect(schemaAttr('proxmox_download_file', 'url').required).toBe(true);
    expect(schemaAttr('proxmox_virtual_environment_file', 'datastore_id').required).toBe(true);
    expect(schemaAttr(null, 'ssh', 'node', 'name').required).toBe(true);

    expectOnly(checkVm((vm) => delete vm.node_name), `${VM}.node_name`, /missing required attribute/);
    expectOnly(checkVm((vm) => delete (vm.disk as Json[])[0].interface), `${VM}.disk[0].interface`, /missing required attribute/);
    expectOnly(checkResource('proxmox_download_file', 'ubuntu_img', (r) => delete r.url),
      'resource.proxmox_download_file.ubuntu_img.url', /missing required attribute/);
    expectOnly(checkResource('proxmox_virtual_environment_file', 'x', (r) => delete r.datastore_id),
      'resource.proxmox_virtual_environment_file.x.datastore_id', /missing required attribute/);
    expectOnly(checkResource('proxmox_virtual_environment_file', 'x', (r) => delete (r.source_raw as Json[])[0].file_name),
      'resource.proxmox_virtual_environment_file.x.source_raw[0].file_name', /missing required attribute/);
    const tf = validTf();
    delete (obj((obj(tf.provider).proxmox as Json[])[0].ssh).node as Json[])[0].name;
    expectOnly(check(tf), 'provider.proxmox[0].ssh.node[0].name', /missing required attribute/);

    // No block in bpg/proxmox 0.111.1 has min_items > 0, so use a copy of the schema that makes one required.
    expect(schemaBlock('proxmox_virtual_environment_vm').block_types!.operating_system.min_items ?? 0).toBe(0);
    const strict = JSON.parse(JSON.stringify(schema)) as { provider_schemas: Record<string, Json> };
    const vmBlockTypes = obj(obj(obj(obj(strict.provider_schemas[FQN].resource_schemas).proxmox_virtual_environment_vm).block).block_types);
    obj(vmBlockTypes.operating_system).min_items = 1;
    const strictSchema = strict as unknown as ProviderSchemaFile;
    expect(check(validTf(), strictSchema)).toEqual([]);
    const noOs = validVm();
    delete noOs.operating_system;
    expectOnly(check(validTf(noOs), strictSchema), `${VM}.operating_system`, /missing required block \(min_items 1\)/);
    noOs.operating_system = [];
    expectOnly(check(validTf(noOs), strictSchema), `${VM}.operating_system`, /found 0 item\(s\), expected at least 1/);
  });

  test('rule 3: setting a computed-only attribute', () => {
    expect(schemaAttr('proxmox_download_file', 'size')).toMatchObject({ computed: true });
    expect(schemaAttr('proxmox_download_file', 'size').optional).toBeFalsy();
    expect(schemaAttr('proxmox_virtual_environment_vm', 'vm_id')).toMatchObject({ computed: true, optional: true });

    expectOnly(checkResource('proxmox_download_file', 'ubuntu_img', (r) => (r.size = 1024)),
      'resource.proxmox_download_file.ubuntu_img.size', /computed-only/);
    expectOnly(checkVm((vm) => (vm.ipv4_addresses = [['10.0.0.1']])), `${VM}.ipv4_addresses`, /computed-only/);
    // disk.path_in_datastore is optional+computed on the VM but computed-only on the container.
    expect(checkVm((vm) => ((vm.disk as Json[])[0].path_in_datastore = 'vm-101-disk-0'))).toEqual([]);
    expectOnly(checkResource('proxmox_virtual_environment_container', 'lb', (r) => (r.disk = { size: 8, path_in_datastore: 'x' })),
      'resource.proxmox_virtual_environment_container.lb.disk.path_in_datastore', /computed-only/);
    expectOnly(checkResource('proxmox_virtual_environment_container', 'lb', (r) => (r.ipv4 = { eth0: '10.0.0.5' })),
      'resource.proxmox_virtual_environment_container.lb.ipv4', /computed-only/);
    expectOnly(checkResource('proxmox_virtual_environment_file', 'x', (r) => (r.file_name = 'a.yaml')),
      'resource.proxmox_virtual_environment_file.x.file_name', /computed-only/);
  });

  test('rule 4: primitive types; a ${...} string is accepted for any type', () => {
    expect(schemaAttr('proxmox_virtual_environment_vm', 'cpu', 'cores').type).toBe('number');
    expect(schemaAttr('proxmox_virtual_environment_vm', 'started').type).toBe('bool');

    expectOnly(checkVm((vm) => (obj(vm.cpu).cores = '2')), `${VM}.cpu.cores`, /found string "2", expected number/);
    expectOnly(checkVm((vm) => (vm.started = 'true')), `${VM}.started`, /found string "true", expected bool/);
    expectOnly(checkVm((vm) => (vm.node_name = 5)), `${VM}.node_name`, /found number 5, expected string/);
    expectOnly(checkVm((vm) => (obj(vm.memory).dedicated = true)), `${VM}.memory.dedicated`, /found boolean true, expected number/);
    const tf = validTf();
    (obj(tf.provider).proxmox as Json[])[0].insecure = 'yes';
    expectOnly(check(tf), 'provider.proxmox[0].insecure', /expected bool/);
    // Expressions are accepted for numbers, bools, lists and list(object) alike.
    expect(checkVm((vm) => Object.assign(vm, {
      started: '${var.started}',
      vm_id: '${var.vm_id + 1}',
      tags: '${var.tags}',
      network_device: '${var.nics}',
    }))).toEqual([]);
  });

  test('rule 5: complex attribute types (list, map, object with every key present)', () => {
    const nd = schemaAttr('proxmox_virtual_environment_vm', 'network_device').type!;
    expect(nd[0]).toBe('list');
    expect(Object.keys((nd[1] as readonly ['object', Json])[1])).toHaveLength(11);

    expectOnly(checkVm((vm) => delete (vm.network_device as Json[])[0].trunks),
      `${VM}.network_device[0]`, /missing object key\(s\) trunks/);
    expectOnly(checkVm((vm) => ((vm.network_device as Json[])[0].name = 'eth0')),
      `${VM}.network_device[0].name`, /unknown object key "name"/);
    expectOnly(checkVm((vm) => ((vm.network_device as Json[])[0].mtu = '1500')),
      `${VM}.network_device[0].mtu`, /expected number/);
    expectOnly(checkVm((vm) => (vm.network_device = (vm.network_device as Json[])[0])),
      `${VM}.network_device`, /found an object, expected list\(object\(\{bridge/);
    expectOnly(checkVm((vm) => (vm.tags = 'k3s')), `${VM}.tags`, /expected list\(string\)/);
    expectOnly(checkVm((vm) => (vm.tags = ['k3s', 7])), `${VM}.tags[1]`, /found number 7, expected string/);
    expectOnly(checkResource('proxmox_virtual_environment_container', 'lb', (r) => (r.environment_variables = { ROLE: 1 })),
      'resource.proxmox_virtual_environment_container.lb.environment_variables.ROLE', /expected string/);
    expectOnly(checkResource('proxmox_virtual_environment_container', 'lb', (r) => (r.environment_variables = ['ROLE=lb'])),
      'resource.proxmox_virtual_environment_container.lb.environment_variables', /expected map\(string\)/);

    // The proxmox schema has no set/tuple/optional-key object attributes: prove those paths on a tiny schema.
    const tiny = {
      format_version: '1.0',
      provider_schemas: {
        [FQN]: {
          provider: { version: 0, block: {} },
          resource_schemas: {
            proxmox_t: {
              version: 0,
              block: {
                attributes: {
                  pair: { type: ['tuple', ['string', 'number']], optional: true },
                  ports: { type: ['set', 'number'], optional: true },
                  opt: { type: ['object', { a: 'string', b: 'bool' }, ['b']], optional: true },
                },
              },
            },
          },
        },
      },
    } as const satisfies ProviderSchemaFile;
    const t = (config: Json): SchemaProblem[] => check({ resource: { proxmox_t: { t: config } } }, tiny);
    expect(t({ pair: ['a', 1], ports: [80, 443], opt: { a: 'x' } })).toEqual([]);
    expectOnly(t({ pair: ['a'] }), 'resource.proxmox_t.t.pair', /expected tuple\(\[string, number\]\)/);
    expectOnly(t({ pair: ['a', 'b'] }), 'resource.proxmox_t.t.pair[1]', /expected number/);
    expectOnly(t({ ports: [80, '443'] }), 'resource.proxmox_t.t.ports[1]', /expected number/);
    expectOnly(t({ opt: { b: true } }), 'resource.proxmox_t.t.opt', /missing object key\(s\) a/);
  });

  test('rule 6: blocks (single object or array for list blocks, max_items, recursion, other nesting modes)', () => {
    expect(schemaBlock('proxmox_virtual_environment_vm').block_types!.agent.max_items).toBe(1);
    expect(schemaBlock('proxmox_virtual_environment_vm').block_types!.serial_device.max_items).toBe(4);

    // A max_items=1 block as a 1-element array and a multi-item block as one object are both fine.
    expect(checkVm((vm) => (vm.agent = [vm.agent]))).toEqual([]);
    expect(checkVm((vm) => (vm.disk = (vm.disk as Json[])[0]))).toEqual([]);
    expectOnly(checkVm((vm) => (vm.agent = [{ enabled: true }, { enabled: false }])),
      `${VM}.agent`, /found 2 item\(s\), expected at most 1 \(max_items\)/);
    expectOnly(checkVm((vm) => (vm.serial_device = [1, 2, 3, 4, 5].map(() => ({ device: 'socket' })))),
      `${VM}.serial_device`, /expected at most 4/);
    expectOnly(checkVm((vm) => (vm.disk = 'virtio0')), `${VM}.disk`, /expected a list block/);
    expectOnly(checkVm((vm) => (vm.disk = ['virtio0'])), `${VM}.disk[0]`, /expected an object \(block body\)/);
    expectOnly(checkVm((vm) => ((vm.disk as Json[])[0].speed = { read: 'fast' })), `${VM}.disk[0].speed.read`, /expected number/);
    // Within a single-object block the path has no index.
    expectOnly(checkVm((vm) => (obj(obj(vm.initialization).dns).servers = '1.1.1.1')),
      `${VM}.initialization.dns.servers`, /expected list\(string\)/);
    // cdktf iterators emit `dynamic` blocks: their content is checked against the block schema.
    expect(checkVm((vm) => (vm.dynamic = { usb: { for_each: '${var.usb}', content: { host: '${each.value}' } } }))).toEqual([]);
    expectOnly(checkVm((vm) => (vm.dynamic = { usb: { for_each: '${var.usb}', content: { hots: 'x' } } })),
      `${VM}.dynamic.usb.content.hots`, /unknown key/);

    // single / group / map nesting modes, and data sources, on a tiny schema (the proxmox one only has lists).
    const inner = { attributes: { n: { type: 'number', required: true } } } as const;
    const tiny = {
      format_version: '1.0',
      provider_schemas: {
        [FQN]: {
          provider: { version: 0, block: {} },
          resource_schemas: {
            proxmox_t: {
              version: 0,
              block: {
                block_types: {
                  one: { nesting_mode: 'single', block: inner },
                  grp: { nesting_mode: 'group', block: inner },
                  named: { nesting_mode: 'map', block: inner },
                },
              },
            },
          },
          data_source_schemas: { proxmox_d: { version: 0, block: { attributes: { q: { type: 'string', required: true } } } } },
        },
      },
    } as const satisfies ProviderSchemaFile;
    const t = (tf: Json): SchemaProblem[] => check(tf, tiny);
    expect(t({ resource: { proxmox_t: { t: { one: { n: 1 }, grp: { n: 2 }, named: { a: { n: 3 } } } } }, data: { proxmox_d: { d: { q: 'x' } } } }))
      .toEqual([]);
    expectOnly(t({ resource: { proxmox_t: { t: { one: [{ n: 1 }] } } } }), 'resource.proxmox_t.t.one', /found an array of 1, expected an object/);
    expectOnly(t({ resource: { proxmox_t: { t: { named: { a: { n: 'x' } } } } } }), 'resource.proxmox_t.t.named.a.n', /expected number/);
    expectOnly(t({ data: { proxmox_d: { d: {} } } }), 'data.proxmox_d.d.q', /missing required attribute/);
  });

  test('rule 7: null is fine for optional attributes, a problem for required ones', () => {
    expect(checkVm((vm) => Object.assign(vm, { description: null, tags: null, vm_id: null, agent: null }))).toEqual([]);
    expectOnly(checkVm((vm) => (vm.node_name = null)), `${VM}.node_name`, /found null, expected a value \(required attribute\)/);
    expectOnly(checkVm((vm) => ((vm.disk as Json[])[0].interface = null)), `${VM}.disk[0].interface`, /required attribute/);
  });

  test('rule 8: deprecated attributes and resource types are reported, unless null', () => {
    expect(schemaAttr('proxmox_virtual_environment_vm', 'timeout_move_disk').deprecated).toBe(true);
    expect(schemaAttr('proxmox_virtual_environment_vm', 'cdrom', 'enabled').deprecated).toBe(true);
    expect(schemaAttr('proxmox_virtual_environment_container', 'initialization', 'dns', 'server').deprecated).toBe(true);
    expect(schemaAttr(null, 'otp').deprecated).toBe(true);

    expectOnly(checkVm((vm) => (vm.timeout_move_disk = 600)), `${VM}.timeout_move_disk`, /deprecated/);
    expect(checkVm((vm) => (vm.timeout_move_disk = null))).toEqual([]);
    expectOnly(checkVm((vm) => (vm.cdrom = { enabled: true, interface: 'ide3' })), `${VM}.cdrom.enabled`, /deprecated/);
    expectOnly(checkResource('proxmox_virtual_environment_container', 'lb', (r) => (obj(r.initialization).dns = { server: '1.1.1.1' })),
      'resource.proxmox_virtual_environment_container.lb.initialization.dns.server', /deprecated/);
    const tf = validTf();
    (obj(tf.provider).proxmox as Json[])[0].otp = '123456';
    expectOnly(check(tf), 'provider.proxmox[0].otp', /deprecated/);
    // The long name of the download resource is deprecated in favour of proxmox_download_file.
    const long = validTf();
    const res = obj(long.resource);
    res.proxmox_virtual_environment_download_file = res.proxmox_download_file;
    delete res.proxmox_download_file;
    expectOnly(check(long), 'resource.proxmox_virtual_environment_download_file.ubuntu_img', /deprecated/);
  });

  test('formatProblems prints one "path: message" per line; bad input is reported, not thrown', () => {
    expect(formatProblems([{ path: 'a.b', message: 'm1' }, { path: 'c', message: 'm2' }])).toBe('a.b: m1\nc: m2');
    expectOnly(check([]), '<root>', /expected an object/);
    expect(() => checkTerraformJson({}, schema, 'registry.terraform.io/x/y', 'y')).toThrow(/not in the schema/);
  });
});
