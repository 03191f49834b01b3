import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import {
  AdminCreditBody,
  DomainError,
  ErrorCodes,
  PlanCreateRequest,
  PlanPatch,
  Subjects,
  SubscriptionBody,
  type AdminCreditResult,
  type BalanceView,
  type LedgerPage,
  type PlanView,
  type SubscriptionView,
} from '@torouter/contracts';
import { RpcClient } from '@torouter/messaging';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { AdminGuard } from '../guards/account-session.guard';
import { ADMIN_401, ADMIN_403, BillingErrors, E400, E503, pathId } from './billing-errors';
import { BillingInputPipe } from './billing-input.pipe';
import {
  AdminCreditRequestDto,
  AdminCreditResultDto,
  BalanceDto,
  CreatePlanRequestDto,
  LedgerPageDto,
  PlanDto,
  SubscribeRequestDto,
  SubscriptionDto,
  UpdatePlanRequestDto,
} from './billing.dto';

const PlanListQuery = z
  .object({
    includeArchived: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
  })
  .strict();
const LedgerQuery = z
  .object({
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict();
const IdempotencyKey = z
  .string({ required_error: 'required: a unique key per credit (a retry with the same key moves no money)' })
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

const PLAN_404 = '`not_found`: no such plan';
const ACCOUNT_404 = '`not_found`: no such account';

/** Operators: plans (the pages' "groups"). */
@ApiTags('Admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/v1/admin/plans')
export class AdminPlansHttpController {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    operationId: 'createPlan',
    summary: 'Create a plan: pay-as-you-go (usage from the balance) or subscription (price per period, caps)',
  })
  @ApiBody({ type: CreatePlanRequestDto })
  @ApiResponse({ status: 201, type: PlanDto })
  @BillingErrors({
    400: E400,
    401: ADMIN_401,
    403: ADMIN_403,
    409: '`conflict`: a plan has this name',
    503: E503,
  })
  createPlan(@Body(new BillingInputPipe(PlanCreateRequest)) body: PlanCreateRequest): Promise<PlanView> {
    return this.rpc.send(Subjects.billingPlanCreate, body);
  }

  @Get()
  @ApiOperation({ operationId: 'listPlans', summary: 'Every plan (archived ones on request)' })
  @ApiQuery({ name: 'includeArchived', required: false, schema: { type: 'boolean', default: false } })
  @ApiResponse({ status: 200, type: [PlanDto] })
  @BillingErrors({ 400: E400, 401: ADMIN_401, 403: ADMIN_403, 503: E503 })
  listPlans(
    @Query(new BillingInputPipe(PlanListQuery)) query: z.output<typeof PlanListQuery>,
  ): Promise<PlanView[]> {
    return this.rpc.send(Subjects.billingPlanList, query);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getPlan', summary: 'One plan' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, type: PlanDto })
  @BillingErrors({ 401: ADMIN_401, 403: ADMIN_403, 404: PLAN_404, 503: E503 })
  async getPlan(@Param('id') id: string): Promise<PlanView> {
    const plan = await this.rpc.send(Subjects.billingPlanGet, { planId: pathId(id, 'plan') });
    if (!plan) throw new DomainError(ErrorCodes.NOT_FOUND, `no plan ${id}`);
    return plan;
  }

  @Patch(':id')
  @ApiOperation({
    operationId: 'updatePlan',
    summary: 'Change a plan (every router obeys it from the next request); the kind never changes',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiBody({ type: UpdatePlanRequestDto })
  @ApiResponse({ status: 200, type: PlanDto })
  @BillingErrors({
    400: E400,
    401: ADMIN_401,
    403: ADMIN_403,
    404: PLAN_404,
    409: '`conflict`: a plan has this name',
    503: E503,
  })
  updatePlan(
    @Param('id') id: string,
    @Body(new BillingInputPipe(PlanPatch)) patch: PlanPatch,
  ): Promise<PlanView> {
    return this.rpc.send(Subjects.billingPlanUpdate, { planId: pathId(id, 'plan'), patch });
  }
}

/** Operators: an account's money (credits/debits, granted subscriptions, balance and ledger). */
@ApiTags('Admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/v1/admin/accounts')
export class AdminAccountBillingHttpController {
  constructor(private readonly rpc: RpcClient) {}

  /** Billing keeps no account list of its own: auth says whether the account exists. */
  private async existingAccount(id: string): Promise<string> {
    const accountId = pathId(id, 'account');
    const status = await this.rpc.send(Subjects.authAccountStatusGet, { accountId });
    if (!status.exists) throw new DomainError(ErrorCodes.NOT_FOUND, `no account ${accountId}`);
    return accountId;
  }

  @Post(':id/credits')
  @HttpCode(201)
  @ApiOperation({
    operationId: 'createAccountCredit',
    summary: 'Credit (positive) or debit (negative) an account, idempotently',
    description:
      'A retry with the same Idempotency-Key and body answers the first result (header `Idempotent-Replayed: ' +
      'true`) and moves no money; the same key with another body is a 409.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: true,
    description: 'Unique per credit, ≤ 255 printable characters',
  })
  @ApiBody({ type: AdminCreditRequestDto })
  @ApiResponse({ status: 201, type: AdminCreditResultDto })
  @BillingErrors({
    400: `${E400}; or no Idempotency-Key header`,
    401: ADMIN_401,
    402: '`INSUFFICIENT_BALANCE`: a debit larger than the balance',
    403: ADMIN_403,
    404: ACCOUNT_404,
    409: '`conflict`: this Idempotency-Key was used for a different request',
    503: E503,
  })
  async createAccountCredit(
    @Param('id') id: string,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Body(new BillingInputPipe(AdminCreditBody)) body: z.output<typeof AdminCreditBody>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AdminCreditResult> {
    const key = IdempotencyKey.safeParse(idempotencyKey);
    if (!key.success) {
      const message = key.error.issues[0]?.message ?? 'invalid';
      throw new DomainError(ErrorCodes.VALIDATION_FAILED, `Idempotency-Key: ${message}`, {
        fields: [{ field: 'Idempotency-Key', message }],
      });
    }
    const accountId = await this.existingAccount(id);
    const result = await this.rpc.send(Subjects.billingCreditCreate, {
      accountId,
      idempotencyKey: key.data,
      amountUsd: body.amountUsd,
      note: body.note,
    });
    if (result.replayed) void reply.header('idempotent-replayed', 'true');
    return result;
  }

  @Post(':id/subscriptions')
  @HttpCode(201)
  @ApiOperation({
    operationId: 'grantSubscription',
    summary: 'Grant a subscription without charge (one period; it does not renew)',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiBody({ type: SubscribeRequestDto })
  @ApiResponse({ status: 201, type: SubscriptionDto })
  @BillingErrors({
    400: `${E400}; or a pay-as-you-go plan`,
    401: ADMIN_401,
    403: ADMIN_403,
    404: '`not_found`: no such account or plan',
    409: '`conflict`: the account has an active subscription to this plan',
    503: E503,
  })
  async grantSubscription(
    @Param('id') id: string,
    @Body(new BillingInputPipe(SubscriptionBody)) body: SubscriptionBody,
  ): Promise<SubscriptionView> {
    const accountId = await this.existingAccount(id);
    return this.rpc.send(Subjects.billingSubscriptionGrant, { accountId, planId: body.planId });
  }

  @Get(':id/billing')
  @ApiOperation({
    operationId: 'getAccountBilling',
    summary: "An account's balance, reservations and subscriptions",
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, type: BalanceDto })
  @BillingErrors({ 401: ADMIN_401, 403: ADMIN_403, 404: ACCOUNT_404, 503: E503 })
  async getAccountBilling(@Param('id') id: string): Promise<BalanceView> {
    return this.rpc.send(Subjects.billingBalanceGet, { accountId: await this.existingAccount(id) });
  }

  @Get(':id/ledger')
  @ApiOperation({ operationId: 'listAccountLedger', summary: "An account's ledger, newest first" })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiQuery({ name: 'cursor', required: false })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
  })
  @ApiResponse({ status: 200, type: LedgerPageDto })
  @BillingErrors({ 400: E400, 401: ADMIN_401, 403: ADMIN_403, 404: ACCOUNT_404, 503: E503 })
  async listAccountLedger(
    @Param('id') id: string,
    @Query(new BillingInputPipe(LedgerQuery)) query: z.output<typeof LedgerQuery>,
  ): Promise<LedgerPage> {
    return this.rpc.send(Subjects.billingLedgerList, { accountId: await this.existingAccount(id), ...query });
  }
}
