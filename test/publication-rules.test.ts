import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConanHandler } from '@cimmeria/core';
import { serveNode, type NodeServer } from '@cimmeria/core/node';
import { deterministicBytes } from '@cimmeria/core/testing';
import type { FsBlobStore } from '@cimmeria/storage-fs';
import { login } from './support/login.js';
import { conformanceRegistry } from './support/conformance-registry.js';

// The publication rules of DESIGN.md, as a client sees them over HTTP.

let server: NodeServer;
let blobDirectory: string;
let dispose: () => Promise<void>;
let token: string;

beforeAll(async () => {
  const made = await conformanceRegistry();
  dispose = made.dispose;
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
    expect(await status(`${rrev}/packages/f00d/latest`)).toBe(404);

    await put(`${rrev}/files/conanmanifest.txt`, 'manifest');
    expect((await json(`${rrev}/packages/f00d/latest`)).revision).toBe('ccc1');
    expect(await json(`${rrev}/search`)).toEqual({ f00d: { content: '[settings]\nos=Linux\n' } });
  });

  it('makes a re-uploaded revision the latest again, with a newer time', async () => {
    for (const revision of ['ddd1', 'ddd2']) {
      await put(`${recipe('again')}/revisions/${revision}/files/conanmanifest.txt`, revision);
    }
    const before = await json(`${recipe('again')}/latest`);
    expect(before.revision).toBe('ddd2');
    await put(`${recipe('again')}/revisions/ddd1/files/conanmanifest.txt`, 'ddd1');
    const after = await json(`${recipe('again')}/latest`);
    expect(after.revision).toBe('ddd1');
    expect(Date.parse(after.time)).toBeGreaterThanOrEqual(Date.parse(before.time));
    expect(after.time > before.time).toBe(true);
    expect((await json(`${recipe('again')}/revisions`)).revisions.map((r: { revision: string }) => r.revision)).toEqual([
      'ddd1',
      'ddd2',
    ]);
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
    const source = deterministicBytes(size, 5).body[Symbol.asyncIterator]();
    let sent = 0;
    let sawStreaming = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent >= 20 * 1024 * 1024 && !sawStreaming) {
          sawStreaming = await waitFor(async () => (await bytesBeingWritten()) > 0, 10_000);
          if (!sawStreaming) {
            controller.error(new Error('nothing reached storage after 20 MiB'));
            return;
          }
        }
        const next = await source.next();
        if (next.done) controller.close();
        else {
          sent += next.value.byteLength;
          controller.enqueue(next.value);
        }
      },
    });
    const response = await fetch(`${server.url}${files}/conan_package.tgz`, {
      method: 'PUT',
      body,
      duplex: 'half',
      headers: { authorization: `Bearer ${token}`, 'x-checksum-sha1': expectedSha1 },
    } as RequestInit);
    expect(sawStreaming).toBe(true);
    expect(response.status).toBe(200);

    await put(`${files}/conanmanifest.txt`, 'manifest');
    const half = size / 2;
    const first = await fetch(`${server.url}${files}/conan_package.tgz`, { headers: { range: `bytes=0-${half - 1}` } });
    expect(first.status).toBe(206);
    const second = await fetch(`${server.url}${files}/conan_package.tgz`, { headers: { range: `bytes=${half}-` } });
    expect(second.status).toBe(206);
    expect(second.headers.get('content-range')).toBe(`bytes ${half}-${size - 1}/${size}`);
    const resumed = createHash('sha1');
    resumed.update(new Uint8Array(await first.arrayBuffer()));
    resumed.update(new Uint8Array(await second.arrayBuffer()));
    expect(resumed.digest('hex')).toBe(expectedSha1);
  });
});
