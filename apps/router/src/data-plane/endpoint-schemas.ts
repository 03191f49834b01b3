import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

/**
 * OpenAPI schemas of the non-chat endpoints. Like chat, they name what the gateway reads (the model, the
 * text it estimates tokens from) and accept every other provider parameter, which is forwarded as sent.
 */
const open = (
  properties: Record<string, SchemaObject>,
  required: string[],
  description?: string,
): SchemaObject => ({
  type: 'object',
  required,
  additionalProperties: true,
  properties,
  ...(description ? { description } : {}),
});

const usageWithCost: SchemaObject = {
  type: 'object',
  additionalProperties: true,
  properties: { cost: { type: 'number', description: 'what the request cost, in USD' } },
};

export const responsesRequest = open(
  {
    model: { type: 'string', example: 'gpt-5' },
    input: {
      description: 'a string or a list of input items',
      oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }],
    },
    instructions: { type: 'string' },
    stream: { type: 'boolean' },
    max_output_tokens: { type: 'integer' },
  },
  ['model', 'input'],
);
export const responsesResponse = open(
  {
    id: { type: 'string' },
    object: { type: 'string', example: 'response' },
    output: { type: 'array', items: { type: 'object' } },
    usage: usageWithCost,
  },
  [],
  'A Response object; with `stream: true`, its SSE events (`response.created` … `response.completed`).',
);

export const embeddingsRequest = open(
  {
    model: { type: 'string', example: 'text-embedding-3-small' },
    input: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    dimensions: { type: 'integer' },
    encoding_format: { type: 'string', enum: ['float', 'base64'] },
  },
  ['model', 'input'],
);
export const embeddingsResponse = open(
  {
    object: { type: 'string', example: 'list' },
    data: { type: 'array', items: { type: 'object' } },
    model: { type: 'string' },
    usage: usageWithCost,
  },
  [],
);

export const imageGenerationRequest = open(
  {
    model: { type: 'string', example: 'gpt-image-1' },
    prompt: { type: 'string' },
    n: { type: 'integer' },
    size: { type: 'string' },
  },
  ['model', 'prompt'],
);
export const imagesResponse = open(
  { created: { type: 'integer' }, data: { type: 'array', items: { type: 'object' } }, usage: usageWithCost },
  [],
);

export const multipartImageEditRequest: SchemaObject = {
  type: 'object',
  required: ['model', 'image', 'prompt'],
  properties: {
    model: { type: 'string' },
    image: { type: 'string', format: 'binary' },
    mask: { type: 'string', format: 'binary' },
    prompt: { type: 'string' },
  },
};

export const multipartTranscriptionRequest: SchemaObject = {
  type: 'object',
  required: ['model', 'file'],
  properties: {
    model: { type: 'string', example: 'gpt-4o-transcribe' },
    file: { type: 'string', format: 'binary' },
    response_format: { type: 'string', enum: ['json', 'verbose_json', 'text', 'srt', 'vtt'] },
    prompt: { type: 'string' },
  },
};
export const transcriptionResponse = open({ text: { type: 'string' }, usage: usageWithCost }, []);

export const speechRequest = open(
  {
    model: { type: 'string', example: 'gpt-4o-mini-tts' },
    input: { type: 'string' },
    voice: { type: 'string' },
    response_format: { type: 'string' },
  },
  ['model', 'input', 'voice'],
);

export const rerankRequest = open(
  {
    model: { type: 'string', example: 'rerank-v3.5' },
    query: { type: 'string' },
    documents: { type: 'array', items: {} },
    top_n: { type: 'integer' },
  },
  ['model', 'query', 'documents'],
);
export const rerankResponse = open(
  { results: { type: 'array', items: { type: 'object' } }, usage: usageWithCost },
  [],
);

export const countTokensRequest = open(
  {
    model: { type: 'string', example: 'claude-opus-4-7' },
    messages: { type: 'array', items: { type: 'object' } },
    system: {},
    tools: { type: 'array', items: { type: 'object' } },
  },
  ['model', 'messages'],
);
export const countTokensResponse = open({ input_tokens: { type: 'integer' } }, ['input_tokens']);

export const geminiCountTokensResponse = open({ totalTokens: { type: 'integer' } }, ['totalTokens']);

export const geminiModel = open(
  {
    name: { type: 'string', example: 'models/gemini-2.5-pro' },
    displayName: { type: 'string' },
    inputTokenLimit: { type: 'integer' },
    outputTokenLimit: { type: 'integer' },
    supportedGenerationMethods: { type: 'array', items: { type: 'string' } },
  },
  ['name'],
);
export const geminiModelList = open({ models: { type: 'array', items: geminiModel } }, ['models']);

export const openAiModel = open(
  {
    id: { type: 'string' },
    object: { type: 'string', example: 'model' },
    created: { type: 'integer' },
    owned_by: { type: 'string' },
  },
  ['id', 'object'],
);
