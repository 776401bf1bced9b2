export * from './base-host';
export * from './k3s-node';
export * from './load-balancer';
export * from './k3s-datastore';
export * from './k3s';
export * from './datastore';
export * from './dns';
export * from './kubeadm';
