import { ApiKeyCreateBody, ApiKeyUpdateBody } from '@torouter/contracts';
import { applyPatch, settingsForNewKey, type KeySettings } from './key-settings';

const now = new Date('2030-01-01T00:00:00Z');
const plan = {
  id: 'pro',
  defaults: { quotaUsd: 50, expiresInDays: 30, per5h: 100, per1d: 500, per7d: 2000, rpm: 20, tpm: 40000 },
};

function create(body: Record<string, unknown>) {
  const { name: _name, ...fields } = ApiKeyCreateBody.parse({ name: 'k', ...body });
  return fields;
}

describe('settingsForNewKey', () => {
  it("fills every absent field from the plan's default key limits", () => {
    expect(settingsForNewKey(create({}), plan, now)).toEqual<KeySettings>({
      planId: 'pro',
      quotaMicroUsd: 50_000_000,
      expiresAt: new Date('2030-01-31T00:00:00Z'),
      rateLimits: { per5h: 100, per1d: 500, per7d: 2000, rpm: 20, tpm: 40000 },
      ipWhitelist: [],
      ipBlacklist: [],
      modelWhitelist: [],
    });
  });

  it('lets each field sent win, 0 meaning no cap / off / never', () => {
    const s = settingsForNewKey(
      create({ quotaUsd: 0, expiresInDays: 0, rateLimits: { per5h: 0, rpm: 5 }, modelWhitelist: 'gpt-5' }),
      plan,
      now,
    );
    expect(s.quotaMicroUsd).toBe(0);
    expect(s.expiresAt).toBeNull();
    expect(s.rateLimits).toEqual({ per5h: 0, per1d: 500, per7d: 2000, rpm: 5, tpm: 40000 });
    expect(s.modelWhitelist).toEqual(['gpt-5']);
  });

  it('uses 0 / empty for everything when no plan was consulted (trusted internal callers)', () => {
    const s = settingsForNewKey(create({ quotaUsd: 1.25 }), { id: null, defaults: null }, now);
    expect(s).toEqual<KeySettings>({
      planId: null,
      quotaMicroUsd: 1_250_000,
      expiresAt: null,
      rateLimits: { per5h: 0, per1d: 0, per7d: 0, rpm: 0, tpm: 0 },
      ipWhitelist: [],
      ipBlacklist: [],
      modelWhitelist: [],
    });
  });

  it('fills defaults billing left out', () => {
    const partial = { id: 'p', defaults: { rpm: 3 } as unknown as typeof plan.defaults };
    expect(settingsForNewKey(create({}), partial, now).rateLimits).toEqual({
      per5h: 0,
      per1d: 0,
      per7d: 0,
      rpm: 3,
      tpm: 0,
    });
  });
});

describe('applyPatch', () => {
  const current = settingsForNewKey(create({ ipWhitelist: '10.0.0.0/8' }), plan, now);
  const later = new Date('2030-02-01T00:00:00Z');
  const patch = (p: Record<string, unknown>) => applyPatch(current, ApiKeyUpdateBody.parse(p), later);

  it('changes only what is sent, merging rate limits window by window', () => {
    const s = patch({ rateLimits: { rpm: 0 }, quotaUsd: 7.5 });
    expect(s.rateLimits).toEqual({ ...current.rateLimits, rpm: 0 });
    expect(s.quotaMicroUsd).toBe(7_500_000);
    expect(s.ipWhitelist).toEqual(['10.0.0.0/8']);
    expect(s.expiresAt).toEqual(current.expiresAt);
  });

  it('replaces lists; an empty one clears', () => {
    expect(patch({ ipWhitelist: '' }).ipWhitelist).toEqual([]);
    expect(patch({ ipBlacklist: ['192.0.2.1'] }).ipBlacklist).toEqual(['192.0.2.1/32']);
  });

  it('sets expiry from now in days, exactly, or never', () => {
    expect(patch({ expiresInDays: 2 }).expiresAt).toEqual(new Date('2030-02-03T00:00:00Z'));
    expect(patch({ expiresInDays: 0 }).expiresAt).toBeNull();
    expect(patch({ expiresAt: '2031-05-06T07:08:09+02:00' }).expiresAt).toEqual(
      new Date('2031-05-06T05:08:09Z'),
    );
    expect(patch({ expiresAt: null }).expiresAt).toBeNull();
  });
});
