#!/usr/bin/env node
// Idle memory of `cimmeria serve` on SQLite + a local directory (issue 11 item 8, issue 10).
//
// 1. Against the 60 MiB target of issue 10: the RSS of one server process (`--workers 1`),
//    and with `--workers 2` the RSS of the primary and of each worker, each also as RssAnon
//    (private memory: the rest of the RSS is mostly the node binary's pages, shared by all
//    node processes). The baseline: a bare node:http server (bench/lib/baseline-server.mjs)
//    measured the same way, in the same run.
// 2. The CLI imports @cimmeria/metadata-postgres (pg) and @cimmeria/storage-s3 (the AWS SDK)
//    only when a postgres:// database or s3:// storage is configured. This measures what that
//    saves: the idle RSS of a SQLite server as shipped, against the same server with both
//    packages imported at start (--import), as a CLI loading its backends eagerly would.
// Each run is a fresh server child on 127.0.0.1, port 0, a fresh data directory; after it
// answers a few requests and sits idle for --idle-ms, VmRSS is read from /proc. Linux only.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe } from '../packages/cli/test/support/cli-process.ts';
import { cleanupOnExit, killOnExit, removeNow, removeOnExit, startServer, stopChild } from './lib/children.mjs';
import { parseBenchArgs } from './lib/options.mjs';
import { median } from './lib/report.mjs';

const HELP = `Usage: node bench/serve-idle-rss.mjs [options]

  --runs N        servers started per variant, in ABBA order; the median is kept   [4]
  --target-mib N  the idle RSS a server process should stay under                 [60]
  --idle-ms N     idle time before reading the RSS                                [2000]
  -h, --help      this help
`;
const { flags } = parseBenchArgs(
  {
    runs: { type: 'string', default: '4' },
    'idle-ms': { type: 'string', default: '2000' },
    'target-mib': { type: 'string', default: '60' },
  },
  HELP,
);
const runs = Number(flags.runs);
const idleMs = Number(flags['idle-ms']);
const targetMiB = Number(flags['target-mib']);
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

/** VmRSS, RssAnon and Pss of process `pid`, in bytes. */
async function memoryOf(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kB = (text, name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kB(status, 'VmRSS'), anon: kB(status, 'RssAnon') };
}

/** The pids of the children of `pid` (the workers of a primary). */
async function childrenOf(pid) {
  const tasks = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return tasks.split(/\s+/).filter(Boolean).map(Number);
}

/**
 * Starts a server (`workers` processes), lets it answer a few requests (on fresh connections,
 * so every worker answers some) and idle, and returns the memory of the process started
 * (`main`) and of its workers.
 */
async function idleMemory({ preload = [], workers = 1 }) {
  const data = removeOnExit(await mkdtemp(join(tmpdir(), 'cimmeria-bench-rss-')));
  try {
    const serve = await startServe(
      ['--port', '0', '--host', '127.0.0.1', '--data', data, '--log-level', 'warn', '--workers', String(workers)],
      { cli: BIN, nodeOptions: preload.flatMap((url) => ['--import', url]), timeoutMs: 120_000 },
    );
    killOnExit(serve.child);
    try {
      for (let i = 0; i < workers; i++) {
        for (const path of ['/v2/ping', '/readyz', '/v2/conans/search?q=*']) {
          await (await fetch(`${serve.url}${path}`, { headers: { connection: 'close' } })).arrayBuffer();
        }
      }
      await sleep(idleMs);
      const main = await memoryOf(serve.child.pid);
      const children = workers > 1 ? await Promise.all((await childrenOf(serve.child.pid)).map(memoryOf)) : [];
      return { main, workers: children };
    } finally {
      await serve.stop();
    }
  } finally {
    removeNow(data);
  }
}

const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

const median2 = (list) => ({ rss: median(list.map((m) => m.rss)), anon: median(list.map((m) => m.anon)) });
const verdict = (bytes) => (bytes <= targetMiB * 1024 * 1024 ? 'within' : 'above');
let baseline;
const describe = (m, target = true) =>
  `${mib(m.rss)} RSS${target ? ` (${verdict(m.rss)} the ${targetMiB} MiB target)` : ''}, ` +
  `${(m.rss / baseline.rss).toFixed(2)}x the bare node:http server's; private (RssAnon) ${mib(m.anon)}, ${(m.anon / baseline.anon).toFixed(2)}x`;

/** The bare node:http server's idle memory, measured as the servers' are. */
async function baselineMemory() {
  const server = await startServer('baseline-server.mjs', {});
  try {
    for (const path of ['/v2/ping', '/readyz', '/v2/conans/search?q=*']) await (await fetch(`${server.url}${path}`)).arrayBuffer();
    await sleep(idleMs);
    return await memoryOf(server.pid);
  } finally {
    await stopChild(server.child);
  }
}
const baselines = [];

// Part 1: one process, and a primary with two workers.
const single = [];
const primaries = [];
const workerFigures = [];
for (let run = 0; run < runs; run++) {
  const order = run % 2 === 0 ? [1, 2] : [2, 1];
  for (const workers of order) {
    if (workers === 1) baselines.push(await baselineMemory());
    const measured = await idleMemory({ workers });
    if (workers === 1) single.push(measured.main);
    else {
      primaries.push(measured.main);
      workerFigures.push(...measured.workers);
    }
    const each = measured.workers.map((w) => mib(w.rss)).join(', ');
    console.error(`run ${run + 1}/${runs} --workers ${workers}: ${mib(measured.main.rss)}${each ? ` (workers ${each})` : ''}`);
  }
}

// Part 2: lazy against eager backends, one process each.
const results = { lazy: [], eager: [] };
for (let run = 0; run < runs; run++) {
  // ABBA: neither variant always runs first on a machine whose load drifts.
  const order = run % 2 === 0 ? ['lazy', 'eager'] : ['eager', 'lazy'];
  for (const variant of order) {
    const { main } = await idleMemory({ preload: variant === 'eager' ? EAGER : [] });
    results[variant].push(main.rss);
    console.error(`run ${run + 1}/${runs} ${variant.padEnd(5)}: ${mib(main.rss)}`);
  }
}
const lazy = median(results.lazy);
const eager = median(results.eager);
console.log(`\nidle RSS of cimmeria serve on SQLite + a directory, median of ${runs} run(s), ${idleMs} ms idle, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`target: each server process at most ${targetMiB} MiB RSS (one process with --workers 1; each worker with --workers N)`);
baseline = median2(baselines);
console.log(`baseline, a bare node:http server (${process.version}): ${mib(baseline.rss)} RSS, private ${mib(baseline.anon)}`);
console.log(`--workers 1, the one process: ${describe(median2(single))}`);
console.log(`--workers 2, each worker: ${describe(median2(workerFigures))}`);
console.log(`--workers 2, the primary (serves nothing; not under the target): ${describe(median2(primaries), false)}`);
console.log(`as shipped (PostgreSQL and S3 packages loaded only when configured): ${mib(lazy)}`);
console.log(`with @cimmeria/metadata-postgres and @cimmeria/storage-s3 imported at start: ${mib(eager)}`);
console.log(`ratio as shipped / eager: ${(lazy / eager).toFixed(3)} (${mib(eager - lazy)} saved)`);
