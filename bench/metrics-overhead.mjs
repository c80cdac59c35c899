#!/usr/bin/env node
// What Prometheus metrics cost: requests/s of `GET .../latest` (one metadata read per request)
// on two Cimmeria servers (SQLite + local directory) that differ only in `metrics`, in ABBA
// rounds, printed as the ratio metrics-on / metrics-off. Everything on 127.0.0.1; children
// and temp files are removed on exit. Usage: node bench/metrics-overhead.mjs [--duration S]
// [--warmup S] [--connections N] [--rounds N]
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nextMessage, removeOnExit, runBenchmark, startChild, startServer, stopChild } from './lib/children.mjs';
import { parseBenchArgs } from './lib/options.mjs';

const { numberOption } = parseBenchArgs(
  {
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    rounds: { type: 'string' },
  },
  'Usage: node bench/metrics-overhead.mjs [--duration S] [--warmup S] [--connections N] [--rounds N]\n',
);
const config = {
  durationSeconds: numberOption('duration', 'BENCH_DURATION', 6, { min: 1 }),
  warmupSeconds: numberOption('warmup', 'BENCH_WARMUP', 1),
  connections: numberOption('connections', 'BENCH_CONNECTIONS', 16, { min: 1, integer: true }),
  rounds: numberOption('rounds', 'BENCH_ROUNDS', 2, { min: 1, integer: true }),
};

const RREV = '/v2/conans/hello/1.0/_/_/revisions/b7c1e1b3f0a94a6c8e2d5f4a3b2c1d0e';
const LATEST = '/v2/conans/hello/1.0/_/_/latest';
const auth = { authorization: `Basic ${Buffer.from('bench:bench-password').toString('base64')}` };

async function seed(url) {
  const conanfile = 'from conan import ConanFile\n';
  const manifest = `1700000000\nconanfile.py: ${createHash('md5').update(conanfile).digest('hex')}\n`;
  for (const [path, body] of [['conanfile.py', conanfile], ['conanmanifest.txt', manifest]]) {
    const response = await fetch(`${url}${RREV}/files/${path}`, { method: 'PUT', body, headers: auth });
    if (response.status !== 200) throw new Error(`seeding ${path}: ${response.status}`);
  }
}

async function load(url, seconds) {
  const child = startChild('load.mjs', {
    args: [JSON.stringify({ url, connections: config.connections, duration: seconds, pipelining: 1 })],
  });
  const { result } = await nextMessage(child, 'result', (seconds + 30) * 1000);
  if (result.non2xx || result.errors || result.timeouts) throw new Error(`load on ${url}: ${JSON.stringify(result.statusCodeStats)}`);
  return result;
}

async function main() {
  const dir = removeOnExit(await mkdtemp(join(tmpdir(), 'cimmeria-bench-metrics-')));
  const targets = [];
  for (const [name, on] of [['metrics on', '1'], ['metrics off', '0']]) {
    const data = join(dir, name.replace(' ', '-'));
    await mkdir(data);
    const server = await startServer('cimmeria-server.mjs', {
      BENCH_DATA_DIR: data,
      BENCH_USER: 'bench',
      BENCH_PASSWORD: 'bench-password',
      BENCH_METRICS: on,
    });
    await seed(server.url);
    targets.push({ name, server, url: `${server.url}${LATEST}`, requests: 0, seconds: 0 });
  }
  try {
    for (const t of targets) if (config.warmupSeconds > 0) await load(t.url, config.warmupSeconds);
    const roundSeconds = config.durationSeconds / config.rounds;
    for (let round = 0; round < config.rounds; round++) {
      for (const t of round % 2 === 0 ? targets : [...targets].reverse()) {
        const r = await load(t.url, roundSeconds);
        t.requests += r.requests;
        t.seconds += r.durationSeconds;
        console.log(`round ${round + 1} ${t.name.padEnd(11)}: ${Math.round(r.requests / r.durationSeconds)} req/s`);
      }
    }
    const [on, off] = targets.map((t) => t.requests / t.seconds);
    console.log(`\nmetrics on ${Math.round(on)} req/s, off ${Math.round(off)} req/s: ratio on/off ${(on / off).toFixed(3)}`);
  } finally {
    for (const t of targets) await stopChild(t.server.child);
  }
}

await runBenchmark(main);
