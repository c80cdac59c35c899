#!/usr/bin/env node
// Download latency under a flood of HTTP Basic logins with random credentials.
//
// Starts a Cimmeria server (SQLite + local directory) in a child process, uploads one package
// file, then measures the latency of downloading it (one download started every 50 ms, however
// long the previous ones take) first with no other load, then while another child process sends random Basic credentials to
// `/v2/users/check_credentials` from 64 keep-alive connections for 10 s. Prints the median and
// p99 of both, and their ratio. Everything listens on and talks to 127.0.0.1 only; temp files
// and child processes are removed on exit, error or Ctrl-C. See bench/README.md.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupOnExit, nextMessage, removeOnExit, runBenchmark, startChild, stopChild } from './lib/children.mjs';
import { parseBenchArgs } from './lib/options.mjs';
import { table } from './lib/report.mjs';

const HELP = `Usage: node bench/login-flood.mjs [options]

Options (environment variable in brackets):
  --quiet S           seconds of downloads measured with no flood          [BENCH_QUIET, 5]
  --flood S           seconds of the Basic flood (downloads measured meanwhile) [BENCH_FLOOD, 10]
  --connections N     flooding connections                                 [BENCH_CONNECTIONS, 64]
  --size-kib N        size of the downloaded file in KiB                   [BENCH_SIZE_KIB, 1024]
  --interval MS       a download starts every MS milliseconds              [BENCH_INTERVAL, 50]
  --server-options J  extra registry options of the server, as JSON (e.g.
                      '{"loginFailuresPerAddress":1000000}' to see the concurrency bound alone)
  --json FILE         also write the results as JSON to FILE ('-' for stdout)
  -h, --help          this help
`;

const { flags, numberOption } = parseBenchArgs(
  {
    quiet: { type: 'string' },
    flood: { type: 'string' },
    connections: { type: 'string' },
    'size-kib': { type: 'string' },
    interval: { type: 'string' },
    'server-options': { type: 'string' },
    json: { type: 'string' },
  },
  HELP,
);

const config = {
  quietSeconds: numberOption('quiet', 'BENCH_QUIET', 5, { min: 1, max: 120 }),
  floodSeconds: numberOption('flood', 'BENCH_FLOOD', 10, { min: 1, max: 120 }),
  connections: numberOption('connections', 'BENCH_CONNECTIONS', 64, { min: 1, max: 1024, integer: true }),
  sizeKiB: numberOption('size-kib', 'BENCH_SIZE_KIB', 1024, { min: 1, max: 1024 * 1024, integer: true }),
  intervalMs: numberOption('interval', 'BENCH_INTERVAL', 50, { min: 5, max: 10_000 }),
  serverOptions: flags['server-options'] ?? '{}',
};
try {
  JSON.parse(config.serverOptions);
} catch {
  console.error(`Invalid --server-options: not JSON: ${config.serverOptions}`);
  process.exit(2);
}
/** A download slower than this counts as failed, so a frozen server cannot hang the benchmark. */
const DOWNLOAD_TIMEOUT_MS = 60_000;

cleanupOnExit();

// --- HTTP ----------------------------------------------------------------------

const agent = new Agent({ keepAlive: true });

function call(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest(url, { method, headers, agent, timeout: DOWNLOAD_TIMEOUT_MS }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolvePromise({ status: res.statusCode, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within ${DOWNLOAD_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function expectOk(what, promise) {
  const response = await promise;
  if (response.status !== 200) throw new Error(`${what}: HTTP ${response.status} ${response.body.toString('utf8')}`.trim());
  return response;
}

const sha1Of = (data) => createHash('sha1').update(data).digest('hex');
const md5Of = (data) => createHash('md5').update(data).digest('hex');

// --- statistics ------------------------------------------------------------------

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
const fmt = (n, digits = 1) =>
  n === undefined || Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const log = (...args) => console.log(...args);

// --- the measurement -------------------------------------------------------------

const RECIPE = '/v2/conans/hello/1.0/_/_';
const RREV = 'b7c1e1b3f0a94a6c8e2d5f4a3b2c1d0e';
const PACKAGE_ID = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
const PREV = '0123456789abcdef0123456789abcdef';

/** Publishes a recipe and one package holding a random file; returns the file's URL and bytes. */
async function seed(url) {
  const basic = Buffer.from('bench:bench-password').toString('base64');
  const token = (await expectOk('authenticate', call(`${url}/v2/users/authenticate`, { headers: { authorization: `Basic ${basic}` } }))).body.toString();
  const put = (path, content) =>
    expectOk(
      `PUT ${path}`,
      call(`${url}${path}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-length': String(content.length), 'x-checksum-sha1': sha1Of(content) },
        body: content,
      }),
    );
  const conanfile = Buffer.from('from conan import ConanFile\n\nclass Hello(ConanFile):\n    name = "hello"\n    version = "1.0"\n');
  // Manifests last: storing one publishes its revision.
  await put(`${RECIPE}/revisions/${RREV}/files/conanfile.py`, conanfile);
  await put(`${RECIPE}/revisions/${RREV}/files/conanmanifest.txt`, Buffer.from(`1700000000\nconanfile.py: ${md5Of(conanfile)}\n`));
  const packageBase = `${RECIPE}/revisions/${RREV}/packages/${PACKAGE_ID}/revisions/${PREV}/files`;
  const conaninfo = Buffer.from('[settings]\n');
  const file = randomBytes(config.sizeKiB * 1024);
  await put(`${packageBase}/conaninfo.txt`, conaninfo);
  await put(`${packageBase}/conan_package.tgz`, file);
  await put(
    `${packageBase}/conanmanifest.txt`,
    Buffer.from(`1700000000\nconan_package.tgz: ${md5Of(file)}\nconaninfo.txt: ${md5Of(conaninfo)}\n`),
  );
  return { fileUrl: `${url}${packageBase}/conan_package.tgz`, sha1: sha1Of(file) };
}

/**
 * Starts a download every `intervalMs` until `until()` is true, whatever the previous ones are
 * doing (a slow answer must not hide the requests that would have queued behind it), then waits
 * for them all. Latencies in ms, from the moment each download was due.
 */
async function downloads(file, until) {
  const latencies = [];
  let failures = 0;
  const one = async () => {
    const start = process.hrtime.bigint();
    try {
      const response = await call(file.fileUrl);
      if (response.status !== 200 || sha1Of(response.body) !== file.sha1) failures++;
      else latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    } catch {
      failures++;
    }
  };
  const inFlight = [];
  while (!until()) {
    inFlight.push(one());
    await new Promise((r) => setTimeout(r, config.intervalMs));
  }
  await Promise.all(inFlight);
  latencies.sort((a, b) => a - b);
  return { count: latencies.length, failures, medianMs: percentile(latencies, 50), p99Ms: percentile(latencies, 99), maxMs: latencies.at(-1) };
}

async function main() {
  const started = Date.now();
  const tempDir = removeOnExit(await mkdtemp(join(tmpdir(), 'cimmeria-bench-')));
  const dataDir = join(tempDir, 'server');
  await mkdir(dataDir);
  log(`Cimmeria login flood benchmark — temp dir ${tempDir}\nconfig: ${JSON.stringify(config)}`);

  const server = startChild('cimmeria-server.mjs', {
    env: { BENCH_DATA_DIR: dataDir, BENCH_USER: 'bench', BENCH_PASSWORD: 'bench-password', BENCH_REGISTRY_OPTIONS: config.serverOptions },
  });
  const { url } = await nextMessage(server, 'ready');
  log(`cimmeria on ${url} (pid ${server.pid})`);
  const results = { config, node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model.trim() };
  try {
    const file = await seed(url);
    log(`published a ${config.sizeKiB} KiB package file: ${file.fileUrl}`);
    // Warm-up: the first downloads open the database and the file system caches.
    const warm = Date.now() + 1000;
    await downloads(file, () => Date.now() > warm);

    log(`\n--- ${config.quietSeconds} s of downloads, no flood ---`);
    const quietEnd = Date.now() + config.quietSeconds * 1000;
    results.quiet = await downloads(file, () => Date.now() > quietEnd);
    log(`${results.quiet.count} downloads, median ${fmt(results.quiet.medianMs)} ms, p99 ${fmt(results.quiet.p99Ms)} ms`);

    log(`\n--- ${config.floodSeconds} s of downloads while ${config.connections} connections send random Basic credentials ---`);
    const flooder = startChild('basic-flood.mjs', {
      args: [JSON.stringify({ url: `${url}/v2/users/check_credentials`, connections: config.connections, durationSeconds: config.floodSeconds })],
    });
    // Listen for the result now: it may arrive while the last downloads are still running.
    // Flood requests in flight at the end may still take their timeout (30 s).
    const floodResult = nextMessage(flooder, 'result', (config.floodSeconds + 60) * 1000);
    floodResult.catch(() => undefined);
    await nextMessage(flooder, 'started');
    const floodEnd = Date.now() + config.floodSeconds * 1000;
    results.flooded = await downloads(file, () => Date.now() > floodEnd);
    log(
      `${results.flooded.count} downloads (${results.flooded.failures} failed), median ${fmt(results.flooded.medianMs)} ms, ` +
        `p99 ${fmt(results.flooded.p99Ms)} ms, max ${fmt(results.flooded.maxMs)} ms`,
    );
    results.flood = (await floodResult).result;
    log(
      `flood: ${results.flood.sent} requests in ${fmt(results.flood.seconds)} s, answers ${JSON.stringify(results.flood.statuses)}, ` +
        `${results.flood.errors} errors/timeouts`,
    );
  } finally {
    agent.destroy();
    await stopChild(server);
  }
  results.ratio = { median: results.flooded.medianMs / results.quiet.medianMs, p99: results.flooded.p99Ms / results.quiet.p99Ms };
  results.elapsedSeconds = (Date.now() - started) / 1000;

  const machine = `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ${process.platform}`;
  log(
    [
      '',
      '=== Summary ===',
      machine,
      `GET of a ${config.sizeKiB} KiB package file, one started every ${config.intervalMs} ms; flood: ${config.connections} connections of random Basic credentials to check_credentials`,
      table([
        ['downloads', 'count', 'failed', 'median ms', 'p99 ms'],
        ['no flood', results.quiet.count, results.quiet.failures, fmt(results.quiet.medianMs), fmt(results.quiet.p99Ms)],
        ['during the flood', results.flooded.count, results.flooded.failures, fmt(results.flooded.medianMs), fmt(results.flooded.p99Ms)],
      ]),
      `ratio flood / no flood: median ${fmt(results.ratio.median, 2)}x, p99 ${fmt(results.ratio.p99, 2)}x`,
      `flood answers: ${Object.entries(results.flood.statuses).map(([s, n]) => `${s}: ${n}`).join(', ') || 'none'}` +
        ` (${fmt(results.flood.sent / results.flood.seconds, 0)} req/s)`,
      `total time ${fmt(results.elapsedSeconds)} s`,
    ].join('\n'),
  );
  if (flags.json === '-') process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else if (flags.json) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(flags.json, `${JSON.stringify(results, null, 2)}\n`);
    log(`results written to ${flags.json}`);
  }
}

await runBenchmark(main);
