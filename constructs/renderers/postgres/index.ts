export * from './paths';
export * from './settings';
export * from './patroni';
export * from './etcd';
export * from './writer-endpoint';
export * from './tls';
export * from './assets';
export * from './runbook';
