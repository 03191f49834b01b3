import type { RouterConfig } from '@torouter/config';
import { ChannelHealth } from './channel-health';

const config = {
  ROUTER_CHANNEL_COOLDOWN_BASE_MS: 1000,
  ROUTER_CHANNEL_COOLDOWN_MAX_MS: 8000,
  ROUTER_CHANNEL_FAILURE_THRESHOLD: 3,
} as RouterConfig;

describe('ChannelHealth', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('cools a channel down after the threshold, with growing backoff, and heals on success', () => {
    const health = new ChannelHealth(config);
    const fail = () => health.recordFailure('c', { status: 500, type: 'api_error', message: 'boom' });
    fail();
    fail();
    expect(health.isAvailable('c')).toBe(true);
    fail();
    expect(health.isAvailable('c')).toBe(false);
    expect(health.view('c')).toMatchObject({ status: 'cooling_down', recentErrorRate: 1, recentRequests: 3 });
    jest.advanceTimersByTime(1000);
    expect(health.isAvailable('c')).toBe(true); // back by itself
    fail();
    fail();
    fail();
    jest.advanceTimersByTime(1999);
    expect(health.isAvailable('c')).toBe(false); // second cool-down doubles
    jest.advanceTimersByTime(1);
    expect(health.isAvailable('c')).toBe(true);
    health.recordSuccess('c', 120);
    expect(health.view('c')).toMatchObject({ status: 'healthy', consecutiveFailures: 0, lastLatencyMs: 120 });
  });

  it('cools down at once on 429 (honouring Retry-After) and marks refused credentials unhealthy', () => {
    const health = new ChannelHealth(config);
    health.recordFailure('r', { status: 429, type: 'rate_limit_error', message: 'slow', retryAfterMs: 5000 });
    jest.advanceTimersByTime(4999);
    expect(health.isAvailable('r')).toBe(false);
    jest.advanceTimersByTime(1);
    expect(health.isAvailable('r')).toBe(true);
    health.recordFailure('k', { status: 401, type: 'authentication_error', message: 'bad key' });
    expect(health.view('k').status).toBe('unhealthy');
    expect(health.isAvailable('k')).toBe(false);
  });
});
