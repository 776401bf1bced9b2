// The machine lifecycle of a site stack, one entry point: converge steps and their rollout order, drains,
// decommissioning, rebuild rejoins (K3s nodes, datastore etcd members), machine restarts in their rollout slot,
// certificate renewal, and the change report that predicts what an apply does and refuses what is unsafe.
export * from './host-converge';
export * from './site-lifecycle';
export * from './node-lifecycle';
export * from './datastore-rejoin';
export * from './machine-restart';
export * from './machine-changes';
export * from './resource-plan';
export * from './change-report';
export * from './synth-guard';
export * from './secret-fingerprint';
export * from './certificate-renewal';
export * from './lifecycle-scripts';
