export * from './cloud-config';
export * from './render-cloud-config';
export * from './render-shell';
