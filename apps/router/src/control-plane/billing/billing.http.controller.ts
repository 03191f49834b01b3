import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
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
  OrderRefundBody,
  OrderStatus,
  Subjects,
  SubscriptionBody,
  TopupBody,
  type BalanceView,
  type LedgerPage,
  type OrderPage,
  type OrderView,
  type PlanView,
  type SubscriptionView,
} from '@torouter/contracts';
import { RpcClient } from '@torouter/messaging';
import { z } from 'zod';
import { AccountSessionGuard, CurrentAccountId } from '../guards/account-session.guard';
import { BillingErrors, E400, E401, E503, pathId } from './billing-errors';
import { BillingInputPipe } from './billing-input.pipe';
import {
  BalanceDto,
  LedgerPageDto,
  OrderDto,
  OrderPageDto,
  PlanDto,
  RefundRequestDto,
  SubscribeRequestDto,
  SubscriptionDto,
  TopupRequestDto,
} from './billing.dto';

const LedgerQuery = z
  .object({
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict();
const OrdersQuery = z
  .object({ status: OrderStatus.optional(), cursor: z.string().max(200).optional() })
  .strict();

const ORDER_404 = "`not_found`: no such order (another account's order is not found either)";

/**
 * The signed-in account's money: balance, ledger, top-ups and orders, plans and subscriptions. Every
 * route forwards to billing over NATS.
 */
@ApiTags('Billing')
@ApiBearerAuth()
@UseGuards(AccountSessionGuard)
@Controller('api/v1/billing')
export class BillingHttpController {
  constructor(private readonly rpc: RpcClient) {}

  @Get('balance')
  @ApiOperation({
    operationId: 'getBillingBalance',
    summary: 'The balance, what requests in flight hold of it, and the subscriptions with their spend',
  })
  @ApiResponse({ status: 200, type: BalanceDto })
  @BillingErrors({ 401: E401, 503: E503 })
  getBillingBalance(@CurrentAccountId() accountId: string): Promise<BalanceView> {
    return this.rpc.send(Subjects.billingBalanceGet, { accountId });
  }

  @Get('ledger')
  @ApiOperation({
    operationId: 'listLedgerEntries',
    summary: 'Every balance change (top-ups, refunds, credits, charges), newest first',
  })
  @ApiQuery({ name: 'cursor', required: false, description: '`nextCursor` of the previous page' })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
  })
  @ApiResponse({ status: 200, type: LedgerPageDto })
  @BillingErrors({ 400: E400, 401: E401, 503: E503 })
  listLedgerEntries(
    @CurrentAccountId() accountId: string,
    @Query(new BillingInputPipe(LedgerQuery)) query: z.output<typeof LedgerQuery>,
  ): Promise<LedgerPage> {
    return this.rpc.send(Subjects.billingLedgerList, { accountId, ...query });
  }

  @Post('topups')
  @HttpCode(201)
  @ApiOperation({
    operationId: 'createTopup',
    summary: 'Start a top-up: a pending order and the Stripe Checkout URL to pay it',
    description:
      'The balance is credited when Stripe confirms the payment (webhook), usually within seconds of paying.',
  })
  @ApiBody({ type: TopupRequestDto })
  @ApiResponse({ status: 201, type: OrderDto })
  @BillingErrors({
    400: `${E400}; or an amount outside the presets and the configured bounds`,
    401: E401,
    503: '`service_unavailable`: payments are not configured or Stripe cannot be reached; nothing was charged',
  })
  createTopup(
    @CurrentAccountId() accountId: string,
    @Body(new BillingInputPipe(TopupBody)) body: TopupBody,
  ): Promise<OrderView> {
    return this.rpc.send(Subjects.billingTopupCreate, { accountId, amountUsd: body.amountUsd });
  }

  @Get('orders')
  @ApiOperation({ operationId: 'listOrders', summary: 'Payments and refunds, newest first, 20 a page' })
  @ApiQuery({ name: 'status', required: false, enum: OrderStatus.options })
  @ApiQuery({ name: 'cursor', required: false, description: '`nextCursor` of the previous page' })
  @ApiResponse({ status: 200, type: OrderPageDto })
  @BillingErrors({ 400: E400, 401: E401, 503: E503 })
  listOrders(
    @CurrentAccountId() accountId: string,
    @Query(new BillingInputPipe(OrdersQuery)) query: z.output<typeof OrdersQuery>,
  ): Promise<OrderPage> {
    return this.rpc.send(Subjects.billingOrderList, { accountId, ...query });
  }

  @Get('orders/:id')
  @ApiOperation({
    operationId: 'getOrder',
    summary: 'One order (resume a pending checkout with its checkoutUrl)',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, type: OrderDto })
  @BillingErrors({ 401: E401, 404: ORDER_404, 503: E503 })
  getOrder(@CurrentAccountId() accountId: string, @Param('id') id: string): Promise<OrderView> {
    return this.rpc.send(Subjects.billingOrderGet, { accountId, orderId: pathId(id, 'order') });
  }

  @Post('orders/:id/cancel')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'cancelOrder',
    summary: 'Cancel a pending order (its checkout ends; nothing is charged)',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, type: OrderDto })
  @BillingErrors({
    401: E401,
    404: ORDER_404,
    409: '`conflict`: the order is not pending (paid orders cannot be cancelled)',
    503: E503,
  })
  cancelOrder(@CurrentAccountId() accountId: string, @Param('id') id: string): Promise<OrderView> {
    return this.rpc.send(Subjects.billingOrderCancel, { accountId, orderId: pathId(id, 'order') });
  }

  @Post('orders/:id/refund')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'refundOrder',
    summary: 'Refund a paid top-up to the original payment method, less what has been spent of it',
    description:
      'Spending draws on the oldest credit first, so the refundable part of a top-up is min(its amount, the ' +
      'available balance − credits received after it). The refund is debited at once; `refund_pending` until ' +
      'Stripe confirms, then `refunded`.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiBody({ type: RefundRequestDto })
  @ApiResponse({ status: 200, type: OrderDto })
  @BillingErrors({
    400: E400,
    401: E401,
    404: ORDER_404,
    409: '`conflict`: not a paid order, refunded already, or nothing is left to refund',
    503: '`service_unavailable`: Stripe could not refund right now; the balance was restored',
  })
  refundOrder(
    @CurrentAccountId() accountId: string,
    @Param('id') id: string,
    @Body(new BillingInputPipe(OrderRefundBody)) body: OrderRefundBody,
  ): Promise<OrderView> {
    return this.rpc.send(Subjects.billingOrderRefund, {
      accountId,
      orderId: pathId(id, 'order'),
      reason: body.reason,
    });
  }

  @Get('plans')
  @ApiOperation({ operationId: 'listBillingPlans', summary: 'The plans one can use or subscribe to' })
  @ApiResponse({ status: 200, type: [PlanDto] })
  @BillingErrors({ 401: E401, 503: E503 })
  listBillingPlans(): Promise<PlanView[]> {
    return this.rpc.send(Subjects.billingPlanList, { includeArchived: false });
  }

  @Get('subscriptions')
  @ApiOperation({
    operationId: 'listSubscriptions',
    summary: 'The latest subscription per plan, with spend and caps',
  })
  @ApiResponse({ status: 200, type: [SubscriptionDto] })
  @BillingErrors({ 401: E401, 503: E503 })
  listSubscriptions(@CurrentAccountId() accountId: string): Promise<SubscriptionView[]> {
    return this.rpc.send(Subjects.billingSubscriptionList, { accountId });
  }

  @Post('subscriptions')
  @HttpCode(201)
  @ApiOperation({
    operationId: 'createSubscription',
    summary: "Subscribe to a plan: its price is charged from the balance now and at each period's start",
    description:
      'A renewal the balance cannot cover leaves the subscription `invalid` (requests on it get 403).',
  })
  @ApiBody({ type: SubscribeRequestDto })
  @ApiResponse({ status: 201, type: SubscriptionDto })
  @BillingErrors({
    400: `${E400}; or a pay-as-you-go plan`,
    401: E401,
    402: '`INSUFFICIENT_BALANCE`: the balance cannot cover the price',
    404: '`not_found`: no such plan',
    409: '`conflict`: already subscribed, or the plan takes no new subscriptions',
    503: E503,
  })
  createSubscription(
    @CurrentAccountId() accountId: string,
    @Body(new BillingInputPipe(SubscriptionBody)) body: SubscriptionBody,
  ): Promise<SubscriptionView> {
    return this.rpc.send(Subjects.billingSubscriptionCreate, { accountId, planId: body.planId });
  }

  @Delete('subscriptions/:id')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'cancelSubscription',
    summary: 'Cancel at period end: no further charge; the current period stays usable',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, type: SubscriptionDto })
  @BillingErrors({
    401: E401,
    404: '`not_found`: no such subscription',
    409: '`conflict`: the subscription has ended already',
    503: E503,
  })
  cancelSubscription(
    @CurrentAccountId() accountId: string,
    @Param('id') id: string,
  ): Promise<SubscriptionView> {
    return this.rpc.send(Subjects.billingSubscriptionCancel, {
      accountId,
      subscriptionId: pathId(id, 'subscription'),
    });
  }
}
