/**
 * The VM's `network_device` is a list(object) *attribute* in bpg/proxmox (SDK `ConfigModeAttr`): in Terraform's
 * JSON syntax every object key must be present. The generated bindings mark them optional, so a device is written
 * through this helper, which fills every key the caller leaves unset with null.
 */
const NETWORK_DEVICE_KEYS = [
  'bridge', 'disconnected', 'enabled', 'firewall', 'mac_address', 'model', 'mtu', 'queues', 'rate_limit', 'trunks', 'vlan_id',
] as const;

/** A key of the VM's `network_device` object (snake_case, as Terraform's JSON syntax spells it). */
export type NetworkDeviceKey = (typeof NETWORK_DEVICE_KEYS)[number];

/** Returns a `network_device` object with all of its keys; `enabled` stays null because it is deprecated. */
export function completeNetworkDevice(values: Partial<Record<Exclude<NetworkDeviceKey, 'enabled'>, string | number | boolean>>): Record<NetworkDeviceKey, unknown> {
  return Object.fromEntries(NETWORK_DEVICE_KEYS.map((key) => [key, (values as Record<string, unknown>)[key] ?? null])) as Record<NetworkDeviceKey, unknown>;
}
