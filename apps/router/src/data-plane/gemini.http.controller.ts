import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { DomainError, ErrorCodes } from '@torouter/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  geminiErrorEnvelope,
  geminiGenerateContentRequest,
  geminiGenerateContentResponse,
} from '../docs/api-schemas';
import { DataPlaneErrors } from '../docs/error-responses.decorator';
import { CountTokens } from './count-tokens';
import { geminiCountTokensResponse, geminiModel, geminiModelList } from './endpoint-schemas';
import { ModelListing } from './model-listing';
import { RelayService } from './relay.service';

/** The Gemini-compatible surface (base URL for Google's SDK: `<host>/v1beta`, or `<host>/api/v1beta`). */
@ApiTags('Gemini-compatible API')
@ApiSecurity('x-goog-api-key')
@DataPlaneErrors(geminiErrorEnvelope)
@Controller()
export class GeminiHttpController {
  constructor(
    private readonly relay: RelayService,
    private readonly counter: CountTokens,
    private readonly models: ModelListing,
  ) {}

  /** `{model}:generateContent` and `{model}:streamGenerateContent` share one path segment, split here. */
  @Post(['v1beta/models/:modelAction', 'api/v1beta/models/:modelAction'])
  @HttpCode(200)
  @ApiOperation({
    operationId: 'generateContent',
    summary:
      'Gemini generateContent / streamGenerateContent (alt=sse) for any catalog model; countTokens (free)',
  })
  @ApiParam({
    name: 'modelAction',
    example: 'gemini-2.5-pro:generateContent',
    description: '`{model}:generateContent`, `{model}:streamGenerateContent`, `{model}:countTokens`',
  })
  @ApiBody({ schema: geminiGenerateContentRequest })
  @ApiOkResponse({ schema: { oneOf: [geminiGenerateContentResponse, geminiCountTokensResponse] } })
  async generateContent(
    @Param('modelAction') modelAction: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const sep = modelAction.lastIndexOf(':');
    const model = sep > 0 ? modelAction.slice(0, sep) : '';
    const action = sep > 0 ? modelAction.slice(sep + 1) : '';
    if (action === 'countTokens') return this.counter.gemini(req, reply, model);
    if (action !== 'generateContent' && action !== 'streamGenerateContent') {
      throw new DomainError(
        ErrorCodes.NOT_FOUND,
        `unknown method ${action || modelAction}; use :generateContent, :streamGenerateContent or :countTokens`,
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
  @ApiOkResponse({ schema: geminiModelList })
  async listGeminiModels(@Req() req: FastifyRequest): Promise<unknown> {
    const caller = await this.relay.authenticate('gemini', req);
    return { models: (await this.models.allowed(caller)).map(toGeminiModel) };
  }

  @Get(['v1beta/models/:model', 'api/v1beta/models/:model'])
  @ApiOperation({ operationId: 'getGeminiModel', summary: 'One model, in Gemini format' })
  @ApiOkResponse({ schema: geminiModel })
  async getGeminiModel(@Req() req: FastifyRequest, @Param('model') id: string): Promise<unknown> {
    const caller = await this.relay.authenticate('gemini', req);
    const model = await this.models.find(caller, id.replace(/^models\//, ''));
    if (!model) throw new DomainError(ErrorCodes.MODEL_NOT_FOUND, `model ${id} is not available to this key`);
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
