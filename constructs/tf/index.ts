export * from './terraform-template';
export * from './network-device';
export * from './cloud-image';
export * from './proxmox-vm';
export * from './proxmox-lxc';
export * from './site-stack';
