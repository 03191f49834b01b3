import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ZodPayloadPipe } from '@torouter/messaging';
import { AdminGuard } from '../control-plane/guards/account-session.guard';
import { AdminErrors } from '../catalog/admin-errors.decorator';
import {
  channelListSchema,
  channelSchema,
  channelTestSchema,
  createChannelBody,
  type CreateChannelBody,
  createChannelSchema,
  updateChannelBody,
  type UpdateChannelBody,
  updateChannelSchema,
} from './channel.schemas';
import { ChannelsService, type ChannelTestResult, type ChannelView } from './channels.service';

/** Upstream channels (admin token or an admin session). Credentials are write-only. */
@ApiTags('Admin · Channels')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/v1/admin/channels')
export class ChannelsHttpController {
  constructor(private readonly channels: ChannelsService) {}

  @Post()
  @ApiOperation({ operationId: 'createChannel', summary: 'Add an upstream channel' })
  @ApiBody({ schema: createChannelSchema })
  @ApiResponse({ status: 201, schema: channelSchema })
  @AdminErrors(
    [400, '`validation_failed` (names the field; unsafe baseUrl)'],
    [401, '`unauthorized`'],
    [403, '`forbidden`'],
    [409, '`conflict`: name taken'],
  )
  createChannel(@Body(new ZodPayloadPipe(createChannelBody)) body: CreateChannelBody): Promise<ChannelView> {
    return this.channels.create(body);
  }

  @Get()
  @ApiOperation({
    operationId: 'listChannels',
    summary: 'Every channel with its health, cool-down and recent error rate',
  })
  @ApiOkResponse({ schema: channelListSchema })
  @AdminErrors([401, '`unauthorized`'], [403, '`forbidden`'])
  async listChannels(): Promise<{ data: ChannelView[] }> {
    return { data: await this.channels.list() };
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getChannel', summary: 'One channel' })
  @ApiOkResponse({ schema: channelSchema })
  @AdminErrors([401, '`unauthorized`'], [403, '`forbidden`'], [404, '`not_found`'])
  getChannel(@Param('id') id: string): Promise<ChannelView> {
    return this.channels.get(id);
  }

  @Patch(':id')
  @ApiOperation({
    operationId: 'updateChannel',
    summary: 'Change a channel (credentials are replaced when given)',
  })
  @ApiBody({ schema: updateChannelSchema })
  @ApiOkResponse({ schema: channelSchema })
  @AdminErrors(
    [400, '`validation_failed`'],
    [401, '`unauthorized`'],
    [403, '`forbidden`'],
    [404, '`not_found`'],
    [409, '`conflict`'],
  )
  updateChannel(
    @Param('id') id: string,
    @Body(new ZodPayloadPipe(updateChannelBody)) body: UpdateChannelBody,
  ): Promise<ChannelView> {
    return this.channels.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteChannel', summary: 'Remove a channel' })
  @ApiNoContentResponse()
  @AdminErrors([401, '`unauthorized`'], [403, '`forbidden`'], [404, '`not_found`'])
  async deleteChannel(@Param('id') id: string): Promise<void> {
    await this.channels.delete(id);
  }

  @Post(':id/test')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'testChannel',
    summary: "Send one short request through the channel: its latency, or the upstream's error",
  })
  @ApiQuery({ name: 'model', required: false, description: "defaults to the channel's first model" })
  @ApiOkResponse({ schema: channelTestSchema })
  @AdminErrors([401, '`unauthorized`'], [403, '`forbidden`'], [404, '`not_found`'])
  testChannel(@Param('id') id: string, @Query('model') model?: string): Promise<ChannelTestResult> {
    return this.channels.test(id, model || undefined);
  }
}
