import { Injectable } from '@nestjs/common';
import type { OrderStatus } from '@torouter/contracts';
import { DataSource } from 'typeorm';
import { int, isUuid, one, rows, type Sql } from '../database/sql';

export interface Order {
  id: string;
  accountId: string;
  amountMicro: number;
  status: OrderStatus;
  checkoutSessionId: string | null;
  checkoutUrl: string | null;
  paymentIntentId: string | null;
  receiptUrl: string | null;
  creditedMicro: number;
  refundedMicro: number;
  refundId: string | null;
  refundAttemptId: string | null;
  refundReason: string | null;
  failureReason: string | null;
  expiresAt: Date | null;
  paidAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** created_at with Postgres's full (microsecond) precision, for keyset cursors. */
  createdAtExact: string;
}

interface OrderRow {
  id: string;
  account_id: string;
  amount_micro: string;
  status: OrderStatus;
  checkout_session_id: string | null;
  checkout_url: string | null;
  payment_intent_id: string | null;
  receipt_url: string | null;
  credited_micro: string;
  refunded_micro: string;
  refund_id: string | null;
  refund_attempt_id: string | null;
  refund_reason: string | null;
  failure_reason: string | null;
  expires_at: Date | null;
  paid_at: Date | null;
  created_at: Date;
  updated_at: Date;
  created_at_exact: string;
}

const toOrder = (r: OrderRow): Order => ({
  id: r.id,
  accountId: r.account_id,
  amountMicro: int(r.amount_micro),
  status: r.status,
  checkoutSessionId: r.checkout_session_id,
  checkoutUrl: r.checkout_url,
  paymentIntentId: r.payment_intent_id,
  receiptUrl: r.receipt_url,
  creditedMicro: int(r.credited_micro),
  refundedMicro: int(r.refunded_micro),
  refundId: r.refund_id,
  refundAttemptId: r.refund_attempt_id,
  refundReason: r.refund_reason,
  failureReason: r.failure_reason,
  expiresAt: r.expires_at,
  paidAt: r.paid_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  createdAtExact: r.created_at_exact,
});

const columns = `*, "created_at"::text AS "created_at_exact"`;

/** The columns `patch` may set, by field name. */
const patchable = {
  status: 'status',
  checkoutSessionId: 'checkout_session_id',
  checkoutUrl: 'checkout_url',
  paymentIntentId: 'payment_intent_id',
  receiptUrl: 'receipt_url',
  creditedMicro: 'credited_micro',
  refundedMicro: 'refunded_micro',
  refundId: 'refund_id',
  refundAttemptId: 'refund_attempt_id',
  refundReason: 'refund_reason',
  failureReason: 'failure_reason',
  expiresAt: 'expires_at',
  paidAt: 'paid_at',
} as const satisfies Partial<Record<keyof Order, string>>;
export type OrderPatch = Partial<Pick<Order, keyof typeof patchable>>;

/** The only place that queries `billing.orders`. */
@Injectable()
export class OrdersRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(accountId: string, amountMicro: number): Promise<Order> {
    const r = await one<OrderRow>(
      this.dataSource,
      `INSERT INTO "billing"."orders" ("account_id", "amount_micro", "status") VALUES ($1, $2, 'pending') RETURNING ${columns}`,
      [accountId, amountMicro],
    );
    return toOrder(r!);
  }

  async findOfAccount(accountId: string, id: string): Promise<Order | null> {
    if (!isUuid(id)) return null;
    const r = await one<OrderRow>(
      this.dataSource,
      `SELECT ${columns} FROM "billing"."orders" WHERE "id" = $1 AND "account_id" = $2`,
      [id, accountId],
    );
    return r ? toOrder(r) : null;
  }

  /** Locks an order for the caller's transaction, by id or by its checkout session / refund. */
  async lock(
    q: Sql,
    by: { id?: string | null; sessionId?: string | null; refundId?: string | null },
  ): Promise<Order | null> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    if (by.id && isUuid(by.id)) conditions.push(`"id" = $${params.push(by.id)}`);
    if (by.sessionId) conditions.push(`"checkout_session_id" = $${params.push(by.sessionId)}`);
    if (by.refundId) conditions.push(`"refund_id" = $${params.push(by.refundId)}`);
    if (!conditions.length) return null;
    const r = await one<OrderRow>(
      q,
      `SELECT ${columns} FROM "billing"."orders" WHERE ${conditions.join(' OR ')} ORDER BY "created_at" LIMIT 1 FOR UPDATE`,
      params,
    );
    return r ? toOrder(r) : null;
  }

  async patch(q: Sql, id: string, fields: OrderPatch): Promise<Order> {
    const sets: string[] = [];
    const params: unknown[] = [id];
    for (const [field, value] of Object.entries(fields)) {
      const column = patchable[field as keyof typeof patchable];
      if (!column) throw new Error(`orders.${field} is not patchable`);
      sets.push(`"${column}" = $${params.push(value)}`);
    }
    const r = await one<OrderRow>(
      q,
      `UPDATE "billing"."orders" SET ${sets.join(', ')}, "updated_at" = now() WHERE "id" = $1 RETURNING ${columns}`,
      params,
    );
    return toOrder(r!);
  }

  /** Pending orders whose checkout should have ended before `before` (their webhook may have been lost). */
  async stalePending(before: Date, limit: number): Promise<Order[]> {
    const list = await rows<OrderRow>(
      this.dataSource,
      `SELECT ${columns} FROM "billing"."orders"
       WHERE "status" = 'pending' AND "checkout_session_id" IS NOT NULL AND "expires_at" < $1
       ORDER BY "expires_at" LIMIT $2`,
      [before, limit],
    );
    return list.map(toOrder);
  }

  /** What is still credited (paid, less refunds) of the account's top-ups paid after `paidAfter`. */
  async netCreditPaidAfter(q: Sql, accountId: string, paidAfter: Date): Promise<number> {
    const r = await one<{ total: string | null }>(
      q,
      `SELECT sum("credited_micro" - "refunded_micro") AS "total" FROM "billing"."orders"
       WHERE "account_id" = $1 AND "paid_at" > $2 AND "credited_micro" > 0`,
      [accountId, paidAfter],
    );
    return int(r?.total ?? 0);
  }

  /** Newest first, 20 a page; `after` is the (createdAt, id) of the previous page's last order. */
  async page(
    accountId: string,
    status: OrderStatus | undefined,
    after: { createdAt: string; id: string } | null,
    limit: number,
  ): Promise<Order[]> {
    const list = await rows<OrderRow>(
      this.dataSource,
      `SELECT ${columns} FROM "billing"."orders"
       WHERE "account_id" = $1 AND ($2::varchar IS NULL OR "status" = $2::varchar)
         AND ($3::timestamptz IS NULL OR ("created_at", "id") < ($3::timestamptz, $4::uuid))
       ORDER BY "created_at" DESC, "id" DESC LIMIT $5`,
      [accountId, status ?? null, after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return list.map(toOrder);
  }
}
