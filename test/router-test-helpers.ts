// Helpers for the router's data-plane e2e specs: admin calls (channels, models), and reading the usage
// events the router published to JetStream. Imported by test/router-*.e2e-spec.ts and test/sdk-*.e2e-spec.ts.
import { streamName, Streams, Subjects, type UsageRecordedEvent } from '@torouter/contracts';
import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import type { TestStack } from './support/test-stack';

export interface ChannelInput {
  name: string;
  type: string;
  baseUrl?: string | null;
  credentials?: Record<string, string>;
  models: string[];
  modelMapping?: Record<string, string>;
  priority?: number;
  weight?: number;
  plans?: string[];
  enabled?: boolean;
  timeouts?: { connectMs?: number; firstByteMs?: number; totalMs?: number };
}

export interface ChannelOutput extends Omit<ChannelInput, 'credentials'> {
  id: string;
  hasCredentials: boolean;
  health: {
    status: 'healthy' | 'cooling_down' | 'unhealthy';
    cooldownUntil: string | null;
    consecutiveFailures: number;
    recentErrorRate: number | null;
    recentRequests: number;
    lastError: { status: number | null; type: string; message: string } | null;
  };
}

export function adminClient(stack: TestStack) {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${stack.adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed: any = text ? JSON.parse(text) : undefined;
    return { status: res.status, body: parsed };
  };
  return {
    call,
    async createChannel(input: ChannelInput): Promise<ChannelOutput> {
      const res = await call('POST', '/api/v1/admin/channels', input);
      if (res.status !== 201) throw new Error(`createChannel ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body as ChannelOutput;
    },
    async updateChannel(id: string, patch: Partial<ChannelInput>): Promise<ChannelOutput> {
      const res = await call('PATCH', `/api/v1/admin/channels/${id}`, patch);
      if (res.status !== 200) throw new Error(`updateChannel ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body as ChannelOutput;
    },
    async listChannels(): Promise<ChannelOutput[]> {
      const res = await call('GET', '/api/v1/admin/channels');
      return (res.body as { data: ChannelOutput[] }).data;
    },
    async channel(id: string): Promise<ChannelOutput> {
      return (await call('GET', `/api/v1/admin/channels/${id}`)).body as ChannelOutput;
    },
    async deleteChannel(id: string): Promise<void> {
      await call('DELETE', `/api/v1/admin/channels/${id}`);
    },
    /** Every channel off (the seeded demo included), so a suite routes only to the channels it creates. */
    async disableAllChannels(): Promise<void> {
      for (const c of await this.listChannels()) {
        if (c.enabled) await this.updateChannel(c.id, { enabled: false });
      }
    },
    async deleteAllChannels(): Promise<void> {
      for (const c of await this.listChannels()) await this.deleteChannel(c.id);
    },
  };
}

/** Every usage event the router published to this stack's USAGE stream, oldest first. */
export async function readUsageEvents(stack: TestStack): Promise<UsageRecordedEvent[]> {
  const nc = await connect({ servers: stack.env.NATS_URL });
  try {
    const name = streamName(stack.namespace, Streams.usage.name);
    const jsm = await nc.jetstreamManager();
    const total = (await jsm.streams.info(name)).state.messages;
    if (total === 0) return [];
    const consumer = await nc.jetstream().consumers.get(name);
    const out: UsageRecordedEvent[] = [];
    const messages = await consumer.fetch({ max_messages: total, expires: 3000 });
    for await (const m of messages) {
      out.push(m.json<UsageRecordedEvent>());
      if (out.length >= total) break;
    }
    return out;
  } finally {
    await nc.close();
  }
}

/** The usage event of one request, waiting for it to reach JetStream (forwarded from the outbox). */
export async function usageEventOf(
  stack: TestStack,
  requestId: string,
  timeoutMs = 10_000,
): Promise<UsageRecordedEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await readUsageEvents(stack)).filter((e) => e.requestId === requestId);
    if (found.length > 0) {
      if (found.length > 1) throw new Error(`${found.length} usage events for ${requestId}`);
      return found[0];
    }
    if (Date.now() > deadline) throw new Error(`no usage event for ${requestId}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls `check` until it returns a value (or throws after the timeout). */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Credits an account's prepaid balance through billing (pay-as-you-go keys need one to be admitted). */
export async function creditAccount(stack: TestStack, accountId: string, amountUsd: number): Promise<void> {
  await stack.rpc.send(Subjects.billingCreditCreate, {
    accountId,
    amountUsd,
    note: 'test credit',
    idempotencyKey: `test-${randomUUID()}`,
  });
}
