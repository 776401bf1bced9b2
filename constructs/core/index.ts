export * from './ipv4';
export * from './names';
export * from './problems';
export * from './unsafe-changes';
export * from './run-app';
