export * from './api-key-format';
