import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import { DomainError, ErrorCodes } from '@torouter/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  chatCompletionRequest,
  chatCompletionResponse,
  modelList,
  openAiErrorEnvelope,
} from '../docs/api-schemas';
import { DataPlaneErrors } from '../docs/error-responses.decorator';
import {
  embeddingsRequest,
  embeddingsResponse,
  imageGenerationRequest,
  imagesResponse,
  multipartImageEditRequest,
  multipartTranscriptionRequest,
  openAiModel,
  rerankRequest,
  rerankResponse,
  responsesRequest,
  responsesResponse,
  speechRequest,
  transcriptionResponse,
} from './endpoint-schemas';
import { ModelListing } from './model-listing';
import { OpenAiEndpoints } from './openai-endpoints';
import { RelayService } from './relay.service';

/** The OpenAI-compatible surface, under /v1 and /api/v1 (base URL for the OpenAI SDK: `<host>/v1`). */
@ApiTags('OpenAI-compatible API')
@ApiBearerAuth()
@DataPlaneErrors(openAiErrorEnvelope)
@Controller()
export class OpenAiHttpController {
  constructor(
    private readonly relay: RelayService,
    private readonly endpoints: OpenAiEndpoints,
    private readonly models: ModelListing,
  ) {}

  @Post(['v1/chat/completions', 'api/v1/chat/completions'])
  @HttpCode(200)
  @ApiOperation({
    operationId: 'createChatCompletion',
    summary: 'Chat completion (OpenAI format) for any catalog model, JSON or SSE stream',
  })
  @ApiBody({ schema: chatCompletionRequest })
  @ApiOkResponse({ schema: chatCompletionResponse })
  async createChatCompletion(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.relay.relay('openai', req, reply);
  }

  @Post(['v1/responses', 'api/v1/responses'])
  @HttpCode(200)
  @ApiOperation({
    operationId: 'createResponse',
    summary: 'Responses API (OpenAI format) on OpenAI-compatible channels, JSON or SSE stream',
  })
  @ApiBody({ schema: responsesRequest })
  @ApiOkResponse({ schema: responsesResponse })
  async createResponse(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.endpoints.responses(req, reply);
  }

  @Post(['v1/embeddings', 'api/v1/embeddings'])
  @HttpCode(200)
  @ApiOperation({
    operationId: 'createEmbedding',
    summary: 'Embeddings (OpenAI format) on OpenAI-compatible channels',
  })
  @ApiBody({ schema: embeddingsRequest })
  @ApiOkResponse({ schema: embeddingsResponse })
  async createEmbedding(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.endpoints.embeddings(req, reply);
  }

  @Post(['v1/images/generations', 'api/v1/images/generations'])
  @HttpCode(200)
  @ApiOperation({ operationId: 'createImage', summary: 'Image generation (OpenAI format)' })
  @ApiBody({ schema: imageGenerationRequest })
  @ApiOkResponse({ schema: imagesResponse })
  async createImage(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.endpoints.imageGenerations(req, reply);
  }

  @Post(['v1/images/edits', 'api/v1/images/edits'])
  @HttpCode(200)
  @ApiOperation({ operationId: 'editImage', summary: 'Image edit (OpenAI format, multipart upload)' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: multipartImageEditRequest })
  @ApiOkResponse({ schema: imagesResponse })
  async editImage(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.endpoints.imageEdits(req, reply);
  }

  @Post(['v1/audio/transcriptions', 'api/v1/audio/transcriptions'])
  @HttpCode(200)
  @ApiOperation({
    operationId: 'createTranscription',
    summary: 'Speech to text (OpenAI format, multipart upload)',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: multipartTranscriptionRequest })
  @ApiOkResponse({ schema: transcriptionResponse })
  async createTranscription(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.endpoints.audioTranscriptions(req, reply);
  }

  @Post(['v1/audio/speech', 'api/v1/audio/speech'])
  @HttpCode(200)
  @ApiOperation({
    operationId: 'createSpeech',
    summary: 'Text to speech (OpenAI format); answers the audio bytes',
  })
  @ApiBody({ schema: speechRequest })
  @ApiProduces('audio/mpeg', 'audio/wav', 'audio/opus', 'audio/aac', 'audio/flac', 'audio/pcm')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  async createSpeech(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.endpoints.audioSpeech(req, reply);
  }

  @Post(['v1/rerank', 'api/v1/rerank'])
  @HttpCode(200)
  @ApiOperation({
    operationId: 'createRerank',
    summary: 'Rerank documents against a query (Cohere/Jina-style API)',
  })
  @ApiBody({ schema: rerankRequest })
  @ApiOkResponse({ schema: rerankResponse })
  async createRerank(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.endpoints.rerank(req, reply);
  }

  @Get(['v1/models', 'api/v1/models'])
  @ApiOperation({ operationId: 'listModels', summary: 'Models this API key may call' })
  @ApiOkResponse({ schema: modelList })
  async listModels(@Req() req: FastifyRequest): Promise<unknown> {
    const caller = await this.relay.authenticate('openai', req);
    return { object: 'list', data: (await this.models.allowed(caller)).map(toOpenAiModel) };
  }

  @Get(['v1/models/:model', 'api/v1/models/:model'])
  @ApiOperation({ operationId: 'getModel', summary: 'One model, if this API key may call it' })
  @ApiOkResponse({ schema: openAiModel })
  async getModel(@Req() req: FastifyRequest, @Param('model') id: string): Promise<unknown> {
    const caller = await this.relay.authenticate('openai', req);
    const model = await this.models.find(caller, id);
    if (!model) throw new DomainError(ErrorCodes.MODEL_NOT_FOUND, `model ${id} is not available to this key`);
    return toOpenAiModel(model);
  }
}

function toOpenAiModel(m: { id: string; vendor: string; createdAt: Date }): Record<string, unknown> {
  return { id: m.id, object: 'model', created: Math.floor(m.createdAt.getTime() / 1000), owned_by: m.vendor };
}
