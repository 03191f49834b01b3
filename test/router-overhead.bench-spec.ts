// Overhead measurement (not part of `npm test`: the file name does not match *.e2e-spec.ts). Run with
//   npx jest --testMatch '**/test/router-overhead.bench-spec.ts' --testTimeout 600000
// It prints p50/p90 latencies of N sequential requests sent straight to a fake upstream and through the
// router (same-format pass-through, translated, streamed), and the router's own x-torouter-overhead-ms.
import { startFakeUpstream, type FakeUpstream } from '../libs/testing/src/fake-upstreams';
import { adminClient, creditAccount } from './router-test-helpers';
import { startTestStack, type TestStack } from './support/test-stack';

const N = Number(process.env.BENCH_N ?? 500);
const WARMUP = 50;

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

describe('router overhead (benchmark)', () => {
  let stack: TestStack;
  let openai: FakeUpstream;
  let anthropic: FakeUpstream;

  beforeAll(async () => {
    [stack, openai, anthropic] = await Promise.all([
      startTestStack({ env: { LOG_LEVEL: 'error' } }),
      startFakeUpstream('openai'),
      startFakeUpstream('anthropic'),
    ]);
    await creditAccount(stack, stack.demo!.account.id, 10_000);
    const admin = adminClient(stack);
    await admin.disableAllChannels();
    await admin.createChannel({
      name: 'o',
      type: 'openai',
      baseUrl: openai.baseUrl,
      credentials: { apiKey: 'sk-o' },
      models: ['gpt-5'],
    });
    await admin.createChannel({
      name: 'a',
      type: 'anthropic',
      baseUrl: anthropic.baseUrl,
      credentials: { apiKey: 'sk-a' },
      models: ['claude-opus-4-7'],
    });
  });

  afterAll(async () => {
    await Promise.all([stack?.close(), openai?.close(), anthropic?.close()]);
  });

  async function run(label: string, send: () => Promise<Response>, readAll = true) {
    const times: number[] = [];
    const overheads: number[] = [];
    for (let i = 0; i < WARMUP + N; i++) {
      const t0 = performance.now();
      const res = await send();
      if (readAll) await res.arrayBuffer();
      const dt = performance.now() - t0;
      if (i < WARMUP) continue;
      times.push(dt);
      const o = res.headers.get('x-torouter-overhead-ms');
      if (o !== null) overheads.push(Number(o));
    }
    const line = `${label.padEnd(44)} p50 ${pct(times, 50).toFixed(2)} ms  p90 ${pct(times, 90).toFixed(2)} ms${
      overheads.length
        ? `  (x-torouter-overhead-ms p50 ${pct(overheads, 50)}, p90 ${pct(overheads, 90)})`
        : ''
    }`;
    process.stdout.write(`${line}\n`);
    return pct(times, 50);
  }

  it(`measures ${N} sequential requests`, async () => {
    const key = stack.demo!.apiKey!.key;
    // Warm every cache (key policy, plan, spend state), then stop the consumers of the usage stream:
    // in this single-process test stack their per-request settlement work would share the router's
    // event loop, which a real deployment (one process per service) never does.
    await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'warm' }] }),
    }).then((r) => r.arrayBuffer());
    if (process.env.BENCH_KEEP_CONSUMERS !== '1') {
      await stack.stopService('usage');
      await stack.stopService('billing');
    }
    const body = JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'benchmark' }] });
    const streamBody = JSON.stringify({
      model: 'gpt-5',
      stream: true,
      messages: [{ role: 'user', content: 'benchmark' }],
    });
    const post = (url: string, b: string, headers: Record<string, string>) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: b });

    const direct = await run('direct → fake OpenAI (JSON)', () =>
      post(`${openai.baseUrl}/chat/completions`, body, { authorization: 'Bearer sk-o' }),
    );
    const routed = await run('router → OpenAI channel (JSON, pass-through)', () =>
      post(`${stack.url}/v1/chat/completions`, body, { authorization: `Bearer ${key}` }),
    );
    const directStream = await run('direct → fake OpenAI (SSE, whole body)', () =>
      post(`${openai.baseUrl}/chat/completions`, streamBody, { authorization: 'Bearer sk-o' }),
    );
    const routedStream = await run('router → OpenAI channel (SSE, whole body)', () =>
      post(`${stack.url}/v1/chat/completions`, streamBody, { authorization: `Bearer ${key}` }),
    );
    const directAnthropic = await run('direct → fake Anthropic (JSON)', () =>
      post(
        `${anthropic.url}/v1/messages`,
        JSON.stringify({
          model: 'claude-opus-4-7',
          max_tokens: 64,
          messages: [{ role: 'user', content: 'benchmark' }],
        }),
        { 'x-api-key': 'sk-a', 'anthropic-version': '2023-06-01' },
      ),
    );
    const translated = await run('router OpenAI → Anthropic channel (JSON)', () =>
      post(
        `${stack.url}/v1/chat/completions`,
        JSON.stringify({ model: 'claude-opus-4-7', messages: [{ role: 'user', content: 'benchmark' }] }),
        {
          authorization: `Bearer ${key}`,
        },
      ),
    );
    process.stdout.write(
      `added p50: pass-through JSON ${(routed - direct).toFixed(2)} ms, SSE ${(routedStream - directStream).toFixed(2)} ms, translated ${(translated - directAnthropic).toFixed(2)} ms\n`,
    );
  });
});
