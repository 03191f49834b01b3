import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { performance } from 'node:perf_hooks';
import { CatalogCache } from '../catalog/catalog.cache';
import { ChannelHealth } from '../channels/channel-health';
import { ChannelRuntimes } from '../channels/channel-runtimes';
import { channelTypes, channelTypeSpecs } from '../channels/channel-types';
import { scrubUpstreamMessage } from '../channels/scrub';
import { UpstreamFailure, UpstreamHttp } from '../channels/upstream-http';
import { countRequestTokens, wireAdapters, type CanonicalRequest, type WireFormat } from '../relay';
import { isRetryableStatus } from './failover-policy';
import { OVERHEAD_HEADER } from './overhead';
import { RelayService } from './relay.service';

/** At most this many channels are asked before the gateway counts itself. */
const MAX_ATTEMPTS = 3;

/**
 * Anthropic's `/v1/messages/count_tokens` and Gemini's `:countTokens`: free, so neither admitted against
 * limits nor billed nor recorded as usage. A channel of the caller's own format that serves the model
 * answers as the provider would (its tokenizer); when there is none, or none answers, the gateway counts
 * with its own tokenizer and answers in the same shape.
 */
@Injectable()
export class CountTokens {
  constructor(
    private readonly relay: RelayService,
    private readonly catalog: CatalogCache,
    private readonly health: ChannelHealth,
    private readonly runtimes: ChannelRuntimes,
    private readonly http: UpstreamHttp,
  ) {}

  async anthropic(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    await this.relay.authenticate('anthropic', request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const canonical = wireAdapters.anthropic.decodeRequest(body);
    const target = this.relay.resolveModel(canonical);
    await this.count(
      reply,
      'anthropic',
      canonical,
      target.model.id,
      (model) => ({
        path: '/v1/messages/count_tokens',
        body: { ...body, model },
      }),
      (n) => ({ input_tokens: n }),
    );
  }

  async gemini(request: FastifyRequest, reply: FastifyReply, modelFromPath: string): Promise<void> {
    await this.relay.authenticate('gemini', request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    // countTokens takes `contents` or a whole `generateContentRequest`.
    const inner = isRecord(body.generateContentRequest) ? body.generateContentRequest : body;
    const canonical = wireAdapters.gemini.decodeRequest(inner, { modelFromPath });
    const target = this.relay.resolveModel(canonical);
    await this.count(
      reply,
      'gemini',
      canonical,
      target.model.id,
      (model) => {
        const bare = model.replace(/^models\//, '');
        const forwarded = isRecord(body.generateContentRequest)
          ? { generateContentRequest: { ...body.generateContentRequest, model: `models/${bare}` } }
          : body;
        return { path: `/v1beta/models/${encodeURIComponent(bare)}:countTokens`, body: forwarded };
      },
      (n) => ({ totalTokens: n }),
    );
  }

  private async count(
    reply: FastifyReply,
    format: WireFormat,
    canonical: CanonicalRequest,
    modelId: string,
    upstream: (model: string) => { path: string; body: Record<string, unknown> },
    local: (tokens: number) => Record<string, unknown>,
  ): Promise<void> {
    const types = new Set(channelTypes.filter((t) => channelTypeSpecs[t].wire === format));
    const tried = new Set<string>();
    let upstreamMs = 0;
    const send = (status: number, body: unknown) =>
      void reply
        .status(status)
        .header(OVERHEAD_HEADER, String(Math.max(0, Math.round(reply.elapsedTime - upstreamMs))))
        .type('application/json')
        .send(body);
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const [entity] = this.catalog.candidates(modelId, {
        exclude: tried,
        types,
        available: (id) => this.health.isAvailable(id),
      });
      if (!entity) break;
      tried.add(entity.id);
      const channel = this.runtimes.get(entity);
      if (channel.problem) continue;
      const model = channel.modelMapping[canonical.model] ?? channel.modelMapping[modelId] ?? modelId;
      const started = performance.now();
      try {
        const res = await this.http.send(await this.runtimes.httpRequest(channel, upstream(model), {}));
        const text = await res.text();
        upstreamMs += performance.now() - started;
        if (res.status < 400) return send(200, JSON.parse(text));
        const error = wireAdapters[format].decodeUpstreamError(res.status, text);
        if (!isRetryableStatus(res.status)) {
          const message = scrubUpstreamMessage(error.message, channel);
          return send(
            res.status,
            wireAdapters[format].encodeError({
              status: res.status,
              code: error.type,
              upstreamType: error.type,
              message,
            }),
          );
        }
        this.health.recordFailure(channel.id, {
          status: res.status,
          type: error.type,
          message: scrubUpstreamMessage(error.message, channel),
        });
      } catch (e) {
        upstreamMs += performance.now() - started;
        if (!(e instanceof UpstreamFailure) && !(e instanceof SyntaxError)) throw e;
        if (e instanceof UpstreamFailure)
          this.health.recordFailure(channel.id, { type: e.kind, message: e.message });
      }
    }
    send(200, local(countRequestTokens(canonical)));
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
