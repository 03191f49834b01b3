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

/** The resources of the OpenAI/Anthropic surfaces; under /api/v1 everything else is the control plane. */
const DATA_PLANE_V1 =
  /^\/v1\/(chat\/completions|completions|responses|embeddings|images|audio|rerank|models|messages)(\/|\?|$)/;

/**
 * Data-plane paths live under /v1, /v1beta and their /api aliases. Under /api/v1 only the data-plane
 * resources count (`/api/v1/chat/completions`, `/api/v1/models`…): `/api/v1/admin/…`, `/api/v1/keys`… are
 * the control plane and answer in its envelope.
 */
export function isDataPlaneUrl(url: string): boolean {
  if (url.startsWith('/api/')) {
    const path = url.slice(4);
    return path.startsWith('/v1beta/') || path === '/v1beta' || DATA_PLANE_V1.test(path);
  }
  return url.startsWith('/v1/') || url.startsWith('/v1beta/') || url === '/v1' || url === '/v1beta';
}
