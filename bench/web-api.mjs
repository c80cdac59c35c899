#!/usr/bin/env node
// The web API's answer times on SQLite (issue 13: search over 100,000 recipes and a recipe with
// 500 binaries under 50 ms at p95). Seeds a SQLite database by bulk insert, starts a Cimmeria
// server on it (a child process) and a baseline: a bare node:http server answering the same JSON
// bodies from memory (another child). One client asks each URL in turn, one request at a time,
// and prints p50/p95 of both and their ratio (Cimmeria over baseline).
//
//   node bench/web-api.mjs [--recipes N] [--binaries N] [--requests N]
//
// See bench/README.md.
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteMetadataStore } from '@cimmeria/metadata-sqlite';
import { cleanupOnExit, removeOnExit, runBenchmark, startServer, stopChild } from './lib/children.mjs';
import { parseBenchArgs } from './lib/options.mjs';
import { table } from './lib/report.mjs';

const { numberOption } = parseBenchArgs(
  { recipes: { type: 'string' }, binaries: { type: 'string' }, requests: { type: 'string' } },
  'node bench/web-api.mjs [--recipes N (100000)] [--binaries N (500)] [--requests N per URL (200)]\n',
);
const RECIPES = numberOption('recipes', 'BENCH_RECIPES', 100_000, { min: 10, integer: true });
const BINARIES = numberOption('binaries', 'BENCH_BINARIES', 500, { min: 1, integer: true });
const REQUESTS = numberOption('requests', 'BENCH_REQUESTS', 200, { min: 10, integer: true });
const USER = 'bench';
const PASSWORD = 'bench-password';
const REV = 'f'.repeat(32);
const BIG = 'bigrecipe';

const conaninfo = (i) =>
  `[settings]\narch=${i % 2 ? 'x86_64' : 'armv8'}\nbuild_type=${i % 3 ? 'Release' : 'Debug'}\ncompiler=gcc\ncompiler.version=${9 + (i % 5)}\nos=${['Linux', 'Windows', 'Macos'][i % 3]}\n\n[options]\nshared=${i % 2 ? 'True' : 'False'}\nfPIC=True\nvariant=${i}\n\n[requires]\nzlib/1.3.Z\nopenssl/3.2.Z\n`;

/** Bulk insert: 2 versions per name, one revision each; a recipe with BINARIES binaries. */
async function seed(filename) {
  const sqlite = createSqliteMetadataStore({ filename });
  await sqlite.store.migrate();
  const db = sqlite.db;
  const started = performance.now();
  let time = 1_700_000_000_000_000;
  await db.transaction().execute(async (trx) => {
    const BATCH = 200;
    for (let i = 0; i < RECIPES; i += BATCH) {
      const recipes = [];
      const revisions = [];
      for (let j = i; j < Math.min(RECIPES, i + BATCH); j++) {
        const id = randomUUID();
        time += 1000;
        recipes.push({ id, name: `lib${j >> 1}`, version: `1.${j % 2}.0`, user: '', channel: '', latest_published_at: time });
        revisions.push({ id: randomUUID(), recipe_id: id, revision: REV, created_at: time, published_at: time });
      }
      await trx.insertInto('recipes').values(recipes).execute();
      await trx.insertInto('recipe_revisions').values(revisions).execute();
    }
    const recipeId = randomUUID();
    const revisionId = randomUUID();
    await trx.insertInto('recipes').values({ id: recipeId, name: BIG, version: '1.0', user: '', channel: '', latest_published_at: time }).execute();
    await trx.insertInto('recipe_revisions').values({ id: revisionId, recipe_id: recipeId, revision: REV, created_at: time, published_at: time }).execute();
    for (let i = 0; i < BINARIES; i += 50) {
      const packages = [];
      const files = [];
      const blobs = [];
      const requires = [];
      for (let j = i; j < Math.min(BINARIES, i + 50); j++) {
        const id = randomUUID();
        packages.push({ id, recipe_revision_id: revisionId, package_id: j.toString(16).padStart(40, '0'), revision: REV, created_at: time, published_at: time });
        const text = conaninfo(j);
        const key = `blobs/bench/${id}`;
        blobs.push({ key, size: text.length, sha1: '0'.repeat(40), sha256: '0'.repeat(64), created_at: time, md5: null, content: text });
        for (const [path, size] of [['conaninfo.txt', text.length], ['conan_package.tgz', 1_000_000 + j], ['conanmanifest.txt', 120]]) {
          files.push({ package_revision_id: id, path, blob_key: path === 'conaninfo.txt' ? key : `blobs/bench/other-${id}-${path}`, size, sha1: '0'.repeat(40) });
        }
        requires.push({ package_revision_id: id, position: 0, name: 'zlib', version: '1.3.Z', reference: 'zlib/1.3.Z' });
        requires.push({ package_revision_id: id, position: 1, name: 'openssl', version: '3.2.Z', reference: 'openssl/3.2.Z' });
      }
      await trx.insertInto('package_revisions').values(packages).execute();
      await trx.insertInto('blobs').values(blobs).execute();
      await trx.insertInto('package_files').values(files).execute();
      await trx.insertInto('package_requires').values(requires).execute();
    }
  });
  await sqlite.close();
  return performance.now() - started;
}

const URLS = [
  ['search, a prefix', '/api/v1/recipes?q=lib12'],
  ['search, all (page 1)', '/api/v1/recipes'],
  ['search, all (page 500)', '/api/v1/recipes?page=500'],
  ['search, a pattern', '/api/v1/recipes?q=lib*99'],
  ['pattern, narrow prefix', '/api/v1/recipes?q=lib12*9'],
  ['recipe detail', `/api/v1/recipes/${BIG}`],
  [`${BINARIES} binaries`, `/api/v1/recipes/${BIG}/1.0/_/_/revisions/${REV}/packages`],
  ['dependents of zlib', '/api/v1/recipes/zlib/dependents'],
  ['stats', '/api/v1/stats'],
];

/** p50 and p95 (ms) of REQUESTS sequential GETs, after a few to warm up. */
async function latencies(url) {
  for (let i = 0; i < 5; i++) await (await fetch(url)).arrayBuffer();
  const times = [];
  for (let i = 0; i < REQUESTS; i++) {
    const start = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length * 0.5)], p95: times[Math.floor(times.length * 0.95)] };
}

cleanupOnExit();
await runBenchmark(async () => {
  const dir = removeOnExit(await mkdtemp(join(tmpdir(), 'cimmeria-bench-web-api-')));
  const seedMs = await seed(join(dir, 'metadata.db'));
  console.log(`Seeded ${RECIPES} recipes (${RECIPES / 2} names) and a recipe with ${BINARIES} binaries in ${(seedMs / 1000).toFixed(1)} s`);
  const cimmeria = await startServer('cimmeria-server.mjs', { BENCH_DATA_DIR: dir, BENCH_USER: USER, BENCH_PASSWORD: PASSWORD });
  const rows = [['request', 'bytes', 'cimmeria p50 ms', 'p95 ms', 'baseline p50 ms', 'p95 ms', 'ratio p95']];
  try {
    for (const [label, path] of URLS) {
      const body = await (await fetch(`${cimmeria.url}${path}`)).text();
      const bodyFile = join(dir, 'body.json');
      await writeFile(bodyFile, body);
      const baseline = await startServer('baseline-server.mjs', { BENCH_BODY_FILE: bodyFile });
      try {
        const ours = await latencies(`${cimmeria.url}${path}`);
        const theirs = await latencies(`${baseline.url}${path}`);
        rows.push([label, body.length, ours.p50.toFixed(2), ours.p95.toFixed(2), theirs.p50.toFixed(2), theirs.p95.toFixed(2), (ours.p95 / theirs.p95).toFixed(1)]);
      } finally {
        await stopChild(baseline.child);
      }
    }
  } finally {
    await stopChild(cimmeria.child);
  }
  console.log(`\n${REQUESTS} sequential requests per URL; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  console.log(table(rows));
});
