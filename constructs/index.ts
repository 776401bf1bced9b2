export * from './core';
export * from './site';
