'use strict';
// `npm start`: the whole stack on one machine. Builds, checks Postgres/Redis/NATS, migrates, starts the
// four internal services and the router as separate processes, seeds a demo account, key and channel on
// first run, and prints everything needed for a first call. Ctrl-C stops everything cleanly.
//
// State that must survive restarts (generated secrets, the demo key) lives in .torouter/ (gitignored),
// or in TOROUTER_STATE_DIR. Service logs (JSON) go to <state dir>/logs/<service>.log.
const { spawn, spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { checkDependencies } = require('./check-dependencies');
const { migrateAll } = require('./migrate-all');

const root = path.join(__dirname, '..');
const stateDir = path.resolve(process.env.TOROUTER_STATE_DIR || path.join(root, '.torouter'));
const logDir = path.join(stateDir, 'logs');
const internalServices = ['auth', 'keys', 'billing', 'usage'];

function say(line = '') {
  process.stdout.write(`${line}\n`);
}

/** Secrets generated once per checkout and reused, unless the environment sets them. */
function localSecrets() {
  const file = path.join(stateDir, 'local-secrets.json');
  let saved = {};
  if (fs.existsSync(file)) saved = JSON.parse(fs.readFileSync(file, 'utf8'));
  const secrets = {
    TOROUTER_SECRET: saved.TOROUTER_SECRET || randomBytes(32).toString('hex'),
    TOROUTER_ADMIN_TOKEN: saved.TOROUTER_ADMIN_TOKEN || `adm_${randomBytes(24).toString('base64url')}`,
  };
  fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

function buildEnvironment() {
  fs.mkdirSync(logDir, { recursive: true });
  const port = Number(process.env.PORT || 8080);
  const env = {
    ...localSecrets(),
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/torouter',
    REDIS_URL: 'redis://127.0.0.1:6379',
    NATS_URL: 'nats://127.0.0.1:4222',
    TOROUTER_NAMESPACE: 'torouter',
    // Local mode: channels may point at localhost (a local model server, the test fakes).
    ALLOW_PRIVATE_UPSTREAMS: 'true',
    ...process.env,
    PORT: String(port),
  };
  env.PUBLIC_BASE_URL = env.PUBLIC_BASE_URL || `http://localhost:${port}`;
  return { env, port };
}

function build() {
  say('• building (swc)…');
  const swc = path.join(root, 'node_modules', '.bin', 'swc');
  const run = spawnSync(swc, ['apps', 'libs', '-d', 'dist', '--quiet'], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) throw new Error('build failed');
}

function get(url, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.on('timeout', () => req.destroy());
  });
}

async function waitFor(url, what, children, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const dead = children.find((c) => c.exitCode !== null);
    if (dead)
      throw new Error(
        `${dead.service} exited with code ${dead.exitCode} while starting; see ${dead.logFile}`,
      );
    const res = await get(url);
    if (res.status === 200) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs / 1000} s (${url}); see ${logDir}`);
}

function startService(service, env) {
  const logFile = path.join(logDir, `${service}.log`);
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [path.join(root, 'dist', 'apps', service, 'src', 'main.js')], {
    env,
    stdio: ['ignore', out, out],
  });
  child.service = service;
  child.logFile = logFile;
  return child;
}

function runSeed(env, withKey) {
  const args = [path.join(root, 'dist', 'apps', 'router', 'src', 'main.js'), 'seed'];
  if (withKey) args.push('--with-key');
  const run = spawnSync(process.execPath, args, { env: { ...env, LOG_LEVEL: 'error' }, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`seeding failed:\n${run.stdout}${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop());
}

/** The demo key is shown once by the keys service; keep it locally so every `npm start` can print it. */
function demoCredentials(env) {
  const file = path.join(stateDir, 'demo.json');
  const saved = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null;
  const usable =
    saved && saved.databaseUrl === env.DATABASE_URL && saved.namespace === env.TOROUTER_NAMESPACE;
  const seeded = runSeed(env, !usable);
  const demo = usable
    ? saved
    : {
        databaseUrl: env.DATABASE_URL,
        namespace: env.TOROUTER_NAMESPACE,
        email: seeded.account.email,
        password:
          seeded.account.password ||
          (saved && saved.password) ||
          '(set before this checkout; reset it once accounts land)',
        apiKey: seeded.apiKey.key,
      };
  fs.writeFileSync(file, JSON.stringify(demo, null, 2), { mode: 0o600 });
  return demo;
}

async function main() {
  const { env, port } = buildEnvironment();
  build();
  say('• checking Postgres, Redis and NATS…');
  try {
    await checkDependencies(env);
  } catch (e) {
    say(`\n✗ ToRouter cannot start:\n  ${e.message.split('\n').join('\n  ')}\n`);
    process.exit(1);
  }
  say('• migrating…');
  migrateAll(env, 'pipe');

  const children = [];
  let stopping = false;
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    say(`\n• ${signal}: stopping all services…`);
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    const force = setTimeout(() => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')), 10_000);
    force.unref();
    Promise.all(
      children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r)))),
    ).then(() => {
      say('• stopped.');
      process.exit(process.exitCode ?? 0);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  say('• starting auth, keys, billing, usage…');
  internalServices.forEach((service, i) => {
    const httpPort = env[`${service.toUpperCase()}_HTTP_PORT`] || String(port + i + 1);
    children.push(startService(service, { ...env, HTTP_PORT: httpPort }));
  });
  try {
    await Promise.all(
      internalServices.map((service, i) =>
        waitFor(
          `http://127.0.0.1:${env[`${service.toUpperCase()}_HTTP_PORT`] || port + i + 1}/health/ready`,
          service,
          children,
        ),
      ),
    );
    say('• seeding (first run: demo channel, catalog, demo account and key)…');
    const demo = demoCredentials(env);
    say('• starting router…');
    children.push(startService('router', env));
    await waitFor(`http://127.0.0.1:${port}/health`, 'the stack', children);
    const base = `http://localhost:${port}`;
    say('');
    say('ToRouter is running.');
    say(
      `  Base URL      ${base}   (OpenAI SDK: ${base}/v1 · Anthropic SDK: ${base} · Gemini SDK: ${base}/v1beta)`,
    );
    say(`  API docs      ${base}/docs`);
    say(`  Admin token   ${env.TOROUTER_ADMIN_TOKEN}`);
    say(`  Demo account  ${demo.email} / ${demo.password}`);
    say(`  Demo API key  ${demo.apiKey}`);
    say(`  Logs          ${logDir}`);
    say('');
    say('Try it (answered by the built-in demo channel, no provider credentials needed):');
    say(
      `  curl -s ${base}/v1/chat/completions -H "Authorization: Bearer ${demo.apiKey}" -H "Content-Type: application/json" -d '{"model":"gpt-5","messages":[{"role":"user","content":"Hello!"}]}'`,
    );
    say('');
    say('Press Ctrl-C to stop.');
  } catch (e) {
    say(`\n✗ ${e.message}`);
    process.exitCode = 1;
    stop('startup failure');
    return;
  }
  for (const c of children) {
    c.once('exit', (code) => {
      if (!stopping) {
        say(`✗ ${c.service} exited unexpectedly (code ${code}); see ${c.logFile}. Stopping the stack.`);
        process.exitCode = 1;
        stop('failure');
      }
    });
  }
}

main().catch((e) => {
  say(`✗ ${e.stack || e.message}`);
  process.exit(1);
});
