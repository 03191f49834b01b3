import { Injectable } from '@nestjs/common';
import type { SubscriptionStatus } from '@torouter/contracts';
import { DataSource } from 'typeorm';
import { isUuid, one, rows, type Sql } from '../database/sql';

export interface Subscription {
  id: string;
  accountId: string;
  planId: string;
  status: SubscriptionStatus;
  granted: boolean;
  cancelAtPeriodEnd: boolean;
  currentPeriodStart: Date;
  currentPeriodEnd: Date;
  endedAt: Date | null;
  endReason: string | null;
  createdAt: Date;
}

interface SubscriptionRow {
  id: string;
  account_id: string;
  plan_id: string;
  status: SubscriptionStatus;
  granted: boolean;
  cancel_at_period_end: boolean;
  current_period_start: Date;
  current_period_end: Date;
  ended_at: Date | null;
  end_reason: string | null;
  created_at: Date;
}

const toSubscription = (r: SubscriptionRow): Subscription => ({
  id: r.id,
  accountId: r.account_id,
  planId: r.plan_id,
  status: r.status,
  granted: r.granted,
  cancelAtPeriodEnd: r.cancel_at_period_end,
  currentPeriodStart: r.current_period_start,
  currentPeriodEnd: r.current_period_end,
  endedAt: r.ended_at,
  endReason: r.end_reason,
  createdAt: r.created_at,
});

const columns = `"id", "account_id", "plan_id", "status", "granted", "cancel_at_period_end", "current_period_start",
  "current_period_end", "ended_at", "end_reason", "created_at"`;

/** The only place that queries `billing.subscriptions`. */
@Injectable()
export class SubscriptionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(
    q: Sql,
    s: { accountId: string; planId: string; granted: boolean; start: Date; end: Date },
  ): Promise<Subscription> {
    const r = await one<SubscriptionRow>(
      q,
      `INSERT INTO "billing"."subscriptions" ("account_id", "plan_id", "status", "granted", "current_period_start", "current_period_end")
       VALUES ($1, $2, 'active', $3, $4, $5) RETURNING ${columns}`,
      [s.accountId, s.planId, s.granted, s.start, s.end],
    );
    return toSubscription(r!);
  }

  async findOfAccount(accountId: string, id: string): Promise<Subscription | null> {
    if (!isUuid(id)) return null;
    const r = await one<SubscriptionRow>(
      this.dataSource,
      `SELECT ${columns} FROM "billing"."subscriptions" WHERE "id" = $1 AND "account_id" = $2`,
      [id, accountId],
    );
    return r ? toSubscription(r) : null;
  }

  /** Same, locked for the caller's transaction. */
  async lockOfAccount(q: Sql, accountId: string, id: string): Promise<Subscription | null> {
    if (!isUuid(id)) return null;
    const r = await one<SubscriptionRow>(
      q,
      `SELECT ${columns} FROM "billing"."subscriptions" WHERE "id" = $1 AND "account_id" = $2 FOR UPDATE`,
      [id, accountId],
    );
    return r ? toSubscription(r) : null;
  }

  async activeFor(q: Sql, accountId: string, planId: string): Promise<Subscription | null> {
    const r = await one<SubscriptionRow>(
      q,
      `SELECT ${columns} FROM "billing"."subscriptions" WHERE "account_id" = $1 AND "plan_id" = $2 AND "status" = 'active'`,
      [accountId, planId],
    );
    return r ? toSubscription(r) : null;
  }

  /** The latest subscription per plan (the one that decides access), newest first. */
  async latestPerPlan(accountId: string): Promise<Subscription[]> {
    const list = await rows<SubscriptionRow>(
      this.dataSource,
      `SELECT * FROM (
         SELECT DISTINCT ON ("plan_id") ${columns} FROM "billing"."subscriptions" WHERE "account_id" = $1
         ORDER BY "plan_id", ("status" = 'active') DESC, "created_at" DESC
       ) latest ORDER BY "created_at" DESC`,
      [accountId],
    );
    return list.map(toSubscription);
  }

  /** Active subscriptions whose period has ended, locked for this transaction (other replicas skip them). */
  async lockDue(q: Sql, limit: number): Promise<Subscription[]> {
    const list = await rows<SubscriptionRow>(
      q,
      `SELECT ${columns} FROM "billing"."subscriptions"
       WHERE "status" = 'active' AND "current_period_end" <= now()
       ORDER BY "current_period_end" LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
    return list.map(toSubscription);
  }

  async end(
    q: Sql,
    id: string,
    status: Exclude<SubscriptionStatus, 'active'>,
    reason: string,
  ): Promise<void> {
    await q.query(
      `UPDATE "billing"."subscriptions" SET "status" = $2, "end_reason" = $3, "ended_at" = now(), "updated_at" = now()
       WHERE "id" = $1`,
      [id, status, reason],
    );
  }

  async startPeriod(q: Sql, id: string, start: Date, end: Date): Promise<void> {
    await q.query(
      `UPDATE "billing"."subscriptions" SET "current_period_start" = $2, "current_period_end" = $3, "updated_at" = now()
       WHERE "id" = $1`,
      [id, start, end],
    );
  }

  async cancelAtPeriodEnd(q: Sql, id: string): Promise<Subscription> {
    const r = await one<SubscriptionRow>(
      q,
      `UPDATE "billing"."subscriptions" SET "cancel_at_period_end" = true, "updated_at" = now()
       WHERE "id" = $1 RETURNING ${columns}`,
      [id],
    );
    return toSubscription(r!);
  }
}
