import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  ConanServerAuthorizer,
  PasswordAuthenticator,
  StaticUsers,
  TokenService,
  createConanHandler,
  createRegistry,
  hashPassword,
  type RegistryOptions,
} from '@cimmeria/core';
import { serveNode, type NodeServer } from '@cimmeria/core/node';
import { deterministicBytes } from '@cimmeria/core/testing';
import { createSqliteMetadataStore, type SqliteMetadata } from '@cimmeria/metadata-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../src/index.js';
import { deadPort, startS3, type TestS3 } from './support/s3rver.js';

// Two nodes of a small cluster over one SQLite file and one bucket: one answers
// downloads with a redirect to S3 (the default when the store can presign), the
// other streams them itself (downloads: 'stream').

const MiB = 1024 * 1024;
const FILES = '/v2/conans/zlib/1.3/_/_/revisions/a1b2c3/files';

let s3: TestS3;
let client: S3Client;
let bucket: string;
let blobs: S3BlobStore;
let dir: string;
let sqlite: SqliteMetadata;
let base: RegistryOptions;
let redirecting: NodeServer;
let streaming: NodeServer;
let token: string;
let sources: Uint8Array<ArrayBuffer>;

const sha1 = (data: Uint8Array | string) => createHash('sha1').update(data).digest('hex');

async function bytesOf(size: number, seed: number): Promise<Uint8Array<ArrayBuffer>> {
  const all = new Uint8Array(size);
  let offset = 0;
  for await (const chunk of deterministicBytes(size, seed).body) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}

async function put(path: string, body: Uint8Array<ArrayBuffer> | string, checksum = sha1(body)): Promise<Response> {
  return fetch(`${redirecting.url}${path}`, {
    method: 'PUT',
    body,
    headers: { authorization: `Bearer ${token}`, 'x-checksum-sha1': checksum },
  });
}

async function blobKeys(): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of blobs.list()) keys.push(entry.key);
  return keys.sort();
}

beforeAll(async () => {
  s3 = await startS3();
  client = s3.client();
  bucket = await s3.createBucket(client);
  blobs = new S3BlobStore({ client, bucket, prefix: 'cimmeria' });
  dir = await mkdtemp(join(tmpdir(), 'cimmeria-s3-http-'));
  sqlite = createSqliteMetadataStore({ filename: join(dir, 'metadata.db') });
  await sqlite.store.migrate();
  base = {
    metadata: sqlite.store,
    blobs,
    authenticator: new PasswordAuthenticator(new StaticUsers({ demo: await hashPassword('demo') })),
    tokens: new TokenService({ secret: 'storage-s3-test-secret-0123456789' }),
    authorizer: new ConanServerAuthorizer({ write: [{ pattern: '*/*@*/*', users: ['demo'] }] }),
  };
  redirecting = await serveNode(createConanHandler(createRegistry({ ...base, presignExpiresInSeconds: 120 })));
  streaming = await serveNode(createConanHandler(createRegistry({ ...base, downloads: 'stream' })));

  const login = await fetch(`${redirecting.url}/v2/users/authenticate`, {
    headers: { authorization: `Basic ${Buffer.from('demo:demo').toString('base64')}` },
  });
  expect(login.status).toBe(200);
  token = await login.text();

  // 12 MiB: a multipart upload into S3, streamed through the node.
  sources = await bytesOf(12 * MiB + 3, 11);
  expect((await put(`${FILES}/conan_sources.tgz`, sources)).status).toBe(200);
  expect((await put(`${FILES}/conanmanifest.txt`, 'manifest')).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await redirecting?.close();
  await streaming?.close();
  await sqlite?.close();
  await s3?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('downloads through S3', () => {
  it('answers a download with 302 to a short-lived presigned URL that serves the bytes', async () => {
    const response = await fetch(`${redirecting.url}${FILES}/conan_sources.tgz`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const location = response.headers.get('location')!;
    expect(location.startsWith(`${s3.endpoint}/${bucket}/cimmeria/`)).toBe(true);
    expect(new URL(location).searchParams.get('X-Amz-Expires')).toBe('120');

    const direct = await fetch(location);
    expect(direct.status).toBe(200);
    expect(direct.headers.get('content-disposition')).toBe('attachment; filename="conan_sources.tgz"');
    expect(sha1(new Uint8Array(await direct.arrayBuffer()))).toBe(sha1(sources));
  });

  it('gives the bytes to a client that follows the redirect', async () => {
    const response = await fetch(`${redirecting.url}${FILES}/conan_sources.tgz`);
    expect(response.status).toBe(200);
    expect(response.redirected).toBe(true);
    expect(response.url.startsWith(s3.endpoint)).toBe(true);
    expect(sha1(new Uint8Array(await response.arrayBuffer()))).toBe(sha1(sources));
  });

  it("streams from the node with downloads: 'stream', whole or by Range", async () => {
    const url = `${streaming.url}${FILES}/conan_sources.tgz`;
    const whole = await fetch(url, { redirect: 'manual' });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-length')).toBe(String(sources.byteLength));
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(sha1(new Uint8Array(await whole.arrayBuffer()))).toBe(sha1(sources));

    const ranges: Array<[string, number, number]> = [
      ['bytes=100-199', 100, 199],
      ['bytes=0-0', 0, 0], // s3rver serves the whole object for this one: the store trims it
      [`bytes=${8 * MiB - 5}-${8 * MiB + 5}`, 8 * MiB - 5, 8 * MiB + 5], // across the part boundary
      ['bytes=-10', sources.byteLength - 10, sources.byteLength - 1],
      [`bytes=${12 * MiB}-`, 12 * MiB, sources.byteLength - 1],
    ];
    for (const [header, start, end] of ranges) {
      const partial = await fetch(url, { headers: { range: header } });
      expect(partial.status, header).toBe(206);
      expect(partial.headers.get('content-range'), header).toBe(`bytes ${start}-${end}/${sources.byteLength}`);
      expect(new Uint8Array(await partial.arrayBuffer()), header).toEqual(sources.subarray(start, end + 1));
    }
  });

  it('rejects an upload with a wrong checksum and leaves nothing in the bucket', async () => {
    const before = await blobKeys();
    const body = await bytesOf(11 * MiB, 12);
    const response = await put('/v2/conans/bad/1.0/_/_/revisions/a1b2c3/files/conan_sources.tgz', body, sha1('other'));
    expect(response.status).toBe(400);
    expect(await blobKeys()).toEqual(before);
    expect((await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
  });

  it('answers 503 when the node streams and S3 is unreachable', async () => {
    const down = s3.client({ endpoint: `http://127.0.0.1:${await deadPort()}`, maxAttempts: 1 });
    const node = await serveNode(
      createConanHandler(createRegistry({ ...base, blobs: new S3BlobStore({ client: down, bucket }), downloads: 'stream' })),
    );
    try {
      expect((await fetch(`${node.url}${FILES}/conan_sources.tgz`)).status).toBe(503);
    } finally {
      await node.close();
    }
  });
});
