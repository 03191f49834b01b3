import { Inject, Injectable, Logger } from '@nestjs/common';
import type { RouterConfig } from '@torouter/config';
import { APP_CONFIG } from '@torouter/service-runtime';
import type { IncomingHttpHeaders } from 'node:http';
import { CatalogCache } from '../catalog/catalog.cache';
import type { ChannelEntity } from '../catalog/channel.entity';
import type { UpstreamRequest } from '../relay';
import { signBedrockRequest } from './bedrock-signer';
import {
  channelTypeSpecs,
  effectiveBaseUrl,
  isChannelType,
  type ChannelCredentials,
  type ChannelType,
  type ChannelTypeSpec,
} from './channel-types';
import { CredentialsCipher } from './credentials.cipher';
import {
  defaultUpstreamTimeouts,
  UpstreamHttp,
  type UpstreamHttpRequest,
  type UpstreamTimeouts,
} from './upstream-http';

/** A channel ready to be called: decrypted credentials, resolved base URL and timeouts, its pool key. */
export interface RuntimeChannel {
  id: string;
  name: string;
  type: ChannelType;
  spec: ChannelTypeSpec;
  /** No trailing slash. Undefined for the demo channel. */
  baseUrl?: string;
  credentials: ChannelCredentials;
  modelMapping: Record<string, string>;
  timeouts: UpstreamTimeouts;
  poolKey: string;
  /** Set when the channel cannot be used (credentials unreadable, no base URL): every attempt fails with it. */
  problem?: string;
}

/** Headers a client may send that the upstream of the same family should see. */
const ANTHROPIC_FORWARDED = ['anthropic-beta'];
const ANTHROPIC_VERSION = '2023-06-01';

/**
 * Turns catalog channel rows into callable channels (credentials decrypted once per channel version, not
 * per request) and builds the exact HTTP request for one attempt: URL, auth, provider headers, body.
 */
@Injectable()
export class ChannelRuntimes {
  private readonly logger = new Logger(ChannelRuntimes.name);
  private readonly cache = new Map<string, RuntimeChannel>();

  constructor(
    catalog: CatalogCache,
    private readonly cipher: CredentialsCipher,
    private readonly http: UpstreamHttp,
    @Inject(APP_CONFIG) private readonly config: RouterConfig,
  ) {
    catalog.onChannelsChanged((channels) => {
      const live = new Set(channels.map(versionKey));
      for (const key of this.cache.keys()) if (!live.has(key)) this.cache.delete(key);
      this.http.retain(live);
    });
  }

  get(entity: ChannelEntity): RuntimeChannel {
    const key = versionKey(entity);
    let runtime = this.cache.get(key);
    if (!runtime) {
      runtime = this.build(entity, key);
      this.cache.set(key, runtime);
    }
    return runtime;
  }

  private build(entity: ChannelEntity, poolKey: string): RuntimeChannel {
    const type: ChannelType = isChannelType(entity.type) ? entity.type : 'openai-compatible';
    const spec = channelTypeSpecs[type];
    let credentials: ChannelCredentials = {};
    let problem: string | undefined;
    if (spec.credentials !== 'none') {
      if (!entity.credentialsEncrypted) {
        problem = 'the channel has no credentials';
      } else {
        try {
          credentials = this.cipher.decrypt(entity.credentialsEncrypted) as ChannelCredentials;
        } catch {
          problem = 'the channel credentials cannot be decrypted with this TOROUTER_SECRET';
          this.logger.error(`channel ${entity.name}: ${problem}`);
        }
      }
    }
    const baseUrl = type === 'demo' ? undefined : effectiveBaseUrl(type, entity.baseUrl, credentials);
    if (type !== 'demo' && !baseUrl) problem ??= 'the channel has no base URL';
    return {
      id: entity.id,
      name: entity.name,
      type,
      spec,
      baseUrl,
      credentials,
      modelMapping: entity.modelMapping ?? {},
      timeouts: { ...defaultUpstreamTimeouts, ...pickTimeouts(entity.timeouts) },
      poolKey,
      problem,
    };
  }

  /** The HTTP request for one attempt on `channel`. Credentials are added here and nowhere else. */
  async httpRequest(
    channel: RuntimeChannel,
    up: UpstreamRequest,
    opts: {
      clientHeaders?: IncomingHttpHeaders;
      signal?: AbortSignal;
      method?: 'GET' | 'POST';
      /** An absolute URL the provider handed out (Replicate's `urls.get` / `urls.stream`). */
      url?: string;
    },
  ): Promise<UpstreamHttpRequest> {
    const url = opts.url ?? `${channel.baseUrl ?? ''}${up.path}`;
    const body = up.rawBody ? up.rawBody.data : JSON.stringify(up.body);
    const headers: Record<string, string> = {
      'content-type': up.rawBody ? up.rawBody.contentType : 'application/json',
      accept: 'application/json, text/event-stream',
      ...up.headers,
    };
    const creds = channel.credentials;
    const apiKey = 'apiKey' in creds ? creds.apiKey : '';
    switch (channel.spec.wire) {
      case 'openai':
      case 'replicate':
        headers.authorization = `Bearer ${apiKey}`;
        break;
      case 'anthropic': {
        headers['x-api-key'] = apiKey;
        const client = opts.clientHeaders ?? {};
        const version = client['anthropic-version'];
        headers['anthropic-version'] =
          typeof version === 'string' && version
            ? version
            : (headers['anthropic-version'] ?? ANTHROPIC_VERSION);
        for (const name of ANTHROPIC_FORWARDED) {
          const value = client[name];
          if (typeof value === 'string' && value) headers[name] = value;
          else if (Array.isArray(value) && value.length) headers[name] = value.join(',');
        }
        break;
      }
      case 'gemini':
        headers['x-goog-api-key'] = apiKey;
        break;
      case 'bedrock':
        Object.assign(
          headers,
          await signBedrockRequest(creds, url, opts.method ?? 'POST', headers, body.toString()),
        );
        break;
      case 'demo':
        break;
    }
    return {
      poolKey: channel.poolKey,
      url,
      method: opts.method ?? 'POST',
      headers,
      body: opts.method === 'GET' ? undefined : body,
      timeouts: channel.timeouts,
      signal: opts.signal,
    };
  }

  /** Exposed for the admin API's defaults. */
  get allowPrivateUpstreams(): boolean {
    return this.config.ALLOW_PRIVATE_UPSTREAMS;
  }
}

function versionKey(entity: ChannelEntity): string {
  return `${entity.id}:${entity.updatedAt.getTime()}`;
}

function pickTimeouts(t: ChannelEntity['timeouts'] | null | undefined): Partial<UpstreamTimeouts> {
  const out: Partial<UpstreamTimeouts> = {};
  if (t?.connectMs) out.connectMs = t.connectMs;
  if (t?.firstByteMs) out.firstByteMs = t.firstByteMs;
  if (t?.totalMs) out.totalMs = t.totalMs;
  return out;
}
