import type { Caller } from '../access/access.service';
import type { ModelEntity } from '../catalog/model.entity';
import type { WireFormat } from '../relay';

/** Everything a check needs to decide whether a request may go upstream. Built once per request. */
export interface AdmissionContext {
  requestId: string;
  caller: Caller;
  surface: WireFormat;
  /** The catalog entry of the base model (`-thinking` already stripped). */
  model: ModelEntity;
  /** The model string the client sent (may carry `-thinking` or a vendor prefix). */
  requestedModel: string;
  clientIp: string;
  stream: boolean;
  /** Input tokens counted locally before the call (for TPM and the worst-case cost). */
  estimatedInputTokens: number;
  /** `max_tokens` or the model's output limit: the most the answer can cost. */
  maxOutputTokens: number;
}

/** The request's usage event, serialised once (it is the message consumers receive, byte for byte). */
export interface UsageRecord {
  requestId: string;
  json: string;
}

/** How a request ended, as far as a check that holds something needs to know. */
export interface AdmissionOutcome {
  /** `refused`: a later check refused the request; it must not count or cost anything. */
  kind: 'completed' | 'failed' | 'refused';
  /** Exact cost in micro-USD (0 for refused or failed-before-output requests). */
  costMicroUsd: number;
  inputTokens: number;
  outputTokens: number;
  /**
   * The usage event to journal with the settlement. A hold that settles in Redis writes it in the same
   * atomic script (so an event can never be lost between the two) and says so by resolving `true`.
   */
  record?: UsageRecord;
}

/** Something a check took (a window slot, a spend reservation) that must be settled when the request ends. */
export interface AdmissionHold {
  /** Response headers the check wants the client to see (e.g. x-ratelimit-*). */
  headers?: Record<string, string>;
  /** The spend reservation taken for the request (its id and worst-case amount), if any. */
  reservation?: { id: string; microUsd: number };
  /**
   * Called exactly once with the outcome; must not throw for a lost Redis (log and move on). Resolves
   * `true` when it journaled `outcome.record`.
   */
  release(outcome: AdmissionOutcome): Promise<boolean | void>;
}

/**
 * One check of DECISIONS.md's order, after authentication: IP (10) → model (20) → plan catalog (21) →
 * subscription (30) → quota (40: request windows, then spend, in one Redis script). Throw a DomainError to refuse; return a hold when something was taken.
 */
export interface AdmissionStep {
  readonly name: string;
  readonly order: number;
  admit(ctx: AdmissionContext): Promise<AdmissionHold | void> | AdmissionHold | void;
}
