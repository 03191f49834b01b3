export * from './dependency-probes';
export * from './health.http.controller';
export * from './health.nats.controller';
export * from './internal-service';
export * from './main-runner';
export * from './nats-controller.decorator';
export * from './tokens';
export * from './http-metrics';
