import { ConfigError, loadConfig, routerEnvSchema } from './env';

const valid = {
  TOROUTER_SECRET: 'x'.repeat(32),
  TOROUTER_ADMIN_TOKEN: 'a'.repeat(24),
};

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(routerEnvSchema, valid);
    expect(c.PORT).toBe(8080);
    expect(c.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/torouter');
    expect(c.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(c.NATS_URL).toBe('nats://127.0.0.1:4222');
    expect(c.TOROUTER_NAMESPACE).toBe('torouter');
    expect(c.ALLOW_PRIVATE_UPSTREAMS).toBe(false);
    expect(c.MAX_BODY_BYTES).toBe(10 * 1024 * 1024);
  });

  it('names the missing secret', () => {
    expect(() => loadConfig(routerEnvSchema, { TOROUTER_ADMIN_TOKEN: 'a'.repeat(24) })).toThrow(
      /TOROUTER_SECRET \(not set\)/,
    );
  });

  it('names every bad variable at once', () => {
    try {
      loadConfig(routerEnvSchema, {
        ...valid,
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        TOROUTER_NAMESPACE: 'a b',
      });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const problems = (e as ConfigError).problems.join('\n');
      expect(problems).toMatch(/^PORT:/m);
      expect(problems).toMatch(/^DATABASE_URL: must be a postgres/m);
      expect(problems).toMatch(/^TOROUTER_NAMESPACE:/m);
    }
  });

  it('treats an empty value as unset and parses booleans', () => {
    const c = loadConfig(routerEnvSchema, { ...valid, PORT: '', ALLOW_PRIVATE_UPSTREAMS: 'true' });
    expect(c.PORT).toBe(8080);
    expect(c.ALLOW_PRIVATE_UPSTREAMS).toBe(true);
  });
});
