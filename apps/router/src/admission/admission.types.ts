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

/** How a request ended, as far as a check that holds something needs to know. */
export interface AdmissionOutcome {
  /** `refused`: a later check refused the request; it must not count or cost anything. */
  kind: 'completed' | 'failed' | 'refused';
  /** Exact cost in micro-USD (0 for refused or failed-before-output requests). */
  costMicroUsd: number;
  inputTokens: number;
  outputTokens: number;
}

/** Something a check took (a window slot, a spend reservation) that must be settled when the request ends. */
export interface AdmissionHold {
  /** Response headers the check wants the client to see (e.g. x-ratelimit-*). */
  headers?: Record<string, string>;
  /** Called exactly once with the outcome; must not throw for a lost Redis (log and move on). */
  release(outcome: AdmissionOutcome): Promise<void>;
}

/**
 * One check of DECISIONS.md's order, after authentication: IP (10) → model (20) → subscription (30) →
 * request windows (40) → spend (50). Throw a DomainError to refuse; return a hold when something was taken.
 */
export interface AdmissionStep {
  readonly name: string;
  readonly order: number;
  admit(ctx: AdmissionContext): Promise<AdmissionHold | void> | AdmissionHold | void;
}
