#!/usr/bin/env node
// Idle memory of `cimmeria serve` on SQLite + a local directory (issue 11, item 8).
//
// The CLI imports @cimmeria/metadata-postgres (pg) and @cimmeria/storage-s3 (the AWS SDK)
// only when a postgres:// database or s3:// storage is configured. This measures what that
// saves: the idle RSS of a SQLite server as shipped, against the same server with both
// packages imported at start (--import), as a CLI loading its backends eagerly would.
// Each run is a fresh server child on 127.0.0.1, port 0, a fresh data directory; after it
// answers a few requests and sits idle for --idle-ms, VmRSS is read from /proc. Linux only.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const HELP = `Usage: node bench/serve-idle-rss.mjs [options]

  --runs N        servers started per variant, in ABBA order; the median is kept   [4]
  --idle-ms N     idle time before reading the RSS                                [2000]
  -h, --help      this help
`;
const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '4' },
    'idle-ms': { type: 'string', default: '2000' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const runs = Number(flags.runs);
const idleMs = Number(flags['idle-ms']);
if (!Number.isInteger(runs) || runs < 1 || runs > 20 || !(idleMs >= 0 && idleMs <= 60_000)) {
  console.error('Invalid --runs (1-20) or --idle-ms (0-60000)');
  process.exit(2);
}

const cliDir = new URL('../packages/cli/', import.meta.url).pathname;
const BIN = join(cliDir, JSON.parse(readFileSync(join(cliDir, 'package.json'), 'utf8')).bin.cimmeria);
// Resolved from the workspace root, where both are installed.
const EAGER = ['@cimmeria/metadata-postgres', '@cimmeria/storage-s3'].map((name) => import.meta.resolve(name));

const children = new Set();
const tempDirs = new Set();
function cleanupSync() {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    cleanupSync();
    process.exit(130);
  });
}
process.on('exit', cleanupSync);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a server, lets it answer a few requests and idle, and returns its VmRSS in bytes. */
async function idleRss(preload) {
  const data = await mkdtemp(join(tmpdir(), 'cimmeria-bench-rss-'));
  tempDirs.add(data);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CIMMERIA_')));
  const nodeArgs = preload.flatMap((url) => ['--import', url]);
  const child = spawn(process.execPath, [...nodeArgs, BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--data', data, '--log-level', 'warn'], {
    env: { ...env, CIMMERIA_DRAIN_DELAY_MS: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  try {
    let stderr = '';
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "Cimmeria listening" within 30 s:\n${stderr}`)), 30_000);
      child.stderr.setEncoding('utf8').on('data', (d) => {
        stderr += d;
        const match = /Cimmeria listening on [^\n]*?(http:\/\/[^\s,;]+)/.exec(stderr);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.once('exit', (code) => reject(new Error(`cimmeria serve exited with ${code}:\n${stderr}`)));
    });
    for (const path of ['/v2/ping', '/readyz', '/v2/conans/search?q=*']) await (await fetch(`${url}${path}`)).arrayBuffer();
    await sleep(idleMs);
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)[1]) * 1024;
  } finally {
    const exited = new Promise((resolve) => child.once('close', resolve));
    child.kill('SIGTERM');
    await exited;
    children.delete(child);
    rmSync(data, { recursive: true, force: true });
    tempDirs.delete(data);
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

const results = { lazy: [], eager: [] };
for (let run = 0; run < runs; run++) {
  // ABBA: neither variant always runs first on a machine whose load drifts.
  const order = run % 2 === 0 ? ['lazy', 'eager'] : ['eager', 'lazy'];
  for (const variant of order) {
    const rss = await idleRss(variant === 'eager' ? EAGER : []);
    results[variant].push(rss);
    console.error(`run ${run + 1}/${runs} ${variant.padEnd(5)}: ${mib(rss)}`);
  }
}
const lazy = median(results.lazy);
const eager = median(results.eager);
console.log(`\nidle RSS of cimmeria serve on SQLite + a directory, median of ${runs} run(s), ${idleMs} ms idle`);
console.log(`as shipped (PostgreSQL and S3 packages loaded only when configured): ${mib(lazy)}`);
console.log(`with @cimmeria/metadata-postgres and @cimmeria/storage-s3 imported at start: ${mib(eager)}`);
console.log(`ratio as shipped / eager: ${(lazy / eager).toFixed(3)} (${mib(eager - lazy)} saved)`);
