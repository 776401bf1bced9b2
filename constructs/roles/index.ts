export * from './base-host';
export * from './k3s-node';
export * from './load-balancer';
