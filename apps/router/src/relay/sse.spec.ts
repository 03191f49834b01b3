import { formatSse, SseParser, type SseEvent } from './sse';

function parseInPieces(text: string, size: number): SseEvent[] {
  const parser = new SseParser();
  const out: SseEvent[] = [];
  for (let i = 0; i < text.length; i += size) out.push(...parser.push(text.slice(i, i + size)));
  out.push(...parser.end());
  return out;
}

describe('SseParser', () => {
  const stream =
    'event: message_start\ndata: {"type":"message_start"}\n\n' +
    ': keep-alive comment\n\n' +
    'data: {"a":1}\ndata: {"b":2}\n\n' +
    'id: 7\nevent: ping\ndata: {}\n\n' +
    'data: [DONE]\n\n';
  const expected: SseEvent[] = [
    { event: 'message_start', data: '{"type":"message_start"}' },
    { event: 'message', data: '{"a":1}\n{"b":2}' },
    { event: 'ping', data: '{}', id: '7' },
    { event: 'message', data: '[DONE]', id: '7' },
  ];

  it('yields the same events whatever the chunk boundaries', () => {
    for (let size = 1; size <= stream.length; size++) expect(parseInPieces(stream, size)).toEqual(expected);
  });

  it('accepts CRLF and lone CR line endings, even with CRLF split across chunks', () => {
    const crlf = stream.replace(/\n/g, '\r\n');
    const cr = stream.replace(/\n/g, '\r');
    for (let size = 1; size <= 12; size++) {
      expect(parseInPieces(crlf, size)).toEqual(expected);
      expect(parseInPieces(cr, size)).toEqual(expected);
    }
  });

  it('keeps multi-byte characters intact when they arrive in separate pushes', () => {
    expect(parseInPieces('data: {"t":"÷ 5 = 185 🙂"}\n\n', 1)).toEqual([
      { event: 'message', data: '{"t":"÷ 5 = 185 🙂"}' },
    ]);
  });

  it('strips a leading BOM, one space after the colon, and ignores empty-data events', () => {
    expect(parseInPieces('\uFEFFdata:x\n\ndata:  y\n\nevent: lonely\n\n', 3)).toEqual([
      { event: 'message', data: 'x' },
      { event: 'message', data: ' y' },
    ]);
  });

  it('flushes a last event the upstream did not terminate', () => {
    const parser = new SseParser();
    expect(parser.push('data: {"partial":true}')).toEqual([]);
    expect(parser.end()).toEqual([{ event: 'message', data: '{"partial":true}' }]);
  });

  it('does not treat an empty push as the LF of a CRLF pair', () => {
    const parser = new SseParser();
    expect(parser.push('data: a\r')).toEqual([]);
    expect(parser.push('')).toEqual([]);
    expect(parser.push('\n\r\n')).toEqual([{ event: 'message', data: 'a' }]);
  });
});

describe('formatSse', () => {
  it('writes an event line only when named, and one data line per line of data', () => {
    expect(formatSse('{"a":1}')).toBe('data: {"a":1}\n\n');
    expect(formatSse('{}', 'ping')).toBe('event: ping\ndata: {}\n\n');
    expect(formatSse('a\nb')).toBe('data: a\ndata: b\n\n');
  });

  it('round-trips through the parser', () => {
    const text = formatSse('x\ny', 'e') + formatSse('z');
    expect(parseInPieces(text, 2)).toEqual([
      { event: 'e', data: 'x\ny' },
      { event: 'message', data: 'z' },
    ]);
  });
});
