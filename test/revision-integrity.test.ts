import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import {
  ConanServerAuthorizer,
  createConanHandler,
  type Authorizer,
  type KyselyMetadataStore,
  type MetadataStore,
  type Registry,
  type RegistryOptions,
} from '@cimmeria/core';
import { serveNode, type NodeServer } from '@cimmeria/core/node';
import { CONFORMANCE_PERMISSIONS } from '@cimmeria/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresBackend } from './support/backends.js';
import { conformanceRegistry } from './support/conformance-registry.js';
import { login } from './support/login.js';

// Issue 8, items 5 and 8, over HTTP as a client sees them: a revision id
// means one content, and listing binaries reads no conaninfo.txt.

const sha1 = (data: string | Uint8Array) => createHash('sha1').update(data).digest('hex');
const md5 = (data: string | Uint8Array) => createHash('md5').update(data).digest('hex');
const MiB = 1024 * 1024;

/** `demo` may write and delete; `admin` may write but not delete (so it may not overwrite). */
const authorizer: Authorizer = {
  can(principal, permission, ref) {
    if (permission === 'delete') return principal?.name === 'demo';
    return new ConanServerAuthorizer(CONFORMANCE_PERMISSIONS).can(principal, permission, ref);
  },
};

interface TestServer {
  url: string;
  registry: Registry;
  deleter: string;
  writer: string;
  close(): Promise<void>;
}

async function startServer(overrides: Partial<RegistryOptions> = {}, metadata?: MetadataStore): Promise<TestServer> {
  const made = await conformanceRegistry({ authorizer, ...overrides, ...(metadata ? { metadata } : {}) });
  const registry = made.registry;
  const server: NodeServer = await serveNode(createConanHandler(registry));
  return {
    url: server.url,
    registry,
    deleter: await login(server.url, 'demo', 'demo'),
    writer: await login(server.url, 'admin', 's3cret'),
    close: async () => {
      await server.close();
      await made.dispose();
    },
  };
}

const manifest = (files: Record<string, string>) =>
  `1700000000\n${Object.entries(files)
    .map(([path, body]) => `${path}: ${md5(body)}`)
    .join('\n')}\n`;

function client(server: TestServer) {
  const put = async (path: string, body: string | Uint8Array<ArrayBuffer>, token = server.deleter) => {
    const response = await fetch(`${server.url}${path}`, {
      method: 'PUT',
      body,
      headers: { authorization: `Bearer ${token}`, 'x-checksum-sha1': sha1(body) },
    });
    return { status: response.status, text: await response.text() };
  };
  const ok = async (path: string, body: string, token?: string) => {
    const answer = await put(path, body, token);
    expect(answer.status, `PUT ${path}: ${answer.text}`).toBe(200);
  };
  const get = (path: string) => fetch(`${server.url}${path}`);
  const text = async (path: string) => (await get(path)).text();
  const json = async (path: string) => (await get(path)).json();
  /** Uploads a recipe revision as the client does: conanfile.py, then the manifest listing its md5. */
  const publishRecipe = async (rrev: string, conanfile: string) => {
    await ok(`${rrev}/files/conanfile.py`, conanfile);
    await ok(`${rrev}/files/conanmanifest.txt`, manifest({ 'conanfile.py': conanfile }));
  };
  const publishPackage = async (prev: string, conaninfo: string) => {
    await ok(`${prev}/files/conaninfo.txt`, conaninfo);
    await ok(`${prev}/files/conanmanifest.txt`, manifest({ 'conaninfo.txt': conaninfo }));
  };
  return { put, ok, get, text, json, publishRecipe, publishPackage };
}

async function blobKeys(registry: Registry): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of registry.options.blobs.list()) keys.push(entry.key);
  return keys.sort();
}

describe('issue 8 item 8: a revision id means one content', () => {
  let server: TestServer;
  let c: ReturnType<typeof client>;
  beforeAll(async () => {
    server = await startServer();
    c = client(server);
  });
  afterAll(async () => {
    await server?.close();
  });

  const rrevOf = (name: string) => `/v2/conans/${name}/1.0/_/_/revisions/a1a1`;

  it('item 8: a different conanfile.py into a published revision is refused (403 without delete, 400 with) and the old one stays served', async () => {
    const rrev = rrevOf('inplace');
    await c.publishRecipe(rrev, 'original recipe\n');
    const before = await c.json(`${rrev.replace(/\/revisions\/.*/, '')}/revisions`);

    const byWriter = await c.put(`${rrev}/files/conanfile.py`, 'tampered recipe\n', server.writer);
    expect(byWriter.status, byWriter.text).toBe(403);
    expect(byWriter.text).toMatch(/overwrite/i);

    const byDeleter = await c.put(`${rrev}/files/conanfile.py`, 'tampered recipe\n', server.deleter);
    expect(byDeleter.status, byDeleter.text).toBe(400);
    expect(byDeleter.text).toContain('conanfile.py');
    expect(byDeleter.text).toContain(md5('original recipe\n'));
    expect(byDeleter.text).toContain(md5('tampered recipe\n'));

    expect(await c.text(`${rrev}/files/conanfile.py`)).toBe('original recipe\n');
    expect(await c.json(`${rrev.replace(/\/revisions\/.*/, '')}/revisions`)).toEqual(before);
  });

  it('item 8: a manifest contradicting the stored conanfile.py or conaninfo.txt is refused (400) and publishes nothing', async () => {
    const rrev = rrevOf('contradicted');
    await c.ok(`${rrev}/files/conanfile.py`, 'the recipe\n');
    const refused = await c.put(`${rrev}/files/conanmanifest.txt`, manifest({ 'conanfile.py': 'another recipe\n' }));
    expect(refused.status, refused.text).toBe(400);
    expect(refused.text).toContain(md5('the recipe\n'));
    expect((await c.get(`${rrev}/files`)).status).toBe(404);
    expect((await c.get('/v2/conans/contradicted/1.0/_/_/latest')).status).toBe(404);

    await c.ok(`${rrev}/files/conanmanifest.txt`, manifest({ 'conanfile.py': 'the recipe\n' }));
    expect((await c.json('/v2/conans/contradicted/1.0/_/_/latest')).revision).toBe('a1a1');

    const prev = `${rrev}/packages/f00d/revisions/b1b1`;
    await c.ok(`${prev}/files/conaninfo.txt`, '[settings]\nos=Linux\n');
    const refusedPackage = await c.put(`${prev}/files/conanmanifest.txt`, manifest({ 'conaninfo.txt': '[settings]\nos=Windows\n' }));
    expect(refusedPackage.status, refusedPackage.text).toBe(400);
    expect(refusedPackage.text).toContain('conaninfo.txt');
    expect((await c.get(`${prev}/files`)).status).toBe(404);
    expect(await c.json(`${rrev}/search`)).toEqual({});

    // A manifest replaced by one who may delete must match conaninfo.txt too.
    await c.publishPackage(prev, '[settings]\nos=Linux\n');
    const replaced = await c.put(`${prev}/files/conanmanifest.txt`, manifest({ 'conaninfo.txt': '[settings]\nos=Windows\n' }));
    expect(replaced.status, replaced.text).toBe(400);
    expect(await c.text(`${prev}/files/conanmanifest.txt`)).toBe(manifest({ 'conaninfo.txt': '[settings]\nos=Linux\n' }));
  });

  it('item 8: a refused manifest names md5s only to a caller who may read the recipe', async () => {
    // admin may write secret/* but not read it.
    const rrev = '/v2/conans/secret/1.0/_/_/revisions/a1a1';
    await c.ok(`${rrev}/files/conanfile.py`, 'secret recipe\n', server.writer);
    const refused = await c.put(`${rrev}/files/conanmanifest.txt`, manifest({ 'conanfile.py': 'other\n' }), server.writer);
    expect(refused.status, refused.text).toBe(400);
    expect(refused.text).toContain('conanfile.py');
    expect(refused.text).not.toContain(md5('secret recipe\n'));
    expect(refused.text).not.toContain(md5('other\n'));
  });

  it('item 8: the same bytes again are a no-op 200 (conan upload --force) that keeps no second copy', async () => {
    const rrev = rrevOf('same-bytes');
    await c.publishRecipe(rrev, 'recipe\n');
    await c.ok(`${rrev}/files/conan_sources.tgz`, 'sources');
    const keys = await blobKeys(server.registry);
    const revisions = await c.json('/v2/conans/same-bytes/1.0/_/_/revisions');

    // The writer may not overwrite, but sending the same bytes is no overwrite.
    for (const [path, body] of [
      ['conan_sources.tgz', 'sources'],
      ['conanfile.py', 'recipe\n'],
      ['conanmanifest.txt', manifest({ 'conanfile.py': 'recipe\n' })],
    ] as const) {
      await c.ok(`${rrev}/files/${path}`, body, server.writer);
    }
    expect(await blobKeys(server.registry)).toEqual(keys);
    expect(await c.json('/v2/conans/same-bytes/1.0/_/_/revisions')).toEqual(revisions);
  });

  it('item 8: replacing another file of a published revision with other bytes needs the delete permission', async () => {
    const rrev = rrevOf('overwrite');
    await c.ok(`${rrev}/files/conan_sources.tgz`, 'sources v1');
    await c.publishRecipe(rrev, 'recipe\n');
    const refused = await c.put(`${rrev}/files/conan_sources.tgz`, 'sources v2', server.writer);
    expect(refused.status, refused.text).toBe(403);
    expect(await c.text(`${rrev}/files/conan_sources.tgz`)).toBe('sources v1');
    await c.ok(`${rrev}/files/conan_sources.tgz`, 'sources v2', server.deleter);
    expect(await c.text(`${rrev}/files/conan_sources.tgz`)).toBe('sources v2');
  });

  it('item 8: metadata/* files stay writable with the write permission (conan upload --metadata)', async () => {
    const rrev = rrevOf('metadata');
    await c.publishRecipe(rrev, 'recipe\n');
    await c.ok(`${rrev}/files/metadata/logs/build.log`, 'first build', server.writer);
    await c.ok(`${rrev}/files/metadata/logs/build.log`, 'second build', server.writer);
    expect(await c.text(`${rrev}/files/metadata/logs/build.log`)).toBe('second build');
    const prev = `${rrev}/packages/f00d/revisions/b1b1`;
    await c.publishPackage(prev, '[settings]\nos=Linux\n');
    await c.ok(`${prev}/files/metadata/logs/test.log`, 'first test', server.writer);
    await c.ok(`${prev}/files/metadata/logs/test.log`, 'second test', server.writer);
    expect(await c.text(`${prev}/files/metadata/logs/test.log`)).toBe('second test');
  });
});

/**
 * Racers upload one revision at once, each with its own conanfile.py and the
 * manifest listing it, as writers with and without the delete permission.
 * Whatever interleaving, the revision ends published and consistent.
 */
async function raceOneRevision(server: TestServer, racers: number): Promise<void> {
  const c = client(server);
  const rrev = '/v2/conans/racing/1.0/_/_/revisions/c0c0';
  const statuses = await Promise.all(
    Array.from({ length: racers }, async (_, i) => {
      const token = i % 2 === 0 ? server.deleter : server.writer;
      const conanfile = `# racer ${i}\n`;
      const a = await c.put(`${rrev}/files/conanfile.py`, conanfile, token);
      const b = await c.put(`${rrev}/files/conanmanifest.txt`, manifest({ 'conanfile.py': conanfile }), token);
      return [a.status, b.status];
    }),
  );
  for (const status of statuses.flat()) expect([200, 400, 403]).toContain(status);
  expect(statuses.some(([, b]) => b === 200)).toBe(true);
  const served = await c.text(`${rrev}/files/conanfile.py`);
  const listed = (await c.text(`${rrev}/files/conanmanifest.txt`)).split('\n')[1];
  expect(listed).toBe(`conanfile.py: ${md5(served)}`);
  expect((await c.json('/v2/conans/racing/1.0/_/_/latest')).revision).toBe('c0c0');
}

describe('issue 8 item 8: racing uploads of one revision end consistent', () => {
  it('item 8: 50 racing uploads with different conanfile.py bytes, on SQLite', async () => {
    const server = await startServer();
    try {
      await raceOneRevision(server, 50);
    } finally {
      await server.close();
    }
  });

  it('item 8: 50 racing uploads with different conanfile.py bytes, on PostgreSQL', async () => {
    const pg = await postgresBackend();
    const server = await startServer({}, pg.store);
    try {
      await raceOneRevision(server, 50);
    } finally {
      await server.close();
      await pg.dispose();
    }
  });
});

/**
 * PUTs `size` bytes through node:http, with or without Content-Length
 * (chunked). The status, or `reset` when the server cut the connection
 * before the client could read its answer (it may, refusing a body while the
 * client still sends).
 */
function putSized(url: string, token: string, size: number, withLength: boolean): Promise<number | 'reset'> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (withLength) headers['content-length'] = String(size);
    const request = httpRequest(url, { method: 'PUT', headers }, (response) => {
      response.resume();
      resolve(response.statusCode!);
    });
    request.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EPIPE' || error.code === 'ECONNRESET' ? resolve('reset') : reject(error),
    );
    const chunk = Buffer.alloc(64 * 1024, 'a=b\n');
    void (async () => {
      for (let sent = 0; sent < size && !request.destroyed; sent += chunk.length) {
        if (!request.write(chunk.subarray(0, Math.min(chunk.length, size - sent)))) {
          await new Promise((r) => request.once('drain', r));
        }
      }
      request.end();
    })();
  });
}

describe('issue 8 item 5: the files the server reads are bounded, and listings read no blob', () => {
  let server: TestServer;
  let c: ReturnType<typeof client>;
  beforeAll(async () => {
    server = await startServer();
    c = client(server);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('item 5: a conaninfo.txt or conanmanifest.txt above 1 MiB is refused with 413, by Content-Length and while streaming', async () => {
    const rrev = '/v2/conans/oversized/1.0/_/_/revisions/a1a1';
    await c.publishRecipe(rrev, 'recipe\n');
    const prev = `${server.url}${rrev}/packages/f00d/revisions/b1b1/files`;
    const keys = await blobKeys(server.registry);
    for (const path of ['conaninfo.txt', 'conanmanifest.txt']) {
      expect(await putSized(`${prev}/${path}`, server.deleter, MiB + 1, true), `${path} with Content-Length`).toBe(413);
      expect([413, 'reset'], `${path} streamed`).toContain(await putSized(`${prev}/${path}`, server.deleter, MiB + 1, false));
    }
    expect(await c.json(`${rrev}/search`)).toEqual({});
    expect(await blobKeys(server.registry)).toEqual(keys);
    // Exactly at the bound is fine, and files the server does not read are not bound by it.
    expect(await putSized(`${prev}/conaninfo.txt`, server.deleter, MiB, true)).toBe(200);
    expect(await putSized(`${server.url}${rrev}/files/conan_sources.tgz`, server.writer, 2 * MiB, true)).toBe(200);
  });

  it('item 5: the bound is the maxTextFileBytes option', async () => {
    const small = await startServer({ maxTextFileBytes: 1000 });
    try {
      const url = `${small.url}/v2/conans/small/1.0/_/_/revisions/a1a1/packages/f00d/revisions/b1b1/files/conaninfo.txt`;
      expect(await putSized(url, small.deleter, 1001, true)).toBe(413);
      expect(await putSized(url, small.deleter, 1000, true)).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('item 5: listing N binaries answers from the metadata store, without reading their conaninfo.txt', async () => {
    const rrev = '/v2/conans/listed/1.0/_/_/revisions/a1a1';
    await c.publishRecipe(rrev, 'recipe\n');
    const expected: Record<string, { content: string }> = {};
    for (let i = 0; i < 5; i++) {
      const packageId = `f00d${i}`;
      const conaninfo = `[settings]\nos=Linux\n[options]\nn=${i}\n`;
      await c.publishPackage(`${rrev}/packages/${packageId}/revisions/b1b1`, conaninfo);
      expected[packageId] = { content: conaninfo };
    }
    // Remove the bytes of every conaninfo.txt: only the metadata store can answer now.
    const { metadata, blobs } = server.registry.options;
    for (const packageId of Object.keys(expected)) {
      const file = await metadata.file(
        { kind: 'package', ref: { name: 'listed', version: '1.0', revision: 'a1a1', packageId, packageRevision: 'b1b1' } },
        'conaninfo.txt',
      );
      await blobs.delete(file!.blobKey);
    }
    const listing = await c.get(`${rrev}/search`);
    expect(listing.status).toBe(200);
    expect(await listing.json()).toEqual(expected);
    expect(await c.json('/v2/conans/listed/1.0/_/_/search')).toEqual(expected);
  });

  it('item 5: binaries stored before the text was kept are read from their blob, within the bound', async () => {
    const rrev = '/v2/conans/legacy/1.0/_/_/revisions/a1a1';
    await c.publishRecipe(rrev, 'recipe\n');
    await c.publishPackage(`${rrev}/packages/f00d/revisions/b1b1`, '[settings]\nos=Linux\n');
    await c.publishPackage(`${rrev}/packages/cafe/revisions/b1b1`, '[settings]\nos=Macos\n');
    // As rows written before migration 0003: no md5, no text.
    const store = server.registry.options.metadata as KyselyMetadataStore;
    await store.db.updateTable('blobs').set({ md5: null, content: null }).execute();
    // And one too large to be read, as an old server let in.
    const big = `[settings]\n${'x'.repeat(MiB)}\n`;
    const key = 'blobs/legacy/big-conaninfo';
    await server.registry.options.blobs.put(key, (async function* () { yield new TextEncoder().encode(big); })());
    const ref = { name: 'legacy', version: '1.0', revision: 'a1a1', packageId: 'beef', packageRevision: 'b1b1' };
    await store.recordFile({ kind: 'package', ref }, 'conaninfo.txt', { key, size: big.length, sha1: sha1(big), sha256: '0'.repeat(64) });
    await store.recordFile({ kind: 'package', ref }, 'conanmanifest.txt', {
      key: 'blobs/legacy/manifest',
      size: 1,
      sha1: sha1('m'),
      sha256: '0'.repeat(64),
    });

    expect(await c.json(`${rrev}/search`)).toEqual({
      beef: { content: '' },
      cafe: { content: '[settings]\nos=Macos\n' },
      f00d: { content: '[settings]\nos=Linux\n' },
    });
  });
});
