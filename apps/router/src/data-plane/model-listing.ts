import { Injectable, Logger } from '@nestjs/common';
import type { Caller } from '../access/access.service';
import { CatalogCache } from '../catalog/catalog.cache';
import type { ModelEntity } from '../catalog/model.entity';
import { BillingAccessCache } from '../spend/billing-access.cache';

/**
 * `GET /v1/models` (and Gemini's list) shows only what this key may call: models its whitelist names
 * (when it has one), that its plan's catalog includes (when the plan restricts it), and that an enabled
 * channel open to the plan serves. All from memory.
 */
@Injectable()
export class ModelListing {
  private readonly logger = new Logger(ModelListing.name);

  constructor(
    private readonly catalog: CatalogCache,
    private readonly billing: BillingAccessCache,
  ) {}

  async allowed(caller: Caller): Promise<ModelEntity[]> {
    let planId = caller.planId;
    let planModels: ReadonlySet<string> | undefined;
    try {
      const plan = await this.billing.planOf(caller);
      planId = plan.id;
      if (plan.models.length > 0) planModels = new Set(plan.models);
    } catch (e) {
      this.logger.warn(
        `listing models without the caller's plan: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    const whitelist = caller.limits.modelWhitelist;
    return this.catalog
      .listModels()
      .filter(
        (m) =>
          (whitelist.size === 0 || whitelist.has(m.id)) &&
          (!planModels || planModels.has(m.id)) &&
          this.catalog.servable(m.id, planId),
      );
  }

  async find(caller: Caller, id: string): Promise<ModelEntity | undefined> {
    return (await this.allowed(caller)).find((m) => m.id === id);
  }
}
