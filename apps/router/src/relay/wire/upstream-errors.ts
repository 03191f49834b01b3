// Shared pieces for reading a provider's error body and for the errors a stream decoder reports itself.

import type { CanonicalStreamEvent } from '../canonical';

/** The JSON of an error body, or undefined when the upstream (or a proxy in front of it) sent text/HTML. */
export function parseErrorBody(bodyText: string): unknown {
  try {
    return JSON.parse(bodyText);
  } catch {
    return undefined;
  }
}

const MAX_MESSAGE = 500;

export function fallbackErrorMessage(status: number, bodyText: string): string {
  const text = bodyText.trim();
  if (!text) return `upstream returned HTTP ${status}`;
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}

/** The OpenAI/Anthropic style type for a status, used when the body names none. */
export function errorTypeForStatus(status: number): string {
  if (status === 400) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 529 || status === 503) return 'overloaded_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

/** The upstream closed the connection without its terminal event: a truncated answer, never a clean end. */
export function incompleteStreamError(): CanonicalStreamEvent {
  return {
    type: 'error',
    status: 502,
    errorType: 'upstream_stream_incomplete',
    message: 'the upstream closed the stream before the answer finished',
  };
}

export function unreadableChunkError(data: string): CanonicalStreamEvent {
  return {
    type: 'error',
    status: 502,
    errorType: 'upstream_invalid_response',
    message: `the upstream sent a stream event that is not JSON: ${data.slice(0, 100)}`,
  };
}
