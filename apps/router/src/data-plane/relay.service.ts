import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCodes } from '@torouter/contracts';
import { microToUsd } from '@torouter/money';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessService, type Caller } from '../access/access.service';
import { CatalogCache } from '../catalog/catalog.cache';
import type { ModelEntity } from '../catalog/model.entity';
import {
  DemoProvider,
  wireAdapters,
  type CanonicalRequest,
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
    if (canonical.stream) await this.streamDemo(surface, canonical, model, caller, reply);
    else {
      const res = this.demo.complete(canonical);
      const body = adapter.encodeResponse(
        { ...res, model: canonical.model },
        { costUsd: microToUsd(priceUsage(res.usage, model)) },
      );
      void reply.status(200).type('application/json').send(body);
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
  ): Promise<void> {
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
    let usage;
    for await (const ev of this.demo.stream(req)) {
      if (raw.destroyed) return; // the client left: stop producing
      if (ev.type === 'usage') usage = ev.usage;
      const text = encoder.encode(ev);
      if (text) raw.write(text);
    }
    raw.end(encoder.end({ usage, costUsd: usage ? microToUsd(priceUsage(usage, model)) : undefined }));
  }
}
