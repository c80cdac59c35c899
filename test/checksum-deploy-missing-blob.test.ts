import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConanHandler, type Registry } from '@cimmeria/core';
import { serveNode, type NodeServer } from '@cimmeria/core/node';
import { FsBlobStore } from '@cimmeria/storage-fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { conformanceRegistry } from './support/conformance-registry.js';
import { login } from './support/login.js';

// Issue 8, item 9: checksum deploy must not link bytes the blob store no
// longer holds (a blob store swapped or restored under an existing database).

const hash = (algorithm: string, bytes: Uint8Array) => createHash(algorithm).update(bytes).digest('hex');
const encode = (text: string) => new TextEncoder().encode(text);

/** A recipe revision as `conan upload` sends it, manifest last, its md5s right. */
function recipeFiles(): { revision: string; files: Record<string, Uint8Array<ArrayBuffer>> } {
  const conanfile = encode('from conan import ConanFile\nclass Hello(ConanFile):\n    name = "hello"\n');
  const sources = new Uint8Array(256 * 1024).map((_, i) => (i * 7919) % 251);
  const manifest = encode(`1700000000\nconanfile.py: ${hash('md5', conanfile)}\n`);
  return {
    revision: hash('md5', manifest),
    files: { 'conanfile.py': conanfile, 'conan_export.tgz': sources, 'conanmanifest.txt': manifest },
  };
}

let blobsDir: string;
let registry: Registry;
let dispose: () => Promise<void>;
let server: NodeServer;
let token: string;

beforeEach(async () => {
  blobsDir = await mkdtemp(join(tmpdir(), 'cimmeria-swapped-blobs-'));
  ({ registry, dispose } = await conformanceRegistry({ blobs: new FsBlobStore({ directory: blobsDir }) }));
  server = await serveNode(createConanHandler(registry));
  token = await login(server.url, 'demo', 'demo');
});

afterEach(async () => {
  await server.close();
  await dispose();
  await rm(blobsDir, { recursive: true, force: true });
});

const filesUrl = (ref: string, revision: string) => `${server.url}/v2/conans/${ref}/revisions/${revision}/files`;

/**
 * Uploads as the Conan client does with checksum deploy: a body-less PUT
 * with `X-Checksum-Deploy: true`, then the bytes if the server answers 404.
 * Returns the status of each deploy attempt.
 */
async function upload(base: string, files: Record<string, Uint8Array<ArrayBuffer>>): Promise<Record<string, number>> {
  const deploys: Record<string, number> = {};
  for (const [name, bytes] of Object.entries(files)) {
    const headers = { authorization: `Bearer ${token}`, 'x-checksum-sha1': hash('sha1', bytes) };
    const deploy = await fetch(`${base}/${name}`, { method: 'PUT', headers: { ...headers, 'x-checksum-deploy': 'true' } });
    await deploy.arrayBuffer();
    deploys[name] = deploy.status;
    if (deploy.status === 201) continue;
    const sent = await fetch(`${base}/${name}`, { method: 'PUT', headers, body: bytes });
    expect(sent.status, `upload of ${name}`).toBe(200);
  }
  return deploys;
}

async function expectDownloads(base: string, files: Record<string, Uint8Array<ArrayBuffer>>): Promise<void> {
  for (const [name, bytes] of Object.entries(files)) {
    const response = await fetch(`${base}/${name}`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status, `download of ${name}`).toBe(200);
    expect(hash('sha1', new Uint8Array(await response.arrayBuffer())), name).toBe(hash('sha1', bytes));
  }
}

/** Replaces the blob store's directory with an empty one, under the same database. */
async function swapBlobStore(): Promise<void> {
  await rm(blobsDir, { recursive: true, force: true });
  await mkdir(blobsDir);
}

describe('issue 8 item 9: checksum deploy of bytes that are gone', () => {
  it('answers 404 to upload --force after the blob store was swapped, so the client sends the bytes, which then download', async () => {
    const { revision, files } = recipeFiles();
    const base = filesUrl('hello/1.0/_/_', revision);
    await upload(base, files);
    await expectDownloads(base, files);

    await swapBlobStore();
    // `conan upload --force` of the same revision.
    expect(await upload(base, files)).toEqual({ 'conanfile.py': 404, 'conan_export.tgz': 404, 'conanmanifest.txt': 404 });
    await expectDownloads(base, files);
  });

  it('answers 404 when the only stored copy of those bytes is gone, for another recipe too', async () => {
    const { revision, files } = recipeFiles();
    await upload(filesUrl('hello/1.0/_/_', revision), files);
    await swapBlobStore();

    const copy = filesUrl('copy/1.0/_/_', revision);
    expect(await upload(copy, files)).toEqual({ 'conanfile.py': 404, 'conan_export.tgz': 404, 'conanmanifest.txt': 404 });
    await expectDownloads(copy, files);
    // And the bytes now stored again serve the next deploy.
    expect(await upload(filesUrl('again/1.0/_/_', revision), files)).toEqual({
      'conanfile.py': 201,
      'conan_export.tgz': 201,
      'conanmanifest.txt': 201,
    });
  });
});
