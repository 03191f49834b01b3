// The fake Replicate predictions API through real HTTP.
import { parseSse, startFakeUpstream, type FakeUpstream } from './index';

const auth = { authorization: 'Bearer r8_fake', 'content-type': 'application/json' };

describe('fake Replicate predictions API', () => {
  let fake: FakeUpstream;

  beforeAll(async () => {
    fake = await startFakeUpstream('replicate');
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.close());

  it('answers a finished prediction with Prefer: wait, with output pieces and token metrics', async () => {
    const res = await fetch(`${fake.baseUrl}/models/meta/meta-llama-3-8b-instruct/predictions`, {
      method: 'POST',
      headers: { ...auth, prefer: 'wait' },
      body: JSON.stringify({ input: { prompt: 'Hi there', max_tokens: 20 } }),
    });
    expect(res.status).toBe(201);
    const p = (await res.json()) as any;
    expect(p.status).toBe('succeeded');
    expect(p.output.join('')).toBe('Hello from fake-replicate: Hi there');
    expect(p.metrics.output_token_count).toBeGreaterThan(0);
    expect(p.model).toBe('meta/meta-llama-3-8b-instruct');
  });

  it('starts a prediction without waiting and finishes it on GET', async () => {
    const created = (await (
      await fetch(`${fake.baseUrl}/predictions`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ version: 'abc', input: { prompt: 'x' } }),
      })
    ).json()) as any;
    expect(created.status).toBe('starting');
    const done = (await (await fetch(created.urls.get, { headers: auth })).json()) as any;
    expect(done.status).toBe('succeeded');
  });

  it('streams output events then done from urls.stream', async () => {
    fake.setBehavior({ streamChunks: 4 });
    const created = (await (
      await fetch(`${fake.baseUrl}/models/a/b/predictions`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ stream: true, input: { prompt: 'Stream' } }),
      })
    ).json()) as any;
    const events = parseSse(
      await (await fetch(created.urls.stream, { headers: { ...auth, accept: 'text/event-stream' } })).text(),
    );
    expect(events.map((e) => e.event)).toEqual(['output', 'output', 'output', 'output', 'done']);
    expect(
      events
        .filter((e) => e.event === 'output')
        .map((e) => e.data)
        .join(''),
    ).toBe('Hello from fake-replicate: Stream');
  });

  it('refuses missing credentials and answers problem+json errors', async () => {
    const res = await fetch(`${fake.baseUrl}/predictions`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ title: 'Unauthenticated', status: 401 });
  });
});
