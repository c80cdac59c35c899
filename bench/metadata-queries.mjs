#!/usr/bin/env node
// Metadata queries at scale (issue 10): listing the binaries of a recipe revision with many
// packages, and searching over many recipes.
//
// 1. `conan list 'pkg/1.0:*'` asks for `GET .../revisions/{rrev}/search`. A recipe revision with
//    --packages binaries (default 500) is uploaded to a Cimmeria server (SQLite + local directory),
//    then that listing is timed one request at a time: p50/p95 against a bare node:http server
//    answering the same JSON bytes, and against the store's one query run in-process.
// 2. `conan search 'zl*'` and `conan list '*'` ask for `GET /v2/conans/search?q=...`. A fresh
//    server holds --recipes recipes (default 100,000, inserted straight into its database): p50/p95
//    of `zl*` (against the bare server answering the same bytes) and of `*`; then the latency of
//    other requests (`GET .../latest`) while `*z*` searches run back to back, against their latency
//    on an idle server; and, in-process, the longest the event loop stays blocked during each search.
//
// Servers run in child processes on 127.0.0.1; the client is this process. See bench/README.md.
import { randomUUID } from 'node:crypto';
import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PasswordAuthenticator, StaticUsers, TokenService, createRegistry } from '@cimmeria/core';
import { createSqliteMetadataStore } from '@cimmeria/metadata-sqlite';
import { FsBlobStore } from '@cimmeria/storage-fs';
import { cleanupOnExit, nextMessage, removeOnExit, runBenchmark, startServer, stopChild } from './lib/children.mjs';
import { longestBlock } from './lib/event-loop.mjs';
import { parseBenchArgs } from './lib/options.mjs';
import { table } from './lib/report.mjs';

const HELP = `Usage: node bench/metadata-queries.mjs [options]

  --packages N     binaries of the listed recipe revision                  [BENCH_PACKAGES, 500]
  --recipes N      recipes searched over                                   [BENCH_RECIPES, 100000]
  --requests N     timed requests per measurement (fewer for q=*)          [BENCH_REQUESTS, 300]
  --skip-listing   skip part 1
  --skip-search    skip part 2
  -h, --help       this help
`;
const { flags, numberOption } = parseBenchArgs(
  {
    packages: { type: 'string' },
    recipes: { type: 'string' },
    requests: { type: 'string' },
    'skip-listing': { type: 'boolean', default: false },
    'skip-search': { type: 'boolean', default: false },
  },
  HELP,
);
const PACKAGES = numberOption('packages', 'BENCH_PACKAGES', 500, { min: 1, integer: true });
const RECIPES = numberOption('recipes', 'BENCH_RECIPES', 100_000, { min: 100, integer: true });
const REQUESTS = numberOption('requests', 'BENCH_REQUESTS', 300, { min: 10, integer: true });

cleanupOnExit();

const USER = 'bench';
const PASSWORD = 'bench-password';
const RREV = '0123456789abcdef0123456789abcdef';
const agent = new Agent({ keepAlive: true, maxSockets: 8 });

// --- HTTP and figures --------------------------------------------------------------

function call(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function ok(url, options) {
  const response = await call(url, options);
  if (response.status !== 200) throw new Error(`${options?.method ?? 'GET'} ${url}: ${response.status} ${response.body.toString().slice(0, 200)}`);
  return response;
}

/** Milliseconds of each of `count` sequential calls of `fn`, after `warmup` untimed ones. */
async function timeEach(fn, count, warmup = Math.min(20, count)) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times;
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
const ms = (value) => value.toFixed(2);
const stats = (times) => ({ p50: percentile(times, 50), p95: percentile(times, 95), max: Math.max(...times) });

/** CPU time (user + system) a server child has used so far, in ms. */
async function cpuMs(server) {
  server.child.send({ type: 'cpu' });
  return (await nextMessage(server.child, 'cpu')).micros / 1000;
}

/**
 * Runs `timeEach(fn, count)` and also returns the server's CPU ms per call: unlike wall times,
 * little changed by other processes on a busy machine.
 */
async function timeWithCpu(server, fn, count) {
  for (let i = 0; i < Math.min(20, count); i++) await fn();
  const before = await cpuMs(server);
  const times = await timeEach(fn, count, 0);
  return { times, cpuPerCall: ((await cpuMs(server)) - before) / count };
}

async function startCimmeria(dir) {
  return startServer('cimmeria-server.mjs', { BENCH_DATA_DIR: dir, BENCH_USER: USER, BENCH_PASSWORD: PASSWORD });
}

async function startBaseline(body) {
  return startServer('baseline-server.mjs', { BENCH_BODY: body.toString() });
}

const md5 = (text) => createHash('md5').update(text).digest('hex');

// --- 1. binary listing -----------------------------------------------------------------

async function listing() {
  const dir = removeOnExit(await mkdtemp(join(tmpdir(), 'cimmeria-bench-listing-')));
  const server = await startCimmeria(dir);
  let baseline;
  try {
    const basic = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    const token = (await ok(`${server.url}/v2/users/authenticate`, { headers: { authorization: `Basic ${basic}` } })).body.toString();
    const recipe = `${server.url}/v2/conans/pkg/1.0/_/_/revisions/${RREV}`;
    const put = (path, body) => ok(`${recipe}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body });
    const conanfile = 'from conan import ConanFile\n';
    await put('/files/conanfile.py', conanfile);
    await put('/files/conanmanifest.txt', `1700000000\nconanfile.py: ${md5(conanfile)}\n`);
    const started = performance.now();
    for (let i = 0; i < PACKAGES; i++) {
      const packageId = createHash('sha1').update(`package ${i}`).digest('hex');
      // A conaninfo.txt of the usual size (some 300 bytes): settings, options, requires.
      const info =
        `[settings]\narch=x86_64\nbuild_type=${i % 2 ? 'Release' : 'Debug'}\ncompiler=gcc\ncompiler.version=${9 + (i % 5)}\nos=Linux\n` +
        `[options]\nfPIC=True\nshared=${i % 3 === 0}\nvariant=${i}\n[requires]\nzlib/1.3.Z\nopenssl/3.2.Z\n`;
      const files = `/packages/${packageId}/revisions/${md5(info)}/files`;
      await put(`${files}/conaninfo.txt`, info);
      await put(`${files}/conanmanifest.txt`, `1700000000\nconaninfo.txt: ${md5(info)}\n`);
    }
    console.log(`uploaded ${PACKAGES} binaries of pkg/1.0#${RREV.slice(0, 8)}... in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const url = `${recipe}/search`;
    const answer = (await ok(url)).body;
    const count = Object.keys(JSON.parse(answer)).length;
    if (count !== PACKAGES) throw new Error(`listing has ${count} binaries, not ${PACKAGES}`);
    baseline = await startBaseline(answer);
    const baselineUrl = `${baseline.url}/v2/conans/pkg/1.0/_/_/revisions/${RREV}/search`;

    // ABBA: each server twice, so a drift of the machine's load shows in neither alone.
    const cimmeriaTimes = [];
    const baselineTimes = [];
    const cpu = { c: 0, b: 0 };
    for (const target of ['c', 'b', 'b', 'c']) {
      const { times, cpuPerCall } = await timeWithCpu(target === 'c' ? server : baseline, () => ok(target === 'c' ? url : baselineUrl), Math.ceil(REQUESTS / 2));
      (target === 'c' ? cimmeriaTimes : baselineTimes).push(...times);
      cpu[target] += cpuPerCall / 2;
    }

    // The query alone, in this process, on the server's database (WAL: readers do not wait).
    const sqlite = createSqliteMetadataStore({ filename: join(dir, 'metadata.db') });
    const ref = { name: 'pkg', version: '1.0', revision: RREV };
    const queryTimes = await timeEach(() => sqlite.store.latestBinaries(ref), REQUESTS);
    await sqlite.close();

    const c = stats(cimmeriaTimes);
    const b = stats(baselineTimes);
    const q = stats(queryTimes);
    console.log(`\n1. Listing the binaries of a recipe revision with ${PACKAGES} packages: GET .../revisions/{rrev}/search, ${answer.length} bytes, one request at a time`);
    console.log(
      table([
        ['', 'p50 ms', 'p95 ms', 'max ms', 'p95 / bare p95', 'server CPU ms/request'],
        ['Cimmeria (SQLite + fs)', ms(c.p50), ms(c.p95), ms(c.max), (c.p95 / b.p95).toFixed(2), ms(cpu.c)],
        ['bare node:http, same bytes', ms(b.p50), ms(b.p95), ms(b.max), '1.00', ms(cpu.b)],
        ['latestBinaries query alone (in-process)', ms(q.p50), ms(q.p95), ms(q.max), '', ''],
      ]),
    );
    console.log(`target: Cimmeria p95 under 20 ms -> ${c.p95 < 20 ? 'met' : 'NOT met'}`);
  } finally {
    if (baseline) await stopChild(baseline.child);
    await stopChild(server.child);
  }
}

// --- 2. search -------------------------------------------------------------------------

/** A seeded random generator (mulberry32): the same recipes on every run. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` recipes: names of random letters (a few per two-letter start), four versions each, half with user/channel. */
function recipes(count) {
  const next = random(10);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const pick = (n) => Array.from({ length: n }, () => letters[Math.floor(next() * 26)]).join('');
  const refs = [
    { name: 'zlib', version: '1.2.13' },
    { name: 'zlib', version: '1.3.1' },
  ];
  const names = new Set(['zlib']);
  while (refs.length < count) {
    let name;
    do name = `${pick(2)}${pick(3 + Math.floor(next() * 6))}${next() < 0.3 ? `-${pick(3)}` : ''}`;
    while (names.has(name));
    names.add(name);
    for (let v = 0; v < 4 && refs.length < count; v++) {
      const version = `${1 + v}.${Math.floor(next() * 20)}.${Math.floor(next() * 10)}`;
      refs.push(v % 2 === 0 ? { name, version } : { name, version, user: 'corp', channel: v === 1 ? 'stable' : 'testing' });
    }
  }
  return refs;
}

/** Inserts recipes with one published revision each straight into the tables, in one transaction. */
async function seed(filename, refs) {
  const sqlite = createSqliteMetadataStore({ filename });
  await sqlite.store.migrate();
  await sqlite.db.transaction().execute(async (trx) => {
    for (let i = 0; i < refs.length; i += 500) {
      const rows = refs.slice(i, i + 500).map((r) => ({ id: randomUUID(), name: r.name, version: r.version, user: r.user ?? '', channel: r.channel ?? '' }));
      await trx.insertInto('recipes').values(rows).execute();
      const revision = md5(rows[0].id);
      await trx
        .insertInto('recipe_revisions')
        .values(rows.map((r) => ({ id: randomUUID(), recipe_id: r.id, revision, created_at: 1, published_at: 1_700_000_000_000_000 })))
        .execute();
    }
  });
  return sqlite;
}

async function search() {
  const dir = removeOnExit(await mkdtemp(join(tmpdir(), 'cimmeria-bench-search-')));
  const refs = recipes(RECIPES);
  const seeding = performance.now();
  const sqlite = await seed(join(dir, 'metadata.db'), refs);
  console.log(`\ninserted ${RECIPES} recipes in ${((performance.now() - seeding) / 1000).toFixed(1)} s`);

  // In-process first, with nothing else running: the store's queries and the longest block of the event loop.
  const registry = createRegistry({
    metadata: sqlite.store,
    blobs: new FsBlobStore({ directory: join(dir, 'blobs') }),
    authenticator: new PasswordAuthenticator(new StaticUsers({})),
    tokens: new TokenService({ secret: 'bench-secret-0123456789' }),
  });
  const inProcess = [];
  for (const pattern of ['zl*', '*', '*z*']) {
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(await longestBlock(() => registry.service.search(undefined, pattern, true), 5));
    runs.sort((a, b) => a.longest - b.longest);
    const median = runs[2];
    inProcess.push([pattern, String(median.result.length), ms(median.duration), ms(median.longest)]);
  }
  await sqlite.close();

  const server = await startCimmeria(dir);
  let baseline;
  try {
    const q = (pattern) => `${server.url}/v2/conans/search?q=${encodeURIComponent(pattern)}`;
    const zlAnswer = (await ok(q('zl*'))).body;
    baseline = await startBaseline(zlAnswer);
    const zl = [];
    const bare = [];
    const cpu = { c: 0, b: 0 };
    for (const target of ['c', 'b', 'b', 'c']) {
      const { times, cpuPerCall } = await timeWithCpu(
        target === 'c' ? server : baseline,
        () => ok(target === 'c' ? q('zl*') : `${baseline.url}/v2/conans/search?q=zl%2A`),
        Math.ceil(REQUESTS / 2),
      );
      (target === 'c' ? zl : bare).push(...times);
      cpu[target] += cpuPerCall / 2;
    }
    const allAnswer = (await ok(q('*'))).body;
    const { times: all, cpuPerCall: allCpu } = await timeWithCpu(server, () => ok(q('*')), 6);

    // Other requests while `*z*` searches run back to back on another connection.
    const latest = `${server.url}/v2/conans/zlib/1.3.1/_/_/latest`;
    const { times: idle, cpuPerCall: latestCpu } = await timeWithCpu(server, () => ok(latest), REQUESTS);
    let searching = true;
    let searches = 0;
    const searcher = (async () => {
      while (searching) {
        await ok(q('*z*'));
        searches += 1;
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    // At least REQUESTS requests, and for as long as two whole searches take.
    const busy = [];
    while (busy.length < REQUESTS || searches < 3) busy.push(...(await timeEach(() => ok(latest), 10, 0)));
    searching = false;
    await searcher;

    const [c, b, a, i, s] = [stats(zl), stats(bare), stats(all), stats(idle), stats(busy)];
    console.log(`\n2. Search over ${RECIPES} recipes: GET /v2/conans/search?q=..., one request at a time`);
    console.log(
      table([
        ['', 'results', 'bytes', 'p50 ms', 'p95 ms', 'max ms', 'p95 / bare p95', 'server CPU ms/request'],
        ['q=zl* (Cimmeria)', String(JSON.parse(zlAnswer).results.length), String(zlAnswer.length), ms(c.p50), ms(c.p95), ms(c.max), (c.p95 / b.p95).toFixed(2), ms(cpu.c)],
        ['q=zl* (bare node:http, same bytes)', '', String(zlAnswer.length), ms(b.p50), ms(b.p95), ms(b.max), '1.00', ms(cpu.b)],
        ['q=* (Cimmeria)', String(JSON.parse(allAnswer).results.length), String(allAnswer.length), ms(a.p50), ms(a.p95), ms(a.max), '', ms(allCpu)],
      ]),
    );
    console.log(`target: q=zl* p95 under 20 ms -> ${c.p95 < 20 ? 'met' : 'NOT met'}`);
    console.log(`\nGET .../latest, one at a time, on an idle server and while q=*z* searches run back to back (${busy.length} requests, ${searches} searches meanwhile)`);
    console.log(
      table([
        ['', 'p50 ms', 'p95 ms', 'max ms', 'server CPU ms/request'],
        ['idle', ms(i.p50), ms(i.p95), ms(i.max), ms(latestCpu)],
        ['during q=*z*', ms(s.p50), ms(s.p95), ms(s.max), ''],
        ['ratio', (s.p50 / i.p50).toFixed(2), (s.p95 / i.p95).toFixed(2), '', ''],
      ]),
    );
    console.log('\nThe same searches in-process (median of 5): the longest the event loop stayed blocked (a 1 ms interval\'s longest gap)');
    console.log(table([['pattern', 'results', 'search ms', 'longest block ms'], ...inProcess]));
  } finally {
    if (baseline) await stopChild(baseline.child);
    await stopChild(server.child);
  }
}

await runBenchmark(async () => {
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (!flags['skip-listing']) await listing();
  if (!flags['skip-search']) await search();
  console.log(`\nload average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  agent.destroy();
});
