import { DomainError } from '@torouter/contracts';
import { decodeLogCursor, encodeLogCursor } from './log-cursor';

describe('request-log cursor', () => {
  it('round-trips the position of the last row', () => {
    const c = { createdAt: new Date('2025-03-01T12:34:56.789Z'), requestId: 'req_abc' };
    expect(decodeLogCursor(encodeLogCursor(c))).toEqual(c);
  });

  it.each([
    '',
    'not-base64!!',
    Buffer.from('{"a":1}').toString('base64url'),
    Buffer.from('["nope","x"]').toString('base64url'),
  ])('refuses %p as validation_failed naming the cursor', (raw) => {
    try {
      decodeLogCursor(raw);
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(DomainError);
      expect((e as DomainError).code).toBe('validation_failed');
      expect((e as DomainError).message).toMatch(/^cursor:/);
    }
  });
});
