// Channel base URLs are set by admins, but a gateway that can be pointed at its own network is an SSRF
// tool (PITFALLS: LiteLLM #24952, #37053). Every address a channel's host resolves to must be public
// unicast, checked when the admin saves the channel and again on every new connection (so a DNS answer
// that changes later — rebinding — cannot reach inside either). ALLOW_PRIVATE_UPSTREAMS lifts the rule.

import ipaddr from 'ipaddr.js';
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';

export class UnsafeUpstreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeUpstreamError';
  }
}

/** Why an address may not be reached, or undefined when it is public unicast. */
export function forbiddenAddressReason(address: string): string | undefined {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // process() turns ::ffff:a.b.c.d into the IPv4 address it carries, so mapped loopback is caught too.
    parsed = ipaddr.process(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  } catch {
    return 'not an IP address';
  }
  const range = parsed.range();
  return range === 'unicast' ? undefined : `a ${range} address`;
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/** Checks the URL's form (http/https, no credentials in it) and every address its host resolves to. */
export async function assertSafeUpstreamUrl(raw: string, allowPrivate: boolean): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UnsafeUpstreamError('baseUrl is not a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UnsafeUpstreamError('baseUrl must be an http:// or https:// URL');
  }
  if (url.username || url.password) {
    throw new UnsafeUpstreamError('baseUrl must not carry credentials; use the credentials field');
  }
  if (url.search || url.hash) throw new UnsafeUpstreamError('baseUrl must not have a query or fragment');
  if (allowPrivate) return url;
  const host = hostOf(url);
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = (await resolveAll(host)).map((a) => a.address);
    } catch {
      throw new UnsafeUpstreamError(`baseUrl host ${host} does not resolve`);
    }
  }
  for (const address of addresses) {
    const reason = forbiddenAddressReason(address);
    if (reason) {
      throw new UnsafeUpstreamError(
        `baseUrl host ${host} resolves to a non-public address (${reason}); set ALLOW_PRIVATE_UPSTREAMS=true to allow it`,
      );
    }
  }
  return url;
}

function resolveAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for net/tls connect that refuses non-public answers, so the check holds for every
 * connection the pool opens, not only when the channel was saved. IP-literal hosts never reach a lookup;
 * `assertSafeUpstreamUrl` covers those.
 */
export function guardedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    for (const a of addresses) {
      const reason = forbiddenAddressReason(a.address);
      if (reason) {
        // The host stays out of the message: it ends up in logs and channel health.
        const refused = new UnsafeUpstreamError(
          `refused to connect: the upstream host resolves to ${reason}`,
        ) as Error & {
          code?: string;
        };
        refused.code = 'ERR_UNSAFE_UPSTREAM';
        return callback(refused, []);
      }
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first)
      return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
    callback(null, first.address, first.family);
  });
}
