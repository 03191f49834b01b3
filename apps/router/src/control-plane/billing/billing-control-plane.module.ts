import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AdminAccountBillingHttpController, AdminPlansHttpController } from './billing-admin.http.controller';
import { BillingHttpController } from './billing.http.controller';
import { captureWebhookRawBody } from './raw-body';
import { StripeWebhookHttpController } from './stripe-webhook.http.controller';

/** The billing facade: /api/v1/billing/*, the Stripe webhook, and billing's admin routes. */
@Module({
  controllers: [
    AdminAccountBillingHttpController,
    AdminPlansHttpController,
    BillingHttpController,
    StripeWebhookHttpController,
  ],
})
export class BillingControlPlaneModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    captureWebhookRawBody(this.adapterHost.httpAdapter.getInstance<FastifyInstance>());
  }
}
