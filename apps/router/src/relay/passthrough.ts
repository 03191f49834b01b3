// Same-format relaying: when the client and the channel speak the same wire format, the upstream's SSE
// events are written to the client byte for byte, as they arrive. Only the one event that carries the
// final usage is touched, to add `cost` (USD) as every answer of the gateway does — and OpenAI's usage
// chunk is dropped when the client did not ask for it (the gateway always asks upstream, to bill).

import type { WireFormat } from './canonical';
import { formatSse } from './sse';
import { isObject, type Json } from './wire/fields';

export interface RawSseEvent {
  /** The event exactly as received, terminator included. */
  text: string;
  /** The `event:` field ('' when absent). */
  event: string;
  /** The `data:` lines joined with '\n'. */
  data: string;
}

const BOUNDARY = /\r\n\r\n|\n\n|\r\r/g;

/** Cuts a text stream into whole SSE events without changing a byte of them. */
export class RawSseSplitter {
  private buffer = '';

  push(text: string): RawSseEvent[] {
    if (!text) return [];
    this.buffer += text;
    const out: RawSseEvent[] = [];
    let start = 0;
    BOUNDARY.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = BOUNDARY.exec(this.buffer)) !== null) {
      const end = m.index + m[0].length;
      // A CR at the very end may be the first half of a CRLF pair still on its way.
      if (m[0] === '\r\r' && end === this.buffer.length) break;
      out.push(parseRaw(this.buffer.slice(start, end)));
      start = end;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  /** What is left when the upstream closed: a last event without its blank line, if any. */
  end(): RawSseEvent[] {
    const rest = this.buffer;
    this.buffer = '';
    return rest.trim() ? [parseRaw(rest)] : [];
  }
}

function parseRaw(text: string): RawSseEvent {
  let event = '';
  const data: string[] = [];
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line.startsWith('data:')) data.push(line.slice(line.charCodeAt(5) === 32 ? 6 : 5));
    else if (line.startsWith('event:')) event = line.slice(line.charCodeAt(6) === 32 ? 7 : 6);
  }
  return { text, event, data: data.join('\n') };
}

export interface PassThroughOptions {
  /** OpenAI: the client asked for the usage chunk (`stream_options.include_usage`). */
  clientWantsUsage: boolean;
  /** The cost of the usage known after this event, in USD (called only for the final usage event). */
  costUsd: () => number | undefined;
}

/** The text to relay for one upstream event: the raw event, the usage event with `cost` added, or ''. */
export function relayPassThroughEvent(
  format: WireFormat,
  raw: RawSseEvent,
  opts: PassThroughOptions,
): string {
  switch (format) {
    case 'openai': {
      if (!raw.data.includes('"usage"')) return raw.text;
      const chunk = parse(raw.data);
      if (!chunk || !isObject(chunk.usage)) return raw.text;
      const usageOnly = Array.isArray(chunk.choices) && chunk.choices.length === 0;
      if (usageOnly && !opts.clientWantsUsage) return '';
      return withCost(chunk, chunk.usage, opts) ? formatSse(JSON.stringify(chunk)) : raw.text;
    }
    case 'anthropic': {
      if (raw.event !== 'message_delta') return raw.text;
      const event = parse(raw.data);
      if (!event || !isObject(event.usage)) return raw.text;
      return withCost(event, event.usage, opts)
        ? formatSse(JSON.stringify(event), 'message_delta')
        : raw.text;
    }
    case 'gemini': {
      if (!raw.data.includes('"finishReason"') || !raw.data.includes('"usageMetadata"')) return raw.text;
      const chunk = parse(raw.data);
      if (!chunk || !isObject(chunk.usageMetadata)) return raw.text;
      return withCost(chunk, chunk.usageMetadata, opts) ? formatSse(JSON.stringify(chunk)) : raw.text;
    }
  }
}

/** Adds `cost` to a same-format JSON answer's usage block (`usage`, or Gemini's `usageMetadata`). */
export function addCostToResponse(format: WireFormat, json: unknown, costUsd: number | undefined): void {
  if (costUsd === undefined || !isObject(json)) return;
  const usage = format === 'gemini' ? json.usageMetadata : json.usage;
  if (isObject(usage)) usage.cost = costUsd;
}

function withCost(_holder: Json, usage: Json, opts: PassThroughOptions): boolean {
  const cost = opts.costUsd();
  if (cost === undefined) return false;
  usage.cost = cost;
  return true;
}

function parse(data: string): Json | undefined {
  try {
    const value: unknown = JSON.parse(data);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
