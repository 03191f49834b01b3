// Server-sent events: a writer for the fakes (with chunk delays and mid-stream cuts) and a parser
// that tests use to read what a fake, or the router, streamed.
import type { ServerResponse } from 'node:http';
import { isWritable, sleep } from './http';

export interface SseEvent {
  /** The `event:` field, when the stream names its events (Anthropic does, OpenAI and Gemini do not). */
  event?: string;
  data: string;
}

export interface SseWriterOptions {
  signal: AbortSignal;
  chunkDelayMs?: number;
  /** Destroy the socket right after this many events have been flushed. */
  cutAfterChunks?: number;
  /** Gemini frames events with CRLF, the others with LF; clients must accept both. */
  lineEnding?: '\n' | '\r\n';
}

export class SseWriter {
  private sent = 0;
  private cut = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: SseWriterOptions,
  ) {}

  /** Sends the 200 headers. Returns false when the stream is already over (cut at 0 events). */
  start(): boolean {
    if (!isWritable(this.res)) return false;
    if (this.options.cutAfterChunks !== undefined && this.options.cutAfterChunks <= 0) {
      // Nothing at all, not even headers: the router sees a reset connection.
      this.cut = true;
      this.res.destroy();
      return false;
    }
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    this.res.flushHeaders();
    return true;
  }

  /** Writes one event. Resolves false once the stream is over (cut, client gone, server closing). */
  async send(data: string, event?: string): Promise<boolean> {
    if (!this.alive()) return false;
    const delay = this.options.chunkDelayMs ?? 0;
    if (this.sent > 0 && delay > 0) {
      if (!(await sleep(delay, this.options.signal)) || !this.alive()) return false;
    }
    const eol = this.options.lineEnding ?? '\n';
    const frame = `${event === undefined ? '' : `event: ${event}${eol}`}data: ${data}${eol}${eol}`;
    this.sent += 1;
    const cutAt = this.options.cutAfterChunks;
    if (cutAt !== undefined && this.sent >= cutAt) {
      this.cut = true;
      // Destroy only once the frame is flushed, so the client really receives exactly N events and
      // then sees the connection die without the chunked terminator (a truncated body).
      this.res.write(frame, () => this.res.destroy());
      return false;
    }
    this.res.write(frame);
    return true;
  }

  sendJson(payload: unknown, event?: string): Promise<boolean> {
    return this.send(JSON.stringify(payload), event);
  }

  end(): void {
    if (this.alive()) this.res.end();
  }

  private alive(): boolean {
    return !this.cut && !this.options.signal.aborted && isWritable(this.res);
  }
}

/** Parses an SSE body per the WHATWG rules we rely on: LF or CRLF lines, `:` comments, multi-line data. */
export function parseSse(body: string): SseEvent[] {
  const events: SseEvent[] = [];
  let event: string | undefined;
  let data: string[] = [];
  const flush = (): void => {
    if (data.length > 0)
      events.push(event === undefined ? { data: data.join('\n') } : { event, data: data.join('\n') });
    event = undefined;
    data = [];
  };
  for (const line of body.split(/\r\n|\r|\n/)) {
    if (line === '') {
      flush();
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  flush();
  return events;
}
