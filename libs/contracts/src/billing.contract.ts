import { z } from 'zod';
import { Subjects } from './subjects';

const uuid = z.string().uuid();

/**
 * What other services ask billing. The router caches plan and access snapshots in memory (no NATS per
 * request) and reloads on `billing.account-access.changed.v1`.
 */

/** Default limits a new key of this plan takes (0 = no cap / window off / never expires). */
export const DefaultKeyLimits = z.object({
  quotaUsd: z.number().min(0).default(0),
  expiresInDays: z.number().int().min(0).default(0),
  per5h: z.number().int().min(0).default(0),
  per1d: z.number().int().min(0).default(0),
  per7d: z.number().int().min(0).default(0),
  rpm: z.number().int().min(0).default(0),
  tpm: z.number().int().min(0).default(0),
});
export type DefaultKeyLimits = z.infer<typeof DefaultKeyLimits>;

export interface PlanView {
  id: string;
  name: string;
  kind: 'payg' | 'subscription';
  /** The plan's catalog; empty = every model. */
  models: string[];
  priceUsd: number;
  period: 'day' | 'week' | 'month' | null;
  dailyCapUsd: number;
  weeklyCapUsd: number;
  monthlyCapUsd: number;
  defaultKeyLimits: DefaultKeyLimits;
  /** 10000 = ×1. */
  priceMultiplierBp: number;
  isDefault: boolean;
}

export const PlanGetRequest = z.object({ planId: z.string().min(1) });
export type PlanGetRequest = z.infer<typeof PlanGetRequest>;

export const AccountDefaultPlanRequest = z.object({ accountId: uuid });
export type AccountDefaultPlanRequest = z.infer<typeof AccountDefaultPlanRequest>;

export const BalanceGetRequest = z.object({ accountId: uuid });
export type BalanceGetRequest = z.infer<typeof BalanceGetRequest>;
export interface BalanceView {
  accountId: string;
  balanceUsd: number;
  reservedUsd: number;
}

export interface BillingRpcContracts {
  [Subjects.billingPlanGet]: { request: PlanGetRequest; response: PlanView | null };
  [Subjects.billingAccountDefaultPlanGet]: { request: AccountDefaultPlanRequest; response: PlanView };
  [Subjects.billingBalanceGet]: { request: BalanceGetRequest; response: BalanceView };
}
