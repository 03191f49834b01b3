import type { CanonicalUsage } from '../canonical';
import { SseParser } from '../sse';
import { isObject } from './fields';
import type { StreamUsageSniffer } from './wire-adapter';

/** How one wire format shows usage and the end of a stream in its SSE data lines. */
export interface UsageSniffRules {
  /** True when this event's data may carry the (cumulative) usage; cheap string tests only. */
  holdsUsage(data: string): boolean;
  /** True when this event's data says the stream finished. */
  completes(data: string): boolean;
  /** Reads the usage from the parsed event that last held it. */
  usageOf(chunk: Record<string, unknown>): CanonicalUsage | undefined;
}

/**
 * For formats whose usage is cumulative (the last event that carries it holds the total): remembers that
 * event's raw data and parses it once, at the end, so a relayed stream is never re-serialised.
 */
export class LastUsageSniffer implements StreamUsageSniffer {
  private readonly sse = new SseParser();
  private lastUsageData: string | undefined;
  private completed = false;

  constructor(private readonly rules: UsageSniffRules) {}

  push(chunk: string): void {
    for (const event of this.sse.push(chunk)) this.see(event.data);
  }

  result(): { usage?: CanonicalUsage; completed: boolean } {
    for (const event of this.sse.end()) this.see(event.data);
    if (!this.lastUsageData) return { completed: this.completed };
    try {
      const chunk: unknown = JSON.parse(this.lastUsageData);
      const usage = isObject(chunk) ? this.rules.usageOf(chunk) : undefined;
      return usage ? { usage, completed: this.completed } : { completed: this.completed };
    } catch {
      return { completed: this.completed };
    }
  }

  private see(data: string): void {
    if (this.rules.completes(data)) this.completed = true;
    if (this.rules.holdsUsage(data)) this.lastUsageData = data;
  }
}
