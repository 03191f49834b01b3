// Provider-neutral answer planning: what to say (text or tool call), how to split it into stream
// chunks and which token counts to report. Everything is a pure function of the request and the
// behavior, so two identical requests always get byte-identical answers (apart from `created`).
import type { FakeBehavior, FakeProvider, FakeToolCall, FakeUsage } from './types';

export const DEFAULT_STREAM_CHUNKS = 16;
const USER_TEXT_PREVIEW = 40;

export type ReplyPlan =
  | { kind: 'text'; text: string; usage: Required<FakeUsage> }
  | { kind: 'tool'; call: FakeToolCall; argumentsJson: string; usage: Required<FakeUsage> };

/** A rough, deterministic stand-in for a tokenizer: about four characters per token, at least one. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/**
 * Gathers the human-readable text of a request fragment: plain strings, `text` fields of content
 * parts, and strings under `content`/`system`. Good enough for deterministic token estimates.
 */
export function collectText(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(collectText);
  if (value === null || typeof value !== 'object') return [];
  const record = value as Record<string, unknown>;
  const out: string[] = [];
  for (const key of [
    'system',
    'systemInstruction',
    'messages',
    'contents',
    'content',
    'parts',
    'text',
    'input',
  ]) {
    if (key in record) out.push(...collectText(record[key]));
  }
  return out;
}

/** Text of the last message whose role is `user` (Gemini may omit the role on user turns). */
export function lastUserText(messages: unknown, roleOptional = false): string {
  if (!Array.isArray(messages)) return '';
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message: unknown = messages[i];
    if (message === null || typeof message !== 'object') continue;
    const { role } = message as { role?: unknown };
    if (role === 'user' || (roleOptional && role === undefined)) return collectText(message).join(' ');
  }
  return '';
}

export function defaultReplyText(provider: FakeProvider, userText: string): string {
  return `Hello from fake-${provider}: ${userText.slice(0, USER_TEXT_PREVIEW)}`;
}

/** Decides the answer and its usage. `inputText` is what the prompt-side token estimate is based on. */
export function planReply(
  provider: FakeProvider,
  behavior: FakeBehavior,
  inputText: string,
  userText: string,
): ReplyPlan {
  const defaults = { inputTokens: estimateTokens(inputText) };
  if (behavior.toolCall) {
    const argumentsJson = JSON.stringify(behavior.toolCall.arguments);
    const usage = resolveUsage(behavior.usage, {
      ...defaults,
      outputTokens: estimateTokens(behavior.toolCall.name + argumentsJson),
    });
    return { kind: 'tool', call: behavior.toolCall, argumentsJson, usage };
  }
  const text = behavior.replyText ?? defaultReplyText(provider, userText);
  return {
    kind: 'text',
    text,
    usage: resolveUsage(behavior.usage, { ...defaults, outputTokens: estimateTokens(text) }),
  };
}

function resolveUsage(
  override: FakeUsage | undefined,
  defaults: { inputTokens: number; outputTokens: number },
): Required<FakeUsage> {
  return {
    inputTokens: override?.inputTokens ?? defaults.inputTokens,
    outputTokens: override?.outputTokens ?? defaults.outputTokens,
    cacheReadTokens: override?.cacheReadTokens ?? 0,
    cacheWriteTokens: override?.cacheWriteTokens ?? 0,
    reasoningTokens: override?.reasoningTokens ?? 0,
  };
}

/**
 * Splits text into at most `count` non-empty pieces of near-equal length, by code point so an
 * emoji is never torn in half. Concatenating the pieces gives back the text exactly.
 */
export function splitText(text: string, count = DEFAULT_STREAM_CHUNKS): string[] {
  const chars = Array.from(text);
  if (chars.length === 0) return [''];
  const pieces = Math.max(1, Math.min(Math.floor(count), chars.length));
  const out: string[] = [];
  for (let i = 0; i < pieces; i += 1) {
    const from = Math.floor((i * chars.length) / pieces);
    const to = Math.floor(((i + 1) * chars.length) / pieces);
    out.push(chars.slice(from, to).join(''));
  }
  return out;
}
