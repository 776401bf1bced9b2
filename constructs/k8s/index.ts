export * from './site-chart';
