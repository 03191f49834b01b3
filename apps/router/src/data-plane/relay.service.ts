import { Inject, Injectable, Logger } from '@nestjs/common';
import type { RouterConfig } from '@torouter/config';
import { DomainError, ErrorCodes, type UsageRecordedEvent } from '@torouter/contracts';
import { applyMultiplierBp } from '@torouter/money';
import { relayMetrics, upstreamMetrics } from '@torouter/observability';
import { APP_CONFIG, METRICS_REGISTRY } from '@torouter/service-runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { AccessService, type Caller } from '../access/access.service';
import { AdmissionPipeline, type Admission } from '../admission/admission.pipeline';
import type { AdmissionContext } from '../admission/admission.types';
import { CatalogCache } from '../catalog/catalog.cache';
import type { ModelEntity } from '../catalog/model.entity';
import { ChannelHealth } from '../channels/channel-health';
import { ChannelRuntimes, type RuntimeChannel } from '../channels/channel-runtimes';
import { channelTypes, channelTypeSpecs, type UpstreamWire } from '../channels/channel-types';
import { sendError } from '../http/error-responder';
import {
  totalInputTokens,
  wireAdapters,
  type CanonicalRequest,
  type CanonicalUsage,
  type DecodeContext,
  type WireFormat,
} from '../relay';
import { RequestPlan } from '../spend/request-plan';
import { UsageOutbox } from '../usage-events/usage-outbox';
import { ChatRelay } from './chat-relay';
import { Exchange, type AttemptFailure, type AttemptResult, type ResolvedModel } from './exchange';
import { toGatewayError } from './gateway-errors';
import { OVERHEAD_HEADER } from './overhead';

const thinkingSuffix = '-thinking';

/** What a non-chat endpoint needs from the relay: who may serve it and how one attempt runs. */
export interface EndpointJob {
  surface: WireFormat;
  /** A canonical view of the request: model, stream flag, and the text input for token estimates. */
  canonical: CanonicalRequest;
  body: Record<string, unknown>;
  /** Channel wire formats that can serve this endpoint. */
  wires: ReadonlySet<UpstreamWire>;
  attempt(ex: Exchange, channel: RuntimeChannel): Promise<AttemptResult>;
  /** Worst-case output for admission (defaults to the request's max tokens or the model's limit). */
  maxOutputTokens?: number;
}

/**
 * One proxied request, end to end: authenticate, decode the caller's format once, resolve the model,
 * admit (limits, spend), then try channels in routing order until one answers — relaying the answer in
 * the caller's format as it arrives — and finally settle the admission and publish exactly one usage
 * record. Chat goes through `ChatRelay`; the other endpoints bring their own attempt.
 */
@Injectable()
export class RelayService {
  private readonly logger = new Logger(RelayService.name);
  private readonly maxAttempts: number;

  constructor(
    private readonly access: AccessService,
    private readonly catalog: CatalogCache,
    private readonly admission: AdmissionPipeline,
    private readonly health: ChannelHealth,
    private readonly runtimes: ChannelRuntimes,
    private readonly outbox: UsageOutbox,
    private readonly plans: RequestPlan,
    private readonly chat: ChatRelay,
    @Inject(APP_CONFIG) config: RouterConfig,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.maxAttempts = config.ROUTER_MAX_ATTEMPTS;
    this.metrics = { relay: relayMetrics(registry), upstream: upstreamMetrics(registry) };
  }

  private readonly metrics: {
    relay: ReturnType<typeof relayMetrics>;
    upstream: ReturnType<typeof upstreamMetrics>;
  };

  /** One observation per admitted request and per upstream attempt; labels stay low-cardinality. */
  private observe(ex: Exchange, usage: CanonicalUsage, finishedAt: Date): void {
    const model = ex.target.model.id;
    const labels = { surface: ex.surface, model, status: ex.status };
    this.metrics.relay.requests.inc(labels);
    this.metrics.relay.duration.observe(labels, (finishedAt.getTime() - ex.startedAt.getTime()) / 1000);
    if (ex.ttftMs !== null)
      this.metrics.relay.timeToFirstToken.observe({ surface: ex.surface, model }, ex.ttftMs / 1000);
    this.metrics.relay.overhead.observe({ surface: ex.surface }, ex.overheadMs() / 1000);
    const tokens: Array<[string, number]> = [
      ['input', usage.inputTokens],
      ['output', usage.outputTokens],
      ['cache_read', usage.cacheReadTokens],
      ['cache_write_5m', usage.cacheWrite5mTokens],
      ['cache_write_1h', usage.cacheWrite1hTokens],
      ['reasoning', usage.reasoningTokens],
    ];
    for (const [kind, n] of tokens) if (n > 0) this.metrics.relay.tokens.inc({ model, kind }, n);
    const endMs = performance.now();
    ex.attempts.forEach((a, i) => {
      const attemptEnd = ex.attempts[i + 1]?.startedAtMs ?? endMs;
      const attemptLabels = { channel: a.channelName, model, outcome: a.outcome };
      this.metrics.upstream.requests.inc(attemptLabels);
      this.metrics.upstream.duration.observe(attemptLabels, Math.max(0, attemptEnd - a.startedAtMs) / 1000);
      if (a.outcome !== 'success' && a.outcome !== 'cancelled') {
        this.metrics.upstream.errors.inc({ channel: a.channelName, kind: a.outcome });
      }
    });
  }

  /** The caller behind the request's credential (every state check of DECISIONS.md's order passed). */
  authenticate(surface: WireFormat, request: FastifyRequest): Promise<Caller> {
    return this.access.authenticate(
      { headers: request.headers, query: request.query as Record<string, unknown> },
      { allowQueryKey: surface === 'gemini' },
    );
  }

  /** A chat request on any surface (OpenAI chat completions, Anthropic messages, Gemini generateContent). */
  async relay(
    surface: WireFormat,
    request: FastifyRequest,
    reply: FastifyReply,
    ctx: DecodeContext = {},
  ): Promise<void> {
    const caller = await this.authenticate(surface, request);
    const canonical = wireAdapters[surface].decodeRequest(request.body, ctx);
    await this.run(caller, request, reply, {
      surface,
      canonical,
      body: (request.body ?? {}) as Record<string, unknown>,
      wires: chatWires,
      attempt: (ex, channel) => this.chat.attempt(ex, channel),
    });
  }

  /** A non-chat endpoint (embeddings, images, audio, rerank, responses): same admission, routing and usage. */
  async relayEndpoint(
    caller: Caller,
    request: FastifyRequest,
    reply: FastifyReply,
    job: EndpointJob,
  ): Promise<void> {
    await this.run(caller, request, reply, job);
  }

  private async run(
    caller: Caller,
    request: FastifyRequest,
    reply: FastifyReply,
    job: EndpointJob,
  ): Promise<void> {
    const { canonical } = job;
    let target: ResolvedModel;
    try {
      target = this.resolveModel(canonical);
    } catch (e) {
      // An unknown model is refused after the IP check, never before it (DECISIONS.md's order).
      await this.admission.checkCaller({
        requestId: String(request.id),
        caller,
        surface: job.surface,
        clientIp: request.ip,
      });
      throw e;
    }
    const admissionContext: AdmissionContext = {
      requestId: String(request.id),
      caller,
      surface: job.surface,
      model: target.model,
      requestedModel: target.requested,
      clientIp: request.ip,
      stream: canonical.stream,
      estimatedInputTokens: estimateInputTokens(canonical),
      maxOutputTokens: job.maxOutputTokens ?? canonical.maxTokens ?? target.model.maxOutputTokens ?? 4096,
    };
    const admission = await this.admission.admit(admissionContext);
    void reply.headers(admission.headers);
    const ex = new Exchange(
      job.surface,
      endpointOf(request.url),
      request,
      reply,
      caller,
      canonical,
      job.body,
      target,
    );
    const onClose = () => {
      if (!reply.raw.writableFinished) ex.client.abort();
    };
    reply.raw.once('close', onClose);
    try {
      await this.applyPlan(ex, admissionContext);
      await this.execute(ex, job);
    } catch (e) {
      this.answerError(ex, e);
    } finally {
      reply.raw.off('close', onClose);
      try {
        await this.settle(ex, admission);
      } catch (e) {
        this.logger.error({ err: e, requestId: String(request.id) }, 'settling the request failed');
      } finally {
        // Only now does the client's response complete: its usage is journaled (PITFALLS: lost usage).
        // Completed whatever happened above: a client never waits on a settlement that failed.
        ex.finishAnswer();
      }
    }
  }

  /** The plan billing resolved during admission (shared per request, no extra lookup): channels and price. */
  private async applyPlan(ex: Exchange, ctx: AdmissionContext): Promise<void> {
    ex.planId = ex.caller.planId;
    try {
      const plan = await this.plans.of(ctx);
      ex.planId = plan.id;
      ex.multiplierBp = plan.priceMultiplierBp;
    } catch (e) {
      this.logger.warn(
        `the request's plan is unknown, list prices apply: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  /** The catalog entry for the requested model; `-thinking` selects the base model with reasoning on. */
  resolveModel(req: CanonicalRequest): ResolvedModel {
    const requested = req.model;
    let id = requested;
    let thinking = false;
    if (id.endsWith(thinkingSuffix) && !this.catalog.model(id)) {
      id = id.slice(0, -thinkingSuffix.length);
      thinking = true;
      req.reasoning = { ...req.reasoning, enabled: true };
    }
    let model = this.catalog.model(id);
    let vendorPrefixed: string | undefined;
    const slash = id.indexOf('/');
    if (slash > 0) {
      vendorPrefixed = id;
      model ??= this.catalog.model(id.slice(slash + 1));
    }
    if (!model) throw new DomainError(ErrorCodes.MODEL_NOT_FOUND, `model ${requested} is not in the catalog`);
    return { model, requested, thinking, vendorPrefixed };
  }

  private async execute(ex: Exchange, job: EndpointJob): Promise<void> {
    const tried = new Set<string>();
    const types = ex.target.vendorPrefixed ? vendorPrefixTypes : typesOf(job.wires);
    let last: AttemptFailure | undefined;
    for (let i = 0; i < this.maxAttempts; i++) {
      const [entity] = this.catalog.candidates(ex.target.model.id, {
        exclude: tried,
        planId: ex.planId,
        types,
        available: (id) => this.health.isAvailable(id),
      });
      if (!entity) break;
      tried.add(entity.id);
      this.catalog.markPicked(entity.id);
      const result = await job.attempt(ex, this.runtimes.get(entity));
      if (result.kind === 'answered') return;
      last = result.failure;
      if (ex.clientGone) return ex.cancelled();
    }
    if (!last) {
      throw new DomainError(
        ErrorCodes.UPSTREAM_UNAVAILABLE,
        'Service temporarily unavailable',
        { reason: `no channel is available for model ${ex.target.model.id} right now` },
        503,
      );
    }
    if (last.kind === 'unsupported' && last.error && ex.attempts.every((a) => a.outcome === 'unsupported')) {
      throw last.error;
    }
    if (last.kind === 'timeout') {
      throw new DomainError(ErrorCodes.UPSTREAM_TIMEOUT, 'The upstream provider did not answer in time');
    }
    throw new DomainError(ErrorCodes.UPSTREAM_UNAVAILABLE, 'Service temporarily unavailable', undefined, 502);
  }

  /** An error after admission: answered here (not rethrown) so the usage record knows the status. */
  private answerError(ex: Exchange, e: unknown): void {
    const err = toGatewayError(e, String(ex.request.id));
    if (ex.status !== 'cancelled') {
      ex.status = 'error';
      ex.httpStatus = err.status;
      ex.errorCode = err.code;
    }
    if (ex.committed || ex.reply.sent || ex.reply.raw.headersSent) {
      if (err.internal) this.logger.error({ err: e }, 'the answer failed after its first byte');
      if (!ex.reply.raw.writableEnded) ex.reply.raw.destroy();
      return;
    }
    if (ex.clientGone) return;
    void ex.reply.header(OVERHEAD_HEADER, String(ex.overheadMs()));
    sendError(ex.request, ex.reply, e);
  }

  /**
   * Settles the admission with the exact cost and journals the request's one usage event — in the same
   * Redis script when the request holds a quota, else on its own — before the answer's last bytes go out.
   */
  private async settle(ex: Exchange, admission: Admission): Promise<void> {
    const finishedAt = new Date();
    const { usage, source } = ex.meter.result();
    this.observe(ex, usage, finishedAt);
    const model = ex.target.model;
    // What the customer pays: list price × the plan's multiplier. The quota hold, the usage event
    // (settled by billing) and the response's usage.cost all carry this one amount.
    const cost = applyMultiplierBp(ex.settledListCostMicroUsd(), ex.multiplierBp);
    const requestId = String(ex.request.id);
    const reservation = admission.reservation;
    const event: UsageRecordedEvent = {
      requestId,
      accountId: ex.caller.accountId,
      keyId: ex.caller.keyId,
      keyName: ex.caller.keyName,
      planId: ex.planId,
      requestedModel: ex.target.requested,
      model: model.id,
      channelId: ex.channel?.id ?? null,
      channelName: ex.channel?.name ?? null,
      attempts: ex.attempts
        .filter((a) => a.outcome !== 'unsupported')
        .map((a) => ({
          channelId: a.channelId,
          channelName: a.channelName,
          outcome: a.outcome,
          httpStatus: a.httpStatus,
        })),
      surface: ex.surface,
      endpoint: ex.endpoint,
      stream: ex.canonical.stream,
      status: ex.status,
      httpStatus: ex.httpStatus,
      errorCode: ex.status === 'success' ? null : ex.errorCode,
      usageSource: source,
      inputTokens: usage.inputTokens,
      cacheReadTokens: usage.cacheReadTokens,
      cacheWrite5mTokens: usage.cacheWrite5mTokens,
      cacheWrite1hTokens: usage.cacheWrite1hTokens,
      outputTokens: usage.outputTokens,
      reasoningTokens: usage.reasoningTokens,
      costMicroUsd: cost,
      price: priceSnapshot(model, ex.multiplierBp),
      reservationId: reservation?.id ?? null,
      reservedMicroUsd: reservation?.microUsd ?? 0,
      startedAt: ex.startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      latencyMs: Math.max(0, finishedAt.getTime() - ex.startedAt.getTime()),
      ttftMs: ex.ttftMs,
      clientIp: ex.request.ip,
    };
    const record = { requestId, json: JSON.stringify(event) };
    let journaled = false;
    try {
      journaled = await admission.finish({
        kind: ex.status === 'error' ? 'failed' : 'completed',
        costMicroUsd: cost,
        inputTokens: totalInputTokens(usage),
        outputTokens: usage.outputTokens,
        record,
      });
    } catch (e) {
      this.logger.error(`settling the admission failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!journaled) await this.outbox.append(record);
  }
}

/** Chat reaches every kind of channel. */
export const chatWires: ReadonlySet<UpstreamWire> = new Set([
  'openai',
  'anthropic',
  'gemini',
  'bedrock',
  'replicate',
  'demo',
]);

const vendorPrefixTypes: ReadonlySet<string> = new Set(
  channelTypes.filter((t) => channelTypeSpecs[t].vendorPrefixedModels),
);

function typesOf(wires: ReadonlySet<UpstreamWire>): ReadonlySet<string> | undefined {
  if (wires === chatWires) return undefined;
  return new Set(channelTypes.filter((t) => wires.has(channelTypeSpecs[t].wire)));
}

/** `/api/v1/chat/completions?x` → `/v1/chat/completions`. */
export function endpointOf(url: string): string {
  const path = url.split('?')[0];
  return path.startsWith('/api/') ? path.slice(4) : path;
}

function priceSnapshot(model: ModelEntity, multiplierBp: number) {
  const input = model.inputMicroUsdPerMTok;
  return {
    input,
    output: model.outputMicroUsdPerMTok,
    cacheRead: model.cacheReadMicroUsdPerMTok ?? input,
    cacheWrite5m: model.cacheWrite5mMicroUsdPerMTok ?? input,
    cacheWrite1h: model.cacheWrite1hMicroUsdPerMTok ?? input,
    perRequest: model.perRequestMicroUsd ?? 0,
    multiplierBp,
  };
}

/** A cheap upper-bound guess (~4 characters a token) for admission; the exact count comes from upstream. */
function estimateInputTokens(req: CanonicalRequest): number {
  let chars = req.system?.length ?? 0;
  for (const m of req.messages) for (const p of m.content) if (p.type === 'text') chars += p.text.length;
  return Math.ceil(chars / 4);
}
