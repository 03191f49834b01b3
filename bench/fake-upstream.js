'use strict';
// The fake OpenAI upstream every scenario talks to, as its own process (pinned to the load generator's core):
// 0 ms latency, a realistic chat completion body, SSE with 16 content chunks. Uses the compiled test fake.
const path = require('node:path');
const { startFakeUpstream } = require(
  path.join(__dirname, '..', 'dist', 'libs', 'testing', 'src', 'fake-upstreams'),
);

const replyText =
  'Sure. Here is a concise answer to your question, with enough words to look like a real completion from a model: ' +
  'the gateway adds almost nothing on top of the provider, and this sentence pads the body to a realistic size.';

startFakeUpstream('openai', { replyText, streamChunks: 16 }).then((fake) => {
  // The benchmark sends tens of thousands of requests: keep no per-request record.
  const recorded = fake.requests;
  setInterval(() => (recorded.length = 0), 1000).unref();
  process.stdout.write(`${JSON.stringify({ ready: true, url: fake.url, baseUrl: fake.baseUrl })}\n`);
  process.on('SIGTERM', () => fake.close().then(() => process.exit(0)));
});
