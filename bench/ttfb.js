'use strict';
// Time to first byte of streamed responses at a fixed open-loop rate: requests are scheduled on a clock
// (not after the previous one finished), each timed with hrtime from send to first body byte and to end.
// Prints one JSON line. Env: URL, BODY_FILE, AUTH, RATE (req/s), SECONDS.
const fs = require('node:fs');
const http = require('node:http');

const url = new URL(process.env.URL);
const body = fs.readFileSync(process.env.BODY_FILE);
const rate = Number(process.env.RATE || 200);
const seconds = Number(process.env.SECONDS || 5);
const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
const headers = { 'content-type': 'application/json', 'content-length': body.length };
if (process.env.AUTH) headers.authorization = `Bearer ${process.env.AUTH}`;

const ttfb = [];
const total = [];
let failed = 0;
let inFlight = 0;

function one() {
  inFlight++;
  const start = process.hrtime.bigint();
  let first = 0n;
  const req = http.request(
    { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers, agent },
    (res) => {
      if (res.statusCode !== 200) failed++;
      res.on('data', () => {
        if (!first) first = process.hrtime.bigint();
      });
      res.on('end', () => {
        const end = process.hrtime.bigint();
        ttfb.push(Number(first - start) / 1000);
        total.push(Number(end - start) / 1000);
        inFlight--;
      });
    },
  );
  req.on('error', () => {
    failed++;
    inFlight--;
  });
  req.end(body);
}

const count = rate * seconds;
const startedAt = process.hrtime.bigint();
let sent = 0;
function tick() {
  const elapsedUs = Number(process.hrtime.bigint() - startedAt) / 1000;
  const due = Math.min(count, Math.floor((elapsedUs / 1e6) * rate) + 1);
  while (sent < due) {
    one();
    sent++;
  }
  if (sent < count) setImmediate(tick);
  else finish();
}
function finish() {
  if (inFlight > 0) return setTimeout(finish, 5);
  const p = (arr, q) => {
    const s = [...arr].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((q / 100) * s.length))];
  };
  process.stdout.write(
    `${JSON.stringify({ requests: total.length, failed, ttfb_p50_us: p(ttfb, 50), ttfb_p99_us: p(ttfb, 99), p50_us: p(total, 50), p99_us: p(total, 99) })}\n`,
  );
  agent.destroy();
}
tick();
