import {
  ApiKeyCreateBody,
  ApiKeyUpdateBody,
  IpRuleList,
  ModelList,
  normaliseIpRule,
  parseStrictIp,
} from './keys.contract';

function issues(result: {
  success: boolean;
  error?: { issues: Array<{ path: unknown[]; message: string }> };
}) {
  return (result.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('IP rules', () => {
  it('normalises CIDRs and bare addresses to canonical network form', () => {
    expect(normaliseIpRule('203.0.113.0/24')).toBe('203.0.113.0/24');
    expect(normaliseIpRule('203.0.113.77/24')).toBe('203.0.113.0/24');
    expect(normaliseIpRule('198.51.100.42')).toBe('198.51.100.42/32');
    expect(normaliseIpRule('0.0.0.0/0')).toBe('0.0.0.0/0');
    expect(normaliseIpRule('2001:DB8::/32')).toBe('2001:db8::/32');
    expect(normaliseIpRule('2001:db8::1')).toBe('2001:db8::1/128');
    expect(normaliseIpRule('2001:db8:0:0:0:0:0:1/64')).toBe('2001:db8::/64');
  });

  it('turns IPv4-mapped IPv6 ranges into the IPv4 range they cover', () => {
    expect(normaliseIpRule('::ffff:10.1.2.3')).toBe('10.1.2.3/32');
    expect(normaliseIpRule('::ffff:10.1.2.0/120')).toBe('10.1.2.0/24');
    expect(normaliseIpRule('::ffff:0:0/96')).toBe('0.0.0.0/0');
  });

  it.each([
    '127.1',
    '010.0.0.1',
    '0x7f.0.0.1',
    '1.2.3.4/33',
    '1.2.3.4/-1',
    '1.2.3.4/24/8',
    '1.2.3.4/ 24',
    '2001:db8::/129',
    '::ffff:010.1.1.1',
    'fe80::1%eth0',
    '300.1.1.1',
    'localhost',
    '',
  ])('refuses %j', (entry) => {
    expect(normaliseIpRule(entry)).toBeNull();
  });

  it('parses client addresses strictly, mapped IPv6 as IPv4', () => {
    expect(parseStrictIp('::ffff:203.0.113.9')?.toString()).toBe('203.0.113.9');
    expect(parseStrictIp('::ffff:203.0.113.9')?.kind()).toBe('ipv4');
    expect(parseStrictIp('2001:db8::9')?.kind()).toBe('ipv6');
    expect(parseStrictIp('127.1')).toBeNull();
  });

  it('accepts the text forms and arrays, naming each bad entry', () => {
    expect(IpRuleList.parse('203.0.113.0/24\n 10.0.0.1 ,2001:db8::/32\n\n')).toEqual([
      '203.0.113.0/24',
      '10.0.0.1/32',
      '2001:db8::/32',
    ]);
    expect(IpRuleList.parse(['10.0.0.1', '10.0.0.1/32'])).toEqual(['10.0.0.1/32']);
    expect(IpRuleList.parse('')).toEqual([]);
    const bad = IpRuleList.safeParse('10.0.0.0/8, 127.1, 1.2.3.4/40');
    expect(issues(bad)).toEqual([
      expect.stringMatching(/^1: "127\.1" is not an IPv4\/IPv6 address or CIDR range/),
      expect.stringMatching(/^2: "1\.2\.3\.4\/40" is not/),
    ]);
  });
});

describe('model whitelist', () => {
  it('splits, trims, keeps case and vendor prefixes, dedupes', () => {
    expect(ModelList.parse('gpt-5, GPT-5 ,anthropic/claude-opus-4-7,gpt-5')).toEqual([
      'gpt-5',
      'GPT-5',
      'anthropic/claude-opus-4-7',
    ]);
    expect(ModelList.parse(['a', ' b '])).toEqual(['a', 'b']);
  });

  it('refuses an entry with spaces inside, naming it', () => {
    expect(issues(ModelList.safeParse('gpt-5 gpt-5-mini'))).toEqual([
      expect.stringMatching(/^0: a model id contains no spaces/),
    ]);
  });
});

describe('key bodies', () => {
  it('accepts a full create body and normalises it', () => {
    const body = ApiKeyCreateBody.parse({
      name: ' prod ',
      quotaUsd: 12.5,
      expiresInDays: 0,
      rateLimits: { per5h: 10, rpm: 0, tpm: 1000 },
      ipWhitelist: '10.0.0.0/8',
      modelWhitelist: ['gpt-5'],
    });
    expect(body).toEqual({
      name: 'prod',
      quotaUsd: 12.5,
      expiresInDays: 0,
      rateLimits: { per5h: 10, rpm: 0, tpm: 1000 },
      ipWhitelist: ['10.0.0.0/8'],
      modelWhitelist: ['gpt-5'],
    });
  });

  it.each([
    [{ name: 'k', quotaUsd: -1 }, /^quotaUsd:/],
    [{ name: 'k', quotaUsd: 0.0000001 }, /^quotaUsd: a USD amount with at most 6 decimals/],
    [{ name: 'k', expiresInDays: -3 }, /^expiresInDays:/],
    [{ name: 'k', expiresInDays: 1.5 }, /^expiresInDays:/],
    [{ name: 'k', rateLimits: { per1d: -5 } }, /^rateLimits\.per1d:/],
    [{ name: 'k', rateLimits: { perHour: 5 } }, /^rateLimits: Unrecognized key/],
    [{ name: 'k', quota: 5 }, /^: Unrecognized key\(s\) in object: 'quota'/],
    [{ name: '' }, /^name:/],
    [{}, /^name: Required/],
  ])('refuses %j naming the field', (body, message) => {
    expect(issues(ApiKeyCreateBody.safeParse(body))[0]).toMatch(message);
  });

  it('takes either expiresAt or expiresInDays in a patch', () => {
    expect(ApiKeyUpdateBody.parse({ expiresAt: '2030-01-01T00:00:00Z' })).toEqual({
      expiresAt: '2030-01-01T00:00:00Z',
    });
    expect(ApiKeyUpdateBody.parse({ expiresAt: null, status: 'disabled' })).toEqual({
      expiresAt: null,
      status: 'disabled',
    });
    expect(issues(ApiKeyUpdateBody.safeParse({ expiresAt: 'tomorrow' }))[0]).toMatch(/^expiresAt:/);
    expect(issues(ApiKeyUpdateBody.safeParse({ expiresAt: null, expiresInDays: 3 }))[0]).toMatch(
      /^expiresAt: send either expiresAt or expiresInDays/,
    );
    expect(issues(ApiKeyUpdateBody.safeParse({ status: 'deleted' }))[0]).toMatch(/^status:/);
  });
});
