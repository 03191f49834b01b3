import { tokenCost, type MicroUsd } from '@torouter/money';
import type { ModelEntity } from '../catalog/model.entity';
import type { CanonicalUsage } from '../relay';

/**
 * Prices one request's usage at the catalog price in force, bucket by bucket (see CanonicalUsage: the
 * buckets are disjoint, so no token is charged twice). A cache price missing from the catalog falls back
 * to the input price: never free.
 */
export function priceUsage(usage: CanonicalUsage, model: ModelEntity): MicroUsd {
  const input = model.inputMicroUsdPerMTok;
  return (
    tokenCost(usage.inputTokens, input) +
    tokenCost(usage.cacheReadTokens, model.cacheReadMicroUsdPerMTok ?? input) +
    tokenCost(usage.cacheWrite5mTokens, model.cacheWrite5mMicroUsdPerMTok ?? input) +
    tokenCost(usage.cacheWrite1hTokens, model.cacheWrite1hMicroUsdPerMTok ?? input) +
    tokenCost(usage.outputTokens, model.outputMicroUsdPerMTok) +
    (model.perRequestMicroUsd ?? 0)
  );
}
