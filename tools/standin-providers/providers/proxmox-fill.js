'use strict';
// What the fake Proxmox "reports" for computed attributes after apply. Deterministic (a hash of the resource's own
// values), so two applies of one configuration give one state. Anything not listed gets the empty value of its type
// (values.js emptyOf): no guest runs, so guest-agent data (ipv4_addresses, …) stays empty.
const crypto = require('crypto');
const { UNKNOWN } = require('../codec');

function hash(text) {
  return crypto.createHash('sha256').update(text).digest();
}

function known(value) {
  return value === UNKNOWN || value === undefined ? null : value;
}

/** A VM or container id the configuration left to Proxmox: 100..999999 (the id range PVE allocates from). */
function guestId(root) {
  if (known(root.vm_id) !== null) return root.vm_id;
  return 100 + (hash(`${root.node_name}/${root.name ?? root.initialization?.[0]?.hostname ?? ''}`).readUInt32BE(0) % 899_900);
}

/** A MAC in Proxmox's own OUI BC:24:11, from the guest and the interface's index. */
function mac(root, index) {
  const bytes = hash(`${root.node_name}/${guestId(root)}/${index}`);
  return ['BC', '24', '11', ...[0, 1, 2].map((i) => bytes[i].toString(16).padStart(2, '0').toUpperCase())].join(':');
}

function uuid(text) {
  const hex = hash(text).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function urlFileName(url) {
  return decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).pop() ?? 'download');
}

const DOWNLOAD = {
  id: ({ root }) => `${root.datastore_id}:${root.content_type}/${known(root.file_name) ?? urlFileName(root.url)}`,
  file_name: ({ root }) => urlFileName(root.url),
  // Defaults the provider documents: upload_timeout 600 s, overwrite_unmanaged false (BEHAVIOUR.md "Reads and
  // waits", dl.go 265-270, 434-452). `size` is the downloaded file's size: nothing is downloaded, so it is 0.
  upload_timeout: () => 600,
  overwrite_unmanaged: () => false,
  overwrite: () => true,
  verify: () => true,
  size: () => 0,
};

/** Fillers per resource type, keyed by the dotted attribute path (values.js fillUnknowns). */
const FILLERS = {
  proxmox_virtual_environment_vm: {
    vm_id: ({ root }) => guestId(root),
    id: ({ root }) => String(guestId(root)),
    mac_addresses: ({ root }) => (Array.isArray(root.network_device) ? root.network_device.map((_, i) => mac(root, i)) : []),
    'disk.path_in_datastore': ({ root, path }) => `vm-${guestId(root)}-disk-${path[1]}`,
    'disk.file_format': () => 'raw',
    'disk.size': () => 8, // the provider's default disk size (bpg-proxmox/README.md, "Defaults", disk)
    'smbios.uuid': ({ root }) => uuid(`${root.node_name}/${guestId(root)}`),
  },
  proxmox_virtual_environment_container: {
    vm_id: ({ root }) => guestId(root),
    id: ({ root }) => String(guestId(root)),
    'network_interface.mac_address': ({ root, path }) => mac(root, path[1]),
    'disk.path_in_datastore': ({ root }) => `subvol-${guestId(root)}-disk-0`,
    'mount_point.path_in_datastore': ({ root, path }) => `subvol-${guestId(root)}-disk-${path[1] + 1}`,
  },
  proxmox_virtual_environment_file: {
    // Its id is `<datastore>:snippets/<file_name>` for snippets (bpg-proxmox/README.md, "Defaults").
    id: ({ root }) => `${root.datastore_id}:${known(root.content_type) ?? 'snippets'}/${fileName(root)}`,
    content_type: () => 'snippets',
    file_name: ({ root }) => fileName(root),
    file_size: ({ root }) => Buffer.byteLength(root.source_raw?.[0]?.data ?? ''),
    file_tag: ({ root }) => hash(root.source_raw?.[0]?.data ?? root.source_file?.[0]?.path ?? '').toString('hex').slice(0, 16),
    file_modification_date: () => '1970-01-01T00:00:00Z',
  },
  proxmox_download_file: DOWNLOAD,
  proxmox_virtual_environment_download_file: DOWNLOAD,
};

function fileName(root) {
  return known(root.file_name) ?? root.source_raw?.[0]?.file_name ?? root.source_file?.[0]?.file_name ?? root.source_file?.[0]?.path?.split('/').pop() ?? '';
}

module.exports = { FILLERS };
