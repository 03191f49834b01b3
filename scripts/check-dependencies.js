'use strict';
// Checks that Postgres, Redis and NATS answer before anything starts, and says exactly which one does
// not, at which address, and how to start it. Plain Node (no build step) so it runs on a fresh clone.
const net = require('node:net');

function hostPort(url, defaultPort) {
  const u = new URL(url.split(',')[0]);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || defaultPort) };
}

/** Opens a TCP connection, optionally writes `probe`, and resolves with the first bytes received. */
function talk({ host, port }, probe, timeoutMs = 3000) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      if (probe) socket.write(probe);
    });
    socket.once('data', (data) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data.toString('utf8'));
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

const hints = {
  postgres:
    'start it with `docker compose -f docker/compose.yaml up -d postgres`, or on Debian/Ubuntu: `sudo apt-get install postgresql && sudo pg_ctlcluster --skip-systemctl-redirect 15 main start` (trust auth for user postgres on 127.0.0.1, or put the password in DATABASE_URL)',
  redis:
    'start it with `docker compose -f docker/compose.yaml up -d redis`, or on Debian/Ubuntu: `sudo apt-get install redis-server && redis-server --daemonize yes`',
  nats: 'start it with `docker compose -f docker/compose.yaml up -d nats`, or on Debian/Ubuntu: `sudo apt-get install nats-server && nats-server -js -a 127.0.0.1 -p 4222 &` (JetStream must be on: -js)',
};

async function checkPostgres(url) {
  const target = hostPort(url, 5432);
  const { Client } = require('pg');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (e) {
    throw Object.assign(new Error(e.message), { target });
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function checkRedis(url) {
  const target = hostPort(url, 6379);
  try {
    const answer = await talk(target, 'PING\r\n');
    // "-NOAUTH" still proves a Redis is there; credentials are checked by the services themselves.
    if (!/^(\+PONG|-NOAUTH)/.test(answer))
      throw new Error(`unexpected answer: ${answer.trim().slice(0, 80)}`);
  } catch (e) {
    throw Object.assign(new Error(e.message), { target });
  }
}

async function checkNats(url) {
  const target = hostPort(url, 4222);
  let info;
  try {
    info = await talk(target, null);
  } catch (e) {
    throw Object.assign(new Error(e.message), { target });
  }
  if (!info.startsWith('INFO ')) throw Object.assign(new Error('not a NATS server'), { target });
  const details = JSON.parse(info.slice(5));
  if (!details.jetstream)
    throw Object.assign(new Error('NATS answers but JetStream is off (start nats-server with -js)'), {
      target,
    });
}

/** Resolves when all three answer; otherwise rejects with one readable paragraph per failing dependency. */
async function checkDependencies(env) {
  const checks = [
    ['postgres', 'DATABASE_URL', env.DATABASE_URL, checkPostgres],
    ['redis', 'REDIS_URL', env.REDIS_URL, checkRedis],
    ['nats', 'NATS_URL', env.NATS_URL, checkNats],
  ];
  const failures = [];
  await Promise.all(
    checks.map(async ([name, variable, url, check]) => {
      try {
        await check(url);
      } catch (e) {
        const where = e.target ? `${e.target.host}:${e.target.port}` : url;
        failures.push(`${name} is unreachable at ${where} (${variable}): ${e.message}\n    → ${hints[name]}`);
      }
    }),
  );
  if (failures.length) throw new Error(failures.join('\n'));
}

module.exports = { checkDependencies };
