import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCodes } from '@torouter/contracts';
import { microToUsd } from '@torouter/money';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessService, type Caller } from '../access/access.service';
import { AdmissionPipeline, type Admission } from '../admission/admission.pipeline';
import { CatalogCache } from '../catalog/catalog.cache';
import type { ModelEntity } from '../catalog/model.entity';
import {
  DemoProvider,
  totalInputTokens,
  wireAdapters,
  type CanonicalRequest,
  type CanonicalUsage,
  type DecodeContext,
  type WireFormat,
} from '../relay';
import { priceUsage } from './pricing';

const thinkingSuffix = '-thinking';

/**
 * One proxied request, end to end: authenticate, decode the caller's format once, resolve the model,
 * pick a channel, answer in the caller's format (JSON or SSE).
 */
@Injectable()
export class RelayService {
  constructor(
    private readonly access: AccessService,
    private readonly catalog: CatalogCache,
    private readonly demo: DemoProvider,
    private readonly admission: AdmissionPipeline,
  ) {}

  async relay(
    surface: WireFormat,
    request: FastifyRequest,
    reply: FastifyReply,
    ctx: DecodeContext = {},
  ): Promise<void> {
    const caller = await this.access.authenticate(
      { headers: request.headers, query: request.query as Record<string, unknown> },
      { allowQueryKey: surface === 'gemini' },
    );
    const adapter = wireAdapters[surface];
    const canonical = adapter.decodeRequest(request.body, ctx);
    const model = this.resolveModel(canonical);
    const admission = await this.admission.admit({
      requestId: String(request.id),
      caller,
      surface,
      model,
      requestedModel: canonical.model,
      clientIp: request.ip,
      stream: canonical.stream,
      estimatedInputTokens: estimateInputTokens(canonical),
      maxOutputTokens: canonical.maxTokens ?? model.maxOutputTokens ?? 4096,
    });
    void reply.headers(admission.headers);
    try {
      await this.answer(surface, canonical, model, caller, reply, admission);
    } catch (e) {
      await admission.finish({ kind: 'failed', costMicroUsd: 0, inputTokens: 0, outputTokens: 0 });
      throw e;
    }
  }

  private async answer(
    surface: WireFormat,
    canonical: CanonicalRequest,
    model: ModelEntity,
    caller: Caller,
    reply: FastifyReply,
    admission: Admission,
  ): Promise<void> {
    const adapter = wireAdapters[surface];
    const channel = this.catalog.candidates(model.id)[0];
    if (!channel) {
      throw new DomainError(
        ErrorCodes.UPSTREAM_UNAVAILABLE,
        `no channel is available for model ${model.id} right now`,
        undefined,
        503,
      );
    }
    this.catalog.markPicked(channel.id);
    if (channel.type !== 'demo') {
      // Real provider channels are served by the upstream proxy (router data-plane issue); until then a
      // non-demo channel is reported as unavailable rather than answered with made-up content.
      throw new DomainError(
        ErrorCodes.UPSTREAM_UNAVAILABLE,
        'Service temporarily unavailable',
        { channelType: channel.type },
        503,
      );
    }
    if (canonical.stream) {
      const usage = await this.streamDemo(surface, canonical, model, caller, reply);
      await admission.finish(outcomeOf(usage, model));
    } else {
      const res = this.demo.complete(canonical);
      const cost = priceUsage(res.usage, model);
      const body = adapter.encodeResponse({ ...res, model: canonical.model }, { costUsd: microToUsd(cost) });
      void reply.status(200).type('application/json').send(body);
      await admission.finish(outcomeOf(res.usage, model));
    }
  }

  /** The catalog entry for the requested model; `-thinking` selects the base model with reasoning on. */
  private resolveModel(req: CanonicalRequest): ModelEntity {
    let id = req.model;
    if (id.endsWith(thinkingSuffix)) {
      id = id.slice(0, -thinkingSuffix.length);
      req.reasoning = { ...req.reasoning, enabled: true };
    }
    const model = this.catalog.model(id);
    if (!model) throw new DomainError(ErrorCodes.MODEL_NOT_FOUND, `model ${req.model} is not in the catalog`);
    return model;
  }

  private async streamDemo(
    surface: WireFormat,
    req: CanonicalRequest,
    model: ModelEntity,
    _caller: Caller,
    reply: FastifyReply,
  ): Promise<CanonicalUsage | undefined> {
    const encoder = wireAdapters[surface].createStreamEncoder(req, { model: req.model });
    const raw = reply.raw;
    reply.hijack();
    raw.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': encoder.contentType,
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let usage: CanonicalUsage | undefined;
    for await (const ev of this.demo.stream(req)) {
      if (raw.destroyed) return usage; // the client left: stop producing
      if (ev.type === 'usage') usage = ev.usage;
      const text = encoder.encode(ev);
      if (text) raw.write(text);
    }
    raw.end(encoder.end({ usage, costUsd: usage ? microToUsd(priceUsage(usage, model)) : undefined }));
    return usage;
  }
}

function outcomeOf(usage: CanonicalUsage | undefined, model: ModelEntity) {
  return {
    kind: 'completed' as const,
    costMicroUsd: usage ? priceUsage(usage, model) : 0,
    inputTokens: usage ? totalInputTokens(usage) : 0,
    outputTokens: usage?.outputTokens ?? 0,
  };
}

/** A cheap upper-bound guess (~4 characters a token) until the tokenizer-based count replaces it. */
function estimateInputTokens(req: CanonicalRequest): number {
  let chars = req.system?.length ?? 0;
  for (const m of req.messages) for (const p of m.content) if (p.type === 'text') chars += p.text.length;
  return Math.ceil(chars / 4);
}
