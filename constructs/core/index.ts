export * from './ipv4';
export * from './names';
export * from './problems';
