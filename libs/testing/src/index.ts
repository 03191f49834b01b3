export * from './fake-upstreams';
