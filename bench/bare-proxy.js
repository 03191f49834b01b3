'use strict';
// The floor: the smallest honest Node pass-through gateway (node:http in, keep-alive pool out, bodies and
// streams piped untouched). Any Node gateway pays at least this; the benchmark reports ToRouter against it.
const http = require('node:http');

const upstream = new URL(process.env.UPSTREAM_URL);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const server = http.createServer((req, res) => {
  const out = http.request(
    {
      host: upstream.hostname,
      port: upstream.port,
      path: req.url,
      method: req.method,
      headers: req.headers,
      agent,
    },
    (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    },
  );
  out.on('error', () => {
    res.writeHead(502);
    res.end();
  });
  req.pipe(out);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ ready: true, port: server.address().port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
