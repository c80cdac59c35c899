#!/usr/bin/env node
// Cimmeria throughput benchmark (run with `pnpm bench` from the repository root).
//
// 1. Requests per second of `GET /v2/conans/hello/1.0/_/_/latest` on a Cimmeria server
//    (SQLite + local directory, then PostgreSQL in a schema of its own) against a bare
//    node:http server answering the same JSON body.
// 2. MiB/s of uploading one large file against a bare node:http server streaming it to disk with
//    sha1, and of downloading it against nginx serving it with sendfile (when installed), with the
//    same client for both, the plain file copy as a reference, and the server's peak RSS.
// 3. The rise of the server's RSS while 32 uploads of 128 MiB run at once, against the same
//    bare node:http server.
//
// Each server and the load generator (autocannon) run in their own child process; everything
// listens on and talks to 127.0.0.1 only. Temp files and children are removed on exit, error
// or Ctrl-C. See bench/README.md.
import { createHash, randomFill } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { streamUpload } from '../packages/cli/test/support/stream-upload.ts';
import { cleanupOnExit, nextMessage, removeOnExit, runBenchmark, startChild, startServer, stopChild } from './lib/children.mjs';
import { NGINX, nginxInstalled, startNginx } from './lib/nginx.mjs';
import { parseBenchArgs } from './lib/options.mjs';
import { median, table } from './lib/report.mjs';

const randomFillAsync = promisify(randomFill);
const MiB = 1024 * 1024;

// --- options -----------------------------------------------------------------

const HELP = `Usage: node bench/http-throughput.mjs [options]

Options (environment variable in brackets):
  --duration S      seconds of measured load per server, split over the rounds [BENCH_DURATION, 10]
  --warmup S        seconds of unmeasured load per server first               [BENCH_WARMUP, 2]
  --connections N   concurrent keep-alive connections                        [BENCH_CONNECTIONS, 32]
  --rounds N        measured rounds per server, in ABBA order                 [BENCH_ROUNDS, 2]
  --size-mib N      size of the transferred file in MiB                       [BENCH_SIZE_MIB, 256]
  --runs N          runs of copy / upload / download (the median is kept)     [BENCH_RUNS, 3]
  --skip-rps        skip the requests/s part
  --pg-url URL      PostgreSQL for the second requests/s measurement, in a fresh schema
                    dropped at the end             [BENCH_PG_URL, postgres://postgres@127.0.0.1:5432/test]
  --skip-pg         skip the requests/s measurement on PostgreSQL
  --skip-transfer   skip the upload/download part
  --concurrent-uploads N   uploads at once in the memory part              [BENCH_CONCURRENT_UPLOADS, 32]
  --concurrent-mib N       MiB of each of those uploads                    [BENCH_CONCURRENT_MIB, 128]
  --skip-memory     skip the memory part (concurrent uploads)
  --json FILE       also write the results as JSON to FILE ('-' for stdout)
  --cpu-prof DIR    run the Cimmeria server with --cpu-prof, profiles into DIR
  -h, --help        this help
`;

const { flags, numberOption } = parseBenchArgs(
  {
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    rounds: { type: 'string' },
    'size-mib': { type: 'string' },
    runs: { type: 'string' },
    'skip-rps': { type: 'boolean', default: false },
    'pg-url': { type: 'string' },
    'skip-pg': { type: 'boolean', default: false },
    'skip-transfer': { type: 'boolean', default: false },
    'concurrent-uploads': { type: 'string' },
    'concurrent-mib': { type: 'string' },
    'skip-memory': { type: 'boolean', default: false },
    json: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
  HELP,
);

const config = {
  durationSeconds: numberOption('duration', 'BENCH_DURATION', 10, { min: 1 }),
  warmupSeconds: numberOption('warmup', 'BENCH_WARMUP', 2),
  connections: numberOption('connections', 'BENCH_CONNECTIONS', 32, { min: 1, integer: true }),
  rounds: numberOption('rounds', 'BENCH_ROUNDS', 2, { min: 1, integer: true }),
  sizeMiB: numberOption('size-mib', 'BENCH_SIZE_MIB', 256, { min: 1, integer: true }),
  runs: numberOption('runs', 'BENCH_RUNS', 3, { min: 1, integer: true }),
  concurrentUploads: numberOption('concurrent-uploads', 'BENCH_CONCURRENT_UPLOADS', 32, { min: 1, integer: true }),
  concurrentMiB: numberOption('concurrent-mib', 'BENCH_CONCURRENT_MIB', 128, { min: 1, integer: true }),
};
const jsonOut = flags.json;
const pgUrl = flags['pg-url'] ?? process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const cpuProfDir = flags['cpu-prof'] ? resolve(flags['cpu-prof']) : undefined;

cleanupOnExit();
/** The run's temp directory, removed on exit. */
let tempDir;

async function cpuMicros(server) {
  server.child.send({ type: 'cpu' });
  return (await nextMessage(server.child, 'cpu')).micros;
}

// --- HTTP client helpers (node:http, keep-alive off: one request each) ------------

function call(url, { method = 'GET', headers = {}, body, responseTo } = {}) {
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      if (responseTo && res.statusCode === 200) {
        pipeline(res, responseTo).then(() => resolvePromise({ status: res.statusCode, headers: res.headers }), reject);
        return;
      }
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolvePromise({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else pipeline(body, req).catch(reject);
  });
}

async function expectOk(what, responsePromise) {
  const response = await responsePromise;
  if (response.status !== 200) throw new Error(`${what}: HTTP ${response.status} ${response.text ?? ''}`.trim());
  return response;
}

const sha1Of = (data) => createHash('sha1').update(data).digest('hex');

async function sha1OfFile(path) {
  const hash = createHash('sha1');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

// --- statistics and printing ------------------------------------------------------

const fmt = (n, digits = 0) =>
  n === undefined || Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const pct = (x) => `${fmt(x * 100, 0)}%`;

const log = (...args) => console.log(...args);

// --- part 1: requests per second ---------------------------------------------------

const RECIPE = '/v2/conans/hello/1.0/_/_';
const LATEST = `${RECIPE}/latest`;
const RREV = 'b7c1e1b3f0a94a6c8e2d5f4a3b2c1d0e';

async function runLoad(url, seconds) {
  const child = startChild('load.mjs', {
    args: [JSON.stringify({ url, connections: config.connections, duration: seconds, pipelining: 1 })],
  });
  const { result } = await nextMessage(child, 'result', (seconds + 30) * 1000);
  await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  return result;
}

async function measureLoad(server, url, seconds) {
  const cpuBefore = await cpuMicros(server);
  const result = await runLoad(url, seconds);
  const cpuAfter = await cpuMicros(server);
  if (result.non2xx || result.errors || result.timeouts) {
    throw new Error(
      `load on ${url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts ` +
        JSON.stringify(result.statusCodeStats),
    );
  }
  return {
    ...result,
    serverCpu: (cpuAfter - cpuBefore) / 1e6 / result.durationSeconds,
    loadCpu: result.cpuMicros / 1e6 / result.durationSeconds,
  };
}

function combine(runs) {
  const requests = runs.reduce((s, r) => s + r.requests, 0);
  const seconds = runs.reduce((s, r) => s + r.durationSeconds, 0);
  return {
    requestsPerSecond: requests / seconds,
    requests,
    seconds,
    // autocannon reports percentiles per run: the mean of the rounds' medians, the worst p99.
    latencyP50Ms: runs.reduce((s, r) => s + r.latency.p50, 0) / runs.length,
    latencyP99Ms: Math.max(...runs.map((r) => r.latency.p99)),
    serverCpu: runs.reduce((s, r) => s + r.serverCpu * r.durationSeconds, 0) / seconds,
    loadGeneratorCpu: runs.reduce((s, r) => s + r.loadCpu * r.durationSeconds, 0) / seconds,
    rounds: runs.map((r) => ({
      requestsPerSecond: r.requests / r.durationSeconds,
      latencyP50Ms: r.latency.p50,
      latencyP99Ms: r.latency.p99,
      serverCpu: r.serverCpu,
    })),
  };
}

async function requestsPerSecond(cimmeria) {
  const latestUrl = `${cimmeria.url}${LATEST}`;
  const latest = await expectOk('GET latest', call(latestUrl));
  const parsed = JSON.parse(latest.text);
  if (parsed.revision !== RREV) throw new Error(`GET latest answered ${latest.text}, expected revision ${RREV}`);
  log(`GET ${LATEST} -> 200 ${latest.text}`);

  const baseline = await startServer('baseline-server.mjs', { BENCH_BODY: latest.text });
  try {
    const same = await expectOk('GET baseline', call(`${baseline.url}${LATEST}`));
    if (same.text !== latest.text) throw new Error(`baseline answered ${same.text}`);
    log(
      `baseline node:http on ${baseline.url} answers the same ${Buffer.byteLength(latest.text)}-byte body` +
        ` (cimmeria content-length ${latest.headers['content-length'] ?? 'none'}, baseline ${same.headers['content-length']})`,
    );

    const targets = [
      { name: 'cimmeria', server: cimmeria, url: latestUrl, runs: [] },
      { name: 'node:http', server: baseline, url: `${baseline.url}${LATEST}`, runs: [] },
    ];
    const roundSeconds = config.durationSeconds / config.rounds;
    if (config.warmupSeconds > 0) {
      for (const t of targets) {
        log(`warm-up ${t.name}: ${config.warmupSeconds} s`);
        await runLoad(t.url, config.warmupSeconds);
      }
    }
    // ABBA ordering: each server goes first as often as second, so drift (thermal, page
    // cache, other tenants) does not favour one of them.
    for (let round = 0; round < config.rounds; round++) {
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) {
        const r = await measureLoad(t.server, t.url, roundSeconds);
        t.runs.push(r);
        log(
          `round ${round + 1}/${config.rounds} ${t.name.padEnd(9)}: ${fmt(r.requests / r.durationSeconds)} req/s, ` +
            `p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, server CPU ${pct(r.serverCpu)}, autocannon CPU ${pct(r.loadCpu)}`,
        );
      }
    }
    const [c, b] = targets.map((t) => combine(t.runs));
    return { cimmeria: c, baseline: b, ratio: c.requestsPerSecond / b.requestsPerSecond, body: latest.text };
  } finally {
    await stopChild(baseline.child);
  }
}

// --- part 2: upload / download against a file copy ------------------------------

async function generateFile(path, bytes) {
  const chunk = 4 * MiB;
  const hash = createHash('sha1');
  const out = createWriteStream(path);
  let written = 0;
  async function* chunks() {
    while (written < bytes) {
      const size = Math.min(chunk, bytes - written);
      const buffer = await randomFillAsync(Buffer.allocUnsafe(size));
      hash.update(buffer);
      written += size;
      yield buffer;
    }
  }
  await pipeline(chunks, out);
  return hash.digest('hex');
}

function readStatus(pid, field) {
  return readFile(`/proc/${pid}/status`, 'utf8').then((text) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    if (!match) throw new Error(`${field} not in /proc/${pid}/status`);
    return Number(match[1]) * 1024;
  });
}

/**
 * Peak RSS of the server while `action` runs. On Linux the kernel's own high-water mark
 * (VmHWM, reset through clear_refs), which misses nothing; elsewhere the child samples itself.
 */
async function peakRss(server, action) {
  let mode = 'sampled';
  try {
    await writeFile(`/proc/${server.pid}/clear_refs`, '5');
    mode = 'vmhwm';
  } catch {
    server.child.send({ type: 'rss-start' });
    await nextMessage(server.child, 'rss-started');
  }
  const before = mode === 'vmhwm' ? await readStatus(server.pid, 'VmRSS') : undefined;
  const result = await action();
  let peak;
  if (mode === 'vmhwm') peak = await readStatus(server.pid, 'VmHWM');
  else {
    server.child.send({ type: 'rss-stop' });
    peak = (await nextMessage(server.child, 'rss-peak')).bytes;
  }
  return { result, peakRss: peak, rssBefore: before, rssMode: mode };
}

async function timed(action) {
  const start = process.hrtime.bigint();
  await action();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** CPU time (user + system, µs) a server process used so far: over IPC from node children, else from /proc. */
async function serverCpuMicros(target) {
  if (target.child) return cpuMicros(target);
  const fields = (await readFile(`/proc/${target.pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  // utime and stime, fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/**
 * One transfer against a target, timed, with the CPU the server used for it (which a busy
 * machine disturbs less than the wall clock) and, for node servers, its peak RSS.
 */
async function timedTransfer(target, action) {
  const cpuBefore = await serverCpuMicros(target).catch(() => undefined);
  let result;
  if (target.noRss) result = { seconds: await timed(action) };
  else {
    const measured = await peakRss(target, () => timed(action));
    result = { seconds: measured.result, peakRss: measured.peakRss, rssBefore: measured.rssBefore, rssMode: measured.rssMode };
  }
  const cpuAfter = cpuBefore === undefined ? undefined : await serverCpuMicros(target).catch(() => undefined);
  result.cpuMsPerMiB = cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / 1000 / config.sizeMiB;
  return result;
}

async function transfers(cimmeria, token) {
  const bytes = config.sizeMiB * MiB;
  const dir = join(tempDir, 'transfer');
  await mkdir(join(dir, 'www'), { recursive: true });
  const source = join(dir, 'www', 'source.bin');
  const copyTarget = join(dir, 'copy.bin');
  const downloadTarget = join(dir, 'download.bin');

  log(`generating ${config.sizeMiB} MiB of random data...`);
  let sha1;
  const generateSeconds = await timed(async () => {
    sha1 = await generateFile(source, bytes);
  });
  log(`  ${source}: sha1 ${sha1} (${fmt(config.sizeMiB / generateSeconds, 0)} MiB/s to generate)`);

  // Baselines, with the same client as Cimmeria: a bare node:http server streaming uploads to
  // disk with sha1, and nginx serving the file with sendfile (else the plain file copy).
  await mkdir(join(dir, 'baseline-uploads'));
  const uploadBaseline = await startServer('upload-baseline-server.mjs', { BENCH_DATA_DIR: join(dir, 'baseline-uploads') });
  let nginx;
  if (nginxInstalled()) {
    nginx = await startNginx(join(dir, 'www'), join(dir, 'nginx'));
    log(`nginx (sendfile on) on ${nginx.url} (pid ${nginx.pid}), upload baseline on ${uploadBaseline.url}`);
  } else {
    log(`nginx not found at ${NGINX} (set BENCH_NGINX): downloads are compared with the file copy only`);
  }

  const auth = { authorization: `Bearer ${token}` };
  const packageId = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
  const uploadHeaders = { 'content-length': String(bytes), 'x-checksum-sha1': sha1, 'content-type': 'application/octet-stream' };
  const put = (url, headers) => () => expectOk(`PUT ${url}`, call(url, { method: 'PUT', headers, body: createReadStream(source) }));
  const runs = [];
  try {
    for (let run = 1; run <= config.runs; run++) {
      // Plain copy: the same streaming a server does, with no HTTP and no hashing.
      const copySeconds = await timed(() => pipeline(createReadStream(source), createWriteStream(copyTarget)));
      await rm(copyTarget);

      // Upload into a fresh package revision each run, then publish it with its manifest.
      const prev = createHash('md5').update(`bench-${run}-${Date.now()}`).digest('hex');
      const base = `${cimmeria.url}${RECIPE}/revisions/${RREV}/packages/${packageId}/revisions/${prev}/files`;
      const fileUrl = `${base}/conan_package.tgz`;
      // Who goes first alternates between runs, so that drift favours neither side.
      const uploads = [
        { name: 'cimmeria', go: () => timedTransfer(cimmeria, put(fileUrl, { ...auth, ...uploadHeaders })) },
        { name: 'baseline', go: () => timedTransfer(uploadBaseline, put(`${uploadBaseline.url}/upload`, uploadHeaders)) },
      ];
      const upload = {};
      for (const u of run % 2 === 1 ? uploads : [...uploads].reverse()) upload[u.name] = await u.go();
      const manifest = `conan_package.tgz: ${sha1}\n`;
      await expectOk(
        'PUT package conanmanifest.txt',
        call(`${base}/conanmanifest.txt`, {
          method: 'PUT',
          headers: { ...auth, 'content-length': String(Buffer.byteLength(manifest)), 'x-checksum-sha1': sha1Of(manifest) },
          body: manifest,
        }),
      );

      // Download to a file; the sha1 is checked afterwards, outside the timed part.
      const getTo = (url) => async () => {
        const response = await expectOk(`GET ${url}`, call(url, { responseTo: createWriteStream(downloadTarget) }));
        const got = await stat(downloadTarget);
        if (got.size !== bytes) throw new Error(`GET ${url}: got ${got.size} bytes, expected ${bytes}`);
        return response;
      };
      let downloadHeaders;
      const downloads = [
        {
          name: 'cimmeria',
          go: async () => {
            const result = await timedTransfer(cimmeria, async () => {
              downloadHeaders = (await getTo(fileUrl)()).headers;
            });
            const gotSha1 = await sha1OfFile(downloadTarget);
            if (gotSha1 !== sha1) throw new Error(`download: sha1 ${gotSha1}, expected ${sha1}`);
            return result;
          },
        },
        ...(nginx ? [{ name: 'nginx', go: () => timedTransfer({ ...nginx, noRss: true }, getTo(`${nginx.url}/source.bin`)) }] : []),
      ];
      const download = {};
      for (const d of run % 2 === 1 ? downloads : [...downloads].reverse()) {
        download[d.name] = await d.go();
        await rm(downloadTarget);
      }
      if (downloadHeaders['x-checksum-sha1'] !== sha1) throw new Error(`download: X-Checksum-Sha1 ${downloadHeaders['x-checksum-sha1']}`);

      const r = {
        copyMiBps: config.sizeMiB / copySeconds,
        uploadMiBps: config.sizeMiB / upload.cimmeria.seconds,
        uploadBaselineMiBps: config.sizeMiB / upload.baseline.seconds,
        downloadMiBps: config.sizeMiB / download.cimmeria.seconds,
        nginxMiBps: nginx ? config.sizeMiB / download.nginx.seconds : undefined,
        uploadCpu: upload.cimmeria.cpuMsPerMiB,
        uploadBaselineCpu: upload.baseline.cpuMsPerMiB,
        downloadCpu: download.cimmeria.cpuMsPerMiB,
        nginxCpu: download.nginx?.cpuMsPerMiB,
        uploadPeakRss: upload.cimmeria.peakRss,
        downloadPeakRss: download.cimmeria.peakRss,
        rssBeforeUpload: upload.cimmeria.rssBefore,
        rssMode: upload.cimmeria.rssMode,
      };
      runs.push(r);
      log(
        `run ${run}/${config.runs}: copy ${fmt(r.copyMiBps)} MiB/s; upload ${fmt(r.uploadMiBps)} MiB/s ` +
          `(node:http + sha1 ${fmt(r.uploadBaselineMiBps)}, server peak RSS ${fmt(r.uploadPeakRss / MiB)} MiB); ` +
          `download ${fmt(r.downloadMiBps)} MiB/s (nginx ${fmt(r.nginxMiBps)}, server peak RSS ${fmt(r.downloadPeakRss / MiB)} MiB), sha1 verified; ` +
          `server CPU ms/MiB: upload ${fmt(r.uploadCpu, 2)} (baseline ${fmt(r.uploadBaselineCpu, 2)}), download ${fmt(r.downloadCpu, 2)} (nginx ${fmt(r.nginxCpu, 2)})`,
      );
    }
  } finally {
    await stopChild(uploadBaseline.child);
    await nginx?.stop();
  }
  const copy = median(runs.map((r) => r.copyMiBps));
  const upload = median(runs.map((r) => r.uploadMiBps));
  const uploadBaselineMiBps = median(runs.map((r) => r.uploadBaselineMiBps));
  const download = median(runs.map((r) => r.downloadMiBps));
  const nginxMiBps = nginx ? median(runs.map((r) => r.nginxMiBps)) : undefined;
  return {
    sizeMiB: config.sizeMiB,
    sha1,
    copyMiBps: copy,
    uploadMiBps: upload,
    uploadBaselineMiBps,
    downloadMiBps: download,
    nginxMiBps,
    uploadRatio: upload / uploadBaselineMiBps,
    downloadRatio: nginxMiBps === undefined ? undefined : download / nginxMiBps,
    uploadCpuMsPerMiB: median(runs.map((r) => r.uploadCpu)),
    uploadBaselineCpuMsPerMiB: median(runs.map((r) => r.uploadBaselineCpu)),
    downloadCpuMsPerMiB: median(runs.map((r) => r.downloadCpu)),
    nginxCpuMsPerMiB: nginx ? median(runs.map((r) => r.nginxCpu)) : undefined,
    uploadVsCopy: upload / copy,
    downloadVsCopy: download / copy,
    serverRssBeforeUpload: runs[0].rssBeforeUpload,
    serverPeakRssUpload: Math.max(...runs.map((r) => r.uploadPeakRss)),
    serverPeakRssDownload: Math.max(...runs.map((r) => r.downloadPeakRss)),
    rssMeasuredBy: runs[0].rssMode === 'vmhwm' ? '/proc/<pid>/status VmHWM (reset via clear_refs)' : 'process.memoryUsage.rss() every 20 ms',
    runs,
  };
}

// --- part 3: memory under concurrent uploads --------------------------------------

/** RSS rise of each server while `concurrentUploads` uploads of `concurrentMiB` MiB run at once. */
async function concurrentUploadMemory(cimmeria, token) {
  const n = config.concurrentUploads;
  const mib = config.concurrentMiB;
  const dir = join(tempDir, 'memory-baseline');
  await mkdir(dir);
  const baseline = await startServer('upload-baseline-server.mjs', { BENCH_DATA_DIR: dir });
  const files = `${cimmeria.url}${RECIPE}/revisions/${RREV}/packages/da39a3ee5e6b4b0d3255bfef95601890afd80709/revisions/${'f'.repeat(32)}/files`;
  const targets = [
    { name: 'cimmeria', server: cimmeria, url: (i) => `${files}/memory-${i}.tgz`, headers: { authorization: `Bearer ${token}` } },
    { name: 'node:http + sha1', server: baseline, url: (i) => `${baseline.url}/upload-${i}`, headers: {} },
  ];
  const results = {};
  try {
    for (const t of targets) {
      const measured = await peakRss(t.server, () =>
        timed(async () => {
          const statuses = await Promise.all(Array.from({ length: n }, (_, i) => streamUpload(t.url(i), t.headers, mib)));
          if (statuses.some((s) => s !== 200)) throw new Error(`${t.name}: concurrent uploads answered ${statuses.join(',')}`);
        }),
      );
      results[t.name] = {
        rssBefore: measured.rssBefore,
        peakRss: measured.peakRss,
        raised: measured.peakRss - (measured.rssBefore ?? 0),
        MiBps: (n * mib) / measured.result,
      };
      log(
        `${t.name}: ${n} x ${mib} MiB at once: RSS ${fmt(measured.rssBefore / MiB)} -> peak ${fmt(measured.peakRss / MiB)} MiB ` +
          `(+${fmt(results[t.name].raised / MiB)} MiB), ${fmt(results[t.name].MiBps)} MiB/s in all`,
      );
    }
  } finally {
    await stopChild(baseline.child);
  }
  return { uploads: n, sizeMiB: mib, ...results };
}

// --- main ------------------------------------------------------------------------

async function seedRecipe(cimmeria) {
  const basic = Buffer.from('bench:bench-password').toString('base64');
  const token = (await expectOk('authenticate', call(`${cimmeria.url}/v2/users/authenticate`, { headers: { authorization: `Basic ${basic}` } }))).text;
  const files = {
    'conanfile.py': 'from conan import ConanFile\n\nclass Hello(ConanFile):\n    name = "hello"\n    version = "1.0"\n',
  };
  files['conanmanifest.txt'] = `1700000000\nconanfile.py: ${createHash('md5').update(files['conanfile.py']).digest('hex')}\n`;
  // The manifest last: storing it publishes the revision.
  for (const [path, content] of Object.entries(files)) {
    await expectOk(
      `PUT ${path}`,
      call(`${cimmeria.url}${RECIPE}/revisions/${RREV}/files/${path}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-length': String(Buffer.byteLength(content)), 'x-checksum-sha1': sha1Of(content) },
        body: content,
      }),
    );
  }
  return token;
}

const redactUrl = (url) => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

/**
 * Runs `measure` against a Cimmeria server on PostgreSQL, in a schema of
 * this run's own that the server drops when it stops.
 */
async function onPostgres(execArgv, measure) {
  const dataDir = join(tempDir, 'server-pg');
  await mkdir(dataDir);
  const schema = `cimmeria_bench_${process.pid}_${Date.now().toString(36)}`;
  let server;
  try {
    server = await startServer(
      'cimmeria-server.mjs',
      { BENCH_DATA_DIR: dataDir, BENCH_USER: 'bench', BENCH_PASSWORD: 'bench-password', BENCH_PG_URL: pgUrl, BENCH_PG_SCHEMA: schema },
      execArgv,
    );
  } catch (error) {
    throw new Error(`cimmeria on PostgreSQL (${redactUrl(pgUrl)}) did not start: pass --pg-url, or --skip-pg`, { cause: error });
  }
  log(`cimmeria on PostgreSQL schema ${schema}, ${server.url} (pid ${server.pid})`);
  try {
    await seedRecipe(server);
    return await measure(server);
  } finally {
    await stopChild(server.child);
  }
}

function summary(results) {
  const lines = ['', '=== Summary ==='];
  const machine = `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ${process.platform}`;
  lines.push(machine);
  for (const [rps, backend] of [
    [results.rps, 'SQLite'],
    [results.rpsPostgres, 'PostgreSQL'],
  ]) {
    if (!rps) continue;
    const { cimmeria: c, baseline: b, ratio } = rps;
    // Server CPU time per answer: steadier than req/s on a shared machine.
    const cpuPerRequest = (r) => `${fmt((r.serverCpu / r.requestsPerSecond) * 1e6, 1)}`;
    lines.push(
      '',
      `GET ${LATEST} (cimmeria on ${backend}): ${config.connections} connections, ${config.durationSeconds} s per server in ${config.rounds} round(s) after ${config.warmupSeconds} s warm-up`,
      table([
        ['server', 'req/s', 'p50 ms', 'p99 ms', 'server CPU', 'CPU µs/req', 'autocannon CPU'],
        ['cimmeria', fmt(c.requestsPerSecond), fmt(c.latencyP50Ms, 1), fmt(c.latencyP99Ms, 1), pct(c.serverCpu), cpuPerRequest(c), pct(c.loadGeneratorCpu)],
        ['node:http', fmt(b.requestsPerSecond), fmt(b.latencyP50Ms, 1), fmt(b.latencyP99Ms, 1), pct(b.serverCpu), cpuPerRequest(b), pct(b.loadGeneratorCpu)],
      ]),
      `ratio cimmeria (${backend}) / node:http: ${fmt(ratio, 3)} (${pct(ratio)})`,
    );
  }
  if (results.transfer) {
    const t = results.transfer;
    const ratio = (x) => (x === undefined ? '-' : fmt(x, 3));
    lines.push(
      '',
      `${t.sizeMiB} MiB file, median of ${config.runs} run(s)`,
      table([
        ['operation', 'MiB/s', 'baseline', 'baseline MiB/s', 'ratio', 'vs copy', 'CPU ms/MiB (baseline)', 'server peak RSS'],
        ['file copy (stream pipeline)', fmt(t.copyMiBps), '-', '-', '-', '1.000', '-', '-'],
        ['upload (HTTP PUT)', fmt(t.uploadMiBps), 'node:http + sha1 to disk', fmt(t.uploadBaselineMiBps), ratio(t.uploadRatio), fmt(t.uploadVsCopy, 3), `${fmt(t.uploadCpuMsPerMiB, 2)} (${fmt(t.uploadBaselineCpuMsPerMiB, 2)})`, `${fmt(t.serverPeakRssUpload / MiB)} MiB`],
        ['download (HTTP GET)', fmt(t.downloadMiBps), t.nginxMiBps === undefined ? '(no nginx)' : 'nginx sendfile', fmt(t.nginxMiBps), ratio(t.downloadRatio), fmt(t.downloadVsCopy, 3), `${fmt(t.downloadCpuMsPerMiB, 2)} (${fmt(t.nginxCpuMsPerMiB, 2)})`, `${fmt(t.serverPeakRssDownload / MiB)} MiB`],
      ]),
      `server RSS before the first upload: ${t.serverRssBeforeUpload === undefined ? '-' : `${fmt(t.serverRssBeforeUpload / MiB)} MiB`};` +
        ` peak measured by ${t.rssMeasuredBy}`,
    );
  }
  if (results.memory) {
    const m = results.memory;
    lines.push(
      '',
      `${m.uploads} concurrent uploads of ${m.sizeMiB} MiB: rise of the server's RSS (peak - before)`,
      table([
        ['server', 'RSS before', 'peak', 'rise', 'MiB/s in all'],
        ...['cimmeria', 'node:http + sha1'].map((name) => [
          name,
          `${fmt(m[name].rssBefore / MiB)} MiB`,
          `${fmt(m[name].peakRss / MiB)} MiB`,
          `${fmt(m[name].raised / MiB)} MiB`,
          fmt(m[name].MiBps),
        ]),
      ]),
    );
  }
  return lines.join('\n');
}

async function main() {
  const started = Date.now();
  tempDir = removeOnExit(await mkdtemp(join(tmpdir(), 'cimmeria-bench-')));
  const dataDir = join(tempDir, 'server');
  await mkdir(dataDir);
  log(
    `Cimmeria benchmark — temp dir ${tempDir}\n` +
      `config: ${JSON.stringify(config)}${cpuProfDir ? `, CPU profiles in ${cpuProfDir}` : ''}`,
  );

  const execArgv = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const cimmeria = await startServer(
    'cimmeria-server.mjs',
    { BENCH_DATA_DIR: dataDir, BENCH_USER: 'bench', BENCH_PASSWORD: 'bench-password' },
    execArgv,
  );
  log(`cimmeria on ${cimmeria.url} (pid ${cimmeria.pid})`);
  const results = { config, node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model.trim() };
  try {
    const token = await seedRecipe(cimmeria);
    if (!flags['skip-rps']) {
      log('\n--- requests/s (SQLite) ---');
      results.rps = await requestsPerSecond(cimmeria);
    }
    if (!flags['skip-transfer']) {
      log('\n--- upload / download ---');
      results.transfer = await transfers(cimmeria, token);
    }
    if (!flags['skip-memory']) {
      log(`\n--- memory: ${config.concurrentUploads} concurrent uploads of ${config.concurrentMiB} MiB ---`);
      results.memory = await concurrentUploadMemory(cimmeria, token);
    }
  } finally {
    await stopChild(cimmeria.child);
  }
  if (!flags['skip-rps'] && !flags['skip-pg']) {
    log(`\n--- requests/s (PostgreSQL, ${redactUrl(pgUrl)}) ---`);
    results.rpsPostgres = await onPostgres(execArgv, requestsPerSecond);
  }
  results.elapsedSeconds = (Date.now() - started) / 1000;
  log(summary(results));
  log(`\ntotal time ${fmt(results.elapsedSeconds, 1)} s`);
  if (jsonOut === '-') process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else if (jsonOut) {
    await writeFile(jsonOut, `${JSON.stringify(results, null, 2)}\n`);
    log(`results written to ${jsonOut}`);
  }
}

await runBenchmark(main);
