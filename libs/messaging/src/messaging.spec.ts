import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  ApiKeyLookupRequest,
  DomainError,
  ErrorCodes,
  Subjects,
  type ApiKeyPolicy,
} from '@torouter/contracts';
import { currentRequestId } from '@torouter/observability';
import type { INestApplication } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { UseFilters, UseInterceptors } from '@nestjs/common';
import { NamespacedNatsServer } from './namespaced-nats.server';
import { NatsRequestIdInterceptor } from './request-id.interceptor';
import { RpcErrorFilter } from './rpc-error.filter';
import { RpcClient } from './rpc.client';
import { ZodPayloadPipe } from './zod-payload.pipe';

const natsUrl = 'nats://127.0.0.1:4222';

/** Counts handled messages per app, to prove queue groups deliver each request once. */
const handled: Record<string, number> = {};

function makeController(instance: string) {
  @Controller()
  @UseFilters(RpcErrorFilter)
  @UseInterceptors(NatsRequestIdInterceptor)
  class EchoController {
    @MessagePattern(Subjects.keysApiKeyLookup)
    // Answers only the fields these specs read; the real keys service fills the whole policy.
    lookup(
      @Payload(new ZodPayloadPipe(ApiKeyLookupRequest)) req: ApiKeyLookupRequest,
    ): Partial<ApiKeyPolicy> {
      handled[instance] = (handled[instance] ?? 0) + 1;
      if (req.keyHash.startsWith('dead')) throw new DomainError(ErrorCodes.NOT_FOUND, 'no such key');
      if (req.keyHash.startsWith('bad')) throw new Error('database exploded at 10.0.0.5');
      return {
        found: true,
        id: currentRequestId() ?? 'none',
        accountId: instance,
        name: 'echo',
        status: 'active',
        expiresAt: null,
      };
    }
  }
  return EchoController;
}

async function startEchoService(namespace: string, instance: string): Promise<INestApplication> {
  @Module({ controllers: [makeController(instance)] })
  class EchoModule {}
  const app = await NestFactory.create(EchoModule, new FastifyAdapter(), { logger: false });
  app.connectMicroservice({
    strategy: new NamespacedNatsServer(namespace, { servers: [natsUrl], queue: 'keys' }),
  });
  await app.startAllMicroservices();
  await app.init();
  return app;
}

describe('NATS request/reply between services', () => {
  const namespace = `msg_${randomBytes(4).toString('hex')}`;
  const apps: INestApplication[] = [];
  let client: RpcClient;
  const hash = (prefix: string) => (prefix + '0'.repeat(64)).slice(0, 64);

  beforeAll(async () => {
    apps.push(await startEchoService(namespace, 'a'), await startEchoService(namespace, 'b'));
    client = new RpcClient({ natsUrl, namespace, timeoutMs: 2000, name: 'spec' });
    await client.connect();
  });

  afterAll(async () => {
    await client.close();
    for (const app of apps) await app.close();
  });

  it('carries the request id in headers into the handler', async () => {
    const res = await client.send(
      Subjects.keysApiKeyLookup,
      { keyHash: hash('ab') },
      { requestId: 'req_spec_12345' },
    );
    expect(res).toMatchObject({ found: true, id: 'req_spec_12345' });
  });

  it('delivers each request to exactly one replica of the queue group', async () => {
    for (const k of Object.keys(handled)) delete handled[k];
    await Promise.all(
      Array.from({ length: 40 }, () => client.send(Subjects.keysApiKeyLookup, { keyHash: hash('cd') })),
    );
    expect((handled.a ?? 0) + (handled.b ?? 0)).toBe(40);
  });

  it('rejects an invalid payload at the boundary with validation_failed naming the field', async () => {
    await expect(client.send(Subjects.keysApiKeyLookup, { keyHash: 'nope' })).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('keyHash'),
    });
  });

  it('passes domain errors through with their code', async () => {
    const err = await client
      .send(Subjects.keysApiKeyLookup, { keyHash: hash('dead') })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'not_found', message: 'no such key' });
  });

  it('hides internals of unexpected errors', async () => {
    const err = await client
      .send(Subjects.keysApiKeyLookup, { keyHash: hash('bad') })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'internal_error', message: 'internal error' });
    expect(JSON.stringify(err)).not.toContain('10.0.0.5');
  });

  it('reports a service nobody answers for as service_unavailable, quickly', async () => {
    const other = new RpcClient({ natsUrl, namespace: `${namespace}_empty`, timeoutMs: 500, name: 'spec2' });
    await other.connect();
    try {
      await expect(other.send(Subjects.keysApiKeyLookup, { keyHash: hash('ab') })).rejects.toMatchObject({
        code: 'service_unavailable',
      });
    } finally {
      await other.close();
    }
  });
});
