export * from './cloud-config';
export * from './render-cloud-config';
export * from './render-shell';
export * from './configure-script';
export * from './shell-quote';
