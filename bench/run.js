'use strict';
// `npm run bench` — is the gateway close to the floor? One run, three targets interleaved in time:
//   direct    the client straight to a fake OpenAI upstream (0 ms latency, realistic body, SSE of 16 chunks)
//   bare      a 30-line node:http pass-through (bench/bare-proxy.js): the floor any Node gateway can reach
//   torouter  the real stack, with a key that has an IP whitelist, a model whitelist, every window, RPM, a
//             spend cap and a pay-as-you-go balance, so every check and the reservation run on every request
// CPU 0 runs the proxy under test (router or bare); CPU 1 runs the load generator, the fake upstream and the
// internal services. Results: printed, and written to bench/results/<date>.md. `--smoke` runs a short
// version with no targets judged (used by CI to prove the benchmark still runs).
const { spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  cpuBusyMicros,
  cpuByGroup,
  cpuMicros,
  removeNamespace,
  rssMb,
  runWrk,
  spawnPinned,
  startPinned,
  waitForHttp,
  waitForSettled,
} = require('./lib');

const root = path.join(__dirname, '..');
const smoke = process.argv.includes('--smoke');
// `--profile`: only the router under `node --cpu-prof` at max throughput, then its top frames.
const profile = process.argv.includes('--profile');
// `--cpu`: like --profile without the profiler — the router's CPU per request, quickly, for before/after,
// with every process's CPU per request and Redis's time per command. BENCH_SECONDS sets the measured run
// (default 10); BENCH_STREAM=1 sends streaming requests (SSE of 16 chunks) instead; BENCH_RATE makes it open-loop at that many req/s instead of c=64 flat out (how the
// pipeline behaves at a low rate); BENCH_IDLE_MS also prints the router's memory at start, after warm-up and after that idle.
const cpuOnly = process.argv.includes('--cpu');
const seconds = smoke ? 1 : 6;
const rounds = smoke ? 1 : 2;
const PROXY_CPU = 0;
const LOAD_CPU = os.cpus().length > 1 ? 1 : 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torouter-bench-'));
const logFile = path.join(tmp, 'bench.log');
const children = [];
/** The stack's environment once started (its database and namespace are removed at the end, or on failure). */
let startedEnv;

function say(s = '') {
  process.stdout.write(`${s}\n`);
}

/**
 * The shared servers (Redis, NATS, PostgreSQL) run on the load core too, so the router's core runs the
 * router alone. Their affinity is put back when the benchmark ends.
 */
const pinnedServers = [];
let serversPinned = 0;
function pinServersToLoadCpu() {
  for (const name of ['redis-server', 'nats-server', 'postgres']) {
    const pids = spawnSync('pgrep', ['-x', name], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    for (const pid of pids) {
      const before = /: ([0-9a-f]+)\s*$/.exec(spawnSync('taskset', ['-p', pid], { encoding: 'utf8' }).stdout);
      if (!before) continue;
      if (spawnSync('taskset', ['-a', '-p', '-c', String(LOAD_CPU), pid], { stdio: 'ignore' }).status === 0)
        pinnedServers.push({ pid, mask: before[1] });
    }
  }
  serversPinned = pinnedServers.length;
}
function unpinServers() {
  for (const { pid, mask } of pinnedServers.splice(0))
    spawnSync('taskset', ['-a', '-p', mask, pid], { stdio: 'ignore' });
}

function requireTools() {
  for (const [tool, hint] of [
    ['wrk', 'apt-get install -y wrk'],
    ['taskset', 'apt-get install -y util-linux'],
  ]) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      say(`✗ ${tool} is missing: ${hint}`);
      process.exit(1);
    }
  }
}

function build() {
  const run = spawnSync(
    path.join(root, 'node_modules', '.bin', 'swc'),
    ['apps', 'libs', 'bench', '-d', 'dist', '--quiet'],
    { cwd: root, stdio: 'inherit' },
  );
  if (run.status !== 0) throw new Error('build failed');
}

const body = (stream) =>
  JSON.stringify({
    model: 'gpt-5',
    messages: [
      { role: 'system', content: 'You are a helpful assistant that answers briefly.' },
      {
        role: 'user',
        content: 'Explain in two sentences why a gateway should add almost no latency to each request.',
      },
    ],
    max_tokens: 256,
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });

async function api(base, method, p, token, payload, extraHeaders = {}) {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...extraHeaders },
    body: payload === undefined ? undefined : JSON.stringify(payload),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p} → ${res.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Starts the five services as the benchmark pins them, then configures the fully-checked key. */
async function startStack(fakeBaseUrl) {
  const name = `torouter_bench_${Date.now().toString(36)}`;
  const port = 18_000 + Math.floor(Math.random() * 10_000);
  const env = {
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${name}`,
    TOROUTER_NAMESPACE: name,
    TOROUTER_SECRET: randomBytes(32).toString('hex'),
    TOROUTER_ADMIN_TOKEN: randomBytes(24).toString('hex'),
    ALLOW_PRIVATE_UPSTREAMS: 'true',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
  };
  const { migrateAll } = require(path.join(root, 'scripts', 'migrate-all.js'));
  startedEnv = env;
  migrateAll({ ...process.env, ...env }, 'pipe');
  const services = ['auth', 'keys', 'billing', 'usage'];
  const servicePids = {};
  services.forEach((svc, i) => {
    const child = spawnPinned(
      LOAD_CPU,
      [path.join(root, 'dist/apps', svc, 'src/main.js')],
      { ...env, HTTP_PORT: String(port + 1 + i) },
      logFile,
    );
    servicePids[svc] = [child.pid];
    children.push(child);
  });
  await Promise.all(services.map((_, i) => waitForHttp(`http://127.0.0.1:${port + 1 + i}/health/ready`)));
  const seed = spawnSync(
    process.execPath,
    [path.join(root, 'dist/apps/router/src/main.js'), 'seed', '--with-key'],
    {
      env: { ...process.env, ...env, LOG_LEVEL: 'error' },
      encoding: 'utf8',
    },
  );
  if (seed.status !== 0) throw new Error(`seed failed: ${seed.stderr}`);
  const demo = JSON.parse(seed.stdout.trim().split('\n').pop());
  const coldStart = process.hrtime.bigint();
  const profileDir = path.join(tmp, 'profile');
  const routerArgs = profile && !cpuOnly ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const router = spawnPinned(
    PROXY_CPU,
    [...routerArgs, path.join(root, 'dist/apps/router/src/main.js')],
    env,
    logFile,
  );
  children.push(router);
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/health/ready`);
  const coldStartMs = Number(process.hrtime.bigint() - coldStart) / 1e6;
  await waitForHttp(`${base}/health`);

  const admin = env.TOROUTER_ADMIN_TOKEN;
  await api(base, 'POST', '/api/v1/admin/channels', admin, {
    name: 'bench-openai',
    type: 'openai',
    baseUrl: fakeBaseUrl,
    credentials: { apiKey: 'sk-bench-upstream' },
    models: ['gpt-5'],
    priority: 0,
  });
  await api(
    base,
    'POST',
    `/api/v1/admin/accounts/${demo.account.id}/credits`,
    admin,
    { amountUsd: 100000, note: 'benchmark' },
    {
      'idempotency-key': `bench-${name}`,
    },
  );
  const { signSessionToken } = require(path.join(root, 'dist/libs/session-token/src'));
  const session = await signSessionToken(
    { sub: demo.account.id, role: 'user', epoch: 0 },
    env.TOROUTER_SECRET,
  );
  await api(base, 'PATCH', `/api/v1/keys/${demo.apiKey.id}`, session, {
    ipWhitelist: '127.0.0.0/8, ::1/128',
    ipBlacklist: '203.0.113.0/24',
    modelWhitelist: 'gpt-5, claude-opus-4-7',
    quotaUsd: 50000,
    rateLimits: { per5h: 100000000, per1d: 100000000, per7d: 100000000, rpm: 10000000, tpm: 2000000000 },
  });
  // Let the catalog change event reach the router and warm every cache.
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${demo.apiKey.key}`, 'content-type': 'application/json' },
      body: body(false),
    });
    if (res.ok) break;
    if (i === 19)
      throw new Error(`the configured key cannot call the router: ${res.status} ${await res.text()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { base, key: demo.apiKey.key, router, servicePids, coldStartMs, env, profileDir };
}

function runTtfb(url, bodyFile, auth, rate) {
  const run = spawnSync(
    'taskset',
    ['-c', String(LOAD_CPU), process.execPath, path.join(__dirname, 'ttfb.js')],
    {
      env: {
        ...process.env,
        URL: url,
        BODY_FILE: bodyFile,
        AUTH: auth,
        RATE: String(rate),
        SECONDS: String(seconds),
      },
      encoding: 'utf8',
    },
  );
  return JSON.parse(run.stdout.trim().split('\n').pop());
}

const us = (v) => (Number.isFinite(v) ? (v / 1000).toFixed(3) : 'n/a');

async function main() {
  requireTools();
  pinServersToLoadCpu();
  say(`• building…`);
  build();
  const jsonFile = path.join(tmp, 'chat.json');
  const streamFile = path.join(tmp, 'chat-stream.json');
  fs.writeFileSync(jsonFile, body(false));
  fs.writeFileSync(streamFile, body(true));

  const fake = await startPinned(LOAD_CPU, [path.join(__dirname, 'fake-upstream.js')], {}, { logFile });
  children.push(fake.child);
  const bare = await startPinned(
    PROXY_CPU,
    [path.join(__dirname, 'bare-proxy.js')],
    { UPSTREAM_URL: fake.info.url },
    { logFile },
  );
  children.push(bare.child);
  say('• starting ToRouter (router on CPU 0; services, fake upstream and load generator on CPU 1)…');
  const stack = await startStack(fake.info.baseUrl);

  if (profile || cpuOnly)
    return profileRouter(stack, process.env.BENCH_STREAM ? streamFile : jsonFile, fake.child.pid);

  const targets = {
    direct: { url: `${fake.info.baseUrl}/chat/completions`, auth: 'sk-bench-upstream', pid: null },
    bare: {
      url: `http://127.0.0.1:${bare.info.port}/v1/chat/completions`,
      auth: 'sk-bench-upstream',
      pid: bare.child.pid,
    },
    torouter: { url: `${stack.base}/v1/chat/completions`, auth: stack.key, pid: stack.router.pid },
  };
  const results = {};
  const drains = [];
  const record = async (target, scenario, value) => {
    ((results[scenario] ??= {})[target] ??= []).push(value);
    // Each scenario starts on a quiet stack: what ToRouter's last one left to settle (billing, the
    // request log) is done first, and how long that took is reported, instead of loading the next one.
    if (target === 'torouter')
      drains.push({ scenario, ms: await waitForSettled(stack.env.TOROUTER_NAMESPACE) });
  };

  for (let round = 0; round < rounds; round++) {
    const order = Object.keys(targets).sort(() => Math.random() - 0.5);
    for (const name of order) {
      const t = targets[name];
      say(`• round ${round + 1}/${rounds}: ${name}`);
      for (const rate of [200, 1000]) {
        const conns = rate === 200 ? 10 : 50;
        await record(
          name,
          `json@${rate}`,
          runWrk({
            cpu: LOAD_CPU,
            url: t.url,
            connections: conns,
            seconds,
            bodyFile: jsonFile,
            auth: t.auth,
            ratePerConn: rate / conns,
          }),
        );
        await record(name, `stream@${rate}`, runTtfb(t.url, streamFile, t.auth, rate));
      }
      const cpuBefore = t.pid ? cpuMicros(t.pid) : 0;
      const max = runWrk({
        cpu: LOAD_CPU,
        url: t.url,
        connections: 64,
        seconds,
        bodyFile: jsonFile,
        auth: t.auth,
      });
      const cpuAfter = t.pid ? cpuMicros(t.pid) : 0;
      max.cpu_us_per_req = t.pid ? (cpuAfter - cpuBefore) / Math.max(1, max.requests) : null;
      max.rps = max.requests / (max.duration_us / 1e6);
      await record(name, 'max@c64', max);
    }
  }
  // CPU per request depends on the rate (at a higher one, each wake-up of the event loop serves more
  // requests). ToRouter's max rate here is bounded by the load core (it runs the whole pipeline), so bare
  // is also measured open-loop at that same rate: the like-for-like view of the same ratio.
  const torouterMaxRps = [...results['max@c64'].torouter.map((r) => r.rps)].sort((a, b) => a - b)[
    Math.floor(rounds / 2)
  ];
  const bareCpuBefore = cpuMicros(targets.bare.pid);
  const bareAtRate = runWrk({
    cpu: LOAD_CPU,
    url: targets.bare.url,
    connections: 64,
    seconds,
    bodyFile: jsonFile,
    auth: targets.bare.auth,
    ratePerConn: torouterMaxRps / 64,
  });
  bareAtRate.cpu_us_per_req =
    (cpuMicros(targets.bare.pid) - bareCpuBefore) / Math.max(1, bareAtRate.requests);
  bareAtRate.rps = bareAtRate.requests / (bareAtRate.duration_us / 1e6);
  await record('bare', 'torouter-rate@c64', bareAtRate);
  const routerRss = rssMb(stack.router.pid);
  const routerMemory = await memoryBreakdown(stack.base);
  // The proxy scenarios are over: free both cores for the settlement and usage-log figures.
  await stopStack(stack.env);
  unpinServers(); // settlement and the usage service use both cores, as in production

  say('• settlement: usage events settled per second into Postgres, and the lag at 1000 events/s…');
  const settlement = lastJsonLine(
    spawnSync(process.execPath, [path.join(__dirname, 'settlement.js'), ...(smoke ? ['--smoke'] : [])], {
      cwd: root,
      encoding: 'utf8',
      env: process.env,
      maxBuffer: 64 * 1024 * 1024,
    }),
    '{"settlement_events_per_s"',
  );
  say('• usage-log queries…');
  const usageLogs = lastJsonLine(
    spawnSync(process.execPath, [path.join(root, 'dist', 'bench', 'usage-logs-query.js')], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      env: {
        ...process.env,
        // The 10 M-row database is seeded once (≈8 min here) and kept for later runs; the smoke run
        // seeds a small throwaway one.
        ...(smoke
          ? {
              BENCH_ROWS: '200000',
              BENCH_ITERATIONS: '5',
              BENCH_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/torouter_bench_usage_smoke',
            }
          : { BENCH_KEEP: '1', BENCH_ITERATIONS: '50' }),
      },
    }),
    'JSON ',
  );

  // Median over rounds of each figure.
  const med = (arr) => [...arr].sort((a, b) => a - b)[Math.floor(arr.length / 2)];
  const fig = (scenario, target, key) => med(results[scenario][target].map((r) => r[key]));
  const failures = Object.values(results)
    .flatMap((byTarget) => Object.values(byTarget).flat())
    .reduce((n, r) => n + (r.non2xx ?? 0) + (r.socket_errors ?? 0) + (r.failed ?? 0), 0);

  const rows = [];
  const row = (figure, target, value, ok) =>
    rows.push({ figure, target, value, ok: smoke || ok === null ? '—' : ok ? '✓' : '✗' });
  const added50 = fig('json@1000', 'torouter', 'p50_us') - fig('json@1000', 'direct', 'p50_us');
  const added99 = fig('json@1000', 'torouter', 'p99_us') - fig('json@1000', 'direct', 'p99_us');
  row('added latency p50, non-streaming, 1000 req/s', '≤ 0.5 ms', `${us(added50)} ms`, added50 <= 500);
  row('added latency p99, non-streaming, 1000 req/s', '≤ 3 ms', `${us(added99)} ms`, added99 <= 3000);
  for (const rate of [200, 1000]) {
    const tr =
      fig(`stream@${rate}`, 'torouter', 'ttfb_p50_us') - fig(`stream@${rate}`, 'direct', 'ttfb_p50_us');
    const br = fig(`stream@${rate}`, 'bare', 'ttfb_p50_us') - fig(`stream@${rate}`, 'direct', 'ttfb_p50_us');
    row(
      `added TTFB p50, streaming, ${rate} req/s (bare: ${us(br)} ms)`,
      "≤ bare's + 0.5 ms",
      `${us(tr)} ms`,
      tr <= br + 500,
    );
  }
  const tput = fig('max@c64', 'torouter', 'rps') / fig('max@c64', 'bare', 'rps');
  row(
    'max throughput, c=64, vs bare',
    '≥ 0.33× (stretch 0.5×)',
    `${tput.toFixed(2)}× (${fig('max@c64', 'torouter', 'rps').toFixed(0)} vs ${fig('max@c64', 'bare', 'rps').toFixed(0)} req/s)`,
    tput >= 0.33,
  );
  const cpu = fig('max@c64', 'torouter', 'cpu_us_per_req') / fig('max@c64', 'bare', 'cpu_us_per_req');
  row(
    'CPU per request at max throughput, vs bare',
    '≤ 3× (stretch 2×)',
    `${cpu.toFixed(2)}× (${fig('max@c64', 'torouter', 'cpu_us_per_req').toFixed(0)} vs ${fig('max@c64', 'bare', 'cpu_us_per_req').toFixed(0)} µs)`,
    cpu <= 3,
  );
  const sameRate =
    fig('max@c64', 'torouter', 'cpu_us_per_req') / fig('torouter-rate@c64', 'bare', 'cpu_us_per_req');
  row(
    `  the same, bare loaded at ToRouter's max rate (${fig('torouter-rate@c64', 'bare', 'rps').toFixed(0)} req/s)`,
    '— (not the target; read beside it)',
    `${sameRate.toFixed(2)}× (${fig('max@c64', 'torouter', 'cpu_us_per_req').toFixed(0)} vs ${fig('torouter-rate@c64', 'bare', 'cpu_us_per_req').toFixed(0)} µs)`,
    null,
  );
  row('failed responses, every scenario', '0', String(failures), failures === 0);
  row(
    'router RSS after the run',
    '≤ 150 MB',
    `${routerRss.toFixed(0)} MB (${routerMemory})`,
    routerRss <= 150,
  );
  row('router cold start to ready', '—', `${stack.coldStartMs.toFixed(0)} ms`, true);
  const worstDrain = drains.reduce((w, d) => (d.ms > w.ms ? d : w), { scenario: '—', ms: 0 });
  row(
    'everything settled and logged after a scenario (worst)',
    '—',
    `${(worstDrain.ms / 1000).toFixed(1)} s after ${worstDrain.scenario}`,
    true,
  );
  row(
    'settlement throughput',
    '≥ 5,000 events/s',
    `${settlement.settlement_events_per_s} events/s (${settlement.events} events, ledger = usage: ${settlement.ledger_matches ? 'yes' : 'NO'})`,
    settlement.settlement_events_per_s >= 5000 && settlement.ledger_matches,
  );
  row(
    'settlement lag at 1000 events/s (p50 / p99 / max)',
    '< 2 s',
    `${settlement.lag_p50_ms} / ${settlement.lag_p99_ms} / ${settlement.lag_max_ms} ms`,
    settlement.lag_max_ms < 2000,
  );
  row(
    `usage-log queries on ${usageLogs.rows.toLocaleString('en')} rows, worst p99 of ${usageLogs.queries.length}`,
    'p99 < 200 ms',
    `${usageLogs.worstP99Ms.toFixed(1)} ms`,
    usageLogs.worstP99Ms < 200,
  );

  const detail = [];
  for (const [scenario, byTarget] of Object.entries(results)) {
    for (const [target, runs] of Object.entries(byTarget)) {
      const r = runs[Math.floor(runs.length / 2)];
      detail.push(
        `| ${scenario} | ${target} | ${us(r.p50_us)} | ${us(r.p99_us)} | ${us(r.ttfb_p50_us)} | ${us(r.ttfb_p99_us)} | ${r.rps ? r.rps.toFixed(0) : ''} | ${r.cpu_us_per_req ? r.cpu_us_per_req.toFixed(0) : ''} |`,
      );
    }
  }
  const date = new Date().toISOString();
  const md = [
    `# Benchmark ${date}${smoke ? ' (smoke: too short to judge)' : ''}`,
    '',
    `Machine: ${os.cpus().length} × ${os.cpus()[0].model}, Node ${process.version}. Router (and bare) pinned to CPU ${PROXY_CPU}; wrk, the fake upstream, the TTFB client, the internal services and the Redis/NATS/PostgreSQL servers (${serversPinned} processes) pinned to CPU ${LOAD_CPU}. ${rounds} interleaved round(s) of ${seconds} s per scenario; medians over rounds.`,
    '',
    '| figure | target | ToRouter | ok |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.figure} | ${r.target} | ${r.value} | ${r.ok} |`),
    '',
    '| scenario | target | p50 ms | p99 ms | TTFB p50 ms | TTFB p99 ms | req/s | CPU µs/req |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...detail,
    '',
    '| usage-log query | p50 ms | p99 ms |',
    '| --- | --- | --- |',
    ...usageLogs.queries.map((q) => `| ${q.name} | ${q.p50Ms.toFixed(2)} | ${q.p99Ms.toFixed(2)} |`),
    '',
  ].join('\n');
  say('');
  say(md);
  if (!smoke) {
    const dir = path.join(__dirname, 'results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${date.slice(0, 10)}.md`);
    fs.writeFileSync(file, md);
    say(`written to ${path.relative(root, file)}`);
  }
  await cleanup();
}

/** The last line of a child's output that starts with `prefix`, parsed as JSON (the prefix `JSON ` dropped). */
function lastJsonLine(run, prefix) {
  const line = run.stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(prefix));
  if (run.status !== 0 || !line) {
    throw new Error(
      `${run.status !== 0 ? `exit ${run.status}` : 'no summary line'}:\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`,
    );
  }
  return JSON.parse(prefix === 'JSON ' ? line.slice(5) : line);
}

/** `--profile`: load the router alone for a while under --cpu-prof, stop it, print where its time went. */
async function profileRouter(stack, jsonFile, fakePid) {
  const url = `${stack.base}/v1/chat/completions`;
  if (process.env.BENCH_IDLE_MS)
    say(
      `• router RSS at start ${rssMb(stack.router.pid).toFixed(0)} MB (${await memoryBreakdown(stack.base)})`,
    );
  runWrk({ cpu: LOAD_CPU, url, connections: 64, seconds: 3, bodyFile: jsonFile, auth: stack.key }); // warm-up
  await waitForSettled(stack.env.TOROUTER_NAMESPACE);
  if (process.env.BENCH_IDLE_MS)
    say(
      `• router RSS after warm-up ${rssMb(stack.router.pid).toFixed(0)} MB (${await memoryBreakdown(stack.base)})`,
    );
  // Where every process's time goes per request, the router's and the load core's (`--cpu` prints it).
  const groups = {
    router: [stack.router.pid],
    ...stack.servicePids,
    'fake upstream': [fakePid],
    'redis-server': 'redis-server',
    'nats-server': 'nats-server',
    postgres: 'postgres',
  };
  const groupsBefore = cpuByGroup(groups);
  const redisBefore = redisCommandStats();
  const coresBefore = [cpuBusyMicros(PROXY_CPU), cpuBusyMicros(LOAD_CPU)];
  const cpuBefore = cpuMicros(stack.router.pid);
  const run = runWrk({
    cpu: LOAD_CPU,
    url,
    connections: 64,
    seconds: Number(process.env.BENCH_SECONDS || 10),
    bodyFile: jsonFile,
    auth: stack.key,
    ratePerConn: Number(process.env.BENCH_RATE || 0) / 64,
  });
  const cpuPerReq = (cpuMicros(stack.router.pid) - cpuBefore) / Math.max(1, run.requests);
  say(
    `• ${(run.requests / (run.duration_us / 1e6)).toFixed(0)} req/s, ${cpuPerReq.toFixed(0)} µs CPU per request, ${run.non2xx} failed; latency p50 ${us(run.p50_us)} ms, p99 ${us(run.p99_us)} ms`,
  );
  if (cpuOnly) {
    const groupsAfter = cpuByGroup(groups);
    const perReq = (us) => (us / Math.max(1, run.requests)).toFixed(0).padStart(5);
    const cores = [cpuBusyMicros(PROXY_CPU) - coresBefore[0], cpuBusyMicros(LOAD_CPU) - coresBefore[1]];
    say(`• CPU per request by process (µs):`);
    let named = 0;
    for (const label of Object.keys(groups)) {
      const used = groupsAfter[label] - groupsBefore[label];
      if (label !== 'router') named += used;
      say(`    ${perReq(used)}  ${label}`);
    }
    say(`    ${perReq(cores[1] - named)}  the rest of the load core (wrk, kernel, other)`);
    const redisAfter = redisCommandStats();
    const redisRows = Object.entries(redisAfter)
      .map(([cmd, v]) => ({
        cmd,
        calls: v.calls - (redisBefore[cmd]?.calls ?? 0),
        usec: v.usec - (redisBefore[cmd]?.usec ?? 0),
      }))
      .filter((r) => r.calls > 0)
      .sort((a, b) => b.usec - a.usec)
      .slice(0, 10);
    const drainMs = await waitForSettled(stack.env.TOROUTER_NAMESPACE);
    say(`• everything settled and logged ${(drainMs / 1000).toFixed(1)} s after the run`);
    say(`• router RSS ${rssMb(stack.router.pid).toFixed(0)} MB (${await memoryBreakdown(stack.base)})`);
    if (process.env.BENCH_IDLE_MS) {
      await new Promise((r) => setTimeout(r, Number(process.env.BENCH_IDLE_MS)));
      say(
        `• after ${process.env.BENCH_IDLE_MS} ms idle: RSS ${rssMb(stack.router.pid).toFixed(0)} MB (${await memoryBreakdown(stack.base)})`,
      );
    }
    say(`• Redis time per request by command (µs; calls per request):`);
    for (const r of redisRows)
      say(`    ${perReq(r.usec)}  ${r.cmd} (${(r.calls / Math.max(1, run.requests)).toFixed(2)})`);
    say(
      `  cores busy: CPU ${PROXY_CPU} ${((cores[0] / (run.duration_us || 1)) * 100).toFixed(0)} %, CPU ${LOAD_CPU} ${((cores[1] / (run.duration_us || 1)) * 100).toFixed(0)} %`,
    );
    const liveBefore = cpuMicros(stack.router.pid);
    const live = runWrk({
      cpu: LOAD_CPU,
      url: `${stack.base}/health/live`,
      connections: 64,
      seconds: 5,
      bodyFile: jsonFile,
    });
    say(
      `• POST /health/live (a 404: the framework's floor): ${((cpuMicros(stack.router.pid) - liveBefore) / Math.max(1, live.requests)).toFixed(0)} µs CPU per request`,
    );
    return cleanup(stack.env);
  }
  const exited = new Promise((r) => stack.router.once('exit', r));
  stack.router.kill('SIGTERM');
  await exited;
  const file = fs.readdirSync(stack.profileDir).find((f) => f.endsWith('.cpuprofile'));
  const kept = path.join(os.tmpdir(), `torouter-router-${Date.now()}.cpuprofile`);
  fs.copyFileSync(path.join(stack.profileDir, file), kept);
  const { summarise } = require('./profile-summary');
  const s = summarise(kept, 30);
  say(`\nbusy ${s.busyMs.toFixed(0)} ms; by place:`);
  for (const p of s.places) say(`  ${p.share.padStart(6)}  ${p.place}`);
  say('\ntop frames (self time):');
  for (const f of s.frames) say(`  ${f.share.padStart(6)}  ${f.frame}`);
  say(`\nprofile kept at ${kept} (open in Chrome DevTools → Performance)`);
  await cleanup(stack.env);
}

/** What the router's own metrics say its memory is made of (V8 heap, external buffers), for the RSS row. */
async function memoryBreakdown(base) {
  try {
    const text = await (await fetch(`${base}/metrics`)).text();
    const mb = (name) => {
      const m = new RegExp(`^${name}(?:{[^}]*})? ([0-9.e+]+)`, 'm').exec(text);
      return m ? `${(Number(m[1]) / 1048576).toFixed(0)} MB` : '?';
    };
    return `V8 heap ${mb('torouter_nodejs_heap_size_total_bytes')} of which used ${mb('torouter_nodejs_heap_size_used_bytes')}, external ${mb('torouter_nodejs_external_memory_bytes')}`;
  } catch (e) {
    return `memory breakdown unavailable: ${e.message}`;
  }
}

/** Redis's per-command counters (`INFO commandstats`): calls and µs spent, by command. */
function redisCommandStats() {
  const out = {};
  const text = spawnSync('redis-cli', ['INFO', 'commandstats'], { encoding: 'utf8' }).stdout ?? '';
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm))
    out[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
  return out;
}

/** Stops every process the benchmark started and drops the stack's database. */
async function stopStack(env) {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (env) {
    spawnSync(
      'psql',
      [
        '-h',
        '127.0.0.1',
        '-U',
        'postgres',
        '-c',
        `DROP DATABASE IF EXISTS "${new URL(env.DATABASE_URL).pathname.slice(1)}" WITH (FORCE)`,
      ],
      { stdio: 'ignore' },
    );
    await removeNamespace(env.TOROUTER_NAMESPACE).catch((e) =>
      say(`cleaning namespace ${env.TOROUTER_NAMESPACE}: ${e.message}`),
    );
    startedEnv = undefined;
  }
}

async function cleanup(env) {
  unpinServers();
  await stopStack(env);
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch(async (e) => {
  unpinServers();
  say(`✗ ${e.stack || e.message}\n(logs: ${logFile})`);
  await stopStack(startedEnv).catch(() => undefined);
  process.exit(1);
});
