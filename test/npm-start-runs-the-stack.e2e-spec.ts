import { dropDatabase } from '@torouter/database';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeTestNamespace, uniqueTestName } from './support/test-stack';

const root = join(__dirname, '..');

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * npm start uses PORT and PORT+1..4. Pick a block below the kernel's ephemeral range (32768+), where other
 * suites' port-0 listeners and outgoing connections live, and check all five ports are free.
 */
async function freePortBlock(): Promise<number> {
  for (;;) {
    const base = 10_000 + Math.floor(Math.random() * 20_000);
    const free = await Promise.all([0, 1, 2, 3, 4].map((i) => portIsFree(base + i)));
    if (free.every(Boolean)) return base;
  }
}

function runStart(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  waitFor: (re: RegExp, ms: number) => Promise<string>;
} {
  let out = '';
  const child = spawn(process.execPath, [join(root, 'scripts', 'start.js')], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const waitFor = (re: RegExp, ms: number) =>
    new Promise<string>((resolve, reject) => {
      const started = Date.now();
      const tick = setInterval(() => {
        const m = re.exec(out);
        if (m) {
          clearInterval(tick);
          resolve(m[0]);
        } else if (Date.now() - started > ms || child.exitCode !== null) {
          clearInterval(tick);
          reject(new Error(`did not see ${re} (exit ${child.exitCode}); output:\n${out}`));
        }
      }, 100);
    });
  return { child, output: () => out, waitFor };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((r) => child.once('exit', (code) => r(code)));
}

describe('npm start (scripts/start.js)', () => {
  const name = uniqueTestName('torouter_start');
  const stateDir = mkdtempSync(join(tmpdir(), 'torouter-state-'));
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/${name}`;

  afterAll(async () => {
    rmSync(stateDir, { recursive: true, force: true });
    await dropDatabase(databaseUrl);
    await removeTestNamespace(name);
  });

  it('builds, migrates, seeds, prints a curl that works, and stops cleanly on Ctrl-C', async () => {
    const port = await freePortBlock();
    const run = runStart({
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      TOROUTER_NAMESPACE: name,
      TOROUTER_STATE_DIR: stateDir,
    });
    try {
      const curl = await run.waitFor(/curl -s \S+\/v1\/chat\/completions .*$/m, 120_000);
      const out = run.output();
      expect(out).toContain(`Base URL      http://localhost:${port}`);
      expect(out).toMatch(/Admin token {3}\S{24,}/);
      const key = /Bearer (sk-[0-9A-Za-z]+)/.exec(curl)![1];
      const body = /-d '(.*)'$/.exec(curl)![1];
      const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      });
      expect(res.status).toBe(200);
      const completion = (await res.json()) as { choices: Array<{ message: { content: string } }> };
      expect(completion.choices[0].message.content.length).toBeGreaterThan(0);
      expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
    } finally {
      run.child.kill('SIGINT');
    }
    expect(await exitOf(run.child)).toBe(0);
    expect(run.output()).toContain('stopped.');
  }, 180_000);

  it('says which dependency is unreachable, where, and how to start it', async () => {
    const port = await freePortBlock();
    const run = runStart({
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      TOROUTER_NAMESPACE: name,
      TOROUTER_STATE_DIR: stateDir,
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    expect(await exitOf(run.child)).toBe(1);
    expect(run.output()).toMatch(/redis is unreachable at 127\.0\.0\.1:1 \(REDIS_URL\)/);
    expect(run.output()).toContain('docker compose -f docker/compose.yaml up -d redis');
    expect(run.output()).not.toMatch(/postgres is unreachable|nats is unreachable/);
  }, 120_000);
});
