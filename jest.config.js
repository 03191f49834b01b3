// One jest run covers unit specs (next to the code) and e2e specs (test/). Every suite talks to the
// real local Postgres/Redis/NATS and isolates itself with its own database, namespace and key prefix.
/** @type {import('jest').Config} */
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  testMatch: [
    '<rootDir>/apps/**/*.spec.ts',
    '<rootDir>/libs/**/*.spec.ts',
    '<rootDir>/test/**/*.e2e-spec.ts',
  ],
  transform: {
    '^.+\\.ts$': ['@swc/jest'],
    // Node ≥ 20.19 require()s these ESM-only dependencies natively; Jest's module loader cannot, so
    // compile them to CommonJS for the test runtime only.
    '^.+/node_modules/content-disposition/.+\\.js$': ['@swc/jest', { module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!content-disposition/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 60_000,
  maxWorkers: 2,
};
