#!/usr/bin/env node
// `GET .../latest` on `cimmeria serve --workers 1` and `--workers N` (issue 10: all cores used).
//
// The real command (SQLite + a directory, request logs off: --log-level warn), against a bare
// node:http server answering the same JSON body, run as 1 and as N processes with node:cluster
// (bench/lib/baseline-cluster.mjs), so each Cimmeria figure has a baseline with as many
// processes. The load generator (autocannon, bench/lib/load.mjs) runs in a child process of
// its own; on a machine with N cores it shares them with the servers, which caps the gain of
// N workers: the scaling printed is what this machine allows, not N.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe } from '../packages/cli/test/support/cli-process.ts';
import { cleanupOnExit, killOnExit, nextMessage, removeOnExit, runBenchmark, startChild, startServer, stopChild } from './lib/children.mjs';
import { parseBenchArgs } from './lib/options.mjs';
import { table } from './lib/report.mjs';

const HELP = `Usage: node bench/workers-throughput.mjs [options]

Options (environment variable in brackets):
  --workers N       processes of the multi-process variants        [BENCH_WORKERS, the number of cores]
  --duration S      seconds of measured load per variant, over the rounds   [BENCH_DURATION, 10]
  --warmup S        seconds of unmeasured load per variant first            [BENCH_WARMUP, 2]
  --connections N   concurrent keep-alive connections                       [BENCH_CONNECTIONS, 32]
  --rounds N        measured rounds per variant, in ABBA order              [BENCH_ROUNDS, 2]
  -h, --help        this help
`;
const { numberOption } = parseBenchArgs(
  {
    workers: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    rounds: { type: 'string' },
  },
  HELP,
);
const config = {
  workers: numberOption('workers', 'BENCH_WORKERS', availableParallelism(), { min: 2, max: 64, integer: true }),
  durationSeconds: numberOption('duration', 'BENCH_DURATION', 10, { min: 1 }),
  warmupSeconds: numberOption('warmup', 'BENCH_WARMUP', 2),
  connections: numberOption('connections', 'BENCH_CONNECTIONS', 32, { min: 1, integer: true }),
  rounds: numberOption('rounds', 'BENCH_ROUNDS', 2, { min: 1, integer: true }),
};

const cliDir = new URL('../packages/cli/', import.meta.url).pathname;
const BIN = join(cliDir, JSON.parse(await readFile(join(cliDir, 'package.json'), 'utf8')).bin.cimmeria);
const RECIPE = '/v2/conans/hello/1.0/_/_';
const RREV = 'b7c1e1b3f0a94a6c8e2d5f4a3b2c1d0e';
const fmt = (n, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const sha1 = (text) => createHash('sha1').update(text).digest('hex');

cleanupOnExit();

/** `cimmeria serve` on `data` with `workers` processes; request logs off. */
async function serve(data, workers) {
  const server = await startServe(
    ['--port', '0', '--host', '127.0.0.1', '--data', data, '--log-level', 'warn', '--workers', String(workers)],
    { cli: BIN, timeoutMs: 120_000 },
  );
  killOnExit(server.child);
  return server;
}

/** Publishes one recipe revision as the first-start admin, so that `latest` answers 200. */
async function publishRecipe(server) {
  const password = /password: (\S+)/.exec(server.stderr())?.[1];
  if (!password) throw new Error(`no admin password printed:\n${server.stderr()}`);
  const login = await fetch(`${server.url}/v2/users/authenticate`, {
    headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` },
  });
  const token = await login.text();
  const conanfile = 'from conan import ConanFile\nclass Hello(ConanFile):\n    name = "hello"\n';
  const files = {
    'conanfile.py': conanfile,
    'conanmanifest.txt': `1700000000\nconanfile.py: ${createHash('md5').update(conanfile).digest('hex')}\n`,
  };
  for (const [name, body] of Object.entries(files)) {
    const put = await fetch(`${server.url}${RECIPE}/revisions/${RREV}/files/${name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'x-checksum-sha1': sha1(body) },
      body,
    });
    if (put.status !== 200) throw new Error(`PUT ${name}: HTTP ${put.status} ${await put.text()}`);
  }
}

async function runLoad(url, seconds) {
  const child = startChild('load.mjs', {
    args: [JSON.stringify({ url, connections: config.connections, duration: seconds, pipelining: 1 })],
  });
  const { result } = await nextMessage(child, 'result', (seconds + 30) * 1000);
  await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  if (result.non2xx || result.errors || result.timeouts) {
    throw new Error(`load on ${url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  return result;
}

await runBenchmark(async () => {
  const data = removeOnExit(await mkdtemp(join(tmpdir(), 'cimmeria-bench-workers-')));
  const first = await serve(data, 1);
  await publishRecipe(first);
  const body = await (await fetch(`${first.url}${RECIPE}/latest`)).text();
  if (JSON.parse(body).revision !== RREV) throw new Error(`GET latest answered ${body}`);
  await first.stop();
  console.error(`latest answers ${Buffer.byteLength(body)} bytes; starting the servers (load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})`);

  const n = config.workers;
  const variants = [
    { name: 'cimmeria serve --workers 1', processes: 1, start: () => serve(data, 1) },
    { name: 'node:http, 1 process', processes: 1, start: () => startServer('baseline-cluster.mjs', { BENCH_BODY: body, BENCH_WORKERS: '1' }) },
    { name: `cimmeria serve --workers ${n}`, processes: n, start: () => serve(data, n) },
    { name: `node:http, ${n} processes (cluster)`, processes: n, start: () => startServer('baseline-cluster.mjs', { BENCH_BODY: body, BENCH_WORKERS: String(n) }) },
  ];
  for (const variant of variants) {
    variant.server = await variant.start();
    variant.url = variant.name.startsWith('cimmeria') ? `${variant.server.url}${RECIPE}/latest` : variant.server.url;
    variant.runs = [];
  }
  try {
    for (const variant of variants) await runLoad(variant.url, config.warmupSeconds);
    const seconds = config.durationSeconds / config.rounds;
    for (let round = 0; round < config.rounds; round++) {
      // ABBA: no variant always runs first on a machine whose load drifts.
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      for (const variant of order) {
        const result = await runLoad(variant.url, seconds);
        variant.runs.push(result);
        console.error(`round ${round + 1}/${config.rounds} ${variant.name}: ${fmt(result.requests / result.durationSeconds)} req/s`);
      }
    }
  } finally {
    for (const variant of variants) {
      if (variant.name.startsWith('cimmeria')) await variant.server.stop();
      else await stopChild(variant.server.child);
    }
  }

  const rps = (variant) =>
    variant.runs.reduce((s, r) => s + r.requests, 0) / variant.runs.reduce((s, r) => s + r.durationSeconds, 0);
  const [c1, b1, cn, bn] = variants.map(rps);
  const p = (variant, key) => Math.max(...variant.runs.map((r) => r.latency[key]));
  console.log(
    `\nGET ${RECIPE}/latest, ${config.connections} connections, ${config.durationSeconds} s per variant over ${config.rounds} round(s), ` +
      `${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  );
  console.log(
    table([
      ['server', 'req/s', 'worst p50 ms', 'worst p99 ms', 'ratio to node:http with as many processes'],
      [variants[0].name, fmt(c1), p(variants[0], 'p50'), p(variants[0], 'p99'), fmt(c1 / b1, 3)],
      [variants[1].name, fmt(b1), p(variants[1], 'p50'), p(variants[1], 'p99'), '1'],
      [variants[2].name, fmt(cn), p(variants[2], 'p50'), p(variants[2], 'p99'), fmt(cn / bn, 3)],
      [variants[3].name, fmt(bn), p(variants[3], 'p50'), p(variants[3], 'p99'), '1'],
    ]),
  );
  console.log(`scaling ${n} processes / 1: cimmeria ${fmt(cn / c1, 2)}x, node:http ${fmt(bn / b1, 2)}x`);
  console.log(`ratio cimmeria --workers ${n} / node:http 1 process: ${fmt(cn / b1, 3)}`);
});
