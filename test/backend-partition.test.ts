import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, startServe, tempDir, type ServeProcess } from '../packages/cli/test/support/cli-process.js';
import { PG_URL, dropSchema, freshSchemaName } from '../packages/metadata-postgres/test/support.js';
import { startS3, type TestS3 } from '../packages/storage-s3/test/support/s3rver.js';
import { BlackholeRelay } from './support/blackhole-relay.js';

// Issue 8, item 6: `cimmeria serve` on PostgreSQL and S3, each reached through a relay that can
// go silent (a network partition: connections stay open, nothing passes, nothing is reset).
// Requests must answer 503 with Retry-After within a small multiple of the configured deadlines
// instead of hanging for as long as the partition lasts, and work again once it heals.

const QUERY_TIMEOUT_MS = 1_000;
const STORAGE_TIMEOUT_MS = 1_000;
const STORAGE_IDLE_TIMEOUT_MS = 1_500;
const REF = '/v2/conans/partition/1.0/_/_';
const FILES = `${REF}/revisions/0123456789abcdef0123456789abcdef/files`;
const sha1 = (data: string) => createHash('sha1').update(data).digest('hex');

let s3: TestS3;
let pgRelay: BlackholeRelay;
let s3Relay: BlackholeRelay;
let serve: ServeProcess;
let data: { dir: string; remove: () => Promise<void> };
let token: string;
const schema = freshSchemaName();
let uploads = 0;

beforeAll(async () => {
  s3 = await startS3();
  const bucket = await s3.createBucket(s3.client());
  pgRelay = await BlackholeRelay.forUrl(PG_URL, 5432);
  s3Relay = await BlackholeRelay.forUrl(s3.endpoint, 80);
  data = await tempDir('cimmeria-partition-');
  const endpoint = s3Relay.urlFor(s3.endpoint).replace(/\/$/, '');
  serve = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', data.dir], {
    env: {
      CIMMERIA_DATABASE: pgRelay.urlFor(PG_URL),
      CIMMERIA_DATABASE_SCHEMA: schema,
      CIMMERIA_STORAGE:
        `s3://${bucket}/cimmeria?endpoint=${encodeURIComponent(endpoint)}` +
        '&forcePathStyle=true&region=us-east-1&accessKeyId=S3RVER&secretAccessKey=S3RVER',
      CIMMERIA_DOWNLOADS: 'stream',
      CIMMERIA_DATABASE_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
      CIMMERIA_DATABASE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
      CIMMERIA_STORAGE_TIMEOUT_MS: String(STORAGE_TIMEOUT_MS),
      CIMMERIA_STORAGE_IDLE_TIMEOUT_MS: String(STORAGE_IDLE_TIMEOUT_MS),
    },
  });
  const password = /password: (\S+)/.exec(serve.stderr())![1]!;
  const session = await login(serve.url, 'admin', password);
  expect(session.status).toBe(200);
  token = session.token;
  for (const [name, body] of [['conanfile.py', 'from conan import ConanFile\n'], ['conanmanifest.txt', 'manifest\n']] as const) {
    expect((await put(`${FILES}/${name}`, body)).status).toBe(200);
  }
}, 60_000);

afterAll(async () => {
  pgRelay?.heal();
  s3Relay?.heal();
  await serve?.stop();
  await pgRelay?.close();
  await s3Relay?.close();
  await s3?.close();
  await data?.remove();
  await dropSchema(schema);
});

function put(path: string, body: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${serve.url}${path}`, {
    method: 'PUT',
    body,
    headers: { authorization: `Bearer ${token}`, 'x-checksum-sha1': sha1(body) },
    ...(signal ? { signal } : {}),
  });
}

const requests = {
  latest: (signal?: AbortSignal) => fetch(`${serve.url}${REF}/latest`, signal ? { signal } : {}),
  upload: (signal?: AbortSignal) => {
    uploads += 1;
    return put(`${FILES}/extra-${uploads}.txt`, `extra ${uploads}\n`, signal);
  },
  download: (signal?: AbortSignal) => fetch(`${serve.url}${FILES}/conanfile.py`, signal ? { signal } : {}),
};
type RequestName = keyof typeof requests;

/** Status, Retry-After and time of a request; 'no answer' once `boundMs` pass. */
async function timed(name: RequestName, boundMs: number) {
  const started = Date.now();
  try {
    const response = await requests[name](AbortSignal.timeout(boundMs));
    await response.arrayBuffer();
    return { status: response.status, retryAfter: response.headers.get('retry-after'), ms: Date.now() - started };
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') return { status: 'no answer', retryAfter: null, ms: Date.now() - started };
    throw error;
  }
}

async function partitionAndHeal(relay: BlackholeRelay, names: RequestName[], deadlineMs: number) {
  // Warm the node's pools, so the partition catches open connections as it would in production.
  for (const name of names) expect((await timed(name, 10_000)).status, `${name} before`).toBe(200);
  relay.blackhole();
  try {
    const bound = 3 * deadlineMs + 1_000;
    const during = await Promise.all(names.map((name) => timed(name, bound + 10_000)));
    for (const [i, name] of names.entries()) {
      expect(during[i]!.status, `${name} during the partition`).toBe(503);
      expect(during[i]!.retryAfter, name).toMatch(/^\d+$/);
      expect(during[i]!.ms, name).toBeLessThan(bound);
    }
  } finally {
    relay.heal();
  }
  // No restart: the same node serves again.
  for (const name of names) expect((await timed(name, 10_000)).status, `${name} after healing`).toBe(200);
}

describe('item 6 of issue 8: cimmeria serve under a silent network partition', () => {
  it('item 6: with PostgreSQL black-holed, latest, upload and download answer 503 with Retry-After, then work after healing', async () => {
    await partitionAndHeal(pgRelay, ['latest', 'upload', 'download'], QUERY_TIMEOUT_MS + 500);
  });

  it('item 6: with S3 black-holed, upload and download answer 503 with Retry-After, then work after healing', async () => {
    await partitionAndHeal(s3Relay, ['upload', 'download'], STORAGE_IDLE_TIMEOUT_MS);
  });
});
