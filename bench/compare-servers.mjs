#!/usr/bin/env node
// Side by side: the same requests against `cimmeria serve` (started here, SQLite + a local
// directory) and against other Conan servers already running (the reference conan_server under
// gunicorn, say), in one run: `GET latest` req/s (wrk, or autocannon when wrk is missing), the
// MiB/s of a large upload and download, and each server's idle RSS (the whole process tree).
//
// Nothing here fetches, builds or starts another server: start it yourself (bench/README.md
// says how the reference server was run) and pass its URL, a user that may upload, and its
// main process id for the memory figure.
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { cleanupOnExit, killOnExit, removeOnExit, runBenchmark, startChild, nextMessage } from './lib/children.mjs';
import { parseBenchArgs } from './lib/options.mjs';
import { median, table } from './lib/report.mjs';

const HELP = `Usage: node bench/compare-servers.mjs [--server NAME=URL,USER:PASSWORD[,PID]]... [options]

Starts \`cimmeria serve\` (the built CLI: run \`pnpm build\` first) on SQLite + a local
directory, and measures it and every --server side by side:
  latest    GET /v2/conans/bench/1.0/_/_/latest, req/s with wrk (or autocannon)
  upload    MiB/s of a PUT of a --size-mib package file with its X-Checksum-Sha1
  download  MiB/s of a GET of that file into a file, sha1 checked
  idle RSS  sum of VmRSS over the server's process tree, after the transfers and --idle-ms

Options:
  --server SPEC        another server: NAME=URL,USER:PASSWORD[,PID] (repeatable)
  --workers N          cimmeria serve --workers N (default: its own default)
  --connections N      wrk/autocannon connections (default 16)
  --duration S         seconds per latest round (default 10)
  --rounds N           latest rounds per server, interleaved (default 2)
  --size-mib N         transfer size (default 256)
  --runs N             transfers per server, median (default 3)
  --idle-ms N          idle time before the RSS reading (default 3000)
`;

const { flags, numberOption } = parseBenchArgs(
  {
    server: { type: 'string', multiple: true, default: [] },
    workers: { type: 'string' },
    connections: { type: 'string' },
    duration: { type: 'string' },
    rounds: { type: 'string' },
    'size-mib': { type: 'string' },
    runs: { type: 'string' },
    'idle-ms': { type: 'string' },
  },
  HELP,
);
const connections = numberOption('connections', 'BENCH_CONNECTIONS', 16, { min: 1, integer: true });
const duration = numberOption('duration', 'BENCH_DURATION', 10, { min: 1 });
const rounds = numberOption('rounds', 'BENCH_ROUNDS', 2, { min: 1, integer: true });
const sizeMib = numberOption('size-mib', 'BENCH_SIZE_MIB', 256, { min: 1, integer: true });
const runs = numberOption('runs', 'BENCH_RUNS', 3, { min: 1, integer: true });
const idleMs = numberOption('idle-ms', 'BENCH_IDLE_MS', 3000, { min: 0 });
const workers = flags.workers === undefined ? undefined : numberOption('workers', 'BENCH_WORKERS', 1, { min: 1, integer: true });

const root = new URL('..', import.meta.url).pathname;
const execFileAsync = promisify(execFile);

function parseServer(spec) {
  const match = /^([^=]+)=([^,]+),([^:,]+):([^,]*)(?:,(\d+))?$/.exec(spec);
  if (!match) {
    console.error(`Invalid --server ${spec}: expected NAME=URL,USER:PASSWORD[,PID]`);
    process.exit(2);
  }
  const [, name, url, user, password, pid] = match;
  return { name, url: url.replace(/\/$/, ''), user, password, pid: pid ? Number(pid) : undefined };
}

/** One HTTP request; resolves with status, headers and the body as text (small bodies only). */
function call(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body === undefined) req.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else pipeline(body, req).catch(reject);
  });
}

async function token(server) {
  const basic = Buffer.from(`${server.user}:${server.password}`).toString('base64');
  const res = await call(`${server.url}/v2/users/authenticate`, { headers: { authorization: `Basic ${basic}` } });
  if (res.status !== 200) throw new Error(`${server.name}: login answered ${res.status}`);
  return res.text.trim();
}

const sha1 = (data) => createHash('sha1').update(data).digest('hex');
const md5 = (data) => createHash('md5').update(data).digest('hex');
const RECIPE = '/v2/conans/bench/1.0/_/_';

async function put(server, auth, path, body, size, checksum) {
  const res = await call(`${server.url}${path}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${auth}`, 'content-length': String(size), 'x-checksum-sha1': checksum },
    body,
  });
  if (res.status >= 300) throw new Error(`${server.name}: PUT ${path} answered ${res.status} ${res.text.slice(0, 200)}`);
}

/** Publishes bench/1.0 with one recipe revision (files as the conan client uploads them, manifest last). */
async function publishRecipe(server, auth) {
  const conanfile = 'from conan import ConanFile\n\nclass Bench(ConanFile):\n    name = "bench"\n    version = "1.0"\n';
  const manifest = `1700000000\nconanfile.py: ${md5(conanfile)}\n`;
  const rrev = md5(manifest);
  for (const [name, data] of [
    ['conanfile.py', conanfile],
    ['conanmanifest.txt', manifest],
  ]) {
    await put(server, auth, `${RECIPE}/revisions/${rrev}/files/${name}`, data, Buffer.byteLength(data), sha1(data));
  }
  const latest = await call(`${server.url}${RECIPE}/latest`);
  if (latest.status !== 200) throw new Error(`${server.name}: latest answered ${latest.status} after publishing`);
  return rrev;
}

/** Uploads the big file as a new package revision, then its conaninfo and manifest; returns MiB/s of the big PUT. */
async function uploadPackage(server, auth, rrev, file, fileSha1, run) {
  const pkg = `${RECIPE}/revisions/${rrev}/packages/${'0'.repeat(39)}${run}`;
  const prev = randomBytes(16).toString('hex');
  const base = `${pkg}/revisions/${prev}/files`;
  const size = statSync(file).size;
  const started = process.hrtime.bigint();
  await put(server, auth, `${base}/conan_package.tgz`, createReadStream(file, { highWaterMark: 1 << 20 }), size, fileSha1);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const info = '[settings]\nos=Linux\n';
  const manifest = `1700000000\nconaninfo.txt: ${md5(info)}\n`;
  await put(server, auth, `${base}/conaninfo.txt`, info, info.length, sha1(info));
  await put(server, auth, `${base}/conanmanifest.txt`, manifest, manifest.length, sha1(manifest));
  return { mibps: size / 2 ** 20 / seconds, url: `${server.url}${base}/conan_package.tgz` };
}

/** Downloads `url` into a file (following one redirect), checking its sha1; returns MiB/s. */
async function download(url, auth, target, expectedSha1) {
  const started = process.hrtime.bigint();
  const hash = createHash('sha1');
  const size = await new Promise((resolve, reject) => {
    const get = (u, redirects) =>
      request(u, { headers: auth ? { authorization: `Bearer ${auth}` } : {} }, (res) => {
        if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location && redirects > 0) {
          res.resume();
          get(new URL(res.headers.location, u).href, redirects - 1);
          return;
        }
        if (res.statusCode !== 200) return reject(new Error(`GET ${u} answered ${res.statusCode}`));
        let n = 0;
        res.on('data', (c) => {
          n += c.length;
          hash.update(c);
        });
        pipeline(res, createWriteStream(target)).then(() => resolve(n), reject);
      })
        .on('error', reject)
        .end();
    get(url, 1);
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (hash.digest('hex') !== expectedSha1) throw new Error(`GET ${url}: sha1 mismatch`);
  return size / 2 ** 20 / seconds;
}

/** req/s of GET latest: wrk when installed (as the table), else autocannon in a child. */
async function latestRps(server) {
  const url = `${server.url}${RECIPE}/latest`;
  try {
    const { stdout } = await execFileAsync('wrk', ['-t', '1', '-c', String(connections), '-d', `${duration}s`, '--latency', url]);
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
    const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
    if (non2xx > 0) throw new Error(`${server.name}: ${non2xx} non-2xx answers to latest`);
    const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(stdout);
    const p99ms = p99 ? Number(p99[1]) * { us: 0.001, ms: 1, s: 1000 }[p99[2]] : NaN;
    return { rps, p99ms, tool: 'wrk' };
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
  const child = startChild('load.mjs', { args: [JSON.stringify({ url, connections, duration })] });
  const { result } = await nextMessage(child, 'result', (duration + 30) * 1000);
  if (result.non2xx > 0) throw new Error(`${server.name}: ${result.non2xx} non-2xx answers to latest`);
  return { rps: result.requests / result.durationSeconds, p99ms: result.latency.p99, tool: 'autocannon' };
}

/** VmRSS of `pid` and all its descendants, in MiB (Linux /proc). */
function treeRssMib(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended meanwhile
    }
  }
  let kib = 0;
  const processes = [];
  const visit = (p) => {
    try {
      const rss = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
      kib += rss;
      processes.push(rss / 1024);
    } catch {
      return;
    }
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return { total: kib / 1024, processes };
}

async function startCimmeria() {
  const data = removeOnExit(mkdtempSync(join(tmpdir(), 'cimmeria-compare-')));
  const cli = join(root, 'packages/cli/bin/cimmeria.js');
  await execFileAsync(process.execPath, [cli, 'user', 'add', 'bench', '--password', 'bench-password', '--data', data]);
  const config = join(data, 'bench.json');
  writeFileSync(config, JSON.stringify({ permissions: { write: [{ pattern: '*/*@*/*', users: ['bench'] }] } }));
  const env = { ...process.env, CIMMERIA_LOG_LEVEL: 'warn' };
  const args = [cli, 'serve', '--data', data, '--config', config, '--host', '127.0.0.1', '--port', '0'];
  if (workers !== undefined) args.push('--workers', String(workers));
  const child = killOnExit(spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }));
  const url = await new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk) => {
      seen += chunk;
      const found = /http:\/\/127\.0\.0\.1:(\d+)/.exec(seen);
      if (found && Number(found[1]) > 0) resolve(found[0]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`cimmeria serve exited (${code}): ${seen}`)));
    setTimeout(() => reject(new Error(`cimmeria serve did not start: ${seen}`)), 30_000);
  });
  return { name: 'cimmeria', url, user: 'bench', password: 'bench-password', pid: child.pid };
}

async function main() {
  cleanupOnExit();
  const servers = [await startCimmeria(), ...flags.server.map(parseServer)];
  const dir = removeOnExit(mkdtempSync(join(tmpdir(), 'cimmeria-compare-files-')));
  const file = join(dir, 'package.bin');
  // Random bytes, so neither side can compress or dedupe them.
  const hash = createHash('sha1');
  await pipeline(
    (async function* () {
      for (let i = 0; i < sizeMib; i++) {
        const chunk = randomBytes(1 << 20);
        hash.update(chunk);
        yield chunk;
      }
    })(),
    createWriteStream(file),
  );
  const fileSha1 = hash.digest('hex');

  const state = new Map();
  for (const server of servers) {
    const auth = await token(server);
    state.set(server.name, { auth, rrev: await publishRecipe(server, auth), rps: [], p99: [], up: [], down: [], tool: '' });
  }
  for (let round = 0; round < rounds; round++) {
    // ABBA order, so a drift of the machine's load does not favour one server.
    const order = round % 2 ? [...servers].reverse() : servers;
    for (const server of order) {
      const { rps, p99ms, tool } = await latestRps(server);
      const s = state.get(server.name);
      s.rps.push(rps);
      s.p99.push(p99ms);
      s.tool = tool;
      console.error(`round ${round + 1}/${rounds} ${server.name}: latest ${Math.round(rps).toLocaleString('en')} req/s (${tool})`);
    }
  }
  for (let run = 0; run < runs; run++) {
    const order = run % 2 ? [...servers].reverse() : servers;
    for (const server of order) {
      const s = state.get(server.name);
      const { mibps, url } = await uploadPackage(server, s.auth, s.rrev, file, fileSha1, run % 10);
      const down = await download(url, s.auth, join(dir, 'download.bin'), fileSha1);
      s.up.push(mibps);
      s.down.push(down);
      console.error(`run ${run + 1}/${runs} ${server.name}: upload ${mibps.toFixed(0)} MiB/s, download ${down.toFixed(0)} MiB/s, sha1 verified`);
    }
  }
  await new Promise((r) => setTimeout(r, idleMs));
  const rows = [['server', 'latest req/s', 'p99 ms', `upload MiB/s`, `download MiB/s`, 'idle RSS MiB (processes)']];
  for (const server of servers) {
    const s = state.get(server.name);
    const rss = server.pid ? treeRssMib(server.pid) : undefined;
    rows.push([
      server.name,
      Math.round(median(s.rps)).toLocaleString('en'),
      Math.max(...s.p99).toFixed(1),
      median(s.up).toFixed(0),
      median(s.down).toFixed(0),
      rss ? `${rss.total.toFixed(0)} (${rss.processes.map((m) => m.toFixed(0)).join(' + ')})` : '-',
    ]);
  }
  console.log(
    `\nGET ${RECIPE}/latest: ${connections} connections, ${duration} s x ${rounds} round(s) per server (ABBA); ` +
      `${sizeMib} MiB random file, median of ${runs} run(s); idle RSS after ${idleMs} ms`,
  );
  console.log(table(rows));
  const [ours, ...others] = servers;
  for (const other of others) {
    const a = state.get(ours.name);
    const b = state.get(other.name);
    const ratio = (x, y) => (median(x) / median(y)).toFixed(2);
    console.log(
      `cimmeria / ${other.name}: latest ${ratio(a.rps, b.rps)}x, upload ${ratio(a.up, b.up)}x, download ${ratio(a.down, b.down)}x`,
    );
  }
}

await runBenchmark(main);
