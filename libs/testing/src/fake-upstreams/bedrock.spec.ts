// The fake Bedrock Runtime through real HTTP, signed with the same SigV4 signer the router uses.
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { decodeBedrockFrames, startFakeUpstream, type FakeUpstream } from './index';

const credentials = { accessKeyId: 'AKIAFAKE', secretAccessKey: 'fake-secret' };

async function signedPost(fake: FakeUpstream, path: string, body: unknown): Promise<Response> {
  const url = new URL(`${fake.baseUrl}${path}`);
  const text = JSON.stringify(body);
  const signer = new SignatureV4({ service: 'bedrock', region: 'us-east-1', sha256: Sha256, credentials });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    headers: { host: url.host, 'content-type': 'application/json' },
    body: text,
  });
  const headers = Object.fromEntries(
    Object.entries(signed.headers).filter(([k]) => k.toLowerCase() !== 'host'),
  );
  return fetch(url, { method: 'POST', headers, body: text });
}

const request = {
  system: [{ text: 'Be brief.' }],
  messages: [{ role: 'user', content: [{ text: 'Hello Bedrock' }] }],
  inferenceConfig: { maxTokens: 64 },
};

describe('fake Bedrock Runtime', () => {
  let fake: FakeUpstream;

  beforeAll(async () => {
    fake = await startFakeUpstream('bedrock');
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.close());

  it('answers Converse with the message, stop reason and usage', async () => {
    const res = await signedPost(fake, '/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse', request);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.output.message).toEqual({
      role: 'assistant',
      content: [{ text: 'Hello from fake-bedrock: Hello Bedrock' }],
    });
    expect(body.stopReason).toBe('end_turn');
    expect(body.usage.outputTokens).toBeGreaterThan(0);
    expect(fake.requests[0].headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAFAKE\/\d{8}\/us-east-1\/bedrock\/aws4_request/,
    );
  });

  it('streams ConverseStream as AWS event-stream frames', async () => {
    fake.setBehavior({ streamChunks: 3, usage: { inputTokens: 7, outputTokens: 5 } });
    const res = await signedPost(fake, '/model/m/converse-stream', request);
    expect(res.headers.get('content-type')).toBe('application/vnd.amazon.eventstream');
    const frames = decodeBedrockFrames(new Uint8Array(await res.arrayBuffer()));
    expect(frames.map((f) => f.headers[':event-type'])).toEqual([
      'messageStart',
      'contentBlockDelta',
      'contentBlockDelta',
      'contentBlockDelta',
      'contentBlockStop',
      'messageStop',
      'metadata',
    ]);
    const text = frames
      .filter((f) => f.headers[':event-type'] === 'contentBlockDelta')
      .map((f) => (f.payload as any).delta.text as string)
      .join('');
    expect(text).toBe('Hello from fake-bedrock: Hello Bedrock');
    expect((frames.at(-1)!.payload as any).usage).toMatchObject({ inputTokens: 7, outputTokens: 5 });
  });

  it('refuses unsigned requests with 403 and answers errors as {message}', async () => {
    const unsigned = await fetch(`${fake.baseUrl}/model/m/converse`, {
      method: 'POST',
      body: JSON.stringify(request),
    });
    expect(unsigned.status).toBe(403);
    fake.setBehavior({ error: { status: 429, message: 'Too many requests' } });
    const throttled = await signedPost(fake, '/model/m/converse', request);
    expect(throttled.status).toBe(429);
    expect(await throttled.json()).toEqual({ message: 'Too many requests' });
  });

  it('cuts the event stream after N frames', async () => {
    fake.setBehavior({ cutAfterChunks: 2 });
    const res = await signedPost(fake, '/model/m/converse-stream', request);
    const chunks: Uint8Array[] = [];
    const reader = res.body!.getReader();
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          chunks.push(value);
        }
      })(),
    ).rejects.toThrow();
    const bytes = Buffer.concat(chunks);
    expect(decodeBedrockFrames(new Uint8Array(bytes))).toHaveLength(2);
  });
});
