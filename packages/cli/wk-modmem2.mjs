import { readFileSync } from 'node:fs';
const bin = process.execPath;
const snap = () => { globalThis.gc?.(); const s = readFileSync('/proc/self/smaps', 'utf8'); let name = '', b = 0, a = 0; for (const line of s.split('\n')) { const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line); if (m) { name = m[1]; continue; } const r = /^Rss:\s+(\d+)/.exec(line); if (r) { if (name === bin) b += +r[1]; else if (name === '' || name.startsWith('[')) a += +r[1]; } } return { b: b/1024, a: a/1024, h: process.memoryUsage().heapUsed/1048576 }; };
let prev = snap();
console.log('start bin', prev.b.toFixed(1), 'anon', prev.a.toFixed(1));
for (const m of process.argv.slice(2)) {
  await import(m);
  const now = snap();
  console.log(m.padEnd(32), 'bin +', (now.b-prev.b).toFixed(1), 'anon +', (now.a-prev.a).toFixed(1), 'heapUsed +', (now.h-prev.h).toFixed(1));
  prev = now;
}
console.log('end bin', prev.b.toFixed(1), 'anon', prev.a.toFixed(1));
