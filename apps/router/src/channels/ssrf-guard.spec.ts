import {
  assertSafeUpstreamUrl,
  forbiddenAddressReason,
  guardedLookup,
  UnsafeUpstreamError,
} from './ssrf-guard';

describe('SSRF guard', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.0.0.5', 'private'],
    ['172.16.3.4', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'linkLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
  ])('refuses %s (%s)', (address, range) => {
    expect(forbiddenAddressReason(address)).toContain(range);
  });

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111'])('allows public %s', (address) => {
    expect(forbiddenAddressReason(address)).toBeUndefined();
  });

  it.each([
    'http://127.0.0.1:8080/v1',
    'http://127.1/v1', // WHATWG URL normalises it to 127.0.0.1
    'http://0x7f000001/',
    'http://[::1]/',
    'http://localhost/',
    'http://[::ffff:7f00:1]/',
  ])('refuses %s', async (url) => {
    await expect(assertSafeUpstreamUrl(url, false)).rejects.toBeInstanceOf(UnsafeUpstreamError);
  });

  it('refuses credentials, queries and other schemes whatever ALLOW_PRIVATE_UPSTREAMS says', async () => {
    await expect(assertSafeUpstreamUrl('https://user:pw@api.example.com/v1', true)).rejects.toThrow(
      'credentials',
    );
    await expect(assertSafeUpstreamUrl('https://api.example.com/v1?x=1', true)).rejects.toThrow('query');
    await expect(assertSafeUpstreamUrl('file:///etc/passwd', true)).rejects.toThrow('http');
    await expect(assertSafeUpstreamUrl('http://127.0.0.1:1/v1', true)).resolves.toBeInstanceOf(URL);
  });

  it('refuses private answers at connect time (DNS rebinding)', async () => {
    const result = await new Promise<{ err: NodeJS.ErrnoException | null }>((resolve) =>
      guardedLookup('localhost', {}, (err) => resolve({ err })),
    );
    expect(result.err?.code).toBe('ERR_UNSAFE_UPSTREAM');
  });
});
