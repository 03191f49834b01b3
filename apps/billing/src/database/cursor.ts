import { DomainError, ErrorCodes } from '@torouter/contracts';

/** Opaque keyset cursors: base64url JSON of the last row's sort key. */
export function encodeCursor(value: unknown[]): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor(
  cursor: string | undefined,
  shape: Array<'string' | 'number'>,
): unknown[] | null {
  if (cursor === undefined || cursor === '') return null;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === shape.length && value.every((v, i) => typeof v === shape[i]))
      return value;
  } catch {
    // fall through
  }
  throw new DomainError(ErrorCodes.VALIDATION_FAILED, 'cursor: not a cursor this list returned', {
    fields: [{ field: 'cursor', message: 'not a cursor this list returned' }],
  });
}
