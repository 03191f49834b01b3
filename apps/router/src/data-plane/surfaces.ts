import type { WireFormat } from '../relay';

/**
 * Which client API a URL belongs to, so every error — even one raised before a handler runs (bad JSON,
 * body too large, unknown route) — is written in the envelope the caller's SDK understands.
 */
export function surfaceForUrl(url: string): WireFormat {
  const path = url.startsWith('/api/') ? url.slice(4) : url;
  if (path.startsWith('/v1beta/')) return 'gemini';
  if (path === '/v1/messages' || path.startsWith('/v1/messages/') || path.startsWith('/v1/messages?'))
    return 'anthropic';
  return 'openai';
}

/** Data-plane paths live under /v1, /v1beta and their /api aliases; everything else under /api/v1 is the control plane. */
export function isDataPlaneUrl(url: string): boolean {
  const path = url.startsWith('/api/') ? url.slice(4) : url;
  return path.startsWith('/v1/') || path.startsWith('/v1beta/') || path === '/v1' || path === '/v1beta';
}
