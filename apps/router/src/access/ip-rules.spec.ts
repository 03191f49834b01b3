import { compileIpRules, displayIp, ipAllowed } from './ip-rules';

describe('ipAllowed (the pages table)', () => {
  const none = compileIpRules([], []);
  const white = compileIpRules(['203.0.113.0/24', '2001:db8::/32'], []);
  const black = compileIpRules([], ['198.51.100.42/32']);
  const both = compileIpRules(['203.0.113.0/24'], ['203.0.113.7/32']);

  it('lets anyone in when both lists are empty, even an unparseable address', () => {
    expect(ipAllowed(none, '192.0.2.1')).toBe(true);
    expect(ipAllowed(none, 'garbage')).toBe(true);
  });

  it('with a whitelist, admits only addresses inside it (IPv4 and IPv6)', () => {
    expect(ipAllowed(white, '203.0.113.200')).toBe(true);
    expect(ipAllowed(white, '203.0.114.1')).toBe(false);
    expect(ipAllowed(white, '2001:db8:ffff::1')).toBe(true);
    expect(ipAllowed(white, '2001:db9::1')).toBe(false);
  });

  it('with a blacklist, refuses only addresses inside it', () => {
    expect(ipAllowed(black, '198.51.100.42')).toBe(false);
    expect(ipAllowed(black, '198.51.100.43')).toBe(true);
  });

  it('with both, needs inside the whitelist and outside the blacklist', () => {
    expect(ipAllowed(both, '203.0.113.8')).toBe(true);
    expect(ipAllowed(both, '203.0.113.7')).toBe(false);
    expect(ipAllowed(both, '10.0.0.1')).toBe(false);
  });

  it('matches ::ffff:a.b.c.d peers against IPv4 rules', () => {
    expect(ipAllowed(white, '::ffff:203.0.113.9')).toBe(true);
    expect(ipAllowed(black, '::ffff:198.51.100.42')).toBe(false);
  });

  it('refuses what cannot be parsed strictly whenever a rule is set', () => {
    expect(ipAllowed(black, '127.1')).toBe(false);
    expect(ipAllowed(white, '')).toBe(false);
  });

  it('ignores an IPv6 zone id', () => {
    expect(ipAllowed(compileIpRules(['fe80::/10'], []), 'fe80::1%eth0')).toBe(true);
  });

  it('shows addresses canonically', () => {
    expect(displayIp('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(displayIp('2001:DB8::1')).toBe('2001:db8::1');
  });
});
