import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { createConanHandler, type Registry } from '@cimmeria/core';
import { toNodeListener } from '@cimmeria/core/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { conformanceRegistry } from './support/conformance-registry.js';
import { listen } from './support/listen.js';
import { login } from './support/login.js';

/** Reproducible pseudo-random bytes. */
function deterministicBytes(size: number, seed: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  let state = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

const sha1 = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest('hex');
const RREV = 'a1'.repeat(16);
const PKG = 'f0'.repeat(20);
const PREV = 'b2'.repeat(16);

/** A package set as `conan upload` sends it: recipe files, then the binary's, each manifest last. */
function packageSet() {
  return {
    recipe: {
      'conanfile.py': new TextEncoder().encode('from conan import ConanFile\nclass P(ConanFile): pass\n'),
      'conan_export.tgz': deterministicBytes(1024 * 1024, 1),
      // Lists the md5 of the conanfile.py above: a manifest contradicting it is refused.
      'conanmanifest.txt': new TextEncoder().encode('1700000000\nconanfile.py: 89d68715c07721700694510c5693cd16\n'),
    },
    package: {
      'conaninfo.txt': new TextEncoder().encode('[settings]\nos=Linux\n'),
      'conan_package.tgz': deterministicBytes(2 * 1024 * 1024, 2),
      'conanmanifest.txt': new TextEncoder().encode('1700000001\nlib/libp.a: 4567\n'),
    },
  };
}

interface Server {
  url: string;
  /** Bytes that reached the server's sockets, headers included. */
  socketBytes(): number;
  /** Requests seen: method, path and declared Content-Length. */
  requests: { method: string; path: string; contentLength: number }[];
  close(): Promise<void>;
}

async function start(registry: Registry): Promise<Server> {
  const listener = toNodeListener(createConanHandler(registry));
  const requests: Server['requests'] = [];
  const http = createServer((req: IncomingMessage, res) => {
    requests.push({ method: req.method!, path: req.url!, contentLength: Number(req.headers['content-length'] ?? 0) });
    listener(req, res);
  });
  let bytes = 0;
  http.on('connection', (socket) => socket.on('data', (chunk: Buffer) => (bytes += chunk.length)));
  const { url, close } = await listen(http);
  return { url, socketBytes: () => bytes, requests, close };
}

type Files = Record<string, Uint8Array<ArrayBuffer>>;

/**
 * Uploads files the way the Conan client does with checksum deploy on: a
 * body-less PUT with `X-Checksum-Deploy: true` first, the bytes only if the
 * server answers 404. Returns the status of each dedup attempt.
 */
async function uploadFiles(base: string, token: string, files: Files, dedup: boolean): Promise<Record<string, number>> {
  const statuses: Record<string, number> = {};
  for (const [name, bytes] of Object.entries(files)) {
    const headers = { authorization: `Bearer ${token}`, 'x-checksum-sha1': sha1(bytes) };
    if (dedup) {
      const response = await fetch(`${base}/${name}`, { method: 'PUT', headers: { ...headers, 'x-checksum-deploy': 'true' }, body: '' });
      statuses[name] = response.status;
      await response.arrayBuffer();
      if (response.status === 201) continue;
      expect(response.status, `${name}: a refused dedup is 404, so the client uploads`).toBe(404);
    }
    const response = await fetch(`${base}/${name}`, { method: 'PUT', headers, body: bytes });
    expect(response.status, `upload of ${name}`).toBe(200);
  }
  return statuses;
}

async function uploadSet(url: string, token: string, ref: string, dedup: boolean) {
  const set = packageSet();
  const recipeBase = `${url}/v2/conans/${ref}/revisions/${RREV}/files`;
  const packageBase = `${url}/v2/conans/${ref}/revisions/${RREV}/packages/${PKG}/revisions/${PREV}/files`;
  return {
    recipe: await uploadFiles(recipeBase, token, set.recipe, dedup),
    package: await uploadFiles(packageBase, token, set.package, dedup),
  };
}

async function download(url: string, path: string, token?: string): Promise<Uint8Array> {
  const response = await fetch(`${url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  expect(response.status, path).toBe(200);
  return new Uint8Array(await response.arrayBuffer());
}

describe('checksum deploy', () => {
  let registry: Registry;
  let dispose: () => Promise<void>;
  let server: Server;
  beforeEach(async () => {
    ({ registry, dispose } = await conformanceRegistry());
    server = await start(registry);
  });
  afterEach(async () => {
    await server.close();
    await dispose();
  });

  it('is advertised on ping', async () => {
    const response = await fetch(`${server.url}/v2/ping`);
    expect(response.headers.get('x-conan-server-capabilities')?.split(',')).toEqual(['revisions', 'checksum_deploy']);
  });

  it('re-uploading an unchanged package set sends no file bodies at all', async () => {
    const token = await login(server.url, 'demo', 'demo');
    const first = await uploadSet(server.url, token, 'pkg/1.0/acme/stable', true);
    // Nothing stored yet: every dedup attempt is refused and the bytes are sent.
    expect([...Object.values(first.recipe), ...Object.values(first.package)]).toEqual(Array(6).fill(404));
    const firstBytes = server.socketBytes();
    expect(firstBytes).toBeGreaterThan(3 * 1024 * 1024);

    server.requests.length = 0;
    // `conan upload --force` of the same revision, and a promotion to another channel.
    const again = await uploadSet(server.url, token, 'pkg/1.0/acme/stable', true);
    const promoted = await uploadSet(server.url, token, 'pkg/1.0/acme/testing', true);
    for (const statuses of [again, promoted]) {
      expect([...Object.values(statuses.recipe), ...Object.values(statuses.package)]).toEqual(Array(6).fill(201));
    }
    const reuploadBytes = server.socketBytes() - firstBytes;
    const puts = server.requests.filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(12);
    expect(puts.every((r) => r.contentLength === 0)).toBe(true);
    // Headers only: 12 requests of well under 1 KiB each.
    expect(reuploadBytes).toBeLessThan(12 * 1024);
    console.log(`checksum deploy: first upload ${firstBytes} bytes received, re-upload of 12 files ${reuploadBytes} bytes`);

    // The promoted copy is complete and published, with the same bytes.
    const set = packageSet();
    const latest = await (await fetch(`${server.url}/v2/conans/pkg/1.0/acme/testing/latest`)).json();
    expect(latest.revision).toBe(RREV);
    const path = `/v2/conans/pkg/1.0/acme/testing/revisions/${RREV}/packages/${PKG}/revisions/${PREV}/files/conan_package.tgz`;
    expect(sha1(await download(server.url, path))).toBe(sha1(set.package['conan_package.tgz']));
  });

  it('never links bytes of a recipe the uploader may not read', async () => {
    const demo = await login(server.url, 'demo', 'demo');
    const admin = await login(server.url, 'admin', 's3cret');
    const secret = deterministicBytes(64 * 1024, 7);
    const secretBase = `${server.url}/v2/conans/secret/1.0/acme/stable/revisions/${RREV}/files`;
    await uploadFiles(secretBase, demo, { 'conan_export.tgz': secret, 'conanmanifest.txt': new TextEncoder().encode('m') }, false);

    // admin may write anything but may not read secret/*: knowing the sha1 is not enough.
    const mineBase = `${server.url}/v2/conans/mine/1.0/acme/stable/revisions/${RREV}/files`;
    const response = await fetch(`${mineBase}/conan_export.tgz`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'x-checksum-deploy': 'true', 'x-checksum-sha1': sha1(secret) },
      body: '',
    });
    expect(response.status).toBe(404);
    expect(await response.text()).toMatch(/upload it/);
    // demo may read it, so demo's dedup works.
    const statuses = await uploadFiles(mineBase, demo, { 'conan_export.tgz': secret }, true);
    expect(statuses['conan_export.tgz']).toBe(201);
  });

  it('asks anonymous callers to log in, refuses users without write permission, and 404s unknown checksums', async () => {
    const demo = await login(server.url, 'demo', 'demo');
    const other = await login(server.url, 'other', 'other');
    const bytes = deterministicBytes(1000, 3);
    const base = `${server.url}/v2/conans/pkg/1.0/acme/stable/revisions/${RREV}/files`;
    await uploadFiles(base, demo, { 'conan_export.tgz': bytes, 'conanmanifest.txt': new TextEncoder().encode('m') }, false);
    const dedup = (authorization: string | undefined, checksum: string) =>
      fetch(`${base}/copy.tgz`, {
        method: 'PUT',
        headers: { ...(authorization ? { authorization } : {}), 'x-checksum-deploy': 'true', 'x-checksum-sha1': checksum },
        body: '',
      });
    expect((await dedup(undefined, sha1(bytes))).status).toBe(401);
    expect((await dedup(`Bearer ${other}`, sha1(bytes))).status).toBe(403);
    expect((await dedup(`Bearer ${demo}`, 'f'.repeat(40))).status).toBe(404);
    expect((await dedup(`Bearer ${demo}`, sha1(bytes).toUpperCase())).status).toBe(201);
    const missingSha = await fetch(`${base}/copy.tgz`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${demo}`, 'x-checksum-deploy': 'true' },
      body: '',
    });
    expect(missingSha.status).toBe(400);
  });

  it('does not link blobs of deleted revisions', async () => {
    const demo = await login(server.url, 'demo', 'demo');
    const bytes = deterministicBytes(1000, 4);
    const base = `${server.url}/v2/conans/pkg/1.0/acme/stable/revisions/${RREV}`;
    await uploadFiles(`${base}/files`, demo, { 'conan_export.tgz': bytes, 'conanmanifest.txt': new TextEncoder().encode('m') }, false);
    expect((await fetch(base, { method: 'DELETE', headers: { authorization: `Bearer ${demo}` } })).status).toBe(200);
    const statuses = await uploadFiles(`${base}/files`, demo, { 'conan_export.tgz': bytes }, true);
    expect(statuses['conan_export.tgz']).toBe(404);
  });
});

describe('checksum deploy disabled', () => {
  it('is not advertised and every dedup attempt is 404', async () => {
    const { registry, dispose } = await conformanceRegistry({ checksumDeploy: false });
    const server = await start(registry);
    try {
      expect((await fetch(`${server.url}/v2/ping`)).headers.get('x-conan-server-capabilities')).toBe('revisions');
      const demo = await login(server.url, 'demo', 'demo');
      const first = await uploadSet(server.url, demo, 'pkg/1.0/acme/stable', false);
      expect(first.recipe).toEqual({});
      const again = await uploadSet(server.url, demo, 'pkg/1.0/acme/stable', true);
      expect([...Object.values(again.recipe), ...Object.values(again.package)]).toEqual(Array(6).fill(404));
    } finally {
      await server.close();
      await dispose();
    }
  });
});
