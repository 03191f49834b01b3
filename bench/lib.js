'use strict';
// Small process and measurement helpers for the benchmark: pinned child processes, per-process CPU time
// and RSS from /proc, wrk runs with a machine-readable summary.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const readline = require('node:readline');

const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

/** Starts `node script` pinned to `cpu`, resolving with the first JSON line it prints ({ready: true, …}). */
function startPinned(cpu, args, env, { readyTimeoutMs = 60_000, logFile } = {}) {
  const child = spawn('taskset', ['-c', String(cpu), process.execPath, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', logFile ? fs.openSync(logFile, 'a') : 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${args.join(' ')} not ready in ${readyTimeoutMs} ms`)),
      readyTimeoutMs,
    );
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (logFile) fs.appendFileSync(logFile, `${line}\n`);
      if (!line.startsWith('{"ready"')) return;
      clearTimeout(timer);
      resolve({ child, info: JSON.parse(line) });
    });
    child.once('exit', (code) =>
      reject(new Error(`${args.join(' ')} exited with ${code} before it was ready`)),
    );
  });
}

/** Starts a process pinned to `cpu` without waiting for anything (the caller polls its health). */
function spawnPinned(cpu, args, env, logFile) {
  const out = logFile ? fs.openSync(logFile, 'a') : 'ignore';
  return spawn('taskset', ['-c', String(cpu), process.execPath, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', out, out],
  });
}

/** User + system CPU time of a process, in microseconds. */
function cpuMicros(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  return (ticks * 1e6) / clockTicks;
}

/** Busy time (everything but idle and iowait) of one CPU since boot, in microseconds, from /proc/stat. */
function cpuBusyMicros(cpu) {
  const line = fs
    .readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${cpu} `));
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user + nice + system + irq + softirq + steal) * 1e6) / clockTicks;
}

/** CPU time (µs) of each named group of processes; a group is a list of pids or a process name for pgrep. */
function cpuByGroup(groups) {
  const out = {};
  for (const [label, who] of Object.entries(groups)) {
    const pids =
      typeof who === 'string'
        ? spawnSync('pgrep', ['-x', who], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)
        : who;
    out[label] = pids.reduce((sum, pid) => {
      try {
        return sum + cpuMicros(pid);
      } catch {
        return sum; // exited meanwhile
      }
    }, 0);
  }
  return out;
}

function rssMb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  return kb / 1024;
}

/** Runs wrk pinned to `cpu`; returns the JSON summary printed by bench/wrk/chat.lua. */
function runWrk({ cpu, url, connections, threads = 1, seconds, bodyFile, auth = '', ratePerConn = 0 }) {
  const run = spawnSync(
    'taskset',
    [
      '-c',
      String(cpu),
      'wrk',
      '-t',
      String(threads),
      '-c',
      String(connections),
      '-d',
      `${seconds}s`,
      '--latency',
      '-s',
      `${__dirname}/wrk/chat.lua`,
      url,
    ],
    {
      env: { ...process.env, BODY_FILE: bodyFile, AUTH: auth, RATE_PER_CONN: String(ratePerConn) },
      encoding: 'utf8',
    },
  );
  const line = run.stdout.split('\n').find((l) => l.startsWith('JSON '));
  if (!line) throw new Error(`wrk printed no summary:\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(line.slice(5));
}

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function waitForHttp(url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`);
}

/**
 * Removes everything a benchmark namespace left on the shared servers: its JetStream streams
 * (`<namespace>_*`) and its Redis keys (`<namespace>:*`: limits, reservations, the usage outbox, BullMQ).
 */
async function removeNamespace(
  namespace,
  { natsUrl = 'nats://127.0.0.1:4222', redisUrl = 'redis://127.0.0.1:6379' } = {},
) {
  const { connect } = require('nats');
  const { Redis } = require('ioredis');
  const nc = await connect({ servers: natsUrl }).catch(() => null);
  if (nc) {
    try {
      const jsm = await nc.jetstreamManager();
      for await (const name of jsm.streams.names()) {
        if (name.startsWith(`${namespace}_`)) await jsm.streams.delete(name).catch(() => undefined);
      }
    } finally {
      await nc.close().catch(() => undefined);
    }
  }
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
      if (keys.length) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * Waits until the stack has nothing left to do for the requests already answered: the router's usage
 * outbox forwarded, billing's and the usage service's JetStream consumers caught up, billing's settlement
 * queue empty. Returns how long that took (ms). A scenario that follows then measures its own load, not
 * the previous scenario's backlog still being settled on the load core.
 */
async function waitForSettled(
  namespace,
  { timeoutMs = 300_000, natsUrl = 'nats://127.0.0.1:4222', redisUrl = 'redis://127.0.0.1:6379' } = {},
) {
  const { connect } = require('nats');
  const { Redis } = require('ioredis');
  const started = Date.now();
  const nc = await connect({ servers: natsUrl });
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const jsm = await nc.jetstreamManager();
    const queue = `${namespace}:bull:billing.settlement`;
    for (;;) {
      let left = await redis.xlen(`${namespace}:usage:outbox`);
      left += (await redis.llen(`${queue}:wait`)) + (await redis.llen(`${queue}:active`));
      left += (await redis.zcard(`${queue}:delayed`)) + (await redis.zcard(`${queue}:prioritized`));
      for (const consumer of ['billing-settlement', 'usage-log']) {
        const info = await jsm.consumers.info(`${namespace}_USAGE`, consumer).catch(() => null);
        if (info) left += info.num_pending + info.num_ack_pending;
      }
      if (left === 0) return Date.now() - started;
      if (Date.now() - started > timeoutMs)
        throw new Error(`${left} usage events still unsettled after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    redis.disconnect();
    await nc.close();
  }
}

module.exports = {
  cpuBusyMicros,
  cpuByGroup,
  cpuMicros,
  percentile,
  removeNamespace,
  rssMb,
  runWrk,
  spawnPinned,
  startPinned,
  waitForHttp,
  waitForSettled,
};
