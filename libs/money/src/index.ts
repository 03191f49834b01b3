export * from './micro-usd';
