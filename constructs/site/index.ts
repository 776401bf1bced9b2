export * from './spec';
export * from './plan';
export * from './define-site';
export { DEFAULT_K3S_VERSION, DEFAULT_API_PORT } from './defaults';
export * from './node-loss';
