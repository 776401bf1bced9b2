import { isIntegerInRange, isRfc1123Label } from '../../core/names';
import { ProblemCollector } from '../../core/problems';
import { ChecksumAlgorithm } from '../spec';
import { expectNonEmptyArray, expectObject, reportDuplicates, reportUnknownKeys } from './shape';

const DATASTORE_ID = /^[a-zA-Z][a-zA-Z0-9_.-]*$/;
/** Linux interface names: at most 15 characters, no slash or whitespace. */
const BRIDGE_NAME = /^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/;
const HEX_LENGTH: Record<ChecksumAlgorithm, number> = {
  [ChecksumAlgorithm.MD5]: 32,
  [ChecksumAlgorithm.SHA1]: 40,
  [ChecksumAlgorithm.SHA224]: 56,
  [ChecksumAlgorithm.SHA256]: 64,
  [ChecksumAlgorithm.SHA384]: 96,
  [ChecksumAlgorithm.SHA512]: 128,
};

function isUrl(value: unknown, protocols: readonly string[]): boolean {
  if (typeof value !== 'string') {
    return false;
  }
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function validateDownload(problems: ProblemCollector, path: string, download: unknown, fileNamePattern: RegExp, fileNameExpected: string): void {
  if (!expectObject(problems, path, download)) {
    return;
  }
  reportUnknownKeys(problems, path, download, ['url', 'fileName', 'checksum', 'checksumAlgorithm', ...(path.endsWith('lxcTemplate') ? ['osType'] : [])]);
  if (download.osType !== undefined) {
    problems.check(typeof download.osType === 'string' && /^[a-z]+$/.test(download.osType), `${path}.osType`, download.osType,
      'a Proxmox container OS type such as "ubuntu", "debian" or "alpine"');
  }
  problems.check(isUrl(download.url, ['http:', 'https:']), `${path}.url`, download.url, 'an http or https URL Proxmox downloads from');
  problems.check(typeof download.fileName === 'string' && fileNamePattern.test(download.fileName), `${path}.fileName`,
    download.fileName, fileNameExpected);
  const algorithm = download.checksumAlgorithm ?? (download.checksum === undefined ? undefined : ChecksumAlgorithm.SHA256);
  if (algorithm !== undefined && !problems.check(Object.values(ChecksumAlgorithm).includes(algorithm as ChecksumAlgorithm),
    `${path}.checksumAlgorithm`, download.checksumAlgorithm, `one of ${Object.values(ChecksumAlgorithm).join(', ')}`)) {
    return;
  }
  if (download.checksum === undefined) {
    problems.check(download.checksumAlgorithm === undefined, `${path}.checksum`, download.checksum,
      'a checksum, since checksumAlgorithm is set');
    return;
  }
  const length = HEX_LENGTH[algorithm as ChecksumAlgorithm];
  problems.check(typeof download.checksum === 'string' && new RegExp(`^[0-9a-fA-F]{${length}}$`).test(download.checksum),
    `${path}.checksum`, download.checksum, `${length} hexadecimal digits (a ${algorithm} digest)`);
}

/** The Proxmox nodes a site declares. */
export interface ProxmoxNodes {
  /** The names hosts may be placed on. */
  readonly valid: ReadonlySet<string>;
  /** Every text listed, valid or not (a host on a broken entry is reported at that entry only). */
  readonly listed: ReadonlySet<string>;
}

/** Checks `proxmox`; returns the nodes hosts may be placed on, or undefined when the list is unusable (reported). */
export function validateProxmox(problems: ProblemCollector, proxmox: unknown): ProxmoxNodes | undefined {
  if (!expectObject(problems, 'proxmox', proxmox)) {
    return undefined;
  }
  reportUnknownKeys(problems, 'proxmox', proxmox,
    ['endpoint', 'nodes', 'bridge', 'vlanId', 'datastores', 'cloudImage', 'lxcTemplate', 'insecureTls', 'sshUser']);
  if (proxmox.insecureTls !== undefined) {
    problems.check(typeof proxmox.insecureTls === 'boolean', 'proxmox.insecureTls', proxmox.insecureTls, 'true or false');
  }
  problems.check(isUrl(proxmox.endpoint, ['https:']), 'proxmox.endpoint', proxmox.endpoint,
    'the https URL of the Proxmox VE API, e.g. "https://pve1.example.net:8006/"');
  let nodes: ProxmoxNodes | undefined;
  if (expectNonEmptyArray(problems, 'proxmox.nodes', proxmox.nodes, 'Proxmox node names')) {
    const valid = new Set<string>();
    proxmox.nodes.forEach((node, i) => {
      if (problems.check(isRfc1123Label(node), `proxmox.nodes[${i}]`, node, 'a Proxmox node name (RFC 1123 label)')) {
        valid.add(node as string);
      }
    });
    reportDuplicates(problems, proxmox.nodes.map((value, i) => ({ path: `proxmox.nodes[${i}]`, value })), 'node name');
    nodes = { valid, listed: new Set(proxmox.nodes.filter((node): node is string => typeof node === 'string')) };
  }
  problems.check(typeof proxmox.bridge === 'string' && BRIDGE_NAME.test(proxmox.bridge), 'proxmox.bridge', proxmox.bridge,
    'a Linux bridge name of at most 15 characters, e.g. "vmbr0"');
  if (proxmox.vlanId !== undefined) {
    problems.check(isIntegerInRange(proxmox.vlanId, 1, 4094), 'proxmox.vlanId', proxmox.vlanId, 'a VLAN id from 1 to 4094');
  }
  if (expectObject(problems, 'proxmox.datastores', proxmox.datastores)) {
    reportUnknownKeys(problems, 'proxmox.datastores', proxmox.datastores, ['disks', 'snippets', 'images']);
    for (const kind of ['disks', 'snippets', 'images'] as const) {
      const id = proxmox.datastores[kind];
      problems.check(typeof id === 'string' && DATASTORE_ID.test(id), `proxmox.datastores.${kind}`, id,
        'a Proxmox datastore id, e.g. "local" or "local-lvm"');
    }
  }
  // Proxmox's `import` content type only accepts these disk image formats.
  validateDownload(problems, 'proxmox.cloudImage', proxmox.cloudImage, /^[\w.-]+\.(qcow2|raw|vmdk)$/,
    'a file name ending in .qcow2, .raw or .vmdk (what Proxmox imports as a disk)');
  if (proxmox.lxcTemplate !== undefined) {
    validateDownload(problems, 'proxmox.lxcTemplate', proxmox.lxcTemplate, /^[\w.+-]+\.tar\.(gz|xz|zst)$/,
      'a template file name ending in .tar.gz, .tar.xz or .tar.zst');
  }
  if (proxmox.sshUser !== undefined) {
    problems.check(typeof proxmox.sshUser === 'string' && /^[a-z_][a-z0-9_-]{0,31}$/.test(proxmox.sshUser), 'proxmox.sshUser',
      proxmox.sshUser, 'a Linux user name on the Proxmox nodes');
  }
  return nodes;
}
