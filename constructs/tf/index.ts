export * from './terraform-template';
export * from './network-device';
export * from './cloud-image';
export * from './proxmox-vm';
export * from './proxmox-lxc';
export * from './site-stack';
/** The generated bpg/proxmox L1 bindings (v0.111.1), for escape hatches and resources the library does not wrap. */
export * as proxmox from './generated/providers/proxmox';
export * from './host-props';
export * from './ha-load-balancer-pair';
export * from './k3s-control-plane';
export * from './postgres-datastore';
export * from './dns-zone';
export * from './kubeadm-control-plane';
export * from './site-hosts';
export * from './host-converge';
export * from './change-report';
export * from '../site/rollout';
export * from './node-lifecycle';
