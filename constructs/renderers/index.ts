export * from './haproxy';
export * from './keepalived';
export * from './k3s';
export * from './site-doc';
export * from './postgres';
export * from './bind9';
export * from './kubeadm';
export * from './shell-wait';
