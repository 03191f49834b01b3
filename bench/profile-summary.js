'use strict';
// Summarises a V8 .cpuprofile (written by `node --cpu-prof`): the frames with the most self time, and the
// packages/folders that time is spent in. Used by `npm run bench -- --profile` and for docs/performance.md.
const fs = require('node:fs');
const path = require('node:path');

function where(url) {
  if (!url) return '(native)';
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = file.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (file.startsWith('node:')) return 'node (core)';
  const dist = file.indexOf('/dist/');
  return dist >= 0
    ? file
        .slice(dist + 6)
        .split('/')
        .slice(0, 3)
        .join('/')
    : path.basename(file);
}

function summarise(profileFile, top = 25) {
  const profile = JSON.parse(fs.readFileSync(profileFile, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i] ?? 0));
  }
  let total = 0;
  const frames = new Map();
  const places = new Map();
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id);
    total += us;
    if (callFrame.functionName === '(idle)' || callFrame.functionName === '(program)') continue;
    const key = `${callFrame.functionName || '(anonymous)'} ${where(callFrame.url)}:${callFrame.lineNumber + 1}`;
    frames.set(key, (frames.get(key) ?? 0) + us);
    const place = ['(garbage collector)', '(program)'].includes(callFrame.functionName)
      ? callFrame.functionName
      : where(callFrame.url);
    places.set(place, (places.get(place) ?? 0) + us);
  }
  const idle = [...selfUs].reduce(
    (n, [id, us]) => (byId.get(id).callFrame.functionName === '(idle)' ? n + us : n),
    0,
  );
  const busy = total - idle;
  const pct = (us) => `${((100 * us) / busy).toFixed(1)}%`;
  const sorted = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  return {
    busyMs: busy / 1000,
    frames: sorted(frames).map(([k, us]) => ({ frame: k, share: pct(us) })),
    places: sorted(places).map(([k, us]) => ({ place: k, share: pct(us) })),
  };
}

module.exports = { summarise };

if (require.main === module) {
  const s = summarise(process.argv[2], Number(process.argv[3] ?? 30));
  process.stdout.write(`busy ${s.busyMs.toFixed(0)} ms\n\nby place:\n`);
  for (const p of s.places) process.stdout.write(`  ${p.share.padStart(6)}  ${p.place}\n`);
  process.stdout.write('\ntop frames (self time):\n');
  for (const f of s.frames) process.stdout.write(`  ${f.share.padStart(6)}  ${f.frame}\n`);
}
