import { DownloadSpec, LxcTemplateSpec } from '../constructs';

/**
 * Ubuntu 24.04 LTS cloud image, shared by the example sites. The `.img` Ubuntu publishes is a qcow2 image;
 * Proxmox's `import` content type wants the extension to say so. Pin `checksum` to the SHA256SUMS line of the
 * release you deploy.
 */
export const UBUNTU_2404_CLOUD_IMAGE: DownloadSpec = {
  url: 'https://cloud-images.ubuntu.com/releases/24.04/release/ubuntu-24.04-server-cloudimg-amd64.img',
  fileName: 'ubuntu-24.04-server-cloudimg-amd64.qcow2',
};

/** Ubuntu 24.04 LXC template from Proxmox's template repository. Pin `checksum` to the one `pveam` lists. */
export const UBUNTU_2404_LXC_TEMPLATE: LxcTemplateSpec = {
  url: 'http://download.proxmox.com/images/system/ubuntu-24.04-standard_24.04-2_amd64.tar.zst',
  fileName: 'ubuntu-24.04-standard_24.04-2_amd64.tar.zst',
  osType: 'ubuntu',
};
