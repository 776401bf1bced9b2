/**
 * What the bpg/proxmox provider (v0.111.1) does when an attribute of a machine changes: the one place these facts
 * live. The change report reads them to say what an apply does to a running host, and the stand-in provider the
 * tests run Terraform with plans by them. Each rule cites the provider source it was read from
 * (github.com/bpg/terraform-provider-proxmox at v0.111.1, as collected in shared/providers/bpg-proxmox/BEHAVIOUR.md).
 *
 * An attribute without a rule is updated in place without a restart: SDKv2 calls the resource's Update for any
 * attribute that is not ForceNew, and the restart-causing attributes are exactly the ones listed.
 */

/** What changing an attribute does to the resource. */
export type BehaviourEffect =
  /** Destroyed and created again (ForceNew / RequiresReplace). */
  | 'replace'
  /** Replaced, unless the resource says `migrate = true`: then the guest is migrated to the new node. */
  | 'replace-unless-migrate'
  /** Updated in place, and the guest is shut down and started again (VMs: unless `reboot_after_update = false`). */
  | 'restart'
  /** A change after creation is not applied at all (the provider suppresses the diff). */
  | 'ignored-after-create';

/** One attribute's behaviour on change. */
export interface BehaviourRule {
  /** Terraform resource type. */
  readonly resource: string;
  /** Attribute path from the resource's top, blocks and nested attributes joined by dots, no indexes (`disk.import_from`). */
  readonly path: string;
  readonly effect: BehaviourEffect;
  /** Where upstream does it: file and lines at v0.111.1. */
  readonly source: string;
}

const VM = 'proxmox_virtual_environment_vm';
const CONTAINER = 'proxmox_virtual_environment_container';
const FILE = 'proxmox_virtual_environment_file';
const DOWNLOADS = ['proxmox_download_file', 'proxmox_virtual_environment_download_file'];

const VM_UPDATE = 'proxmoxtf/resource/vm/vm.go vmUpdate (from 6122), HasChange blocks 6190-6960; reboot_after_update 48, 350-357';
/** Attributes whose change makes `vmUpdate` set `rebootRequired` (memory hotplug and cpu hotplug are off by default). */
const VM_RESTART_ATTRIBUTES = [
  'memory', 'cpu', 'initialization', 'bios', 'machine', 'operating_system', 'serial_device', 'vga', 'scsi_hardware',
  'efi_disk', 'tpm_state', 'hostpci', 'usb', 'numa', 'kvm_arguments', 'agent',
];

/** Every rule, most general first within a resource (lookup takes the most specific match). */
export const BPG_PROXMOX_BEHAVIOUR: readonly BehaviourRule[] = [
  { resource: VM, path: 'node_name', effect: 'replace-unless-migrate', source: 'proxmoxtf/resource/vm/vm.go ForceNewIf 1781-1790, dvMigrate 109, migration 7820-7836' },
  { resource: VM, path: 'vm_id', effect: 'replace', source: 'proxmoxtf/resource/vm/vm.go ForceNewIf near 1770' },
  ...VM_RESTART_ATTRIBUTES.map((path) => ({ resource: VM, path, effect: 'restart' as const, source: VM_UPDATE })),
  ...['user_data_file_id', 'vendor_data_file_id', 'network_data_file_id', 'meta_data_file_id'].map((attribute) => ({
    resource: VM, path: `initialization.${attribute}`, effect: 'replace' as const, source: 'proxmoxtf/resource/vm/vm.go 994-1000 (ForceNew)',
  })),
  ...['import_from', 'file_id'].map((attribute) => ({
    resource: VM, path: `disk.${attribute}`, effect: 'ignored-after-create' as const,
    source: 'proxmoxtf/resource/vm/disk/schema.go 144-151; custom_storage_device.go 405-416',
  })),
  ...['node_name', 'operating_system', 'unprivileged', 'disk.datastore_id', 'initialization.user_account'].map((path) => ({
    resource: CONTAINER, path, effect: 'replace' as const, source: 'proxmoxtf/resource/container/container.go 987-1005, 1152, 408, 642-660 (ForceNew)',
  })),
  ...['memory', 'initialization.dns', 'initialization.hostname'].map((path) => ({
    resource: CONTAINER, path, effect: 'restart' as const, source: 'proxmoxtf/resource/container/container.go 3832-3886, 4162-4176',
  })),
  ...['node_name', 'source_raw.data'].map((path) => ({
    resource: FILE, path, effect: 'replace' as const, source: 'proxmoxtf/resource/file/file.go 126-131, 189-205 (delete 1002-1021)',
  })),
  ...DOWNLOADS.flatMap((resource) => ['url', 'file_name', 'checksum', 'content_type', 'node_name', 'datastore_id'].map((path) => ({
    resource, path, effect: 'replace' as const, source: 'fwprovider/.../download/dl.go 216-300 (RequiresReplace)',
  }))),
];

/** The resource types the rules describe (a stand-in refuses the others). */
export const BPG_PROXMOX_MODELLED_RESOURCES: readonly string[] = [VM, CONTAINER, FILE, ...DOWNLOADS];

/**
 * The rule for a change at `path` (attribute and block names from the resource's top, indexes left out): the most
 * specific rule whose path is a prefix of it, or undefined (an in-place update without a restart).
 */
export function ruleFor(resource: string, path: readonly string[]): BehaviourRule | undefined {
  const joined = path.join('.');
  let best: BehaviourRule | undefined;
  for (const rule of BPG_PROXMOX_BEHAVIOUR) {
    if (rule.resource === resource && (joined === rule.path || joined.startsWith(`${rule.path}.`))
      && (!best || rule.path.length > best.path.length)) {
      best = rule;
    }
  }
  return best;
}

/**
 * The part of a resource's attributes (as synthesized, tokens resolved) whose change restarts the guest: the leaves
 * whose most specific rule is `restart` (a VM's user-data file id, under `initialization`, replaces it instead and is
 * left out), in their blocks; undefined when there is none.
 */
export function restartingValues(resource: string, attributes: unknown, path: readonly string[] = []): unknown {
  if (Array.isArray(attributes)) {
    const items = attributes.map((item) => restartingValues(resource, item, path));
    return items.some((item) => item !== undefined) ? items : undefined;
  }
  if (typeof attributes === 'object' && attributes !== null) {
    const entries = Object.entries(attributes)
      .map(([key, value]) => [key, restartingValues(resource, value, [...path, key])] as const)
      .filter(([, value]) => value !== undefined);
    return entries.length > 0 ? Object.fromEntries(entries) : undefined;
  }
  return path.length > 0 && ruleFor(resource, path)?.effect === 'restart' ? attributes : undefined;
}

/**
 * Whether a `restart` rule really restarts the guest, given the resource's new values: a VM with
 * `reboot_after_update = false` keeps the change pending until its next stop and start (vm.go 2215-2240).
 */
export function restartApplies(resource: string, values: { readonly reboot_after_update?: unknown }): boolean {
  return resource !== VM || values.reboot_after_update !== false;
}
