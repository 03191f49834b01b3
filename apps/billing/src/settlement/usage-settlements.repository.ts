import { Injectable } from '@nestjs/common';
import type { PlanKind } from '@torouter/contracts';
import { DataSource } from 'typeorm';
import { one, type Sql } from '../database/sql';

export interface NewSettlement {
  requestId: string;
  accountId: string;
  keyId: string;
  planId: string;
  planKind: PlanKind;
  costMicro: number;
  chargedMicro: number;
  startedAt: Date;
  finishedAt: Date;
}

/** The only place that queries `billing.usage_settlements`: one row per settled usage event, forever. */
@Injectable()
export class UsageSettlementsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** False when this request was settled before (nothing is written). */
  async insert(q: Sql, s: NewSettlement): Promise<boolean> {
    const r = await one<{ request_id: string }>(
      q,
      `INSERT INTO "billing"."usage_settlements" ("request_id", "account_id", "key_id", "plan_id", "plan_kind",
         "cost_micro", "charged_micro", "usage_started_at", "usage_finished_at")
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT ("request_id") DO NOTHING RETURNING "request_id"`,
      [
        s.requestId,
        s.accountId,
        s.keyId,
        s.planId,
        s.planKind,
        s.costMicro,
        s.chargedMicro,
        s.startedAt,
        s.finishedAt,
      ],
    );
    return r !== undefined;
  }

  async find(requestId: string): Promise<{ planId: string; costMicro: number } | null> {
    const r = await one<{ plan_id: string; cost_micro: string }>(
      this.dataSource,
      `SELECT "plan_id", "cost_micro" FROM "billing"."usage_settlements" WHERE "request_id" = $1`,
      [requestId],
    );
    return r ? { planId: r.plan_id, costMicro: Number(r.cost_micro) } : null;
  }
}
