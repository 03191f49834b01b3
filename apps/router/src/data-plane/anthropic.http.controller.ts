import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  anthropicErrorEnvelope,
  anthropicMessagesRequest,
  anthropicMessagesResponse,
} from '../docs/api-schemas';
import { DataPlaneErrors } from '../docs/error-responses.decorator';
import { RelayService } from './relay.service';

/** The Anthropic-compatible surface (base URL for the Anthropic SDK: the host root, or `<host>/api`). */
@ApiTags('Anthropic-compatible API')
@ApiSecurity('x-api-key')
@DataPlaneErrors(anthropicErrorEnvelope)
@Controller()
export class AnthropicHttpController {
  constructor(private readonly relay: RelayService) {}

  @Post(['v1/messages', 'api/v1/messages'])
  @HttpCode(200)
  @ApiOperation({
    operationId: 'createMessage',
    summary: 'Messages API (Anthropic format) for any catalog model, JSON or SSE',
  })
  @ApiHeader({ name: 'anthropic-version', required: false, example: '2023-06-01' })
  @ApiBody({ schema: anthropicMessagesRequest })
  @ApiOkResponse({ schema: anthropicMessagesResponse })
  async createMessage(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.relay.relay('anthropic', req, reply);
  }
}
