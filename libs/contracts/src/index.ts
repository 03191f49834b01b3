export * from './auth.contract';
export * from './billing.contract';
export * from './errors';
export * from './health.contract';
export * from './keys.contract';
export * from './messages';
export * from './router.contract';
export * from './subjects';
