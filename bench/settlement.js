'use strict';
// `node bench/settlement.js` — how fast does billing settle usage events into Postgres, and how far behind
// is it at 1000 req/s? Only what settlement needs runs: billing (consumer, BullMQ workers, ledger) and keys
// (billing adds each settled cost to the key's spend over NATS), as child processes on a scratch database,
// NATS namespace and Redis prefix. The script stands in for the router: it publishes valid
// UsageRecordedEvents to the usage stream, message id = request id, as the router does.
//   (a) throughput: N events (default 20,000) published as fast as JetStream takes them; the figure is
//       N / (all N settled in Postgres − first publish), settled = visible in billing.usage_settlements;
//   (b) lag: a steady 1000 events/s for 5 s; lag = the settlement row's settled_at (start of the settling
//       transaction, which commits a few ms later) − the event's finishedAt (its publish time here).
// Then 1% of the events are delivered again under new message ids (a router re-sending), and ledger = usage
// is checked exactly (every event charged once, sums equal to the micro-USD, balances moved by exactly the
// sum, key spend in billing and in keys equal to the usage). Prints one JSON line last (stdout); progress,
// the CPU time per event of each process involved and the mean batch size go to stderr.
// Options: --smoke (2,000 events, 1 s of lag), --events N, --rate R, --lag-seconds S, --accounts A,
// --keys K (per account), --profile (billing under --cpu-prof, busiest frames printed), --no-build.
// Billing tunables pass through the environment (e.g. BILLING_SETTLEMENT_BATCH_SIZE=500 node bench/…).
const { spawn, spawnSync } = require('node:child_process');
const { randomBytes, randomUUID } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { cpuByGroup, removeNamespace, waitForHttp } = require('./lib');

const root = path.join(__dirname, '..');
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name, fallback) => {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(argv[i + 1]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} needs a positive number`);
  return n;
};
const smoke = flag('--smoke');
const EVENTS = Math.floor(option('--events', smoke ? 2_000 : 20_000));
const RATE = option('--rate', 1000);
const LAG_SECONDS = option('--lag-seconds', smoke ? 1 : 5);
const ACCOUNTS = Math.floor(option('--accounts', 1));
const KEYS_PER_ACCOUNT = Math.floor(option('--keys', 1));
// `--profile`: billing runs under `node --cpu-prof`; its busiest frames are printed at the end.
const PROFILE = flag('--profile');
const CREDIT_USD = 1_000_000;
// Events per publish batch, as the router's outbox forwarder sends them (concurrent publishes, acks awaited
// together); the router's replicas publish concurrently too.
const PUBLISH_BATCH = 256;
const SETTLE_TIMEOUT_MS = 180_000;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torouter-settlement-bench-'));
const logFile = path.join(tmp, 'services.log');
const children = [];

const began = Date.now();
function say(s = '') {
  process.stderr.write(`[${((Date.now() - began) / 1000).toFixed(1).padStart(6)}s] ${s}\n`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function build() {
  const run = spawnSync(
    path.join(root, 'node_modules', '.bin', 'swc'),
    ['apps', 'libs', '-d', 'dist', '--quiet'],
    { cwd: root, stdio: 'inherit' },
  );
  if (run.status !== 0) throw new Error('build failed');
}

function dist(p) {
  return require(path.join(root, 'dist', p));
}

function startService(svc, env, port, nodeArgs = []) {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, 'dist/apps', svc, 'src/main.js')], {
    env: { ...process.env, ...env, HTTP_PORT: String(port) },
    stdio: ['ignore', out, out],
  });
  child.exited = new Promise((resolve) => child.once('exit', resolve));
  children.push(child);
  return child;
}

async function stopChildren() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await Promise.race([Promise.all(children.map((c) => c.exited)), sleep(10_000)]);
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
}

/**
 * CPU time so far (µs) of the processes settlement runs on: billing, keys, this script, the Postgres
 * backends serving billing and keys (and, apart, the one this script polls with); Redis and NATS are
 * counted whole (anything else using them on this machine is included).
 */
function cpuByProcess(billing, keys, backends) {
  return cpuByGroup({
    billing: [billing.pid],
    keys: [keys.pid],
    bench: [process.pid],
    redis: 'redis-server',
    nats: 'nats-server',
    postgres: backends.services,
    'postgres (bench polling)': [backends.bench],
  });
}

/** A valid usage event as the router publishes it (prices and tokens only have to be consistent-looking). */
function usageEvent(requestId, key, planId, costMicroUsd) {
  const finished = new Date();
  return {
    requestId,
    accountId: key.accountId,
    keyId: key.id,
    keyName: key.name,
    planId,
    requestedModel: 'gpt-5',
    model: 'gpt-5',
    channelId: key.channelId,
    channelName: 'bench-openai',
    attempts: [
      { channelId: key.channelId, channelName: 'bench-openai', outcome: 'success', httpStatus: 200 },
    ],
    surface: 'openai',
    endpoint: '/v1/chat/completions',
    stream: false,
    status: 'success',
    httpStatus: 200,
    errorCode: null,
    usageSource: 'upstream',
    inputTokens: 120,
    cacheReadTokens: 0,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
    outputTokens: 80,
    reasoningTokens: 0,
    costMicroUsd,
    price: {
      input: 1_250_000,
      output: 10_000_000,
      cacheRead: 125_000,
      cacheWrite5m: 0,
      cacheWrite1h: 0,
      perRequest: 0,
      multiplierBp: 10_000,
    },
    // The router reserves under the request id; settlement releases that hold.
    reservationId: requestId,
    reservedMicroUsd: costMicroUsd * 2,
    startedAt: new Date(finished.getTime() - 350).toISOString(),
    finishedAt: finished.toISOString(),
    latencyMs: 350,
    ttftMs: null,
    clientIp: '127.0.0.1',
  };
}

async function main() {
  if (!flag('--no-build')) build();
  const { Client } = require('pg');
  const { connect } = require('nats');
  const { Consumers, Subjects, Streams, streamName } = dist('libs/contracts/src');
  const { ensureStream, JetStreamBatchPublisher, RpcClient } = dist('libs/messaging/src');
  const { dropDatabase } = dist('libs/database/src');
  const { migrateAll } = require(path.join(root, 'scripts', 'migrate-all.js'));

  const name = `torouter_sbench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const basePort = 20_000 + Math.floor(Math.random() * 20_000);
  const env = {
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${name}`,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    TOROUTER_NAMESPACE: name,
    TOROUTER_SECRET: randomBytes(32).toString('hex'),
    TOROUTER_ADMIN_TOKEN: randomBytes(24).toString('hex'),
    BILLING_SIGNUP_CREDIT_USD: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    NODE_ENV: 'production',
  };
  let db;
  let nc;
  let rpc;
  let migrated = false;
  const cleanup = async () => {
    await rpc?.close().catch(() => undefined);
    await stopChildren();
    await nc?.close().catch(() => undefined);
    await db?.end().catch(() => undefined);
    if (migrated) await dropDatabase(env.DATABASE_URL).catch((e) => say(`dropping ${name}: ${e}`));
    await removeNamespace(name, { natsUrl: env.NATS_URL, redisUrl: env.REDIS_URL }).catch((e) =>
      say(`cleaning namespace ${name}: ${e}`),
    );
  };

  try {
    say(`• scratch database and namespace ${name}; service logs in ${logFile}`);
    migrated = true; // from here on the database may exist
    migrateAll({ ...process.env, ...env }, 'pipe');
    // The stream exists before billing starts (as the router also ensures it), so nothing is published
    // into the void.
    nc = await connect({ servers: env.NATS_URL, name: `${name}-bench` });
    await ensureStream(nc, name, Streams.usage);
    const services = ['keys', 'billing'];
    say('• starting keys and billing');
    const profileDir = path.join(tmp, 'profile');
    const [keysChild, billingChild] = services.map((svc, i) =>
      startService(
        svc,
        env,
        basePort + i,
        PROFILE && svc === 'billing' ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
      ),
    );
    await Promise.all(services.map((_, i) => waitForHttp(`http://127.0.0.1:${basePort + i}/health/ready`)));
    const billingMetricsUrl = `http://127.0.0.1:${basePort + 1}/metrics`;

    db = new Client({ connectionString: env.DATABASE_URL, application_name: 'settlement-bench' });
    await db.connect();
    rpc = new RpcClient({
      natsUrl: env.NATS_URL,
      namespace: name,
      timeoutMs: 15_000,
      name: `${name}-bench-rpc`,
    });
    await rpc.connect();

    // Accounts get their balance through billing's own admin-credit path; keys are rows in keys' table
    // (creating them through the API would need auth and the router, which settlement does not use).
    const planId = (await db.query(`SELECT id FROM billing.plans WHERE is_default`)).rows[0].id;
    const keys = [];
    for (let a = 0; a < ACCOUNTS; a++) {
      const accountId = randomUUID();
      await rpc.send(Subjects.billingCreditCreate, {
        accountId,
        amountUsd: CREDIT_USD,
        note: 'settlement benchmark',
        idempotencyKey: `bench-${name}-${a}`,
      });
      for (let k = 0; k < KEYS_PER_ACCOUNT; k++) {
        const id = randomUUID();
        const hash = randomBytes(32).toString('hex');
        await db.query(
          `INSERT INTO keys.api_keys (id, account_id, name, key_hash, masked_key, plan_id, limits_id)
           VALUES ($1, $2, $3, $4, $5, $6, $1)`,
          [id, accountId, `bench-${k}`, hash, `sk-bench…${hash.slice(0, 4)}`, planId],
        );
        keys.push({ id, accountId, name: `bench-${k}`, channelId: randomUUID() });
      }
    }

    const published = new Map(); // requestId → { cost, accountId, keyId, finishedAtMs }
    const enc = new TextEncoder();
    const cost = () => 1 + Math.floor(Math.random() * 5_000);
    const makeEvent = (prefix, i) => {
      const key = keys[i % keys.length];
      const requestId = `${prefix}_${randomBytes(12).toString('hex')}`;
      const ev = usageEvent(requestId, key, planId, cost());
      published.set(requestId, {
        cost: ev.costMicroUsd,
        accountId: key.accountId,
        keyId: key.id,
        finishedAtMs: Date.parse(ev.finishedAt),
      });
      return ev;
    };
    // Published as the router's outbox forwarder does: a batch at a time, every ack awaited together.
    const batchPublisher = new JetStreamBatchPublisher(nc);
    const publishBatch = async (events, msgId = (ev) => ev.requestId) => {
      const results = await batchPublisher.publish(
        name,
        Subjects.routerRequestCompleted,
        events.map((ev) => ({ messageId: msgId(ev), data: enc.encode(JSON.stringify(ev)) })),
        30_000,
      );
      const failed = results.find((r) => !r.ok);
      if (failed) throw new Error(`JetStream refused a usage event: ${failed.error}`);
    };
    const settledCount = async () =>
      Number((await db.query(`SELECT count(*) AS n FROM billing.usage_settlements`)).rows[0].n);

    // (a) throughput
    say(`• throughput: ${EVENTS} events, as fast as JetStream takes them`);
    // Backends opened during the phase are counted whole (their pools grow on demand).
    const backendPids = async () =>
      (
        await db.query(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
        )
      ).rows.map((r) => r.pid);
    const backends = {
      bench: (await db.query('SELECT pg_backend_pid() AS pid')).rows[0].pid,
      services: await backendPids(),
    };
    const cpuBefore = cpuByProcess(billingChild, keysChild, backends);
    const t0 = performance.now();
    for (let i = 0; i < EVENTS; i += PUBLISH_BATCH) {
      const batch = [];
      for (let j = i; j < Math.min(EVENTS, i + PUBLISH_BATCH); j++) batch.push(makeEvent('tp', j));
      await publishBatch(batch);
    }
    const publishedMs = performance.now() - t0;
    let n = 0;
    for (;;) {
      n = await settledCount();
      if (n >= EVENTS) break;
      if (performance.now() - t0 > SETTLE_TIMEOUT_MS)
        throw new Error(`only ${n}/${EVENTS} settled after ${SETTLE_TIMEOUT_MS} ms`);
      await sleep(20);
    }
    const settleMs = performance.now() - t0;
    const eventsPerS = EVENTS / (settleMs / 1000);
    backends.services.push(...(await backendPids()).filter((pid) => !backends.services.includes(pid)));
    const cpuAfter = cpuByProcess(billingChild, keysChild, backends);
    say(
      `  CPU µs per event: ${Object.keys(cpuAfter)
        .map((k) => `${k} ${((cpuAfter[k] - cpuBefore[k]) / EVENTS).toFixed(0)}`)
        .join(', ')}`,
    );
    say(
      `  published in ${publishedMs.toFixed(0)} ms (${((EVENTS / publishedMs) * 1000).toFixed(0)}/s); ` +
        `all settled after ${settleMs.toFixed(0)} ms → ${eventsPerS.toFixed(0)} events/s`,
    );

    // (b) lag at a steady rate
    const lagTotal = Math.round(RATE * LAG_SECONDS);
    say(`• lag: ${lagTotal} events at ${RATE}/s`);
    const lagCpuBefore = cpuByProcess(billingChild, keysChild, backends);
    const lagPublishes = [];
    const start = performance.now();
    let sent = 0;
    while (sent < lagTotal) {
      const due = Math.min(lagTotal, Math.floor(((performance.now() - start) / 1000) * RATE) + 1);
      const batch = [];
      for (; sent < due; sent++) batch.push(makeEvent('lag', sent));
      if (batch.length) lagPublishes.push(publishBatch(batch));
      await sleep(2);
    }
    await Promise.all(lagPublishes);
    const publishSeconds = (performance.now() - start) / 1000;
    for (;;) {
      n = await settledCount();
      if (n >= EVENTS + lagTotal) break;
      if (performance.now() - start > SETTLE_TIMEOUT_MS)
        throw new Error(`${EVENTS + lagTotal - n} lag events unsettled after ${SETTLE_TIMEOUT_MS} ms`);
      await sleep(100);
    }
    const lagCpuAfter = cpuByProcess(billingChild, keysChild, backends);
    say(
      `  CPU µs per event: ${Object.keys(lagCpuAfter)
        .map((k) => `${k} ${((lagCpuAfter[k] - lagCpuBefore[k]) / lagTotal).toFixed(0)}`)
        .join(', ')}`,
    );
    // settled_at is the settling transaction's start (Postgres clock, same machine as finishedAt's).
    const lag = (
      await db.query(
        `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
                percentile_disc(0.99) WITHIN GROUP (ORDER BY ms) AS p99, max(ms) AS max
         FROM (SELECT round(extract(epoch FROM settled_at - usage_finished_at) * 1000) AS ms
               FROM billing.usage_settlements WHERE request_id LIKE 'lag\\_%') AS t`,
      )
    ).rows[0];
    const lagP50 = Number(lag.p50);
    const lagP99 = Number(lag.p99);
    const lagMax = Number(lag.max);
    say(`  published at ${(lagTotal / publishSeconds).toFixed(0)}/s`);
    say(`  lag p50 ${lagP50} ms, p99 ${lagP99} ms, max ${lagMax} ms`);

    // The same requests again under other message ids (JetStream cannot drop them): billing must.
    const again = [...published.keys()].filter((_, i) => i % 100 === 0);
    say(`• ${again.length} events delivered again under new message ids`);
    await publishBatch(
      again.map((requestId) => {
        const e = published.get(requestId);
        return usageEvent(
          requestId,
          keys.find((k) => k.id === e.keyId),
          planId,
          e.cost,
        );
      }),
      (ev) => `${ev.requestId}-again`,
    );
    // Handled = acked by billing's consumer (each becomes a job again, its job having been deleted on
    // completion; the settlement record in Postgres makes that job a no-op).
    const jsm = await nc.jetstreamManager();
    const againDeadline = Date.now() + 60_000;
    for (;;) {
      const c = await jsm.consumers.info(streamName(name, Streams.usage.name), Consumers.billingSettlement);
      if (c.num_pending === 0 && c.num_ack_pending === 0) break;
      if (Date.now() > againDeadline) throw new Error('re-delivered events not handled within 60 s');
      await sleep(100);
    }
    await sleep(500); // anything they started settles (there should be nothing)

    // Ledger = usage, exactly.
    say('• checking ledger = usage');
    const expected = { count: published.size, total: 0, byAccount: new Map(), byKey: new Map() };
    for (const e of published.values()) {
      expected.total += e.cost;
      expected.byAccount.set(e.accountId, (expected.byAccount.get(e.accountId) ?? 0) + e.cost);
      expected.byKey.set(e.keyId, (expected.byKey.get(e.keyId) ?? 0) + e.cost);
    }
    const problems = [];
    const s = (
      await db.query(
        `SELECT count(*) AS n, count(DISTINCT request_id) AS ids, coalesce(sum(cost_micro), 0) AS cost,
                coalesce(sum(charged_micro), 0) AS charged FROM billing.usage_settlements`,
      )
    ).rows[0];
    if (Number(s.n) !== expected.count || Number(s.ids) !== expected.count)
      problems.push(`settlements: ${s.n} rows, ${s.ids} request ids, expected ${expected.count}`);
    if (Number(s.cost) !== expected.total || Number(s.charged) !== expected.total)
      problems.push(`settlements: cost ${s.cost}, charged ${s.charged}, expected ${expected.total}`);
    const l = (
      await db.query(
        `SELECT count(*) AS n, count(DISTINCT idempotency_key) AS keys, coalesce(-sum(amount_micro), 0) AS total
         FROM billing.ledger_entries WHERE kind = 'usage_charge'`,
      )
    ).rows[0];
    if (Number(l.n) !== expected.count || Number(l.keys) !== expected.count)
      problems.push(`ledger: ${l.n} usage charges, ${l.keys} distinct, expected ${expected.count}`);
    if (Number(l.total) !== expected.total)
      problems.push(`ledger: charged ${l.total}, expected ${expected.total}`);
    const unmatched = Number(
      (
        await db.query(
          `SELECT count(*) AS n FROM billing.usage_settlements s
           LEFT JOIN billing.ledger_entries e ON e.idempotency_key = 'usage:' || s.request_id
           WHERE e.id IS NULL OR -e.amount_micro <> s.charged_micro`,
        )
      ).rows[0].n,
    );
    if (unmatched) problems.push(`${unmatched} settlements without their exact ledger entry`);
    for (const [accountId, spent] of expected.byAccount) {
      const a = (
        await db.query(
          `SELECT balance_micro, (SELECT sum(amount_micro) FROM billing.ledger_entries WHERE account_id = $1) AS ledger
           FROM billing.accounts WHERE account_id = $1`,
          [accountId],
        )
      ).rows[0];
      const want = CREDIT_USD * 1_000_000 - spent;
      if (Number(a.balance_micro) !== want || Number(a.ledger) !== want)
        problems.push(
          `account ${accountId}: balance ${a.balance_micro}, ledger ${a.ledger}, expected ${want}`,
        );
    }
    for (const [keyId, spent] of expected.byKey) {
      const k = (await db.query(`SELECT spent_micro FROM billing.key_spend WHERE key_id = $1`, [keyId]))
        .rows[0];
      if (Number(k?.spent_micro) !== spent)
        problems.push(`billing key_spend ${keyId}: ${k?.spent_micro}, expected ${spent}`);
    }
    const w = (
      await db.query(
        `SELECT kind, sum(spent_micro) AS total FROM billing.window_spend GROUP BY kind ORDER BY kind`,
      )
    ).rows;
    for (const kind of ['d', 'm', 'w']) {
      const got = Number(w.find((r) => r.kind === kind)?.total ?? 0);
      if (got !== expected.total) problems.push(`window_spend ${kind}: ${got}, expected ${expected.total}`);
    }
    // keys is told after the commit (and retried until it has it): give it a moment to catch up.
    const keysDeadline = Date.now() + 30_000;
    for (;;) {
      const rows = (
        await db.query(`SELECT id, spent_micro_usd FROM keys.api_keys WHERE id = ANY($1::uuid[])`, [
          [...expected.byKey.keys()],
        ])
      ).rows;
      const wrong = rows.filter((r) => Number(r.spent_micro_usd) !== expected.byKey.get(r.id));
      if (!wrong.length) break;
      if (Date.now() > keysDeadline) {
        for (const r of wrong)
          problems.push(`keys spent ${r.id}: ${r.spent_micro_usd}, expected ${expected.byKey.get(r.id)}`);
        break;
      }
      await sleep(200);
    }
    const metrics = await (await fetch(billingMetricsUrl)).text();
    const settledMetric =
      /torouter_billing_usage_events_settled_total\{[^}]*result="settled"[^}]*\} (\d+)/.exec(metrics);
    if (Number(settledMetric?.[1]) !== expected.count)
      problems.push(`settled metric ${settledMetric?.[1]}, expected ${expected.count}`);
    const batchSum = /torouter_billing_settlement_batch_size_sum\{[^}]*\} ([\d.e+]+)/.exec(metrics);
    const batchCount = /torouter_billing_settlement_batch_size_count\{[^}]*\} (\d+)/.exec(metrics);
    if (batchSum && batchCount)
      say(
        `  ${batchCount[1]} settlement transactions, ${(Number(batchSum[1]) / Number(batchCount[1])).toFixed(1)} jobs each on average`,
      );
    for (const p of problems) say(`  ✗ ${p}`);
    if (!problems.length) say(`  ✓ ledger = usage: ${expected.count} events, ${expected.total} micro-USD`);

    process.stdout.write(
      `${JSON.stringify({
        settlement_events_per_s: Math.round(eventsPerS),
        lag_p50_ms: lagP50,
        lag_p99_ms: lagP99,
        lag_max_ms: lagMax,
        events: expected.count,
        ledger_matches: problems.length === 0,
      })}\n`,
    );
    process.exitCode = problems.length ? 1 : 0;
    if (PROFILE) {
      await stopChildren();
      const { summarise } = require('./profile-summary');
      for (const f of fs.readdirSync(profileDir)) {
        const summary = summarise(path.join(profileDir, f), 25);
        say(`• billing profile ${path.join(profileDir, f)} (busy ${summary.busyMs.toFixed(0)} ms)`);
        for (const p of summary.places) say(`  ${p.share.padStart(6)}  ${p.place}`);
        for (const fr of summary.frames) say(`  ${fr.share.padStart(6)}  ${fr.frame}`);
      }
    }
  } catch (e) {
    say(`✗ ${e.stack ?? e}`);
    try {
      say(fs.readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n'));
    } catch {
      /* no log yet */
    }
    process.exitCode = 1;
  } finally {
    say('• cleaning up');
    await cleanup();
    // The service log (and a profile) are kept only when there is something to look at.
    if (process.exitCode === 0 && !PROFILE) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

void main();
