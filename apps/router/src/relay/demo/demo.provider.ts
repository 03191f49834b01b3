// The built-in `demo` channel: answers any canonical request without a provider, deterministically, so a
// fresh install, the docs' examples and the e2e tests work offline. Usage is counted like a real provider
// would report it (about 4 characters per token), so billing runs on real numbers.

import type {
  CanonicalOutputPart,
  CanonicalRequest,
  CanonicalResponse,
  CanonicalStreamEvent,
  CanonicalTool,
  CanonicalUsage,
  StopReason,
} from '../canonical';
import { shortHash } from '../wire/fields';

const MAX_ECHO_CHARS = 200;
const TEXT_DELTAS = 8;
const REASONING_DELTAS = 4;
const CHARS_PER_TOKEN = 4;

interface DemoAnswer {
  id: string;
  reasoning?: string;
  text?: string;
  toolCall?: { id: string; name: string; arguments: string };
  stopReason: StopReason;
  usage: CanonicalUsage;
}

export class DemoProvider {
  complete(req: CanonicalRequest): CanonicalResponse & { usage: CanonicalUsage } {
    const answer = answerFor(req);
    const content: CanonicalOutputPart[] = [];
    if (answer.reasoning) content.push({ type: 'reasoning', text: answer.reasoning });
    if (answer.text) content.push({ type: 'text', text: answer.text });
    if (answer.toolCall) content.push({ type: 'tool_call', ...answer.toolCall });
    return { id: answer.id, model: req.model, content, stopReason: answer.stopReason, usage: answer.usage };
  }

  /** The same answer as `complete`, as stream events; no timers, the consumer sets the pace. */
  async *stream(req: CanonicalRequest): AsyncGenerator<CanonicalStreamEvent> {
    const answer = answerFor(req);
    yield { type: 'start', id: answer.id, model: req.model };
    for (const text of split(answer.reasoning ?? '', REASONING_DELTAS))
      yield { type: 'reasoning-delta', text };
    for (const text of split(answer.text ?? '', TEXT_DELTAS)) yield { type: 'text-delta', text };
    if (answer.toolCall) {
      const { id, name } = answer.toolCall;
      yield { type: 'tool-call-start', index: 0, id, name };
      for (const argumentsDelta of split(answer.toolCall.arguments, 2))
        yield { type: 'tool-call-delta', index: 0, argumentsDelta };
    }
    yield { type: 'usage', usage: answer.usage };
    yield { type: 'finish', stopReason: answer.stopReason };
  }
}

function answerFor(req: CanonicalRequest): DemoAnswer {
  const input = inputText(req);
  const id = `demo-${shortHash(`${req.model}\n${input}`)}`;
  const said = Array.from(lastUserText(req)).slice(0, MAX_ECHO_CHARS).join('') || '(nothing)';
  const tool = forcedTool(req);
  const answer: DemoAnswer = { id, stopReason: 'end_turn', usage: usageFor(input, '', '') };
  if (tool) {
    answer.toolCall = {
      id: `call_${id.slice(5)}`,
      name: tool.name,
      arguments: JSON.stringify(sampleArguments(tool)),
    };
    answer.stopReason = 'tool_use';
  } else {
    answer.text = `Hello from ToRouter's demo channel. You said: ${said}`;
    const cap = req.maxTokens;
    if (cap !== undefined && tokens(answer.text) > cap) {
      answer.text = answer.text.slice(0, cap * CHARS_PER_TOKEN);
      answer.stopReason = 'max_tokens';
    }
  }
  if (req.reasoning?.enabled) {
    answer.reasoning = tool
      ? `The request requires the ${tool.name} tool, so I call it.`
      : `The user said "${said}". Greeting them and repeating it is the answer.`;
  }
  answer.usage = usageFor(
    input,
    answer.reasoning ?? '',
    (answer.text ?? '') + (answer.toolCall?.arguments ?? ''),
  );
  return answer;
}

function tokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

function usageFor(input: string, reasoning: string, output: string): CanonicalUsage {
  const reasoningTokens = tokens(reasoning);
  return {
    inputTokens: tokens(input),
    outputTokens: tokens(output) + reasoningTokens,
    cacheReadTokens: 0,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
    reasoningTokens,
  };
}

/** Everything a provider would count as input: instructions, turns, tool results and tool definitions. */
function inputText(req: CanonicalRequest): string {
  const pieces: string[] = [req.system ?? ''];
  for (const message of req.messages) {
    for (const part of message.content) {
      if (part.type === 'text' || part.type === 'reasoning') pieces.push(part.text);
      else if (part.type === 'tool_call') pieces.push(part.name, part.arguments);
      else if (part.type === 'tool_result') {
        if (typeof part.content === 'string') pieces.push(part.content);
        else for (const p of part.content) if (p.type === 'text') pieces.push(p.text);
      }
    }
  }
  for (const tool of req.tools ?? [])
    pieces.push(tool.name, tool.description ?? '', JSON.stringify(tool.parameters ?? {}));
  return pieces.join('\n');
}

function lastUserText(req: CanonicalRequest): string {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const message = req.messages[i];
    if (message.role !== 'user') continue;
    const text = message.content
      .flatMap((part) => (part.type === 'text' ? [part.text] : []))
      .join(' ')
      .trim();
    if (text) return text;
  }
  return '';
}

/** The tool the request forces (tool_choice required or named); a free choice is answered with text. */
function forcedTool(req: CanonicalRequest): CanonicalTool | undefined {
  const tools = (req.tools ?? []).filter((t) => !t.builtin);
  const choice = req.toolChoice;
  if (tools.length === 0 || choice === undefined || choice === 'auto' || choice === 'none') return undefined;
  if (choice === 'required') return tools[0];
  return tools.find((t) => t.name === choice.name);
}

/** Arguments that satisfy the required properties of the tool's schema with placeholder values. */
function sampleArguments(tool: CanonicalTool): Record<string, unknown> {
  const schema = tool.parameters ?? {};
  const properties = (schema.properties ?? {}) as Record<string, { type?: unknown }>;
  const required = Array.isArray(schema.required) ? (schema.required as unknown[]) : [];
  const args: Record<string, unknown> = {};
  for (const name of required) {
    if (typeof name !== 'string') continue;
    const type = properties[name]?.type;
    args[name] =
      type === 'number' || type === 'integer'
        ? 0
        : type === 'boolean'
          ? false
          : type === 'array'
            ? []
            : type === 'object'
              ? {}
              : 'demo';
  }
  return args;
}

/** Splits text into at most `parts` pieces without cutting a character in half. */
function split(text: string, parts: number): string[] {
  const chars = Array.from(text);
  if (chars.length === 0) return [];
  const size = Math.ceil(chars.length / parts);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}
