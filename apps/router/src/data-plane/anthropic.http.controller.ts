import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  anthropicErrorEnvelope,
  anthropicMessagesRequest,
  anthropicMessagesResponse,
} from '../docs/api-schemas';
import { DataPlaneErrors } from '../docs/error-responses.decorator';
import { CountTokens } from './count-tokens';
import { countTokensRequest, countTokensResponse } from './endpoint-schemas';
import { RelayService } from './relay.service';

/** The Anthropic-compatible surface (base URL for the Anthropic SDK: the host root, or `<host>/api`). */
@ApiTags('Anthropic-compatible API')
@ApiSecurity('x-api-key')
@DataPlaneErrors(anthropicErrorEnvelope)
@Controller()
export class AnthropicHttpController {
  constructor(
    private readonly relay: RelayService,
    private readonly counter: CountTokens,
  ) {}

  @Post(['v1/messages', 'api/v1/messages'])
  @HttpCode(200)
  @ApiOperation({
    operationId: 'createMessage',
    summary: 'Messages API (Anthropic format) for any catalog model, JSON or SSE',
  })
  @ApiHeader({ name: 'anthropic-version', required: false, example: '2023-06-01' })
  @ApiHeader({ name: 'anthropic-beta', required: false, description: 'forwarded to Anthropic channels' })
  @ApiBody({ schema: anthropicMessagesRequest })
  @ApiOkResponse({ schema: anthropicMessagesResponse })
  async createMessage(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.relay.relay('anthropic', req, reply);
  }

  @Post(['v1/messages/count_tokens', 'api/v1/messages/count_tokens'])
  @HttpCode(200)
  @ApiOperation({
    operationId: 'countMessageTokens',
    summary: "Input tokens of a Messages request (the provider's count, or the gateway's tokenizer); free",
  })
  @ApiBody({ schema: countTokensRequest })
  @ApiOkResponse({ schema: countTokensResponse })
  async countMessageTokens(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.counter.anthropic(req, reply);
  }
}
