import { DomainError, ErrorCodes } from '@torouter/contracts';

/** A position in the newest-first request log: the last row of the previous page. */
export interface LogCursor {
  createdAt: Date;
  requestId: string;
}

/** Opaque to clients: base64url of `[createdAtIso, requestId]`. */
export function encodeLogCursor(c: LogCursor): string {
  return Buffer.from(JSON.stringify([c.createdAt.toISOString(), c.requestId])).toString('base64url');
}

export function decodeLogCursor(raw: string): LogCursor {
  const invalid = () =>
    new DomainError(ErrorCodes.VALIDATION_FAILED, 'cursor: is not a cursor this API returned', {
      fields: [{ field: 'cursor', message: 'is not a cursor this API returned' }],
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'string' ||
    typeof parsed[1] !== 'string' ||
    parsed[1].length === 0 ||
    parsed[1].length > 128
  ) {
    throw invalid();
  }
  const createdAt = new Date(parsed[0]);
  if (Number.isNaN(createdAt.getTime())) throw invalid();
  return { createdAt, requestId: parsed[1] };
}
