// Helpers for the fake-upstream specs: plain fetch calls plus a body reader that keeps whatever
// arrived before a connection died (needed to assert mid-stream cuts).
import { parseSse, type SseEvent } from './sse';

export interface StreamRead {
  status: number;
  headers: Headers;
  text: string;
  events: SseEvent[];
  /** Set when the body ended in an error instead of a clean end (e.g. the socket was destroyed). */
  error?: unknown;
}

export function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** Reads a whole response body chunk by chunk; a broken stream is reported, not thrown. */
export async function readStream(response: Response): Promise<StreamRead> {
  const decoder = new TextDecoder();
  let text = '';
  let error: unknown;
  const reader = response.body?.getReader();
  if (reader) {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    } catch (err) {
      error = err;
    }
  }
  text += decoder.decode();
  return { status: response.status, headers: response.headers, text, events: parseSse(text), error };
}

/** Parses every event's data as JSON (skipping OpenAI's `[DONE]` sentinel). */
export function jsonEvents(events: SseEvent[]): Record<string, unknown>[] {
  return events.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data) as Record<string, unknown>);
}
