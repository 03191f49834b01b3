import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { DomainError, ErrorCodes } from '@torouter/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessService } from '../access/access.service';
import { CatalogCache } from '../catalog/catalog.cache';
import {
  geminiErrorEnvelope,
  geminiGenerateContentRequest,
  geminiGenerateContentResponse,
} from '../docs/api-schemas';
import { DataPlaneErrors } from '../docs/error-responses.decorator';
import { RelayService } from './relay.service';

/** The Gemini-compatible surface (base URL for Google's SDK: `<host>/v1beta`, or `<host>/api/v1beta`). */
@ApiTags('Gemini-compatible API')
@ApiSecurity('x-goog-api-key')
@DataPlaneErrors(geminiErrorEnvelope)
@Controller()
export class GeminiHttpController {
  constructor(
    private readonly relay: RelayService,
    private readonly access: AccessService,
    private readonly catalog: CatalogCache,
  ) {}

  /** `{model}:generateContent` and `{model}:streamGenerateContent` share one path segment, split here. */
  @Post(['v1beta/models/:modelAction', 'api/v1beta/models/:modelAction'])
  @HttpCode(200)
  @ApiOperation({
    operationId: 'generateContent',
    summary: 'Gemini generateContent / streamGenerateContent (alt=sse) for any catalog model',
  })
  @ApiParam({
    name: 'modelAction',
    example: 'gemini-2.5-pro:generateContent',
    description: '`{model}:generateContent`, `{model}:streamGenerateContent`',
  })
  @ApiBody({ schema: geminiGenerateContentRequest })
  @ApiOkResponse({ schema: geminiGenerateContentResponse })
  async generateContent(
    @Param('modelAction') modelAction: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const sep = modelAction.lastIndexOf(':');
    const model = sep > 0 ? modelAction.slice(0, sep) : '';
    const action = sep > 0 ? modelAction.slice(sep + 1) : '';
    if (action !== 'generateContent' && action !== 'streamGenerateContent') {
      throw new DomainError(
        ErrorCodes.NOT_FOUND,
        `unknown method ${action || modelAction}; use :generateContent or :streamGenerateContent`,
      );
    }
    await this.relay.relay('gemini', req, reply, {
      modelFromPath: model,
      streamFromPath: action === 'streamGenerateContent',
    });
  }

  @Get(['v1beta/models', 'api/v1beta/models'])
  @ApiOperation({
    operationId: 'listGeminiModels',
    summary: 'Models this API key may call, in Gemini format',
  })
  async listGeminiModels(@Req() req: FastifyRequest): Promise<unknown> {
    await this.access.authenticate(
      { headers: req.headers, query: req.query as Record<string, unknown> },
      { allowQueryKey: true },
    );
    return { models: this.catalog.listModels().map(toGeminiModel) };
  }

  @Get(['v1beta/models/:model', 'api/v1beta/models/:model'])
  @ApiOperation({ operationId: 'getGeminiModel', summary: 'One model, in Gemini format' })
  async getGeminiModel(@Req() req: FastifyRequest, @Param('model') id: string): Promise<unknown> {
    await this.access.authenticate(
      { headers: req.headers, query: req.query as Record<string, unknown> },
      { allowQueryKey: true },
    );
    const model = this.catalog.model(id);
    if (!model) throw new DomainError(ErrorCodes.MODEL_NOT_FOUND, `model ${id} is not in the catalog`);
    return toGeminiModel(model);
  }
}

function toGeminiModel(m: {
  id: string;
  contextWindow: number | null;
  maxOutputTokens: number | null;
  supportsThinking: boolean;
}): Record<string, unknown> {
  return {
    name: `models/${m.id}`,
    displayName: m.id,
    inputTokenLimit: m.contextWindow ?? undefined,
    outputTokenLimit: m.maxOutputTokens ?? undefined,
    supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'],
    thinking: m.supportsThinking,
  };
}
