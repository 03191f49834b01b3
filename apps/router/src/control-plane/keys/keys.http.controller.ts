import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  UseGuards,
  applyDecorators,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  ApiKeyCreateBody,
  ApiKeyUpdateBody,
  DomainError,
  ErrorCodes,
  KeyLimitMaxima,
  Subjects,
  type ApiKeyCreated,
  type ApiKeyList,
  type ApiKeyRotated,
  type ApiKeyView,
} from '@torouter/contracts';
import { RpcClient } from '@torouter/messaging';
import { z } from 'zod';
import { controlPlaneErrorEnvelope } from '../../docs/api-schemas';
import { AccountSessionGuard, CurrentAccountId } from '../guards/account-session.guard';
import {
  ApiKeyDto,
  ApiKeyListDto,
  CreateApiKeyRequestDto,
  CreatedApiKeyDto,
  RotateApiKeyRequestDto,
  RotatedApiKeyDto,
  UpdateApiKeyRequestDto,
} from './keys.dto';
import { KeysBodyPipe } from './zod-body.pipe';

const RotateBody = z
  .object({ graceSeconds: z.number().int().min(0).max(KeyLimitMaxima.graceSeconds).default(0) })
  .strict();

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path id that cannot be a key id is simply a key that does not exist. */
function keyId(id: string): string {
  if (!uuidPattern.test(id)) throw new DomainError(ErrorCodes.NOT_FOUND, `no API key ${id.slice(0, 64)}`);
  return id.toLowerCase();
}

function Errors(errors: Record<number, string>): MethodDecorator {
  return applyDecorators(
    ...Object.entries(errors).map(([status, description]) =>
      ApiResponse({ status: Number(status), description, schema: controlPlaneErrorEnvelope }),
    ),
  );
}

const E400 = '`validation_failed`: a field is malformed (the message names the field and the entry)';
const E401 = '`unauthorized`: sign in first (Authorization: Bearer <session token>)';
const E404 = "`not_found`: no such key (another account's key id is not found either)";

/**
 * The signed-in account's API keys. The secret is returned once, at creation (and rotation); listings
 * show only the masked key. Every change is obeyed by every router replica from the next request.
 */
@ApiTags('API keys')
@ApiBearerAuth()
@UseGuards(AccountSessionGuard)
@Controller('api/v1/keys')
export class KeysHttpController {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    operationId: 'createApiKey',
    summary: 'Create a key; the full secret is in `key`, shown this once',
    description:
      "Absent fields take the plan's default key limits (the account's default plan unless `planId` is given); " +
      '0 = no cap / window off / never expires. Needs a verified, active account.',
  })
  @ApiBody({ type: CreateApiKeyRequestDto })
  @ApiResponse({ status: 201, type: CreatedApiKeyDto })
  @Errors({
    400: `${E400}; or an unknown planId`,
    401: E401,
    403: '`email_not_verified` or `account_suspended`',
    409: '`conflict`: the account already holds the maximum number of keys (500)',
    503: "`service_unavailable`: the plan's default limits cannot be read from billing right now; nothing was created",
  })
  createApiKey(
    @CurrentAccountId() accountId: string,
    @Body(new KeysBodyPipe(ApiKeyCreateBody)) body: z.output<typeof ApiKeyCreateBody>,
  ): Promise<ApiKeyCreated> {
    return this.rpc.send(Subjects.keysApiKeyCreate, { ...body, accountId, inheritPlanDefaults: true });
  }

  @Get()
  @ApiOperation({
    operationId: 'listApiKeys',
    summary: "The account's keys (never the secrets), newest first",
  })
  @ApiResponse({ status: 200, type: ApiKeyListDto })
  @Errors({ 401: E401 })
  listApiKeys(@CurrentAccountId() accountId: string): Promise<ApiKeyList> {
    return this.rpc.send(Subjects.keysApiKeyList, { accountId });
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getApiKey', summary: 'One key: limits, spend, status, expiry, last use' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, type: ApiKeyDto })
  @Errors({ 401: E401, 404: E404 })
  getApiKey(@CurrentAccountId() accountId: string, @Param('id') id: string): Promise<ApiKeyView> {
    return this.rpc.send(Subjects.keysApiKeyGet, { accountId, keyId: keyId(id) });
  }

  @Patch(':id')
  @ApiOperation({
    operationId: 'updateApiKey',
    summary: 'Change a key: name, status, any limit, list or expiry (obeyed from the next request)',
    description:
      'Only the fields sent change; rateLimits merges per window; lists are replaced (empty clears). ' +
      '`expiresInDays` counts from now; `expiresAt` sets an exact time (null = never).',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiBody({ type: UpdateApiKeyRequestDto })
  @ApiResponse({ status: 200, type: ApiKeyDto })
  @Errors({
    400: `${E400}; or an unknown planId`,
    401: E401,
    404: E404,
    503: '`service_unavailable`: a new planId cannot be checked with billing right now',
  })
  updateApiKey(
    @CurrentAccountId() accountId: string,
    @Param('id') id: string,
    @Body(new KeysBodyPipe(ApiKeyUpdateBody)) patch: z.output<typeof ApiKeyUpdateBody>,
  ): Promise<ApiKeyView> {
    return this.rpc.send(Subjects.keysApiKeyUpdate, { accountId, keyId: keyId(id), patch });
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteApiKey',
    summary: 'Delete a key: it answers 401 INVALID_API_KEY from the next request on (irreversible)',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @Errors({ 401: E401, 404: E404 })
  async deleteApiKey(@CurrentAccountId() accountId: string, @Param('id') id: string): Promise<void> {
    await this.rpc.send(Subjects.keysApiKeyDelete, { accountId, keyId: keyId(id) });
  }

  @Post(':id/rotate')
  @HttpCode(201)
  @ApiOperation({
    operationId: 'rotateApiKey',
    summary:
      'Replace a key: a new key (new id and secret, same settings); the old one works for graceSeconds more',
    description:
      'The new key keeps the old one’s settings, its request-window counters and its spend (a rotation never ' +
      'resets a cap). The old key stops working after graceSeconds (default 0: at once) and is then deleted.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiBody({ type: RotateApiKeyRequestDto, required: false })
  @ApiResponse({ status: 201, type: RotatedApiKeyDto })
  @Errors({ 400: E400, 401: E401, 404: E404 })
  rotateApiKey(
    @CurrentAccountId() accountId: string,
    @Param('id') id: string,
    @Body(new KeysBodyPipe(RotateBody)) body: z.output<typeof RotateBody>,
  ): Promise<ApiKeyRotated> {
    return this.rpc.send(Subjects.keysApiKeyRotate, {
      accountId,
      keyId: keyId(id),
      graceSeconds: body.graceSeconds,
    });
  }
}
