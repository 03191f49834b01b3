export * from './event-bus';
export * from './namespaced-nats.server';
export * from './request-id.interceptor';
export * from './rpc-error.filter';
export * from './rpc.client';
export * from './zod-payload.pipe';
export * from './jetstream';
