import {
  countRequestTokens,
  countTextTokens,
  emptyUsage,
  type CanonicalRequest,
  type CanonicalResponse,
  type CanonicalStreamEvent,
  type CanonicalUsage,
} from '../relay';

export type UsageSource = 'upstream' | 'estimated' | 'none';

/**
 * What one request consumed. The upstream's own usage wins when the answer completed; otherwise (a cut
 * stream, a client that left, a provider that reports nothing) the missing side is counted locally with
 * the tokenizer, so a request that produced output is never billed as 0 (PITFALLS: "Streams billed as
 * zero").
 */
export class UsageMeter {
  private upstream?: CanonicalUsage;
  private estimated?: CanonicalUsage;
  private completed = false;
  private readonly output: string[] = [];
  /** result() tokenizes in the estimated cases: computed once per change, not per call. */
  private cached?: { usage: CanonicalUsage; source: UsageSource };

  constructor(private readonly request: CanonicalRequest) {}

  /** Feeds a decoded stream event (usage, text, reasoning, tool calls). */
  observe(event: CanonicalStreamEvent): void {
    this.cached = undefined;
    switch (event.type) {
      case 'usage':
        this.upstream = event.usage;
        break;
      case 'text-delta':
      case 'reasoning-delta':
        this.output.push(event.text);
        break;
      case 'tool-call-start':
        this.output.push(event.name);
        break;
      case 'tool-call-delta':
        this.output.push(event.argumentsDelta);
        break;
      case 'finish':
        this.completed = true;
        break;
      default:
        break;
    }
  }

  /** A complete JSON answer (translated, or decoded only to count a same-format answer without usage). */
  observeResponse(res: CanonicalResponse): void {
    this.cached = undefined;
    for (const part of res.content) {
      if (part.type === 'tool_call') this.output.push(part.name, part.arguments);
      else this.output.push(part.text);
    }
    if (res.usage) this.upstream = res.usage;
    this.completed = true;
  }

  /** Same-format JSON answer whose usage was read without decoding the whole body. */
  setUpstreamUsage(usage: CanonicalUsage | undefined): void {
    this.cached = undefined;
    if (usage) this.upstream = usage;
    this.completed = true;
  }

  /** A local count for an answer whose upstream reported no usage (speech, some rerankers, images). */
  setEstimatedUsage(usage: CanonicalUsage): void {
    this.cached = undefined;
    this.estimated = usage;
    this.completed = true;
  }

  get hasOutput(): boolean {
    return this.output.some((t) => t.length > 0);
  }

  get hasUpstreamUsage(): boolean {
    return this.upstream !== undefined || this.estimated !== undefined;
  }

  /** The usage to bill, and where it came from. */
  result(): { usage: CanonicalUsage; source: UsageSource } {
    this.cached ??= this.compute();
    return { usage: { ...this.cached.usage }, source: this.cached.source };
  }

  private compute(): { usage: CanonicalUsage; source: UsageSource } {
    const produced = this.hasOutput;
    if (this.upstream && this.completed) {
      const usage = { ...this.upstream };
      // An upstream that reports 0 output for a non-empty answer is counted locally, never billed as free.
      if (produced && usage.outputTokens === 0) {
        usage.outputTokens = Math.max(1, countTextTokens(this.output.join('')));
        return { usage, source: 'estimated' };
      }
      return { usage, source: 'upstream' };
    }
    if (this.estimated && !this.upstream) return { usage: { ...this.estimated }, source: 'estimated' };
    // Nothing reached the client: an attempt that failed or was abandoned before any output costs nothing.
    if (!produced) return { usage: emptyUsage(), source: 'none' };
    const usage = this.upstream ? { ...this.upstream } : emptyUsage();
    if (!this.upstream) usage.inputTokens = countRequestTokens(this.request);
    usage.outputTokens = Math.max(usage.outputTokens, countTextTokens(this.output.join('')), 1);
    return { usage, source: 'estimated' };
  }
}
