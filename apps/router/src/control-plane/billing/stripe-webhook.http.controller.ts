import { Controller, Headers, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { DomainError, ErrorCodes, Subjects, type StripeWebhookResult } from '@torouter/contracts';
import { RpcClient } from '@torouter/messaging';
import type { FastifyRequest } from 'fastify';
import { BillingErrors } from './billing-errors';
import { StripeWebhookResultDto } from './billing.dto';
import { rawBodyOf, stripeWebhookPath } from './raw-body';

/**
 * Stripe's webhook endpoint (configure `<public base URL>/api/v1/billing/webhooks/stripe` in Stripe). No
 * session: the Stripe-Signature over the exact bytes received is the authentication, checked by billing
 * (bad → 400, nothing happens). Events are applied idempotently, so Stripe's retries are harmless.
 */
@ApiTags('Billing')
@Controller()
export class StripeWebhookHttpController {
  constructor(private readonly rpc: RpcClient) {}

  @Post(stripeWebhookPath.slice(1))
  @HttpCode(200)
  @ApiOperation({
    operationId: 'handleStripeWebhook',
    summary: "Stripe's webhook (checkout completed/expired, refunds); authenticated by Stripe-Signature",
  })
  @ApiHeader({ name: 'Stripe-Signature', required: true })
  @ApiBody({
    schema: { type: 'object', additionalProperties: true, description: 'A Stripe event, as Stripe sent it' },
  })
  @ApiResponse({ status: 200, type: StripeWebhookResultDto })
  @BillingErrors({
    400: '`validation_failed`: missing or invalid Stripe-Signature (nothing was applied)',
    503: '`service_unavailable`: webhooks are not configured or billing is unreachable (Stripe retries)',
  })
  handleStripeWebhook(
    @Req() request: FastifyRequest,
    @Headers('stripe-signature') signature: string | undefined,
  ): Promise<StripeWebhookResult> {
    const raw = rawBodyOf(request);
    if (!signature || !raw?.length)
      throw new DomainError(
        ErrorCodes.VALIDATION_FAILED,
        'Stripe-Signature: a signed Stripe event is required',
        {
          fields: [{ field: 'Stripe-Signature', message: 'missing' }],
        },
      );
    return this.rpc.send(Subjects.billingStripeWebhookHandle, { payload: raw.toString('utf8'), signature });
  }
}
