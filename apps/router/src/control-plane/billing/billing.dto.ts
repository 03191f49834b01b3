import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { LedgerEntryKind, OrderStatus, TopupPresetsUsd } from '@torouter/contracts';

/**
 * OpenAPI shapes of the billing routes. Validation is done by the zod schemas in `@torouter/contracts`
 * (billing.contract.ts); these classes only document the same fields. Money is USD as JSON numbers.
 */

const iso = { type: 'string', format: 'date-time' } as const;

export class DefaultKeyLimitsDto {
  @ApiProperty({ minimum: 0, example: 0, description: 'Spend cap in USD; 0 = none' })
  quotaUsd!: number;
  @ApiProperty({ minimum: 0, example: 0, description: 'Days until a new key expires; 0 = never' })
  expiresInDays!: number;
  @ApiProperty({ minimum: 0, example: 0 })
  per5h!: number;
  @ApiProperty({ minimum: 0, example: 0 })
  per1d!: number;
  @ApiProperty({ minimum: 0, example: 0 })
  per7d!: number;
  @ApiProperty({ minimum: 0, example: 0 })
  rpm!: number;
  @ApiProperty({ minimum: 0, example: 0 })
  tpm!: number;
}

export class DefaultKeyLimitsInputDto {
  @ApiPropertyOptional({ minimum: 0 }) quotaUsd?: number;
  @ApiPropertyOptional({ minimum: 0 }) expiresInDays?: number;
  @ApiPropertyOptional({ minimum: 0 }) per5h?: number;
  @ApiPropertyOptional({ minimum: 0 }) per1d?: number;
  @ApiPropertyOptional({ minimum: 0 }) per7d?: number;
  @ApiPropertyOptional({ minimum: 0 }) rpm?: number;
  @ApiPropertyOptional({ minimum: 0 }) tpm?: number;
}

export class PlanDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'Pro' }) name!: string;
  @ApiProperty({ enum: ['payg', 'subscription'] }) kind!: string;
  @ApiProperty({ type: [String], description: "The plan's catalog (model ids); empty = every model" })
  models!: string[];
  @ApiProperty({ example: 20, description: 'Price per period (subscription plans); 0 for pay-as-you-go' })
  priceUsd!: number;
  @ApiProperty({ enum: ['day', 'week', 'month'], nullable: true }) period!: string | null;
  @ApiProperty({ description: 'Spend cap per UTC day; 0 = none' }) dailyCapUsd!: number;
  @ApiProperty({ description: 'Spend cap per ISO week (Monday 00:00 UTC); 0 = none' }) weeklyCapUsd!: number;
  @ApiProperty({ description: 'Spend cap per calendar month (UTC); 0 = none' }) monthlyCapUsd!: number;
  @ApiProperty({ type: DefaultKeyLimitsDto }) defaultKeyLimits!: DefaultKeyLimitsDto;
  @ApiProperty({ example: 10000, description: 'Usage price multiplier in basis points (10000 = list price)' })
  priceMultiplierBp!: number;
  @ApiProperty({ description: 'New accounts get this plan' }) isDefault!: boolean;
  @ApiProperty({ description: 'Takes no new subscriptions; keys on it keep working' }) archived!: boolean;
  @ApiProperty(iso) createdAt!: string;
  @ApiProperty(iso) updatedAt!: string;
}

export class CreatePlanRequestDto {
  @ApiProperty({ maxLength: 100, example: 'Pro' }) name!: string;
  @ApiProperty({ enum: ['payg', 'subscription'] }) kind!: string;
  @ApiPropertyOptional({
    type: [String],
    example: ['gpt-5', 'claude-sonnet-4-7'],
    description: 'Empty = every model',
  })
  models?: string[];
  @ApiPropertyOptional({
    example: 20,
    description: 'Required for subscription plans (0 = free); not for payg',
  })
  priceUsd?: number;
  @ApiPropertyOptional({ enum: ['day', 'week', 'month'], description: 'Required for subscription plans' })
  period?: string;
  @ApiPropertyOptional({ minimum: 0, description: '0 = none' }) dailyCapUsd?: number;
  @ApiPropertyOptional({ minimum: 0, description: '0 = none' }) weeklyCapUsd?: number;
  @ApiPropertyOptional({ minimum: 0, description: '0 = none' }) monthlyCapUsd?: number;
  @ApiPropertyOptional({ type: DefaultKeyLimitsInputDto }) defaultKeyLimits?: DefaultKeyLimitsInputDto;
  @ApiPropertyOptional({ example: 1, description: 'Usage price × this (at most 4 decimals); default 1' })
  priceMultiplier?: number;
  @ApiPropertyOptional({ description: 'Make this the plan new accounts get' }) isDefault?: boolean;
}

export class UpdatePlanRequestDto {
  @ApiPropertyOptional({ maxLength: 100 }) name?: string;
  @ApiPropertyOptional({ type: [String] }) models?: string[];
  @ApiPropertyOptional() priceUsd?: number;
  @ApiPropertyOptional({ enum: ['day', 'week', 'month'] }) period?: string;
  @ApiPropertyOptional() dailyCapUsd?: number;
  @ApiPropertyOptional() weeklyCapUsd?: number;
  @ApiPropertyOptional() monthlyCapUsd?: number;
  @ApiPropertyOptional({ type: DefaultKeyLimitsInputDto }) defaultKeyLimits?: DefaultKeyLimitsInputDto;
  @ApiPropertyOptional() priceMultiplier?: number;
  @ApiPropertyOptional({
    description: 'true makes this the default plan (the previous default loses the flag)',
  })
  isDefault?: boolean;
  @ApiPropertyOptional() archived?: boolean;
}

class UsdWindowsDto {
  @ApiProperty() dailyUsd!: number;
  @ApiProperty() weeklyUsd!: number;
  @ApiProperty() monthlyUsd!: number;
}

export class SubscriptionDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) planId!: string;
  @ApiProperty() planName!: string;
  @ApiProperty({
    enum: ['active', 'cancelled', 'expired', 'invalid'],
    description: 'invalid = a renewal could not be charged',
  })
  status!: string;
  @ApiProperty({ description: 'Granted by an administrator (no charge, no renewal)' }) granted!: boolean;
  @ApiProperty() cancelAtPeriodEnd!: boolean;
  @ApiProperty(iso) currentPeriodStart!: string;
  @ApiProperty(iso) currentPeriodEnd!: string;
  @ApiProperty(iso) createdAt!: string;
  @ApiProperty({ type: UsdWindowsDto, description: 'Spend in the current day / week / month' })
  spend!: UsdWindowsDto;
  @ApiProperty({ type: UsdWindowsDto, description: "The plan's caps (0 = none)" }) caps!: UsdWindowsDto;
}

export class BalanceDto {
  @ApiProperty({ format: 'uuid' }) accountId!: string;
  @ApiProperty({ example: 42.5 }) balanceUsd!: number;
  @ApiProperty({ example: 0.12, description: 'Held by requests in flight or not settled yet' })
  reservedUsd!: number;
  @ApiProperty({ type: [SubscriptionDto], description: 'The latest subscription per plan' })
  subscriptions!: SubscriptionDto[];
}

export class LedgerEntryDto {
  @ApiProperty() id!: string;
  @ApiProperty({
    enum: LedgerEntryKind.options,
  })
  kind!: string;
  @ApiProperty({ description: 'Credits positive, debits negative' }) amountUsd!: number;
  @ApiProperty() balanceAfterUsd!: number;
  @ApiProperty({ nullable: true, type: String, description: 'Order, subscription or request id' })
  reference!: string | null;
  @ApiProperty({ nullable: true, type: String }) note!: string | null;
  @ApiProperty(iso) createdAt!: string;
}

export class LedgerPageDto {
  @ApiProperty({ type: [LedgerEntryDto] }) data!: LedgerEntryDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `cursor` for older entries' })
  nextCursor!: string | null;
}

export class AdminCreditRequestDto {
  @ApiProperty({
    example: 25,
    description: 'USD; positive credits, negative debits (not below a zero balance)',
  })
  amountUsd!: number;
  @ApiPropertyOptional({ maxLength: 500, example: 'goodwill credit' }) note?: string;
}

export class AdminCreditResultDto {
  @ApiProperty({ type: LedgerEntryDto }) entry!: LedgerEntryDto;
  @ApiProperty({ description: 'The balance right after this entry' }) balanceUsd!: number;
  @ApiProperty({ description: 'true: this Idempotency-Key was used before; nothing moved' })
  replayed!: boolean;
}

export class TopupRequestDto {
  @ApiProperty({
    example: 50,
    description: `One of ${TopupPresetsUsd.join(', ')} USD, or a custom amount in whole cents within the configured bounds`,
  })
  amountUsd!: number;
}

export class OrderDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: OrderStatus.options }) status!: string;
  @ApiProperty({ example: 50 }) amountUsd!: number;
  @ApiProperty({ enum: ['usd'] }) currency!: string;
  @ApiProperty({ enum: ['stripe_checkout'] }) method!: string;
  @ApiProperty({ nullable: true, type: String, description: 'Where to pay, while pending (resume)' })
  checkoutUrl!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Stripe-hosted receipt once paid' })
  receiptUrl!: string | null;
  @ApiProperty() refundedUsd!: number;
  @ApiProperty({ nullable: true, type: String }) refundReason!: string | null;
  @ApiProperty({ nullable: true, type: String }) failureReason!: string | null;
  @ApiProperty({ ...iso, nullable: true }) expiresAt!: string | null;
  @ApiProperty({ ...iso, nullable: true }) paidAt!: string | null;
  @ApiProperty(iso) createdAt!: string;
  @ApiProperty(iso) updatedAt!: string;
}

export class OrderPageDto {
  @ApiProperty({ type: [OrderDto] }) data!: OrderDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class RefundRequestDto {
  @ApiProperty({ maxLength: 500, example: 'bought the wrong amount' }) reason!: string;
}

export class SubscribeRequestDto {
  @ApiProperty({ format: 'uuid' }) planId!: string;
}

export class StripeWebhookResultDto {
  @ApiProperty({ enum: [true] }) received!: boolean;
  @ApiProperty() eventId!: string;
  @ApiProperty() eventType!: string;
  @ApiProperty({ description: 'false for event types billing does not act on' }) handled!: boolean;
}
