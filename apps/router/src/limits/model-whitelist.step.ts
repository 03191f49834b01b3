import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCodes } from '@torouter/contracts';
import { AdmissionStepProvider } from '../admission/admission-step.decorator';
import type { AdmissionContext, AdmissionStep } from '../admission/admission.types';

const thinkingSuffix = '-thinking';

/**
 * The key's model whitelist: literal and case-sensitive, vendor prefixes included (`anthropic/x` and `x`
 * are different entries). A trailing `-thinking` is stripped from the requested model before matching,
 * so listing `x` covers `x-thinking`; an entry that itself ends in `-thinking` still matches literally.
 * An empty whitelist restricts nothing (the plan's catalog applies, billing's step 21).
 */
export function modelAllowedByWhitelist(whitelist: ReadonlySet<string>, requestedModel: string): boolean {
  if (whitelist.size === 0 || whitelist.has(requestedModel)) return true;
  return (
    requestedModel.endsWith(thinkingSuffix) && whitelist.has(requestedModel.slice(0, -thinkingSuffix.length))
  );
}

/** Order 20: a model outside the key's whitelist → 403 model_not_allowed. */
@AdmissionStepProvider()
@Injectable()
export class ModelWhitelistStep implements AdmissionStep {
  readonly name = 'key-model-whitelist';
  readonly order = 20;

  admit(ctx: AdmissionContext): void {
    if (!modelAllowedByWhitelist(ctx.caller.limits.modelWhitelist, ctx.requestedModel)) {
      throw new DomainError(
        ErrorCodes.MODEL_NOT_ALLOWED,
        `model ${ctx.requestedModel} is not in this API key's model whitelist`,
      );
    }
  }
}
