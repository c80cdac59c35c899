import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readlink, rm, unlink } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConanHandler } from '@cimmeria/core';
import { serveNode, type NodeServer } from '@cimmeria/core/node';
import { FsBlobStore } from '@cimmeria/storage-fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { conformanceRegistry } from './support/conformance-registry.js';
import { login } from './support/login.js';

// Issue 10: the Node bridge writes files of a local blob store straight to
// the socket (reused read buffers, no web streams). What a client sees must
// not change: whole and ranged bodies, HEAD, a cut body when the client
// leaves or the bytes are gone, and no file left open behind it.

const FILES = '/v2/conans/direct/1.0/_/_/revisions/0123456789abcdef0123456789abcdef/files';
const SIZE = 3 * 1024 * 1024 + 12345; // several reads of the bridge, the last one short
const bytes = new Uint8Array(SIZE).map((_, i) => (i * 7 + (i >> 11)) % 251);
const sha1 = (data: Uint8Array | string) => createHash('sha1').update(data).digest('hex');
const MANIFEST = 'conanfile.py: 0\n';

let server: NodeServer;
let dispose: () => Promise<void>;
let blobDir: string;
let token: string;

beforeEach(async () => {
  blobDir = await mkdtemp(join(tmpdir(), 'cimmeria-direct-'));
  const made = await conformanceRegistry({ blobs: new FsBlobStore({ directory: blobDir }) });
  dispose = made.dispose;
  server = await serveNode(createConanHandler(made.registry));
  token = await login(server.url, 'demo', 'demo');
  for (const [path, body] of [
    ['conan_sources.tgz', bytes],
    ['conanmanifest.txt', MANIFEST],
  ] as const) {
    const put = await fetch(`${server.url}${FILES}/${path}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'x-checksum-sha1': sha1(body) },
      body,
    });
    expect(put.status, `PUT ${path}`).toBe(200);
  }
});

afterEach(async () => {
  await server.close();
  await dispose();
  await rm(blobDir, { recursive: true, force: true });
});

const get = (headers: Record<string, string> = {}, method = 'GET') =>
  fetch(`${server.url}${FILES}/conan_sources.tgz`, { method, headers: { authorization: `Bearer ${token}`, ...headers } });

/** Files of the blob store this process holds open. */
async function openBlobFiles(): Promise<number> {
  let count = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target.startsWith(blobDir)) count += 1;
  }
  return count;
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 80; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.skipIf(process.platform !== 'linux')('downloads of files on local disk through the Node bridge', () => {
  it('sends whole and ranged bodies byte-exact, and HEAD without a body', async () => {
    const whole = await get();
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-length')).toBe(String(SIZE));
    expect(whole.headers.get('x-checksum-sha1')).toBe(sha1(bytes));
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);

    // Across the boundary of two reads, and to the end of the file.
    for (const [header, start, end] of [
      ['bytes=524000-1049000', 524000, 1049000],
      [`bytes=-100`, SIZE - 100, SIZE - 1],
      [`bytes=${SIZE - 1}-`, SIZE - 1, SIZE - 1],
    ] as const) {
      const part = await get({ range: header });
      expect(part.status, header).toBe(206);
      expect(part.headers.get('content-range'), header).toBe(`bytes ${start}-${end}/${SIZE}`);
      expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(start, end + 1)), header).toBe(true);
    }

    const head = await get({}, 'HEAD');
    expect([head.status, head.headers.get('content-length'), await head.text()]).toEqual([200, String(SIZE), '']);
    expect((await get({ range: `bytes=${SIZE}-` })).status).toBe(416);
  });

  it('closes the file when clients leave mid-download, and keeps serving', async () => {
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = request(`${server.url}${FILES}/conan_sources.tgz`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
          expect(res.statusCode).toBe(200);
          // Leave after the first part of the body.
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
        req.end();
      });
    }
    await until(async () => (await openBlobFiles()) === 0, 'the files of the cut downloads to close');
    const again = await get();
    expect(Buffer.from(await again.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('answers 404 when the bytes are gone from the disk, rather than a body that is not the file', async () => {
    for (const entry of await readdir(join(blobDir, 'blobs'), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) await unlink(join(entry.parentPath, entry.name));
    }
    const gone = await get();
    expect(gone.status).toBe(404);
    expect(await gone.text()).toContain('missing from storage');
  });
});
