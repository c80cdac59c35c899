import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConanHandler, type Registry } from '@cimmeria/core';
import { serveNode, type NodeServer } from '@cimmeria/core/node';
import { deterministicBytes } from '@cimmeria/core/testing';
import type { FsBlobStore } from '@cimmeria/storage-fs';
import { login } from './support/login.js';
import { conformanceRegistry } from './support/conformance-registry.js';

// The publication rules of DESIGN.md, as a client sees them over HTTP.

let server: NodeServer;
let registry: Registry;
let blobDirectory: string;
let dispose: () => Promise<void>;
let token: string;

beforeAll(async () => {
  const made = await conformanceRegistry();
  dispose = made.dispose;
  registry = made.registry;
  blobDirectory = (made.registry.options.blobs as FsBlobStore).directory;
  server = await serveNode(createConanHandler(made.registry));
  token = await login(server.url, 'demo', 'demo');
});

afterAll(async () => {
  await server?.close();
  await dispose?.();
});

/** Bytes in the fs store's in-progress files: what has reached storage of uploads still running. */
async function bytesBeingWritten(): Promise<number> {
  const temp = join(blobDirectory, '.tmp');
  const names = await readdir(temp).catch(() => [] as string[]);
  const sizes = await Promise.all(names.map((n) => stat(join(temp, n)).then((s) => s.size, () => 0)));
  return sizes.reduce((a, b) => a + b, 0);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

// A full collection before each memory sample, so the samples count what is
// still held, not garbage waiting for the collector.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/**
 * Bytes this process holds on the heap and in array buffers, after a full
 * collection. V8 frees large array buffers on a background thread, which on a
 * busy machine can lag behind gc(): the least of three samples a few ms apart
 * counts what is really held (held bytes stay in every sample, freed ones
 * leave the later ones).
 */
async function liveBytes(): Promise<number> {
  let least = Infinity;
  for (let sample = 0; sample < 3; sample++) {
    if (sample > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    collectGarbage();
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    least = Math.min(least, heapUsed + arrayBuffers);
  }
  return least;
}

const MiB = 1024 * 1024;

const sha1 = (data: string | Uint8Array) => createHash('sha1').update(data).digest('hex');
const recipe = (name: string) => `/v2/conans/${name}/1.0/_/_`;

async function put(path: string, body: string) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'PUT',
    body,
    headers: { authorization: `Bearer ${token}`, 'x-checksum-sha1': sha1(body) },
  });
  expect(response.status, `PUT ${path}`).toBe(200);
}

/** PUTs a streamed body through node:http, which writes with backpressure and keeps nothing. */
async function putStream(path: string, body: AsyncIterable<Uint8Array>, headers: Record<string, string>): Promise<number> {
  const request = httpRequest(`${server.url}${path}`, { method: 'PUT', headers });
  const answered = new Promise<number>((resolve, reject) => {
    request.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode!));
    });
    request.on('error', reject);
  });
  await pipeline(Readable.from(body), request);
  return answered;
}

const status = async (path: string) => (await fetch(`${server.url}${path}`)).status;
const json = async (path: string) => (await fetch(`${server.url}${path}`)).json();

describe('publication', () => {
  it('serves nothing of a revision until its conanmanifest.txt is stored', async () => {
    const files = `${recipe('half')}/revisions/aaa1/files`;
    await put(`${files}/conanfile.py`, 'recipe');
    await put(`${files}/conan_sources.tgz`, 'sources');
    for (const path of [`${recipe('half')}/latest`, `${recipe('half')}/revisions`, files, `${files}/conanfile.py`]) {
      expect(await status(path), path).toBe(404);
    }
    expect((await json('/v2/conans/search?q=half*')).results).toEqual([]);

    await put(`${files}/conanmanifest.txt`, 'manifest');
    expect((await json(`${recipe('half')}/latest`)).revision).toBe('aaa1');
    expect(Object.keys((await json(files)).files).sort()).toEqual(['conan_sources.tgz', 'conanfile.py', 'conanmanifest.txt']);
    expect((await json('/v2/conans/search?q=half*')).results).toEqual(['half/1.0']);
  });

  it('hides a binary until both its manifest and its recipe manifest are stored', async () => {
    const rrev = `${recipe('bin')}/revisions/bbb1`;
    const pkg = `${rrev}/packages/f00d/revisions/ccc1/files`;
    await put(`${rrev}/files/conanfile.py`, 'recipe');
    await put(`${pkg}/conaninfo.txt`, '[settings]\nos=Linux\n');
    await put(`${pkg}/conanmanifest.txt`, 'manifest');
    for (const path of [`${rrev}/packages/f00d/latest`, `${rrev}/packages/f00d/revisions`, pkg, `${pkg}/conaninfo.txt`, `${rrev}/search`]) {
      expect(await status(path), path).toBe(404);
    }

    await put(`${rrev}/files/conanmanifest.txt`, 'manifest');
    expect((await json(`${rrev}/packages/f00d/latest`)).revision).toBe('ccc1');
    expect(await json(`${rrev}/search`)).toEqual({ f00d: { content: '[settings]\nos=Linux\n' } });
  });

  const names = async (path: string) => (await json(path)).revisions.map((r: { revision: string }) => r.revision);

  it('issue 9 item 2: storing the manifest of a published revision again keeps its time and place, for recipes and binaries', async () => {
    const recipeRevisions = `${recipe('again')}/revisions`;
    for (const revision of ['ddd1', 'ddd2']) await put(`${recipeRevisions}/${revision}/files/conanmanifest.txt`, revision);
    const before = await json(recipeRevisions);
    expect(before.revisions.map((r: { revision: string }) => r.revision)).toEqual(['ddd2', 'ddd1']);
    // `conan upload --force` sends the same manifest; one who may delete may even send another.
    await put(`${recipeRevisions}/ddd1/files/conanmanifest.txt`, 'ddd1');
    await put(`${recipeRevisions}/ddd1/files/conanmanifest.txt`, 'ddd1 changed');
    expect(await json(recipeRevisions)).toEqual(before);
    expect((await json(`${recipe('again')}/latest`)).revision).toBe('ddd2');

    const binary = `${recipeRevisions}/ddd2/packages/f00d`;
    for (const revision of ['eee1', 'eee2']) await put(`${binary}/revisions/${revision}/files/conanmanifest.txt`, revision);
    const binaryBefore = await json(`${binary}/revisions`);
    expect(binaryBefore.revisions.map((r: { revision: string }) => r.revision)).toEqual(['eee2', 'eee1']);
    await put(`${binary}/revisions/eee1/files/conanmanifest.txt`, 'eee1');
    await put(`${binary}/revisions/eee1/files/conanmanifest.txt`, 'eee1 changed');
    expect(await json(`${binary}/revisions`)).toEqual(binaryBefore);
    expect((await json(`${binary}/latest`)).revision).toBe('eee2');
  });

  it('issue 9 item 2: a revision deleted and uploaded again is new: it gets a new time and becomes the latest', async () => {
    const recipeRevisions = `${recipe('renewed')}/revisions`;
    for (const revision of ['fff1', 'fff2']) await put(`${recipeRevisions}/${revision}/files/conanmanifest.txt`, revision);
    const [, old] = (await json(recipeRevisions)).revisions;
    const remove = await fetch(`${server.url}${recipeRevisions}/fff1`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(remove.status).toBe(200);
    await put(`${recipeRevisions}/fff1/files/conanmanifest.txt`, 'fff1');
    const after = await json(recipeRevisions);
    expect(after.revisions.map((r: { revision: string }) => r.revision)).toEqual(['fff1', 'fff2']);
    expect(after.revisions[0].time > old.time).toBe(true);

    const binary = `${recipeRevisions}/fff1/packages/f00d`;
    for (const revision of ['aaa1', 'aaa2']) await put(`${binary}/revisions/${revision}/files/conanmanifest.txt`, revision);
    expect(await names(`${binary}/revisions`)).toEqual(['aaa2', 'aaa1']);
    const removeBinary = await fetch(`${server.url}${binary}/revisions/aaa1`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(removeBinary.status).toBe(200);
    await put(`${binary}/revisions/aaa1/files/conanmanifest.txt`, 'aaa1');
    expect(await names(`${binary}/revisions`)).toEqual(['aaa1', 'aaa2']);
  });

  it('issue 9 item 2: with reuploadMakesLatest, storing the manifest again makes the revision the latest, with a newer time', async () => {
    const made = await conformanceRegistry({ reuploadMakesLatest: true });
    const other = await serveNode(createConanHandler(made.registry));
    try {
      const otherToken = await login(other.url, 'demo', 'demo');
      const putOther = async (path: string, body: string) => {
        const response = await fetch(`${other.url}${path}`, {
          method: 'PUT',
          body,
          headers: { authorization: `Bearer ${otherToken}`, 'x-checksum-sha1': sha1(body) },
        });
        expect(response.status, `PUT ${path}`).toBe(200);
      };
      const recipeRevisions = `${recipe('latest-again')}/revisions`;
      for (const revision of ['ddd1', 'ddd2']) await putOther(`${recipeRevisions}/${revision}/files/conanmanifest.txt`, revision);
      const before = await (await fetch(`${other.url}${recipe('latest-again')}/latest`)).json();
      expect(before.revision).toBe('ddd2');
      await putOther(`${recipeRevisions}/ddd1/files/conanmanifest.txt`, 'ddd1');
      const after = await (await fetch(`${other.url}${recipe('latest-again')}/latest`)).json();
      expect(after.revision).toBe('ddd1');
      expect(after.time > before.time).toBe(true);

      const binary = `${recipeRevisions}/ddd1/packages/f00d`;
      for (const revision of ['eee1', 'eee2']) await putOther(`${binary}/revisions/${revision}/files/conanmanifest.txt`, revision);
      await putOther(`${binary}/revisions/eee1/files/conanmanifest.txt`, 'eee1');
      expect((await (await fetch(`${other.url}${binary}/latest`)).json()).revision).toBe('eee1');
    } finally {
      await other.close();
      await made.dispose();
    }
  });
});

/** Every blob key in storage, as GC would see them. */
async function blobKeys(): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of registry.options.blobs.list()) keys.push(entry.key);
  return keys.sort();
}

/** PUTs with an X-Checksum-Sha1 the body does not have. */
async function putTampered(path: string, body: string) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'PUT',
    body,
    headers: { authorization: `Bearer ${token}`, 'x-checksum-sha1': sha1(`not ${body}`) },
  });
  return { status: response.status, text: await response.text() };
}

describe('rejected and broken uploads leave no trace', () => {
  it('a manifest whose X-Checksum-Sha1 does not match is refused (400) and publishes nothing', async () => {
    const files = `${recipe('tampered')}/revisions/fff1/files`;
    await put(`${files}/conanfile.py`, 'recipe');
    const blobsBefore = await blobKeys();

    const refused = await putTampered(`${files}/conanmanifest.txt`, 'manifest tampered');
    expect(refused.status).toBe(400);
    expect(refused.text).toMatch(/checksum/i);
    for (const path of [`${recipe('tampered')}/latest`, `${recipe('tampered')}/revisions`, files, `${files}/conanmanifest.txt`]) {
      expect(await status(path), path).toBe(404);
    }
    expect((await json('/v2/conans/search?q=tampered*')).results).toEqual([]);
    // Neither the bytes nor a record of them were kept.
    expect(await blobKeys()).toEqual(blobsBefore);
    expect(await bytesBeingWritten()).toBe(0);
    expect(await registry.options.metadata.findBlobBySha1(sha1('manifest tampered'))).toBeUndefined();

    // The client retries with the right bytes: now it is published, without the refused ones.
    await put(`${files}/conanmanifest.txt`, 'manifest');
    expect((await json(`${recipe('tampered')}/latest`)).revision).toBe('fff1');
    expect(await (await fetch(`${server.url}${files}/conanmanifest.txt`)).text()).toBe('manifest');
  });

  it('a file refused for its checksum is not listed once the revision is published', async () => {
    const files = `${recipe('tampered-file')}/revisions/fff2/files`;
    await put(`${files}/conanfile.py`, 'recipe');
    const blobsBefore = await blobKeys();
    expect((await putTampered(`${files}/conan_sources.tgz`, 'sources')).status).toBe(400);
    expect(await blobKeys()).toEqual(blobsBefore);
    await put(`${files}/conanmanifest.txt`, 'manifest');
    expect(Object.keys((await json(files)).files).sort()).toEqual(['conanfile.py', 'conanmanifest.txt']);
    expect(await status(`${files}/conan_sources.tgz`)).toBe(404);
  });

  it('a refused re-upload of an older manifest neither makes it latest nor changes its time', async () => {
    const revisions = `${recipe('tampered-again')}/revisions`;
    await put(`${revisions}/a0a1/files/conanmanifest.txt`, 'a0a1');
    await put(`${revisions}/a0a2/files/conanmanifest.txt`, 'a0a2');
    const before = await json(revisions);
    expect((await putTampered(`${revisions}/a0a1/files/conanmanifest.txt`, 'a0a1 again')).status).toBe(400);
    expect(await json(revisions)).toEqual(before);
    expect((await json(`${recipe('tampered-again')}/latest`)).revision).toBe('a0a2');
    expect(await (await fetch(`${server.url}${revisions}/a0a1/files/conanmanifest.txt`)).text()).toBe('a0a1');
  });

  it('an upload cut off by the client midway leaves no blob, no temporary file and no revision', async () => {
    const files = `${recipe('cut')}/revisions/b0b1/files`;
    const blobsBefore = await blobKeys();
    // Not the manifest: it is bounded to 1 MiB (maxTextFileBytes) and would be refused up front.
    const request = httpRequest(`${server.url}${files}/conan_sources.tgz`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-length': String(8 * MiB) },
    });
    request.on('error', () => undefined);
    for await (const chunk of deterministicBytes(2 * MiB, 8).body) {
      if (!request.write(chunk)) await new Promise((resolve) => request.once('drain', resolve));
    }
    // Cut the connection only once the server is writing the bytes to storage.
    expect(await waitFor(async () => (await bytesBeingWritten()) > 0, 10_000)).toBe(true);
    request.destroy();

    const clean = await waitFor(
      async () => (await bytesBeingWritten()) === 0 && (await blobKeys()).join() === blobsBefore.join(),
      10_000,
    );
    expect(clean, 'storage back to what it was').toBe(true);
    expect(await blobKeys()).toEqual(blobsBefore);
    expect(await status(`${recipe('cut')}/latest`)).toBe(404);
    expect(await status(files)).toBe(404);
  });
});

describe('large files', () => {
  it('streams a 50 MiB upload to storage while it arrives, and resumes downloads with Range', async () => {
    const size = 50 * 1024 * 1024;
    const files = `${recipe('large')}/revisions/eee1/files`;
    const hash = createHash('sha1');
    for await (const chunk of deterministicBytes(size, 5).body) hash.update(chunk);
    const expectedSha1 = hash.digest('hex');

    // Hold the body back after 20 MiB until the server has written part of it to
    // storage: a server that buffered the whole upload first would never get there.
    // Client and server share this process, so also sample what it holds while the
    // upload runs: a server buffering the body would hold all 50 MiB of it.
    // (The upload goes through node:http, not fetch: Node's fetch keeps a
    // streamed request body in memory until the request is done.)
    const baseline = await liveBytes();
    let peak = baseline;
    let sawStreaming = false;
    async function* throttled() {
      let sent = 0;
      for await (const chunk of deterministicBytes(size, 5).body) {
        if (sent % (4 * MiB) === 0) peak = Math.max(peak, await liveBytes());
        if (sent >= 20 * MiB && !sawStreaming) {
          sawStreaming = await waitFor(async () => (await bytesBeingWritten()) > 0, 10_000);
          if (!sawStreaming) throw new Error('nothing reached storage after 20 MiB');
        }
        sent += chunk.byteLength;
        yield chunk;
      }
    }
    const response = await putStream(`${files}/conan_package.tgz`, throttled(), {
      authorization: `Bearer ${token}`,
      'x-checksum-sha1': expectedSha1,
      'content-length': String(size),
    });
    expect(sawStreaming).toBe(true);
    expect(response).toBe(200);
    peak = Math.max(peak, await liveBytes());
    expect((peak - baseline) / MiB, 'MiB held while uploading 50 MiB').toBeLessThan(20);

    await put(`${files}/conanmanifest.txt`, 'manifest');
    const half = size / 2;
    // Measured from before the requests: a server reading the file whole
    // before answering would already hold it when the headers arrive.
    const downloadBaseline = await liveBytes();
    const first = await fetch(`${server.url}${files}/conan_package.tgz`, { headers: { range: `bytes=0-${half - 1}` } });
    expect(first.status).toBe(206);
    const second = await fetch(`${server.url}${files}/conan_package.tgz`, { headers: { range: `bytes=${half}-` } });
    expect(second.status).toBe(206);
    expect(second.headers.get('content-range')).toBe(`bytes ${half}-${size - 1}/${size}`);
    expect(first.headers.get('content-length')).toBe(String(half));
    // Hash both halves as they arrive, sampling memory on the way: the server
    // must stream the file out too, not read it whole first.
    const resumed = createHash('sha1');
    let downloadPeak = downloadBaseline;
    let received = 0;
    for (const part of [first, second]) {
      for await (const chunk of part.body as unknown as AsyncIterable<Uint8Array>) {
        resumed.update(chunk);
        const before = received;
        received += chunk.byteLength;
        if (Math.floor(before / (4 * MiB)) !== Math.floor(received / (4 * MiB))) {
          downloadPeak = Math.max(downloadPeak, await liveBytes());
        }
      }
    }
    expect(received).toBe(size);
    expect(resumed.digest('hex')).toBe(expectedSha1);
    expect((downloadPeak - downloadBaseline) / MiB, 'MiB held while downloading 50 MiB').toBeLessThan(20);
  });
});
