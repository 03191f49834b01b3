import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCodes } from '@torouter/contracts';
import { AdmissionStepProvider } from '../admission/admission-step.decorator';
import type { AdmissionContext, AdmissionStep } from '../admission/admission.types';
import { RequestPlan } from './request-plan';

/**
 * Order 21 (right after the key's own whitelist): the model must be in the catalog of the key's plan
 * (empty catalog = every model) → 403 model_not_allowed. Matches the catalog id the request resolved to,
 * or the literal id the client sent.
 */
@AdmissionStepProvider()
@Injectable()
export class PlanCatalogStep implements AdmissionStep {
  readonly name = 'plan-catalog';
  readonly order = 21;

  constructor(private readonly plans: RequestPlan) {}

  async admit(ctx: AdmissionContext): Promise<void> {
    const plan = await this.plans.of(ctx);
    if (plan.models.length === 0) return;
    if (plan.models.includes(ctx.model.id) || plan.models.includes(ctx.requestedModel)) return;
    throw new DomainError(
      ErrorCodes.MODEL_NOT_ALLOWED,
      `model ${ctx.requestedModel} is not in the catalog of this API key's plan (${plan.name})`,
    );
  }
}
