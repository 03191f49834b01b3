import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

/**
 * OpenAPI schemas for the data plane. Proxy routes validate only what they route on and forward the rest,
 * so these schemas name the fields the gateway reads and allow any other provider parameter.
 */
export const openAiErrorEnvelope: SchemaObject = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['type', 'code', 'message'],
      properties: {
        type: { type: 'string', example: 'INVALID_API_KEY' },
        code: { type: 'string', example: 'INVALID_API_KEY' },
        message: { type: 'string' },
        param: { type: 'string', nullable: true },
      },
    },
  },
};

export const anthropicErrorEnvelope: SchemaObject = {
  type: 'object',
  required: ['type', 'error'],
  properties: {
    type: { type: 'string', enum: ['error'] },
    error: {
      type: 'object',
      required: ['type', 'message'],
      properties: { type: { type: 'string', example: 'INVALID_API_KEY' }, message: { type: 'string' } },
    },
  },
};

export const geminiErrorEnvelope: SchemaObject = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'status'],
      properties: {
        code: { type: 'integer', example: 401 },
        message: { type: 'string', example: 'INVALID_API_KEY: invalid API key' },
        status: { type: 'string', example: 'UNAUTHENTICATED' },
      },
    },
  },
};

export const controlPlaneErrorEnvelope: SchemaObject = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['type', 'code', 'message'],
      properties: { type: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } },
    },
  },
};

export const chatCompletionRequest: SchemaObject = {
  type: 'object',
  required: ['model', 'messages'],
  additionalProperties: true,
  properties: {
    model: {
      type: 'string',
      example: 'gpt-5',
      description: 'A catalog model id; a `-thinking` suffix turns reasoning on.',
    },
    messages: {
      type: 'array',
      items: {
        type: 'object',
        required: ['role'],
        additionalProperties: true,
        properties: {
          role: { type: 'string', enum: ['system', 'developer', 'user', 'assistant', 'tool'] },
          content: {
            oneOf: [
              { type: 'string' },
              { type: 'array', items: { type: 'object', additionalProperties: true } },
            ],
          },
        },
      },
    },
    stream: { type: 'boolean', default: false },
    stream_options: { type: 'object', properties: { include_usage: { type: 'boolean' } } },
    max_tokens: { type: 'integer' },
    max_completion_tokens: { type: 'integer' },
    tools: { type: 'array', items: { type: 'object', additionalProperties: true } },
    tool_choice: { oneOf: [{ type: 'string' }, { type: 'object', additionalProperties: true }] },
    response_format: { type: 'object', additionalProperties: true },
  },
};

const usageWithCost: SchemaObject = {
  type: 'object',
  additionalProperties: true,
  properties: {
    prompt_tokens: { type: 'integer' },
    completion_tokens: { type: 'integer' },
    total_tokens: { type: 'integer' },
    cost: { type: 'number', description: 'What this request cost, in USD.' },
  },
};

export const chatCompletionResponse: SchemaObject = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    object: { type: 'string', enum: ['chat.completion'] },
    created: { type: 'integer' },
    model: { type: 'string' },
    choices: { type: 'array', items: { type: 'object', additionalProperties: true } },
    usage: usageWithCost,
  },
  description:
    'With `stream: true`: `text/event-stream` of `chat.completion.chunk` objects ending with `data: [DONE]`.',
};

export const anthropicMessagesRequest: SchemaObject = {
  type: 'object',
  required: ['model', 'messages', 'max_tokens'],
  additionalProperties: true,
  properties: {
    model: { type: 'string', example: 'claude-opus-4-7' },
    max_tokens: { type: 'integer', example: 256 },
    system: {
      oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object', additionalProperties: true } }],
    },
    messages: { type: 'array', items: { type: 'object', additionalProperties: true } },
    stream: { type: 'boolean' },
    tools: { type: 'array', items: { type: 'object', additionalProperties: true } },
    thinking: { type: 'object', additionalProperties: true },
  },
};

export const anthropicMessagesResponse: SchemaObject = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    type: { type: 'string', enum: ['message'] },
    role: { type: 'string', enum: ['assistant'] },
    model: { type: 'string' },
    content: { type: 'array', items: { type: 'object', additionalProperties: true } },
    stop_reason: { type: 'string' },
    usage: { type: 'object', additionalProperties: true },
  },
  description: "With `stream: true`: Anthropic's SSE event sequence (message_start … message_stop).",
};

export const geminiGenerateContentRequest: SchemaObject = {
  type: 'object',
  required: ['contents'],
  additionalProperties: true,
  properties: {
    contents: { type: 'array', items: { type: 'object', additionalProperties: true } },
    systemInstruction: { type: 'object', additionalProperties: true },
    generationConfig: { type: 'object', additionalProperties: true },
    tools: { type: 'array', items: { type: 'object', additionalProperties: true } },
    safetySettings: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
};

export const geminiGenerateContentResponse: SchemaObject = {
  type: 'object',
  additionalProperties: true,
  properties: {
    candidates: { type: 'array', items: { type: 'object', additionalProperties: true } },
    usageMetadata: { type: 'object', additionalProperties: true },
    modelVersion: { type: 'string' },
  },
};

export const modelList: SchemaObject = {
  type: 'object',
  properties: {
    object: { type: 'string', enum: ['list'] },
    data: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          object: { type: 'string', enum: ['model'] },
          created: { type: 'integer' },
          owned_by: { type: 'string' },
        },
      },
    },
  },
};
