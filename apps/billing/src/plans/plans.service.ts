import { Injectable } from '@nestjs/common';
import {
  DefaultKeyLimits,
  DomainError,
  ErrorCodes,
  Subjects,
  type PlanCreateRequest,
  type PlanPatch,
  type PlanView,
} from '@torouter/contracts';
import { EventBus } from '@torouter/messaging';
import { microToUsd, usdToMicro } from '@torouter/money';
import { DataSource } from 'typeorm';
import { isUniqueViolation, transaction } from '../database/sql';
import { PlansRepository, type Plan, type PlanFields } from './plans.repository';

export function toPlanView(p: Plan): PlanView {
  return {
    id: p.id,
    name: p.name,
    kind: p.kind,
    models: p.models,
    priceUsd: microToUsd(p.priceMicro),
    period: p.period,
    dailyCapUsd: microToUsd(p.dailyCapMicro),
    weeklyCapUsd: microToUsd(p.weeklyCapMicro),
    monthlyCapUsd: microToUsd(p.monthlyCapMicro),
    defaultKeyLimits: DefaultKeyLimits.parse(p.defaultKeyLimits),
    priceMultiplierBp: p.priceMultiplierBp,
    isDefault: p.isDefault,
    archived: p.archived,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

function invalid(field: string, message: string): DomainError {
  return new DomainError(ErrorCodes.VALIDATION_FAILED, `${field}: ${message}`, {
    fields: [{ field, message }],
  });
}

/** Kind-specific rules, checked on the plan as it will be stored (after a patch, too). */
function checkKindRules(f: PlanFields): void {
  if (f.kind === 'subscription') {
    if (f.period === null) throw invalid('period', 'a subscription plan needs a period (day, week or month)');
  } else {
    if (f.priceMicro !== 0) throw invalid('priceUsd', 'a pay-as-you-go plan has no price (usage is charged)');
    if (f.period !== null) throw invalid('period', 'a pay-as-you-go plan has no period');
  }
  if (f.isDefault && f.archived) throw invalid('archived', 'the default plan cannot be archived');
}

/** Plans (the pages' "groups"): catalog, price and period, caps, default key limits, price multiplier. */
@Injectable()
export class PlansService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly plans: PlansRepository,
    private readonly events: EventBus,
  ) {}

  async getPlan(planId: string): Promise<PlanView | null> {
    const p = await this.plans.find(planId);
    return p ? toPlanView(p) : null;
  }

  async listPlans(includeArchived: boolean): Promise<PlanView[]> {
    return (await this.plans.list(includeArchived)).map(toPlanView);
  }

  async createPlan(req: PlanCreateRequest): Promise<PlanView> {
    if (req.kind === 'subscription' && req.priceUsd === undefined)
      throw invalid('priceUsd', 'a subscription plan needs a price (0 for a free plan)');
    const fields: PlanFields = {
      name: req.name,
      kind: req.kind,
      models: [...new Set(req.models)],
      priceMicro: usdToMicro(req.priceUsd ?? 0),
      period: req.period ?? null,
      dailyCapMicro: usdToMicro(req.dailyCapUsd ?? 0),
      weeklyCapMicro: usdToMicro(req.weeklyCapUsd ?? 0),
      monthlyCapMicro: usdToMicro(req.monthlyCapUsd ?? 0),
      defaultKeyLimits: DefaultKeyLimits.parse(req.defaultKeyLimits ?? {}),
      priceMultiplierBp: Math.round((req.priceMultiplier ?? 1) * 10_000),
      isDefault: req.isDefault ?? false,
      archived: false,
    };
    checkKindRules(fields);
    const { plan, previousDefault } = await this.write(async (q) => {
      await this.plans.lockAll(q);
      const before = fields.isDefault ? await this.plans.findDefault(q) : null;
      if (fields.isDefault) await this.plans.clearDefaultExcept(q, null);
      return { plan: await this.plans.insert(q, fields), previousDefault: before };
    });
    this.announce(plan.id, previousDefault?.id);
    return toPlanView(plan);
  }

  async updatePlan(planId: string, patch: PlanPatch): Promise<PlanView> {
    const { plan, previousDefault } = await this.write(async (q) => {
      await this.plans.lockAll(q);
      const current = await this.plans.find(planId, q);
      if (!current) throw new DomainError(ErrorCodes.NOT_FOUND, `plan ${planId} does not exist`);
      if (patch.isDefault === false && current.isDefault)
        throw invalid('isDefault', 'there is always one default plan: make another plan the default instead');
      const merged: PlanFields = {
        name: patch.name ?? current.name,
        kind: current.kind,
        models: patch.models ? [...new Set(patch.models)] : current.models,
        priceMicro: patch.priceUsd !== undefined ? usdToMicro(patch.priceUsd) : current.priceMicro,
        period: patch.period ?? current.period,
        dailyCapMicro:
          patch.dailyCapUsd !== undefined ? usdToMicro(patch.dailyCapUsd) : current.dailyCapMicro,
        weeklyCapMicro:
          patch.weeklyCapUsd !== undefined ? usdToMicro(patch.weeklyCapUsd) : current.weeklyCapMicro,
        monthlyCapMicro:
          patch.monthlyCapUsd !== undefined ? usdToMicro(patch.monthlyCapUsd) : current.monthlyCapMicro,
        defaultKeyLimits: patch.defaultKeyLimits
          ? DefaultKeyLimits.parse({ ...current.defaultKeyLimits, ...patch.defaultKeyLimits })
          : current.defaultKeyLimits,
        priceMultiplierBp:
          patch.priceMultiplier !== undefined
            ? Math.round(patch.priceMultiplier * 10_000)
            : current.priceMultiplierBp,
        isDefault: patch.isDefault ?? current.isDefault,
        archived: patch.archived ?? current.archived,
      };
      checkKindRules(merged);
      const before = merged.isDefault && !current.isDefault ? await this.plans.findDefault(q) : null;
      if (before) await this.plans.clearDefaultExcept(q, planId);
      return { plan: await this.plans.update(q, planId, merged), previousDefault: before };
    });
    this.announce(plan.id, previousDefault?.id);
    return toPlanView(plan);
  }

  private async write<T>(fn: Parameters<typeof transaction<T>>[1]): Promise<T> {
    try {
      return await transaction(this.dataSource, fn);
    } catch (e) {
      if (isUniqueViolation(e, 'plans_name_key'))
        throw new DomainError(ErrorCodes.CONFLICT, 'a plan with this name exists already');
      throw e;
    }
  }

  /** Every router replica drops its cached copy of the changed plans. */
  private announce(planId: string, previousDefaultId?: string): void {
    this.events.publish(Subjects.billingPlanChanged, { planId });
    if (previousDefaultId && previousDefaultId !== planId)
      this.events.publish(Subjects.billingPlanChanged, { planId: previousDefaultId });
  }
}
