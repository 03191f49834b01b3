import type { ApiKeyCreated } from '@torouter/contracts';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { UsageOutbox } from '../apps/router/src/usage-events/usage-outbox';
import {
  callJson,
  createTestAccount,
  eventually,
  startSecondRouter,
  type RouterProcess,
  type TestAccount,
} from './support/second-router';
import { startTestStack, type TestStack } from './support/test-stack';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A router replica (B, its own OS process) is killed with SIGKILL under load, at a moment its usage outbox
 * holds events it journaled but had not forwarded yet. Every answer a client received in full is billed
 * exactly once — forwarded by the surviving replica (A) — and nothing is billed twice.
 */
describe('router: a replica killed under load loses no usage and bills nothing twice', () => {
  let stack: TestStack;
  let b: RouterProcess;
  let owner: TestAccount;
  let key: ApiKeyCreated;
  let db: Client;
  let redis: Redis;

  beforeAll(async () => {
    // A dead replica's unforwarded events are taken over after half a second (30 s in production).
    const env = { ROUTER_OUTBOX_CLAIM_IDLE_MS: '500' };
    stack = await startTestStack({ env });
    [b, owner] = await Promise.all([
      startSecondRouter(stack, env),
      createTestAccount(stack, { creditUsd: 100 }),
    ]);
    const created = await callJson(stack.url, 'POST', '/api/v1/keys', {
      token: owner.token,
      body: { name: 'crash', quotaUsd: 0, expiresInDays: 0 },
    });
    expect(created.status).toBe(201);
    key = created.body as ApiKeyCreated;
    db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
    redis = new Redis('redis://127.0.0.1:6379', { keyPrefix: `${stack.namespace}:` });
  }, 120_000);

  afterAll(async () => {
    redis?.disconnect();
    await db?.end();
    await b?.close();
    await stack?.close();
  });

  it('bills every answer a client received exactly once, through the surviving replica', async () => {
    const completed: string[] = [];
    let running = true;
    const client = async () => {
      while (running) {
        try {
          const res = await fetch(`${b.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'hello' }] }),
          });
          const body = (await res.json()) as { usage?: { total_tokens: number } };
          if (res.status === 200 && body.usage) completed.push(res.headers.get('x-request-id')!);
        } catch {
          // B died while this request was in flight: the client never got a complete answer.
          await sleep(20);
        }
      }
    };
    const clients = Array.from({ length: 12 }, client);
    await eventually(async () => completed.length >= 30, 60_000);

    // Freeze B when its outbox holds journaled events it has not forwarded, then kill it.
    let unforwarded = 0;
    for (let i = 0; i < 500 && unforwarded === 0; i++) {
      process.kill(b.pid, 'SIGSTOP');
      unforwarded = await redis.xlen(UsageOutbox.streamKey);
      if (unforwarded === 0) {
        process.kill(b.pid, 'SIGCONT');
        await sleep(3);
      }
    }
    expect(unforwarded).toBeGreaterThan(0);
    process.kill(b.pid, 'SIGKILL');
    running = false;
    await Promise.all(clients);
    const answered = [...completed];

    // A forwards what B left behind; billing settles each request once.
    await eventually(async () => (await redis.xlen(UsageOutbox.streamKey)) === 0, 30_000);
    const billedIds = async () =>
      new Set(
        (
          await db.query<{ key: string }>(
            `SELECT idempotency_key AS key FROM billing.ledger_entries WHERE account_id = $1 AND kind = 'usage_charge'`,
            [owner.id],
          )
        ).rows.map((r) => r.key),
      );
    await eventually(async () => {
      const billed = await billedIds();
      return answered.every((id) => billed.has(`usage:${id}`));
    }, 60_000);

    const ledger = await db.query<{ n: string; keys: string; total: string }>(
      `SELECT count(*) AS n, count(DISTINCT idempotency_key) AS keys, coalesce(sum(amount_micro), 0) AS total
       FROM billing.ledger_entries WHERE account_id = $1 AND kind = 'usage_charge'`,
      [owner.id],
    );
    const { n, keys, total } = ledger.rows[0];
    expect(Number(n)).toBe(Number(keys)); // nothing charged twice
    expect(Number(n)).toBeGreaterThanOrEqual(answered.length); // requests cut by the kill may be billed too
    expect(Number(total)).toBeLessThan(0);
    // The balance is the credits minus exactly these charges.
    const account = await db.query<{ balance: string; credits: string }>(
      `SELECT balance_micro AS balance,
              (SELECT sum(amount_micro) FROM billing.ledger_entries WHERE account_id = $1 AND kind <> 'usage_charge') AS credits
       FROM billing.accounts WHERE account_id = $1`,
      [owner.id],
    );
    expect(Number(account.rows[0].balance)).toBe(Number(account.rows[0].credits) + Number(total));
  }, 180_000);
});
