import { Injectable } from '@nestjs/common';
import type { DefaultKeyLimits, PlanKind, PlanPeriod } from '@torouter/contracts';
import { DataSource } from 'typeorm';
import { int, isUuid, one, rows, type Sql } from '../database/sql';

/** A plan as stored; money in integer micro-USD. */
export interface Plan {
  id: string;
  name: string;
  kind: PlanKind;
  models: string[];
  priceMicro: number;
  period: PlanPeriod | null;
  dailyCapMicro: number;
  weeklyCapMicro: number;
  monthlyCapMicro: number;
  defaultKeyLimits: Partial<DefaultKeyLimits>;
  priceMultiplierBp: number;
  isDefault: boolean;
  archived: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type PlanFields = Omit<Plan, 'id' | 'createdAt' | 'updatedAt'>;

interface PlanRow {
  id: string;
  name: string;
  kind: PlanKind;
  models: string[];
  price_micro: string;
  period: PlanPeriod | null;
  daily_cap_micro: string;
  weekly_cap_micro: string;
  monthly_cap_micro: string;
  default_key_limits: Partial<DefaultKeyLimits>;
  price_multiplier_bp: number;
  is_default: boolean;
  archived: boolean;
  created_at: Date;
  updated_at: Date;
}

function toPlan(r: PlanRow): Plan {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    models: r.models,
    priceMicro: int(r.price_micro),
    period: r.period,
    dailyCapMicro: int(r.daily_cap_micro),
    weeklyCapMicro: int(r.weekly_cap_micro),
    monthlyCapMicro: int(r.monthly_cap_micro),
    defaultKeyLimits: r.default_key_limits,
    priceMultiplierBp: r.price_multiplier_bp,
    isDefault: r.is_default,
    archived: r.archived,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const columns = `"id", "name", "kind", "models", "price_micro", "period", "daily_cap_micro", "weekly_cap_micro",
  "monthly_cap_micro", "default_key_limits", "price_multiplier_bp", "is_default", "archived", "created_at", "updated_at"`;

/** The only place that queries `billing.plans`. */
@Injectable()
export class PlansRepository {
  constructor(private readonly dataSource: DataSource) {}

  async find(id: string, q: Sql = this.dataSource): Promise<Plan | null> {
    if (!isUuid(id)) return null;
    const r = await one<PlanRow>(q, `SELECT ${columns} FROM "billing"."plans" WHERE "id" = $1`, [id]);
    return r ? toPlan(r) : null;
  }

  async findDefault(q: Sql = this.dataSource): Promise<Plan> {
    const r = await one<PlanRow>(q, `SELECT ${columns} FROM "billing"."plans" WHERE "is_default"`);
    if (!r) throw new Error('billing.plans has no default plan (the migration seeds one)');
    return toPlan(r);
  }

  async list(includeArchived: boolean): Promise<Plan[]> {
    const list = await rows<PlanRow>(
      this.dataSource,
      `SELECT ${columns} FROM "billing"."plans" ${includeArchived ? '' : 'WHERE NOT "archived"'}
       ORDER BY "is_default" DESC, "kind", "price_micro", "name"`,
    );
    return list.map(toPlan);
  }

  async insert(q: Sql, f: PlanFields): Promise<Plan> {
    const r = await one<PlanRow>(
      q,
      `INSERT INTO "billing"."plans" ("name", "kind", "models", "price_micro", "period", "daily_cap_micro",
         "weekly_cap_micro", "monthly_cap_micro", "default_key_limits", "price_multiplier_bp", "is_default", "archived")
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${columns}`,
      [
        f.name,
        f.kind,
        f.models,
        f.priceMicro,
        f.period,
        f.dailyCapMicro,
        f.weeklyCapMicro,
        f.monthlyCapMicro,
        JSON.stringify(f.defaultKeyLimits),
        f.priceMultiplierBp,
        f.isDefault,
        f.archived,
      ],
    );
    return toPlan(r!);
  }

  async update(q: Sql, id: string, f: PlanFields): Promise<Plan> {
    const r = await one<PlanRow>(
      q,
      `UPDATE "billing"."plans" SET "name" = $2, "models" = $3, "price_micro" = $4, "period" = $5,
         "daily_cap_micro" = $6, "weekly_cap_micro" = $7, "monthly_cap_micro" = $8, "default_key_limits" = $9,
         "price_multiplier_bp" = $10, "is_default" = $11, "archived" = $12, "updated_at" = now()
       WHERE "id" = $1 RETURNING ${columns}`,
      [
        id,
        f.name,
        f.models,
        f.priceMicro,
        f.period,
        f.dailyCapMicro,
        f.weeklyCapMicro,
        f.monthlyCapMicro,
        JSON.stringify(f.defaultKeyLimits),
        f.priceMultiplierBp,
        f.isDefault,
        f.archived,
      ],
    );
    return toPlan(r!);
  }

  /** Drops the default flag from every plan but `keepId` (the caller holds the transaction). */
  async clearDefaultExcept(q: Sql, keepId: string | null): Promise<void> {
    await q.query(
      `UPDATE "billing"."plans" SET "is_default" = false, "updated_at" = now()
       WHERE "is_default" AND ($1::uuid IS NULL OR "id" <> $1::uuid)`,
      [keepId],
    );
  }

  async lockAll(q: Sql): Promise<void> {
    await q.query(`LOCK TABLE "billing"."plans" IN SHARE ROW EXCLUSIVE MODE`);
  }
}
