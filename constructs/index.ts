// The published library. Module boundaries: core/site/cloud-init/roles are framework-free; tf/ uses cdktf only;
// k8s/ uses cdk8s only.
export * from './core';
export * from './site';
export * from './cloud-init';
export * from './roles';
export * from './tf';
export * from './k8s';
export * from './renderers';
