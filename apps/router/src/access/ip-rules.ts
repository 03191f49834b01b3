import { parseStrictIp } from '@torouter/contracts';
import ipaddr from 'ipaddr.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** A key's IP whitelist and blacklist, parsed once per policy snapshot. */
export interface CompiledIpRules {
  allow: Range[];
  deny: Range[];
}

function compile(list: readonly string[]): Range[] {
  // The keys service stores canonical CIDRs only; anything else here would be a bug, so fail loudly.
  return list.map((cidr) => ipaddr.parseCIDR(cidr));
}

export function compileIpRules(whitelist: readonly string[], blacklist: readonly string[]): CompiledIpRules {
  return { allow: compile(whitelist), deny: compile(blacklist) };
}

function inAny(ip: ipaddr.IPv4 | ipaddr.IPv6, ranges: Range[]): boolean {
  return ranges.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits));
}

/**
 * The pages' table: both empty → anyone; whitelist set → only inside it; blacklist set → anyone outside
 * it; both → inside the whitelist and outside the blacklist. `clientIp` is Fastify's `request.ip` (the
 * socket peer, or the X-Forwarded-For entry a TRUSTED_PROXIES hop vouched for); `::ffff:a.b.c.d` is
 * matched as IPv4. An address that cannot be parsed strictly is refused whenever any rule is set.
 */
export function ipAllowed(rules: CompiledIpRules, clientIp: string): boolean {
  if (rules.allow.length === 0 && rules.deny.length === 0) return true;
  const ip = parseClientIp(clientIp);
  if (!ip) return false;
  if (inAny(ip, rules.deny)) return false;
  return rules.allow.length === 0 || inAny(ip, rules.allow);
}

/** The client address in canonical form (IPv4-mapped IPv6 as IPv4), or null when it is not an address. */
export function parseClientIp(clientIp: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  // Node reports link-local peers with a zone (`fe80::1%eth0`); the zone does not change the address.
  return parseStrictIp(clientIp.trim().replace(/%[^%]*$/, ''));
}

/** For logs and the key's "last used IP": canonical when parseable, else the raw text (bounded). */
export function displayIp(clientIp: string): string {
  return parseClientIp(clientIp)?.toString() ?? clientIp.slice(0, 64);
}
