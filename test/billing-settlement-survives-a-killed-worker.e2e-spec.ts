import { Streams, Subjects, type UsageRecordedEvent } from '@torouter/contracts';
import { ensureStream, publishDurable } from '@torouter/messaging';
import { Queue } from 'bullmq';
import { connect, type NatsConnection } from 'nats';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestAccount, eventually, type TestAccount } from './support/second-router';
import { startTestStack, type TestStack } from './support/test-stack';

const root = join(__dirname, '..');

/** Runs billing's own entry point (apps/billing/src/main.ts) in a child process, compiled on the fly by SWC. */
const bootstrap = `
const Module = require('module');
const path = require('path');
const fs = require('fs');
const { transformSync } = require('@swc/core');
const root = process.env.TOROUTER_SOURCE_ROOT;
const paths = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8')).compilerOptions.paths;
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const alias = paths[request];
  return resolve.call(this, alias ? path.join(root, alias[0]) : request, ...rest);
};
require.extensions['.ts'] = function (module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    module: { type: 'commonjs' },
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      keepClassNames: true,
    },
  });
  module._compile(code, filename);
};
require(path.join(root, 'apps/billing/src/main.ts'));
`;

interface BillingProcess {
  child: ChildProcess;
  metricsUrl: string;
  exited: Promise<number | null>;
  output(): string;
}

/**
 * Settlement is durable end to end: usage events wait in JetStream, become BullMQ jobs (job id = request
 * id), and are settled by workers each in one Postgres transaction. A worker process killed (SIGKILL) in
 * the middle of a settlement transaction loses nothing and charges nothing twice: its job is rerun by the
 * next worker, and in the end the ledger equals the usage exactly.
 */
describe('billing: settlement survives a worker killed mid-job', () => {
  let stack: TestStack;
  let db: Client;
  let nc: NatsConnection;
  let queue: Queue;
  let account: TestAccount;
  const workers: BillingProcess[] = [];

  const startWorker = async (): Promise<BillingProcess> => {
    let out = '';
    const child = spawn(process.execPath, ['-e', bootstrap], {
      cwd: root,
      env: {
        ...process.env,
        ...stack.env,
        HTTP_PORT: '0',
        LOG_LEVEL: 'info',
        TOROUTER_SOURCE_ROOT: root,
        BILLING_SETTLEMENT_CONCURRENCY: '4',
        BILLING_SETTLEMENT_LOCK_MS: '2000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const port = await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`billing worker exited early:\n${out.slice(-4000)}`);
      return /"httpPort":(\d+)[^\n]*"msg":"billing service ready"/.exec(out)?.[1];
    }, 60_000);
    const w = { child, metricsUrl: `http://127.0.0.1:${port}/metrics`, exited, output: () => out };
    workers.push(w);
    return w;
  };

  const event = (costMicroUsd: number): UsageRecordedEvent => {
    const now = new Date().toISOString();
    return {
      requestId: `req_${randomUUID().replace(/-/g, '')}`,
      accountId: account.id,
      keyId: randomUUID(),
      keyName: 'worker-spec',
      planId: null,
      requestedModel: 'gpt-5',
      model: 'gpt-5',
      channelId: null,
      channelName: null,
      attempts: [],
      surface: 'openai',
      endpoint: '/v1/chat/completions',
      stream: false,
      status: 'success',
      httpStatus: 200,
      errorCode: null,
      usageSource: 'upstream',
      inputTokens: 10,
      cacheReadTokens: 0,
      cacheWrite5mTokens: 0,
      cacheWrite1hTokens: 0,
      outputTokens: 10,
      reasoningTokens: 0,
      costMicroUsd,
      price: {
        input: 0,
        output: 0,
        cacheRead: 0,
        cacheWrite5m: 0,
        cacheWrite1h: 0,
        perRequest: 0,
        multiplierBp: 10_000,
      },
      reservationId: null,
      reservedMicroUsd: 0,
      startedAt: now,
      finishedAt: now,
      latencyMs: 1,
      ttftMs: null,
      clientIp: '127.0.0.1',
    };
  };
  const settled = async () =>
    Number(
      (
        await db.query(`SELECT count(*) AS n FROM billing.usage_settlements WHERE account_id = $1`, [
          account.id,
        ])
      ).rows[0].n,
    );

  beforeAll(async () => {
    stack = await startTestStack({
      seedDemo: false,
      // The in-process billing only consumes JetStream and enqueues: the worker runs in its own process.
      env: {
        BILLING_SIGNUP_CREDIT_USD: '0',
        BILLING_SETTLEMENT_CONCURRENCY: '0',
        BILLING_SETTLEMENT_LOCK_MS: '2000',
      },
    });
    db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
    nc = await connect({ servers: stack.env.NATS_URL });
    await ensureStream(nc, stack.namespace, Streams.usage);
    queue = new Queue('billing.settlement', {
      connection: { url: stack.env.REDIS_URL },
      prefix: `${stack.namespace}:bull`,
    });
    account = await createTestAccount(stack, { creditUsd: 10 });
  });

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await queue?.close();
    await nc?.close();
    await db?.end();
    await stack?.close();
  });

  it('reruns the killed worker’s jobs and leaves ledger = usage exactly', async () => {
    const events = Array.from({ length: 40 }, (_, i) => event(1_000 + i * 37));
    const total = events.reduce((s, e) => s + e.costMicroUsd, 0);
    for (const e of events) {
      await publishDurable(nc, stack.namespace, Subjects.routerRequestCompleted, e, e.requestId);
      // A redelivered publish (same message id) is dropped by JetStream…
      await publishDurable(nc, stack.namespace, Subjects.routerRequestCompleted, e, e.requestId);
    }
    // …and a re-sent event under another message id reaches billing twice: settlement must not care.
    for (const e of events.slice(0, 5))
      await publishDurable(nc, stack.namespace, Subjects.routerRequestCompleted, e, `${e.requestId}-resent`);
    await eventually(async () => (await queue.getJobCounts('waiting')).waiting === 40, 30_000);
    expect(await settled()).toBe(0);

    // Hold the account's row: the worker's settlement transactions block inside, mid-job.
    const blocker = new Client({ connectionString: stack.databaseUrl });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query(`SELECT 1 FROM billing.accounts WHERE account_id = $1 FOR UPDATE`, [account.id]);
    const doomed = await startWorker();
    await eventually(async () => {
      const waiting = await db.query(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
           AND application_name = 'torouter-billing'`,
      );
      return Number(waiting.rows[0].n) >= 1;
    }, 60_000);
    expect((await queue.getJobCounts('active')).active).toBeGreaterThan(0);
    doomed.child.kill('SIGKILL');
    expect(await doomed.exited).toBeNull();
    await blocker.query('COMMIT');
    await blocker.end();
    // Nothing of the interrupted transactions was committed.
    expect(await settled()).toBe(0);

    const survivor = await startWorker();
    await eventually(async () => (await settled()) === 40, 60_000);
    // Every job completed, and a completed job is deleted at once (Postgres keeps the idempotency record).
    const queueEmpty = async () => {
      const c = await queue.getJobCounts(
        'waiting',
        'active',
        'delayed',
        'prioritized',
        'failed',
        'completed',
      );
      return Object.values(c).every((n) => n === 0);
    };
    await eventually(queueEmpty, 30_000);

    const ledger = await db.query(
      `SELECT count(*) AS n, coalesce(sum(amount_micro), 0) AS total, count(DISTINCT idempotency_key) AS keys
       FROM billing.ledger_entries WHERE account_id = $1 AND kind = 'usage_charge'`,
      [account.id],
    );
    expect(ledger.rows[0]).toEqual({ n: '40', total: String(-total), keys: '40' });
    const usage = await db.query(
      `SELECT sum(cost_micro) AS total FROM billing.usage_settlements WHERE account_id = $1`,
      [account.id],
    );
    expect(Number(usage.rows[0].total)).toBe(total);
    const acc = await db.query(
      `SELECT balance_micro, (SELECT sum(amount_micro) FROM billing.ledger_entries WHERE account_id = $1) AS ledger
       FROM billing.accounts WHERE account_id = $1`,
      [account.id],
    );
    expect(Number(acc.rows[0].balance_micro)).toBe(10_000_000 - total);
    expect(Number(acc.rows[0].ledger)).toBe(10_000_000 - total);
    for (const e of events) {
      const keys = await db.query(
        `SELECT count(*) AS n FROM billing.ledger_entries WHERE idempotency_key = $1`,
        [`usage:${e.requestId}`],
      );
      expect(keys.rows[0].n).toBe('1');
    }

    // A settled event delivered again once its job is gone (a worker that died after committing, an ack
    // lost after enqueueing) becomes a new job, which finds the settlement in Postgres: nothing is charged
    // twice.
    for (const e of events.slice(0, 10))
      await publishDurable(nc, stack.namespace, Subjects.routerRequestCompleted, e, `${e.requestId}-again`);
    const duplicates = async () =>
      Number(
        /torouter_billing_usage_events_settled_total\{[^}]*result="duplicate"[^}]*\} (\d+)/.exec(
          await (await fetch(survivor.metricsUrl)).text(),
        )?.[1] ?? 0,
      );
    await eventually(async () => (await duplicates()) === 10, 30_000);
    await eventually(queueEmpty, 30_000);
    const after = await db.query(
      `SELECT count(*) AS n, sum(amount_micro) AS total FROM billing.ledger_entries WHERE account_id = $1 AND kind = 'usage_charge'`,
      [account.id],
    );
    expect(after.rows[0]).toEqual({ n: '40', total: String(-total) });

    // Lag and queue depth are metrics.
    const metrics = await (await fetch(survivor.metricsUrl)).text();
    expect(metrics).toMatch(/torouter_billing_settlement_lag_seconds_count\{[^}]*\} \d+/);
    expect(metrics).toMatch(/torouter_billing_settlement_queue_depth\{[^}]*state="waiting"[^}]*\} 0/);
    expect(metrics).toMatch(/torouter_billing_usage_events_settled_total\{[^}]*result="settled"[^}]*\} \d+/);
    expect(metrics).toMatch(/torouter_billing_usage_events_settled_total\{[^}]*result="duplicate"[^}]*\} 10/);
    survivor.child.kill('SIGTERM');
    expect(await survivor.exited).toBe(0);
  });
});
