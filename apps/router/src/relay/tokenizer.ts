// Local token counting, for the answers an upstream did not report usage for (a stream cut short, a
// provider that sends none): never bill 0 for a request that produced output. cl100k_base is a close
// enough stand-in for every vendor's tokenizer; it is loaded on first use (≈0.4 s, ≈100 MB) because
// upstreams report usage almost always. Only `js-tiktoken/lite` and the cl100k ranks are loaded, and only
// then: the package's main entry bundles every encoding's ranks (≈22 MB resident from the first require).

import type { Tiktoken } from 'js-tiktoken/lite';
import type { CanonicalRequest } from './canonical';

let encoding: Tiktoken | undefined;

/** Tokens an image costs when counted locally (OpenAI's low-detail price; vendors differ). */
const IMAGE_TOKENS = 85;
/** Framing tokens per message (role, separators), as OpenAI's cookbook counts them. */
const PER_MESSAGE_TOKENS = 3;

function loadCl100k(): Tiktoken {
  // Required on first use on purpose (see above), not imported at startup.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { Tiktoken: Encoder } = require('js-tiktoken/lite') as typeof import('js-tiktoken/lite');
  // The CommonJS build exports the ranks object itself (the ESM build as its default export).
  type Ranks = ConstructorParameters<typeof Encoder>[0];
  const ranksModule = require('js-tiktoken/ranks/cl100k_base') as Ranks | { default: Ranks };
  const ranks = 'default' in ranksModule ? ranksModule.default : ranksModule;
  /* eslint-enable @typescript-eslint/no-require-imports */
  return new Encoder(ranks);
}

export function countTextTokens(text: string): number {
  if (!text) return 0;
  encoding ??= loadCl100k();
  return encoding.encode(text, 'all').length;
}

/** Input tokens of a canonical request: system, messages, tool calls and results, tool definitions. */
export function countRequestTokens(req: CanonicalRequest): number {
  const texts: string[] = [];
  let extra = 0;
  if (req.system) texts.push(req.system);
  for (const message of req.messages) {
    extra += PER_MESSAGE_TOKENS;
    for (const part of message.content) {
      switch (part.type) {
        case 'text':
        case 'reasoning':
          texts.push(part.text);
          break;
        case 'image':
          extra += IMAGE_TOKENS;
          break;
        case 'tool_call':
          texts.push(part.name, part.arguments);
          break;
        case 'tool_result':
          if (typeof part.content === 'string') texts.push(part.content);
          else
            for (const p of part.content) {
              if (p.type === 'text') texts.push(p.text);
              else if (p.type === 'image') extra += IMAGE_TOKENS;
            }
          break;
        case 'opaque':
          texts.push(JSON.stringify(part.value));
          break;
      }
    }
  }
  for (const tool of req.tools ?? []) {
    texts.push(
      JSON.stringify({ name: tool.name, description: tool.description, parameters: tool.parameters }),
    );
  }
  return countTextTokens(texts.join('\n')) + extra;
}
