import { startTestStack, type TestStack } from './support/test-stack';

describe('the running stack: health, readiness, metrics and request ids', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ seedDemo: false });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('answers GET /health {"status":"ok"} when every service answers over NATS', async () => {
    const res = await fetch(`${stack.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it("reports the router's own dependencies on /health/ready and liveness on /health/live", async () => {
    const ready = await fetch(`${stack.url}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { dependencies: Array<{ name: string; up: boolean }> };
    expect(body.dependencies.map((d) => d.name).sort()).toEqual(['nats', 'postgres', 'redis']);
    expect(body.dependencies.every((d) => d.up)).toBe(true);
    expect((await fetch(`${stack.url}/health/live`)).status).toBe(200);
  });

  it.each(['auth', 'keys', 'billing', 'usage'] as const)(
    'serves %s health and Prometheus metrics on its own HTTP port',
    async (svc) => {
      const ready = await fetch(`${stack.services[svc].httpUrl}/health/ready`);
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as {
        service: string;
        dependencies: Array<{ name: string; up: boolean }>;
      };
      expect(body.service).toBe(svc);
      expect(body.dependencies.map((d) => d.name)).toEqual(expect.arrayContaining(['postgres', 'nats']));
      const metrics = await fetch(`${stack.services[svc].httpUrl}/metrics`);
      expect(metrics.headers.get('content-type')).toContain('text/plain');
      const text = await metrics.text();
      expect(text).toContain(`torouter_dependency_up{dependency="postgres",service="${svc}"} 1`);
      expect(text).toContain('torouter_process_cpu_user_seconds_total');
    },
  );

  it('returns its own request id on every response, never reusing the one a client sent', async () => {
    const a = await fetch(`${stack.url}/health/live`, { headers: { 'x-request-id': 'client-trace-0001' } });
    const b = await fetch(`${stack.url}/health/live`, { headers: { 'x-request-id': 'client-trace-0001' } });
    expect(a.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    expect(b.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
    const notFound = await fetch(`${stack.url}/no/such/route`);
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('x-request-id')).toMatch(/^req_/);
    expect(await notFound.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('serves the OpenAPI document and the docs UI', async () => {
    const doc = (await (await fetch(`${stack.url}/docs-json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/chat/completions', '/v1/messages', '/health']),
    );
    const ui = await fetch(`${stack.url}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });

  // Last: it stops a service.
  it('answers 503 naming the service that stopped answering', async () => {
    await stack.stopService('usage');
    const res = await fetch(`${stack.url}/health`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; services: Record<string, { status: string }> };
    expect(body.status).toBe('unavailable');
    expect(body.services.usage.status).toBe('unreachable');
    expect(body.services.keys.status).toBe('ok');
  });
});
