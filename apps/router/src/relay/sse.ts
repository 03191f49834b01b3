// One incremental Server-Sent Events parser and writer for every format (WHATWG "event stream
// interpretation"). Upstream bytes arrive in arbitrary chunks, so a line — or a CRLF pair — may be split
// across two pushes; the parser keeps the unfinished tail and never re-scans what it already consumed.

export interface SseEvent {
  /** The `event:` field; `message` when absent, as the spec says. */
  event: string;
  data: string;
  id?: string;
}

const LF = 10;
const CR = 13;

export class SseParser {
  private tail = '';
  /** The last push ended on CR: a LF at the start of the next push belongs to the same line break. */
  private pendingCr = false;
  private started = false;
  private eventType = '';
  private dataLines: string[] = [];
  private lastId: string | undefined;

  /** Feeds decoded text (use a streaming TextDecoder so multi-byte characters survive chunking). */
  push(chunk: string): SseEvent[] {
    const out: SseEvent[] = [];
    if (chunk === '') return out;
    let text = chunk;
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let pos = 0;
    if (this.pendingCr) {
      this.pendingCr = false;
      if (text.charCodeAt(0) === LF) pos = 1;
    }
    if (this.tail) {
      text = this.tail + text.slice(pos);
      pos = 0;
      this.tail = '';
    }
    const n = text.length;
    let cr = text.indexOf('\r', pos);
    while (pos < n) {
      let lf = text.indexOf('\n', pos);
      if (cr !== -1 && cr < pos) cr = text.indexOf('\r', pos);
      if (lf === -1 && cr === -1) break;
      if (lf === -1) lf = n;
      const end = cr !== -1 && cr < lf ? cr : lf;
      this.line(text.slice(pos, end), out);
      if (text.charCodeAt(end) === CR) {
        if (end + 1 === n) {
          this.pendingCr = true;
          pos = n;
        } else {
          pos = text.charCodeAt(end + 1) === LF ? end + 2 : end + 1;
        }
      } else {
        pos = end + 1;
      }
    }
    this.tail = text.slice(pos);
    return out;
  }

  /** Flushes a last event that the upstream did not terminate with a blank line. */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.tail) this.line(this.tail, out);
    this.tail = '';
    this.line('', out);
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.dataLines.length > 0) {
        const event: SseEvent = { event: this.eventType || 'message', data: this.dataLines.join('\n') };
        if (this.lastId !== undefined) event.id = this.lastId;
        out.push(event);
      }
      this.dataLines = [];
      this.eventType = '';
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' */) return; // comment, e.g. keep-alives
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32 /* ' ' */) value = value.slice(1);
    if (field === 'data') this.dataLines.push(value);
    else if (field === 'event') this.eventType = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
  }
}

/** Serialises one event. `data` is written as several `data:` lines if it contains line breaks. */
export function formatSse(data: string, event?: string): string {
  const head = event ? `event: ${event}\n` : '';
  if (!data.includes('\n') && !data.includes('\r')) return `${head}data: ${data}\n\n`;
  return `${head}${data
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}`)
    .join('\n')}\n\n`;
}

export const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';
