#!/usr/bin/env node
// Idle memory of `cimmeria serve` on SQLite + a local directory (issue 11, item 8).
//
// The CLI imports @cimmeria/metadata-postgres (pg) and @cimmeria/storage-s3 (the AWS SDK)
// only when a postgres:// database or s3:// storage is configured. This measures what that
// saves: the idle RSS of a SQLite server as shipped, against the same server with both
// packages imported at start (--import), as a CLI loading its backends eagerly would.
// Each run is a fresh server child on 127.0.0.1, port 0, a fresh data directory; after it
// answers a few requests and sits idle for --idle-ms, VmRSS is read from /proc. Linux only.
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe } from '../packages/cli/test/support/cli-process.ts';
import { cleanupOnExit, killOnExit, removeNow, removeOnExit } from './lib/children.mjs';
import { parseBenchArgs } from './lib/options.mjs';
import { median } from './lib/report.mjs';

const HELP = `Usage: node bench/serve-idle-rss.mjs [options]

  --runs N        servers started per variant, in ABBA order; the median is kept   [4]
  --idle-ms N     idle time before reading the RSS                                [2000]
  -h, --help      this help
`;
const { flags } = parseBenchArgs(
  {
    runs: { type: 'string', default: '4' },
    'idle-ms': { type: 'string', default: '2000' },
  },
  HELP,
);
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

cleanupOnExit();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a server, lets it answer a few requests and idle, and returns its VmRSS in bytes. */
async function idleRss(preload) {
  const data = removeOnExit(await mkdtemp(join(tmpdir(), 'cimmeria-bench-rss-')));
  try {
    const serve = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', data, '--log-level', 'warn'], {
      cli: BIN,
      nodeOptions: preload.flatMap((url) => ['--import', url]),
      timeoutMs: 30_000,
    });
    killOnExit(serve.child);
    try {
      for (const path of ['/v2/ping', '/readyz', '/v2/conans/search?q=*']) await (await fetch(`${serve.url}${path}`)).arrayBuffer();
      await sleep(idleMs);
      const status = await readFile(`/proc/${serve.child.pid}/status`, 'utf8');
      return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)[1]) * 1024;
    } finally {
      await serve.stop();
    }
  } finally {
    removeNow(data);
  }
}

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
