import { Body, Controller, Get, Param, Patch, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import {
  AccountListQuery,
  AdminAccountUpdateBody,
  DomainError,
  ErrorCodes,
  Subjects,
  type AccountPage,
  type AccountView,
} from '@torouter/contracts';
import { RpcClient } from '@torouter/messaging';
import type { z } from 'zod';
import { KeyPolicyCache } from '../../access/key-policy.cache';
import { AdminGuard } from '../guards/account-session.guard';
import { AccountDto, AccountPageDto, UpdateAccountRequestDto } from './auth.dto';
import { ApiErrors, VALIDATION_400 } from './control-plane-errors';
import { ZodBodyPipe } from './zod-body.pipe';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ADMIN_401 = '`unauthorized`: send the admin token or an admin session';
const ADMIN_403 = '`forbidden`: the session is not an administrator';

function accountId(id: string): string {
  if (!uuidPattern.test(id)) throw new DomainError(ErrorCodes.NOT_FOUND, 'no such account');
  return id.toLowerCase();
}

/** Operators: every account (`Authorization: Bearer <TOROUTER_ADMIN_TOKEN>` or an admin's session). */
@ApiTags('Admin')
@ApiBearerAuth()
@Controller('api/v1/admin/accounts')
@UseGuards(AdminGuard)
export class AdminAccountsHttpController {
  constructor(
    private readonly cache: KeyPolicyCache,
    private readonly rpc: RpcClient,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'listAdminAccounts',
    summary: 'Accounts, newest first, 50 per page by default',
  })
  @ApiQuery({ name: 'email', required: false, description: 'Case-insensitive part of the email' })
  @ApiQuery({ name: 'cursor', required: false, description: '`nextCursor` of the previous page' })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  })
  @ApiResponse({ status: 200, type: AccountPageDto })
  @ApiErrors({ 400: VALIDATION_400, 401: ADMIN_401, 403: ADMIN_403 })
  listAdminAccounts(
    @Query(new ZodBodyPipe(AccountListQuery)) query: z.output<typeof AccountListQuery>,
  ): Promise<AccountPage> {
    return this.rpc.send(Subjects.authAccountList, query);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getAdminAccount', summary: 'One account' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, type: AccountDto })
  @ApiErrors({ 401: ADMIN_401, 403: ADMIN_403, 404: '`not_found`: no such account' })
  getAdminAccount(@Param('id') id: string): Promise<AccountView> {
    return this.rpc.send(Subjects.authAccountGet, { accountId: accountId(id) });
  }

  @Patch(':id')
  @ApiOperation({
    operationId: 'updateAdminAccount',
    summary:
      "Change an account's role or suspend / reinstate it (its API keys get USER_INACTIVE while suspended)",
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiBody({ type: UpdateAccountRequestDto })
  @ApiResponse({ status: 200, type: AccountDto })
  @ApiErrors({ 400: VALIDATION_400, 401: ADMIN_401, 403: ADMIN_403, 404: '`not_found`: no such account' })
  async updateAdminAccount(
    @Param('id') id: string,
    @Body(new ZodBodyPipe(AdminAccountUpdateBody)) body: AdminAccountUpdateBody,
  ): Promise<AccountView> {
    const updated = await this.rpc.send(Subjects.authAccountUpdate, { accountId: accountId(id), ...body });
    this.cache.evictAccount(updated.id);
    return updated;
  }
}
