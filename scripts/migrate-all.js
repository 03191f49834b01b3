'use strict';
// Runs every service's own migrations, one service at a time, against DATABASE_URL (created if missing).
// Used by `npm start`, docker/compose.yaml and the Kubernetes migrations Job. Expects a built dist/.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const services = ['router', 'auth', 'keys', 'billing', 'usage'];

function migrateAll(env = process.env, stdio = 'inherit') {
  for (const service of services) {
    const main = path.join(__dirname, '..', 'dist', 'apps', service, 'src', 'main.js');
    const run = spawnSync(process.execPath, [main, 'migrate'], { env, stdio });
    if (run.status !== 0) {
      const output = stdio === 'pipe' ? `\n${run.stdout}${run.stderr}` : '';
      throw new Error(`migrations of ${service} failed (exit ${run.status})${output}`);
    }
  }
}

module.exports = { migrateAll, services };

if (require.main === module) {
  try {
    migrateAll();
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}
