import { Module } from '@nestjs/common';
import { BillingAccountsRepository } from './accounts/billing-accounts.repository';
import { LedgerNatsController } from './ledger/ledger.nats.controller';
import { LedgerRepository } from './ledger/ledger.repository';
import { LedgerService } from './ledger/ledger.service';
import { OrdersNatsController } from './orders/orders.nats.controller';
import { OrdersRepository } from './orders/orders.repository';
import { OrdersService } from './orders/orders.service';
import { PaymentProvider } from './orders/payment-provider';
import { StripePaymentProvider } from './orders/stripe-payment.provider';
import { PlansNatsController } from './plans/plans.nats.controller';
import { PlansRepository } from './plans/plans.repository';
import { PlansService } from './plans/plans.service';
import { KeysClient } from './settlement/keys.client';
import { SettlementQueue } from './settlement/settlement.queue';
import { SettlementService } from './settlement/settlement.service';
import { UsageSettlementsRepository } from './settlement/usage-settlements.repository';
import { SpendStateNatsController } from './spend-state/spend-state.nats.controller';
import { SpendStateService } from './spend-state/spend-state.service';
import { SpendRepository } from './spend-state/spend.repository';
import { SubscriptionRenewalService } from './subscriptions/subscription-renewal.service';
import { SubscriptionsNatsController } from './subscriptions/subscriptions.nats.controller';
import { SubscriptionsRepository } from './subscriptions/subscriptions.repository';
import { SubscriptionsService } from './subscriptions/subscriptions.service';

/**
 * Money: plans, the ledger and balances, top-ups and orders (Stripe), subscriptions and their renewal,
 * the spend counters the routers check in Redis, and the settlement of usage events.
 */
@Module({
  controllers: [
    LedgerNatsController,
    OrdersNatsController,
    PlansNatsController,
    SpendStateNatsController,
    SubscriptionsNatsController,
  ],
  providers: [
    BillingAccountsRepository,
    KeysClient,
    LedgerRepository,
    LedgerService,
    OrdersRepository,
    OrdersService,
    { provide: PaymentProvider, useClass: StripePaymentProvider },
    PlansRepository,
    PlansService,
    SettlementQueue,
    SettlementService,
    SpendRepository,
    SpendStateService,
    SubscriptionRenewalService,
    SubscriptionsRepository,
    SubscriptionsService,
    UsageSettlementsRepository,
  ],
})
export class BillingModule {}
