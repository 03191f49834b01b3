// Container healthcheck for docker/compose.yaml (the image has no curl): GET /health/ready on the port this
// app listens on, exit 0 when it answers 2xx. It reads the same variables as the app (libs/config): internal
// services listen on HTTP_PORT, the router on PORT, so the check cannot drift from the app's real port.
//   node scripts/deploy/healthcheck.js [path]      (default path: /health/ready)
'use strict';

const port = process.env.HEALTHCHECK_PORT || process.env.HTTP_PORT || process.env.PORT || '8080';
const path = process.argv[2] || '/health/ready';

fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3000) })
  .then((res) => process.exit(res.ok ? 0 : 1))
  .catch(() => process.exit(1));
