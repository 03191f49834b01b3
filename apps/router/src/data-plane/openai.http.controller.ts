import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DomainError, ErrorCodes } from '@torouter/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessService } from '../access/access.service';
import { CatalogCache } from '../catalog/catalog.cache';
import {
  chatCompletionRequest,
  chatCompletionResponse,
  modelList,
  openAiErrorEnvelope,
} from '../docs/api-schemas';
import { DataPlaneErrors } from '../docs/error-responses.decorator';
import { RelayService } from './relay.service';

/** The OpenAI-compatible surface, under /v1 and /api/v1 (base URL for the OpenAI SDK: `<host>/v1`). */
@ApiTags('OpenAI-compatible API')
@ApiBearerAuth()
@DataPlaneErrors(openAiErrorEnvelope)
@Controller()
export class OpenAiHttpController {
  constructor(
    private readonly relay: RelayService,
    private readonly access: AccessService,
    private readonly catalog: CatalogCache,
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

  @Get(['v1/models', 'api/v1/models'])
  @ApiOperation({ operationId: 'listModels', summary: 'Models this API key may call' })
  @ApiOkResponse({ schema: modelList })
  async listModels(@Req() req: FastifyRequest): Promise<unknown> {
    await this.access.authenticate(
      { headers: req.headers, query: req.query as Record<string, unknown> },
      { allowQueryKey: false },
    );
    return { object: 'list', data: this.catalog.listModels().map(toOpenAiModel) };
  }

  @Get(['v1/models/:model', 'api/v1/models/:model'])
  @ApiOperation({ operationId: 'getModel', summary: 'One model, if this API key may call it' })
  async getModel(@Req() req: FastifyRequest, @Param('model') id: string): Promise<unknown> {
    await this.access.authenticate(
      { headers: req.headers, query: req.query as Record<string, unknown> },
      { allowQueryKey: false },
    );
    const model = this.catalog.model(id);
    if (!model) throw new DomainError(ErrorCodes.MODEL_NOT_FOUND, `model ${id} is not in the catalog`);
    return toOpenAiModel(model);
  }
}

function toOpenAiModel(m: { id: string; vendor: string; createdAt: Date }): Record<string, unknown> {
  return { id: m.id, object: 'model', created: Math.floor(m.createdAt.getTime() / 1000), owned_by: m.vendor };
}
