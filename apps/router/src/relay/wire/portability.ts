// What cannot cross from one format to another. Customer content the target cannot express fails loudly
// (an answer that silently ignored an attachment would be billed and wrong); provider artefacts in the
// assistant's history (redacted thinking, server-tool blocks) are dropped, as they mean nothing elsewhere.

import type { CanonicalRequest, CanonicalTool, OpaquePart, WireFormat } from '../canonical';
import { UnsupportedFeatureError } from '../relay.errors';

const FORMAT_NAMES: Record<WireFormat, string> = {
  openai: 'OpenAI',
  anthropic: 'Anthropic',
  gemini: 'Gemini',
};

export function foreignPartError(
  part: OpaquePart,
  target: WireFormat,
  path: string,
): UnsupportedFeatureError {
  return new UnsupportedFeatureError(
    `\`${path}\` (${FORMAT_NAMES[part.format]} "${part.kind}") cannot be sent to ${FORMAT_NAMES[target]}-format channels`,
    path,
  );
}

/** Function tools pass everywhere; a provider's built-in tool only to its own format. */
export function portableTools(tools: CanonicalTool[] | undefined, target: WireFormat): CanonicalTool[] {
  if (!tools) return [];
  for (const tool of tools) {
    if (tool.builtin && tool.builtin.format !== target) {
      throw new UnsupportedFeatureError(
        `tool "${tool.name}" is built into ${FORMAT_NAMES[tool.builtin.format]} and cannot run on ${FORMAT_NAMES[target]}-format channels`,
        'tools',
      );
    }
  }
  return tools;
}

/**
 * Anthropic and Gemini have one system prompt, not system turns: later system messages are appended to it
 * in order, which keeps their instructions without inventing a user turn.
 */
export function combinedSystem(req: CanonicalRequest): string | undefined {
  const texts: string[] = req.system ? [req.system] : [];
  for (const message of req.messages) {
    if (message.role !== 'system') continue;
    for (const part of message.content) if (part.type === 'text' && part.text) texts.push(part.text);
  }
  return texts.length > 0 ? texts.join('\n\n') : undefined;
}

/** The extra params of the request when they were written in `format`, else nothing. */
export function sameFormatExtra(req: CanonicalRequest, format: WireFormat): Record<string, unknown> {
  return req.extra && req.extra.format === format ? { ...req.extra.params } : {};
}
