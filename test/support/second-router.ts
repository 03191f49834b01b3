import { Subjects } from '@torouter/contracts';
import { RpcClient } from '@torouter/messaging';
import { signSessionToken } from '@torouter/session-token';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { TestStack } from './test-stack';

const root = join(__dirname, '..', '..');

/**
 * Runs the router's own entry point (apps/router/src/main.ts) in a child process, compiled on the fly by
 * SWC with the repository's settings, so no build is needed. `@torouter/*` resolve to libs/<name>/src.
 */
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
    sourceMaps: 'inline',
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
require(path.join(root, 'apps/router/src/main.ts'));
`;

export interface RouterProcess {
  url: string;
  pid: number;
  /** Everything the process wrote (JSON logs), for failure messages. */
  output(): string;
  close(): Promise<void>;
}

/**
 * A second router replica as a separate OS process, on the same Postgres, Redis, NATS and namespace as
 * `stack` (its own in-memory caches, its own connections). `env` overrides the stack's environment.
 */
export async function startSecondRouter(
  stack: TestStack,
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<RouterProcess> {
  let out = '';
  const child: ChildProcess = spawn(process.execPath, ['-e', bootstrap], {
    cwd: root,
    env: {
      ...process.env,
      ...stack.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      TOROUTER_SOURCE_ROOT: root,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const started = Date.now();
    const tick = setInterval(() => {
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*"msg":"router ready"/.exec(out);
      if (m) {
        clearInterval(tick);
        resolve(m[1]);
      } else if (child.exitCode !== null || Date.now() - started > timeoutMs) {
        clearInterval(tick);
        child.kill('SIGKILL');
        reject(new Error(`second router did not start (exit ${child.exitCode}):\n${out.slice(-4000)}`));
      }
    }, 100);
  });
  return {
    url,
    pid: child.pid!,
    output: () => out,
    close: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---- helpers shared by the keys e2e specs ----------------------------------------------------------

export interface TestAccount {
  id: string;
  email: string;
  /** A session token for the control plane (Authorization: Bearer). */
  token: string;
}

/**
 * An account created through auth over NATS, with a session token signed like auth signs them, and
 * (unless `creditUsd` is 0) prepaid credit from billing so its keys' requests are admitted.
 */
export async function createTestAccount(
  stack: TestStack,
  opts: { verified?: boolean; role?: 'user' | 'admin'; creditUsd?: number } = {},
): Promise<TestAccount> {
  const rpc = new RpcClient({
    natsUrl: stack.env.NATS_URL,
    namespace: stack.namespace,
    timeoutMs: 15_000,
    name: 'keys-e2e',
  });
  await rpc.connect();
  try {
    const email = `keys-${randomBytes(5).toString('hex')}@example.com`;
    const account = await rpc.send(Subjects.authAccountCreate, {
      email,
      password: randomBytes(12).toString('base64url'),
      emailVerified: opts.verified ?? true,
      role: opts.role ?? 'user',
    });
    const status = await rpc.send(Subjects.authAccountStatusGet, { accountId: account.id });
    const creditUsd = opts.creditUsd ?? 100;
    if (creditUsd > 0) {
      await rpc.send(Subjects.billingCreditCreate, {
        accountId: account.id,
        amountUsd: creditUsd,
        note: 'keys e2e',
        idempotencyKey: `keys-e2e-${account.id}`,
      });
    }
    const token = await signSessionToken(
      { sub: account.id, role: status.role, epoch: status.sessionEpoch },
      stack.env.TOROUTER_SECRET,
    );
    return { id: account.id, email, token };
  } finally {
    await rpc.close();
  }
}

export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** One JSON call; `body` undefined sends no body. */
export async function callJson<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...opts.headers,
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: body as T };
}

/** Polls `fn` until it returns a truthy value (no timing assertion: only "eventually"). */
export async function eventually<T>(
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
