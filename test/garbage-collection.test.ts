import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import {
  collectGarbage,
  createConanHandler,
  createRegistry,
  type BlobStore,
  type MetadataStore,
  type Registry,
  type RegistryOptions,
} from '@cimmeria/core';
import { serveNode } from '@cimmeria/core/node';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresBackend, s3Backend } from './support/backends.js';
import { conformanceRegistry } from './support/conformance-registry.js';
import { login } from './support/login.js';

const sha1 = (bytes: Uint8Array | string) => createHash('sha1').update(bytes).digest('hex');
const RECIPE = '/v2/conans/gc/1.0/_/_/revisions';
const rev = (n: number) => String(n).repeat(32);

interface Setup {
  registry: Registry;
  metadata: MetadataStore;
  blobs: BlobStore;
  url: string;
  token: string;
  dispose(): Promise<void>;
}

type Backends = () => Promise<{ overrides: Partial<RegistryOptions>; dispose(): Promise<void> }>;

const sqliteFs: Backends = async () => ({ overrides: {}, dispose: async () => {} });
const postgresS3: Backends = async () => {
  const [metadata, blobs] = [await postgresBackend(), await s3Backend('gc')];
  return {
    overrides: { metadata: metadata.store, blobs: blobs.store },
    dispose: async () => {
      await metadata.dispose();
      await blobs.dispose();
    },
  };
};

async function setUp(backends: Backends, wrap: (m: MetadataStore) => MetadataStore = (m) => m): Promise<Setup> {
  const made = await backends();
  const { registry: plain, dispose } = await conformanceRegistry(made.overrides);
  const metadata = plain.options.metadata;
  const registry = createRegistry({ ...plain.options, metadata: wrap(metadata) });
  const server = await serveNode(createConanHandler(registry));
  const token = await login(server.url, 'demo', 'demo');
  return {
    registry,
    metadata,
    blobs: plain.options.blobs,
    url: server.url,
    token,
    dispose: async () => {
      await server.close();
      await dispose();
      await made.dispose();
    },
  };
}

async function put(s: Setup, path: string, body: string | Uint8Array<ArrayBuffer>): Promise<number> {
  const response = await fetch(`${s.url}${path}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${s.token}`, 'x-checksum-sha1': sha1(body) },
    body,
  });
  await response.arrayBuffer();
  return response.status;
}

async function publish(s: Setup, revision: string, content: string): Promise<void> {
  expect(await put(s, `${RECIPE}/${revision}/files/conanfile.py`, content)).toBe(200);
  expect(await put(s, `${RECIPE}/${revision}/files/conanmanifest.txt`, `manifest of ${content}`)).toBe(200);
}

async function fileText(s: Setup, revision: string, name: string): Promise<string> {
  const response = await fetch(`${s.url}${RECIPE}/${revision}/files/${name}`);
  expect(response.status).toBe(200);
  return response.text();
}

async function blobKeys(blobs: BlobStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const blob of blobs.list('blobs/')) keys.push(blob.key);
  return keys.sort();
}

for (const [name, backends] of [
  ['SQLite + fs', sqliteFs],
  ['PostgreSQL + S3', postgresS3],
] as const) {
  describe(`garbage collection: ${name}`, () => {
    let s: Setup;
    afterEach(async () => {
      await s?.dispose();
    });

    it('removes the blobs of a deleted revision, and nothing else', async () => {
      s = await setUp(backends);
      await publish(s, rev(1), 'first');
      await publish(s, rev(2), 'second');
      const before = await blobKeys(s.blobs);
      expect(before).toHaveLength(4);
      const deleted = await fetch(`${s.url}${RECIPE}/${rev(1)}`, { method: 'DELETE', headers: { authorization: `Bearer ${s.token}` } });
      expect(deleted.status).toBe(200);

      const dry = await collectGarbage({ metadata: s.metadata, blobs: s.blobs, graceMs: 0, dryRun: true });
      expect(dry).toMatchObject({ scanned: 4, removed: 2, bytesFreed: 'first'.length + 'manifest of first'.length, dryRun: true });
      expect(await blobKeys(s.blobs)).toEqual(before);

      // The default grace period keeps blobs this young.
      expect(await collectGarbage({ metadata: s.metadata, blobs: s.blobs })).toMatchObject({ removed: 0, keptYoung: 4 });

      const report = await collectGarbage({ metadata: s.metadata, blobs: s.blobs, graceMs: 0 });
      expect(report).toMatchObject({ scanned: 4, removed: 2, bytesFreed: 22, failed: [] });
      expect(await blobKeys(s.blobs)).toHaveLength(2);
      expect(await fileText(s, rev(2), 'conanfile.py')).toBe('second');
      expect(await collectGarbage({ metadata: s.metadata, blobs: s.blobs, graceMs: 0 })).toMatchObject({ removed: 0 });
    });

    it('does not harm an upload whose bytes are still arriving', async () => {
      s = await setUp(backends);
      const half = 6 * 1024 * 1024;
      const bytes = new Uint8Array(2 * half).map((_, i) => (i * 7) % 251);
      const url = new URL(`${s.url}${RECIPE}/${rev(3)}/files/conan_export.tgz`);
      const status = new Promise<number>((resolve, reject) => {
        const req = httpRequest(url, {
          method: 'PUT',
          headers: { authorization: `Bearer ${s.token}`, 'content-length': bytes.length, 'x-checksum-sha1': sha1(bytes) },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.write(bytes.subarray(0, half));
        // gc runs while the rest has not been sent: on S3 parts are uploaded, on fs a temp file is written.
        // The grace period must exceed how long an upload may sit idle: one idle for longer counts
        // as abandoned and gc removes what it left (item 10 of issue 8).
        setTimeout(async () => {
          try {
            const report = await collectGarbage({ metadata: s.metadata, blobs: s.blobs, graceMs: 5_000 });
            expect(report.removed).toBe(0);
            req.end(bytes.subarray(half));
          } catch (error) {
            reject(error);
          }
        }, 300);
      });
      expect(await status).toBe(200);
      expect(await put(s, `${RECIPE}/${rev(3)}/files/conanmanifest.txt`, 'm')).toBe(200);
      const response = await fetch(`${s.url}${RECIPE}/${rev(3)}/files/conan_export.tgz`);
      expect(sha1(new Uint8Array(await response.arrayBuffer()))).toBe(sha1(bytes));
    });

    it('keeps a blob stored but not yet recorded, thanks to the grace period', async () => {
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      // Holds every recordFile until the test opens the gate: the moment between
      // "bytes stored" and "file recorded" that another node's upload may be in.
      const gated = (metadata: MetadataStore) =>
        new Proxy(metadata, {
          get(target, prop) {
            const value = Reflect.get(target, prop, target);
            if (prop === 'recordFile') {
              return async (...args: Parameters<MetadataStore['recordFile']>) => {
                await gate;
                return target.recordFile(...args);
              };
            }
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      s = await setUp(backends, gated);
      const upload = put(s, `${RECIPE}/${rev(4)}/files/conanfile.py`, 'in between');
      while ((await blobKeys(s.blobs)).length === 0) await new Promise((resolve) => setTimeout(resolve, 20));

      // Without a grace period this blob would be taken for garbage...
      expect(await collectGarbage({ metadata: s.metadata, blobs: s.blobs, graceMs: 0, dryRun: true })).toMatchObject({ removed: 1 });
      // ...with it, it is kept.
      expect(await collectGarbage({ metadata: s.metadata, blobs: s.blobs, graceMs: 60_000 })).toMatchObject({
        removed: 0,
        keptYoung: 1,
      });
      open();
      expect(await upload).toBe(200);
      expect(await put(s, `${RECIPE}/${rev(4)}/files/conanmanifest.txt`, 'm')).toBe(200);
      expect(await fileText(s, rev(4), 'conanfile.py')).toBe('in between');
    });
  });
}
