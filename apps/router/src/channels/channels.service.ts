import { Inject, Injectable } from '@nestjs/common';
import type { RouterConfig } from '@torouter/config';
import { DomainError, ErrorCodes } from '@torouter/contracts';
import { APP_CONFIG } from '@torouter/service-runtime';
import { performance } from 'node:perf_hooks';
import { QueryFailedError } from 'typeorm';
import { CatalogCache } from '../catalog/catalog.cache';
import { CatalogRepository } from '../catalog/catalog.repository';
import type { ChannelEntity } from '../catalog/channel.entity';
import type { CanonicalRequest } from '../relay';
import { ChannelHealth, type ChannelHealthView } from './channel-health';
import { ChannelRuntimes } from './channel-runtimes';
import {
  channelTypeSpecs,
  effectiveBaseUrl,
  isChannelType,
  type ChannelCredentials,
  type ChannelType,
} from './channel-types';
import type { CreateChannelBody, UpdateChannelBody } from './channel.schemas';
import { CredentialsCipher } from './credentials.cipher';
import { scrubUpstreamMessage } from './scrub';
import { assertSafeUpstreamUrl, UnsafeUpstreamError } from './ssrf-guard';
import { upstreamCodecFor } from './upstream-codecs';
import { UpstreamFailure, UpstreamHttp } from './upstream-http';

export interface ChannelView {
  id: string;
  name: string;
  type: string;
  baseUrl: string | null;
  effectiveBaseUrl: string | null;
  hasCredentials: boolean;
  models: string[];
  modelMapping: Record<string, string>;
  priority: number;
  weight: number;
  plans: string[];
  enabled: boolean;
  timeouts: ChannelEntity['timeouts'];
  health: ChannelHealthView;
  createdAt: string;
  updatedAt: string;
}

export interface ChannelTestResult {
  ok: boolean;
  model: string | null;
  latencyMs: number;
  status: number | null;
  error: { type: string; message: string } | null;
}

/**
 * Admin management of upstream channels. Credentials are encrypted before they reach Postgres and never
 * leave the router; base URLs pass the SSRF guard; every change reloads the catalog on every replica.
 */
@Injectable()
export class ChannelsService {
  constructor(
    private readonly repo: CatalogRepository,
    private readonly catalog: CatalogCache,
    private readonly cipher: CredentialsCipher,
    private readonly health: ChannelHealth,
    private readonly runtimes: ChannelRuntimes,
    private readonly http: UpstreamHttp,
    @Inject(APP_CONFIG) private readonly config: RouterConfig,
  ) {}

  async list(): Promise<ChannelView[]> {
    return (await this.repo.listChannels()).map((c) => this.view(c));
  }

  async get(id: string): Promise<ChannelView> {
    return this.view(await this.find(id));
  }

  async create(body: CreateChannelBody): Promise<ChannelView> {
    const credentials = this.checkCredentials(body.type, body.credentials, true);
    await this.checkBaseUrl(body.type, body.baseUrl ?? null, credentials ?? {});
    const entity = await this.save(() =>
      this.repo.insertChannel({
        name: body.name,
        type: body.type,
        baseUrl: body.baseUrl ?? null,
        credentialsEncrypted: credentials ? this.cipher.encrypt(credentials) : null,
        models: unique(body.models),
        modelMapping: body.modelMapping,
        priority: body.priority,
        weight: body.weight,
        plans: unique(body.plans),
        enabled: body.enabled,
        timeouts: body.timeouts,
      }),
    );
    await this.catalog.changed(`channel ${entity.id} created`);
    return this.get(entity.id);
  }

  async update(id: string, body: UpdateChannelBody): Promise<ChannelView> {
    const current = isUuid(id) ? await this.repo.findChannelWithCredentials(id) : null;
    if (!current) throw notFound(id);
    const type: ChannelType = isChannelType(current.type) ? current.type : 'openai-compatible';
    const fields: Partial<ChannelEntity> = {};
    let credentials: ChannelCredentials | undefined;
    if (body.credentials !== undefined) {
      credentials = this.checkCredentials(type, body.credentials, false);
      fields.credentialsEncrypted = credentials ? this.cipher.encrypt(credentials) : null;
    }
    if (body.baseUrl !== undefined || body.credentials !== undefined) {
      const stored = current.credentialsEncrypted ? this.readCredentials(current.credentialsEncrypted) : {};
      await this.checkBaseUrl(
        type,
        body.baseUrl !== undefined ? body.baseUrl : current.baseUrl,
        credentials ?? stored,
      );
      if (body.baseUrl !== undefined) fields.baseUrl = body.baseUrl;
    }
    if (body.name !== undefined) fields.name = body.name;
    if (body.models !== undefined) fields.models = unique(body.models);
    if (body.modelMapping !== undefined) fields.modelMapping = body.modelMapping;
    if (body.priority !== undefined) fields.priority = body.priority;
    if (body.weight !== undefined) fields.weight = body.weight;
    if (body.plans !== undefined) fields.plans = unique(body.plans);
    if (body.enabled !== undefined) fields.enabled = body.enabled;
    if (body.timeouts !== undefined) fields.timeouts = body.timeouts;
    if (Object.keys(fields).length > 0) {
      await this.save(() => this.repo.updateChannel(id, fields));
      // New credentials or URL: forget the old failures, the channel gets a fresh chance.
      if (fields.credentialsEncrypted !== undefined || fields.baseUrl !== undefined) this.health.forget(id);
      await this.catalog.changed(`channel ${id} updated`);
    }
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    if (!isUuid(id) || !(await this.repo.deleteChannel(id))) throw notFound(id);
    this.health.forget(id);
    await this.catalog.changed(`channel ${id} deleted`);
  }

  /**
   * Sends the smallest real request (one short completion of the channel's first model) and reports the
   * latency or the upstream's error. The result also feeds the channel's health.
   */
  async test(id: string, model?: string): Promise<ChannelTestResult> {
    const entity = isUuid(id) ? await this.repo.findChannelWithCredentials(id) : null;
    if (!entity) throw notFound(id);
    const runtime = this.runtimes.get(entity);
    const target = model ?? entity.models[0] ?? null;
    if (runtime.problem) {
      return {
        ok: false,
        model: target,
        latencyMs: 0,
        status: null,
        error: { type: 'misconfigured', message: runtime.problem },
      };
    }
    if (!target) {
      throw new DomainError(ErrorCodes.VALIDATION_FAILED, 'models: the channel serves no model to test with');
    }
    if (runtime.spec.wire === 'demo')
      return { ok: true, model: target, latencyMs: 0, status: 200, error: null };
    const request: CanonicalRequest = {
      model: target,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'ping' }] }],
      maxTokens: 16,
      stream: false,
    };
    const upstreamModel = runtime.modelMapping[target] ?? target;
    const codec = upstreamCodecFor(runtime.spec.wire);
    const up = codec.encodeUpstreamRequest(request, upstreamModel);
    if (runtime.spec.legacyMaxTokens && up.body.max_completion_tokens !== undefined) {
      up.body.max_tokens = up.body.max_completion_tokens;
      delete up.body.max_completion_tokens;
    }
    const started = performance.now();
    try {
      const res = await this.http.send(await this.runtimes.httpRequest(runtime, up, {}));
      const text = await res.text();
      const latencyMs = Math.round(performance.now() - started);
      if (res.status < 400) {
        this.health.recordSuccess(id, latencyMs);
        return { ok: true, model: target, latencyMs, status: res.status, error: null };
      }
      const upstream = codec.decodeUpstreamError(res.status, text);
      const message = scrubUpstreamMessage(upstream.message, runtime);
      this.health.recordFailure(id, { status: res.status, type: upstream.type, message });
      return {
        ok: false,
        model: target,
        latencyMs,
        status: res.status,
        error: { type: upstream.type, message },
      };
    } catch (e) {
      if (!(e instanceof UpstreamFailure)) throw e;
      const latencyMs = Math.round(performance.now() - started);
      this.health.recordFailure(id, { type: e.kind, message: e.message });
      return {
        ok: false,
        model: target,
        latencyMs,
        status: null,
        error: { type: e.kind, message: e.message },
      };
    }
  }

  private view(c: ChannelEntity): ChannelView {
    const type: ChannelType = isChannelType(c.type) ? c.type : 'openai-compatible';
    const live = this.catalog.channel(c.id);
    const credentials = live?.credentialsEncrypted ? this.runtimes.get(live).credentials : {};
    return {
      id: c.id,
      name: c.name,
      type: c.type,
      baseUrl: c.baseUrl,
      effectiveBaseUrl: type === 'demo' ? null : (effectiveBaseUrl(type, c.baseUrl, credentials) ?? null),
      hasCredentials: channelTypeSpecs[type].credentials === 'none' || !!live?.credentialsEncrypted,
      models: c.models,
      modelMapping: c.modelMapping,
      priority: c.priority,
      weight: c.weight,
      plans: c.plans,
      enabled: c.enabled,
      timeouts: c.timeouts,
      health: this.health.view(c.id),
      createdAt: c.createdAt.toISOString(),
      updatedAt: c.updatedAt.toISOString(),
    };
  }

  private async find(id: string): Promise<ChannelEntity> {
    const entity = isUuid(id) ? await this.repo.findChannel(id) : null;
    if (!entity) throw notFound(id);
    return entity;
  }

  private checkCredentials(
    type: ChannelType,
    credentials: CreateChannelBody['credentials'],
    creating: boolean,
  ): ChannelCredentials | undefined {
    const kind = channelTypeSpecs[type].credentials;
    if (kind === 'none') {
      if (credentials) throw invalid('credentials', `${type} channels take no credentials`);
      return undefined;
    }
    if (!credentials) {
      if (creating) throw invalid('credentials', `${type} channels need credentials`);
      return undefined;
    }
    if (kind === 'aws' && !('accessKeyId' in credentials)) {
      throw invalid('credentials', 'bedrock channels take {accessKeyId, secretAccessKey, region}');
    }
    if (kind === 'apiKey' && !('apiKey' in credentials)) {
      throw invalid('credentials', `${type} channels take {apiKey}`);
    }
    return credentials;
  }

  private readCredentials(encrypted: string): ChannelCredentials {
    try {
      return this.cipher.decrypt(encrypted) as ChannelCredentials;
    } catch {
      return {};
    }
  }

  private async checkBaseUrl(
    type: ChannelType,
    baseUrl: string | null,
    credentials: ChannelCredentials,
  ): Promise<void> {
    if (type === 'demo') {
      if (baseUrl) throw invalid('baseUrl', 'the demo channel has no base URL');
      return;
    }
    const url = effectiveBaseUrl(type, baseUrl, credentials);
    if (!url) throw invalid('baseUrl', `${type} channels need a baseUrl`);
    // Provider defaults are public by construction; only an admin-supplied URL needs the guard.
    if (!baseUrl) return;
    try {
      await assertSafeUpstreamUrl(url, this.config.ALLOW_PRIVATE_UPSTREAMS);
    } catch (e) {
      if (e instanceof UnsafeUpstreamError) throw invalid('baseUrl', e.message);
      throw e;
    }
  }

  private async save<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      if (e instanceof QueryFailedError && (e as QueryFailedError & { code?: string }).code === '23505') {
        throw new DomainError(ErrorCodes.CONFLICT, 'a channel with this name already exists');
      }
      throw e;
    }
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function invalid(field: string, message: string): DomainError {
  return new DomainError(ErrorCodes.VALIDATION_FAILED, `${field}: ${message}`, {
    fields: [{ field, message }],
  });
}

function notFound(id: string): DomainError {
  return new DomainError(ErrorCodes.NOT_FOUND, `channel ${id} does not exist`);
}

export function isUuid(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}
