import type { CanonicalStreamEvent } from '../canonical';
import { SseParser } from '../sse';
import { isObject, type Json } from './fields';
import { incompleteStreamError, unreadableChunkError } from './upstream-errors';
import type { UpstreamStreamDecoder } from './wire-adapter';

/**
 * The frame every upstream stream of JSON-in-SSE shares: incremental SSE parsing, one JSON parse per data
 * line (an unreadable one ends the stream with an error), and an `incomplete` error when the upstream
 * closes before its terminal event. Subclasses map each parsed object to canonical events and set
 * `finished` on their format's terminal event (or `failed` on an in-stream error).
 */
export abstract class JsonSseStreamDecoder implements UpstreamStreamDecoder {
  private readonly sse = new SseParser();
  protected finished = false;
  protected failed = false;

  push(chunk: string): CanonicalStreamEvent[] {
    const out: CanonicalStreamEvent[] = [];
    for (const event of this.sse.push(chunk)) this.read(event.data, out);
    return out;
  }

  end(): CanonicalStreamEvent[] {
    const out: CanonicalStreamEvent[] = [];
    for (const event of this.sse.end()) this.read(event.data, out);
    if (!this.finished && !this.failed) out.push(incompleteStreamError());
    return out;
  }

  /** A data line that is not JSON by design (OpenAI's `[DONE]`): return true once handled. */
  protected handleRaw(_data: string): boolean {
    return false;
  }

  /** `raw` is the data line as received, for formats that derive ids from it. */
  protected abstract handle(json: Json, out: CanonicalStreamEvent[], raw: string): void;

  private read(data: string, out: CanonicalStreamEvent[]): void {
    if (this.failed || this.handleRaw(data) || !data.trim()) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      this.failed = true;
      out.push(unreadableChunkError(data));
      return;
    }
    if (isObject(parsed)) this.handle(parsed, out, data);
  }
}
