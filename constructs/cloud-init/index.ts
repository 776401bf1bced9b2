export * from './cloud-config';
export * from './render-cloud-config';
export * from './render-shell';
export * from './render-converge';
export * from './configure-script';
export * from './service-step';
export * from './shell-quote';
