#!/usr/bin/env node
// Time to 503 under a silent network partition (issue 8, item 6).
//
// Runs the built `cimmeria serve` in a child process on PostgreSQL (the machine's, through a
// relay) and S3 (s3rver in this process, through another relay), publishes a recipe, then
// black-holes one backend at a time — the relay keeps every connection open, forwards nothing
// and never resets — and times `latest`, an upload and a streamed download until they answer.
// A probe gives up after --give-up seconds (default 40): without deadlines, requests hang as long
// as the partition lasts. After healing the relay, the same requests must succeed again without a
// restart. Settings passed to the server: CIMMERIA_DATABASE_QUERY_TIMEOUT_MS, ..._STORAGE_TIMEOUT_MS,
// ..._STORAGE_IDLE_TIMEOUT_MS (a server that does not know them warns and ignores them).
//
//   node bench/blackhole-503.mjs [--give-up S] [--pg-url URL] [--json FILE]
//
// Needs `pnpm build` and PostgreSQL (postgres://postgres@127.0.0.1:5432/test or CIMMERIA_PG_URL).
// Everything listens on 127.0.0.1; the child, the relays and s3rver are stopped on exit.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startServe } from '../packages/cli/test/support/cli-process.ts';
import { BlackholeRelay } from '../test/support/blackhole-relay.ts';
import { startS3 } from '../packages/storage-s3/test/support/s3rver.ts';

const { values: args } = parseArgs({
  options: {
    'give-up': { type: 'string', default: '40' },
    'pg-url': { type: 'string', default: process.env.CIMMERIA_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    json: { type: 'string' },
  },
});
const GIVE_UP_MS = Number(args['give-up']) * 1000;
const REF = '/v2/conans/probe/1.0/_/_';
const REVISION = 'c0ffee00c0ffee00c0ffee00c0ffee00';
const FILES = `${REF}/revisions/${REVISION}/files`;
const sha1 = (data) => createHash('sha1').update(data).digest('hex');

const cleanups = [];
async function cleanup() {
  while (cleanups.length > 0) await cleanups.pop()().catch(() => {});
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

/** `cimmeria serve` configured by `env` alone, killed on cleanup; its URL and the admin password it printed. */
async function startServeFromEnv(env) {
  const serve = await startServe([], { env });
  cleanups.push(() => serve.stop('SIGKILL'));
  return { url: serve.url, password: /password: (\S+)/.exec(serve.stderr())?.[1] };
}

/** Milliseconds until the request answers (and its status), or `undefined` after GIVE_UP_MS. */
async function probe(url, init = {}) {
  const started = performance.now();
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(GIVE_UP_MS) });
    await response.arrayBuffer();
    return { ms: Math.round(performance.now() - started), status: response.status, retryAfter: response.headers.get('retry-after') };
  } catch (error) {
    if (error.name === 'TimeoutError') return { ms: undefined, status: 'no answer' };
    return { ms: Math.round(performance.now() - started), status: `error ${error.cause?.code ?? error.message}` };
  }
}

async function main() {
  const s3 = await startS3();
  cleanups.push(() => s3.close());
  const bucket = await s3.createBucket(s3.client());
  const pgRelay = await BlackholeRelay.forUrl(args['pg-url'], 5432);
  cleanups.push(() => pgRelay.close());
  const s3Relay = await BlackholeRelay.forUrl(s3.endpoint, 80);
  cleanups.push(() => s3Relay.close());
  const data = await mkdtemp(join(tmpdir(), 'cimmeria-blackhole-'));
  cleanups.push(() => rm(data, { recursive: true, force: true }));
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  cleanups.push(async () => {
    const { default: pg } = await import('../packages/metadata-postgres/node_modules/pg/lib/index.js');
    const client = new pg.Client({ connectionString: args['pg-url'] });
    await client.connect();
    await client.query(`drop schema if exists "${schema}" cascade`);
    await client.end();
  });

  const storage =
    `s3://${bucket}/bench?endpoint=${encodeURIComponent(s3Relay.urlFor(s3.endpoint).replace(/\/$/, ''))}` +
    '&forcePathStyle=true&region=us-east-1&accessKeyId=S3RVER&secretAccessKey=S3RVER';
  const server = await startServeFromEnv({
    CIMMERIA_PORT: '0',
    CIMMERIA_HOST: '127.0.0.1',
    CIMMERIA_DATA: data,
    CIMMERIA_DATABASE: pgRelay.urlFor(args['pg-url']),
    CIMMERIA_DATABASE_SCHEMA: schema,
    CIMMERIA_STORAGE: storage,
    CIMMERIA_DOWNLOADS: 'stream',
    CIMMERIA_DRAIN_DELAY_MS: '0',
    CIMMERIA_LOG_LEVEL: 'silent',
  });
  const login = await fetch(`${server.url}/v2/users/authenticate`, {
    headers: { authorization: `Basic ${Buffer.from(`admin:${server.password}`).toString('base64')}` },
  });
  if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
  const token = await login.text();
  const put = (name, body) => ({
    method: 'PUT',
    body,
    headers: { authorization: `Bearer ${token}`, 'x-checksum-sha1': sha1(body) },
  });
  for (const [name, body] of [['conanfile.py', 'from conan import ConanFile\n'], ['conanmanifest.txt', 'manifest\n']]) {
    const response = await fetch(`${server.url}${FILES}/${name}`, put(name, body));
    if (response.status !== 200 && response.status !== 201) throw new Error(`upload of ${name}: ${response.status}`);
  }

  let upload = 0;
  const requests = {
    latest: () => [`${server.url}${REF}/latest`, {}],
    upload: () => {
      upload += 1;
      return [`${server.url}${FILES}/extra-${upload}.txt`, put('extra', `extra file ${upload}\n`)];
    },
    download: () => [`${server.url}${FILES}/conanfile.py`, {}],
  };
  const results = {};
  for (const [backend, relay, names] of [
    ['PostgreSQL', pgRelay, ['latest', 'upload', 'download']],
    ['S3', s3Relay, ['upload', 'download']],
  ]) {
    // Warm the pools so the partition catches open connections, as it would in production.
    for (const name of names) await probe(...requests[name]());
    relay.blackhole();
    const during = await Promise.all(names.map((name) => probe(...requests[name]())));
    relay.heal();
    const after = [];
    for (const name of names) after.push(await probe(...requests[name]()));
    results[backend] = Object.fromEntries(names.map((name, i) => [name, { during: during[i], after: after[i] }]));
  }

  const show = (r) => (r.ms === undefined ? `no answer after ${GIVE_UP_MS / 1000} s` : `${r.status} in ${r.ms} ms`);
  console.log(`Time to answer with the backend black-holed (probe gives up after ${GIVE_UP_MS / 1000} s), then after healing`);
  console.log('backend     request   during partition                       after heal');
  for (const [backend, byName] of Object.entries(results)) {
    for (const [name, { during, after }] of Object.entries(byName)) {
      const retry = during.retryAfter ? ` (Retry-After ${during.retryAfter})` : '';
      console.log(`${backend.padEnd(10)}  ${name.padEnd(8)}  ${(show(during) + retry).padEnd(37)}  ${show(after)}`);
    }
  }
  if (args.json) await writeFile(args.json, JSON.stringify({ giveUpMs: GIVE_UP_MS, results }, null, 2));
}

try {
  await main();
} finally {
  await cleanup();
}
