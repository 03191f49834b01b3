// Typed readers for untrusted JSON. Client input is checked only where the relay needs a value to route or
// translate, and a wrong type throws an InvalidRequestError that names the field (`messages[2].role`).
// Upstream input is read leniently (`num`, `str`): a provider adding or nulling a field must not fail a
// request that was already paid for.

import { InvalidRequestError } from '../relay.errors';

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function requireObject(value: unknown, path: string): Json {
  if (!isObject(value)) throw new InvalidRequestError(`\`${path}\` must be an object`, path);
  return value;
}

export function requireArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new InvalidRequestError(`\`${path}\` must be an array`, path);
  return value;
}

export function requireString(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new InvalidRequestError(`\`${path}\` must be a string`, path);
  return value;
}

export function optionalString(value: unknown, path: string): string | undefined {
  return value === undefined || value === null ? undefined : requireString(value, path);
}

export function optionalNumber(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidRequestError(`\`${path}\` must be a number`, path);
  }
  return value;
}

export function optionalInteger(value: unknown, path: string): number | undefined {
  const n = optionalNumber(value, path);
  if (n !== undefined && (!Number.isInteger(n) || n < 0)) {
    throw new InvalidRequestError(`\`${path}\` must be a non-negative integer`, path);
  }
  return n;
}

export function optionalBoolean(value: unknown, path: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new InvalidRequestError(`\`${path}\` must be a boolean`, path);
  return value;
}

/** `string | string[]` as accepted by OpenAI's `stop`. */
export function optionalStringList(value: unknown, path: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return [value];
  return requireArray(value, path).map((item, i) => requireString(item, `${path}[${i}]`));
}

/** Lenient number read for upstream payloads: anything but a finite number counts as 0. */
export function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Copies the keys of `body` that are not in `known` — the passthrough bag of `CanonicalRequest.extra`. */
export function unknownParams(body: Json, known: ReadonlySet<string>): Record<string, unknown> | undefined {
  let extra: Record<string, unknown> | undefined;
  for (const key of Object.keys(body)) {
    if (!known.has(key)) (extra ??= {})[key] = body[key];
  }
  return extra;
}

/**
 * Tool arguments travel as a JSON string in the canonical model, but Anthropic and Gemini want an object.
 * Malformed arguments (a stream cut at max_tokens) become `{}` rather than failing the whole conversation.
 */
export function parseArgumentsObject(args: string): Json {
  if (!args.trim()) return {};
  try {
    const parsed: unknown = JSON.parse(args);
    return isObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/** Deterministic short id, so translated ids are stable across retries and in tests. */
export function shortHash(text: string): string {
  // FNV-1a, 32 bit: cheap and good enough to tell requests apart; not a security boundary.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
