export * from './haproxy';
export * from './keepalived';
