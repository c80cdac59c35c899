import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConanHandler, type FetchHandler } from '@cimmeria/core';
import { serveNode, type NodeServer } from '@cimmeria/core/node';
import { postgresBackend, s3Backend, type Backend } from './support/backends.js';
import { Conan1Client, packageFiles, recipeFiles, sha1 } from './support/conan1-client.js';
import { conformanceRegistry } from './support/conformance-registry.js';
import type { BlobStore, MetadataStore } from '@cimmeria/core';

const REF = 'big/1.0/user/channel';
const PKG = '4db1be536558d833e52e862fd84d64d75c2b3656';
const ARCHIVE_BYTES = 6 * 1024 * 1024;

/** Counts every body byte that passes through the handler, both ways. */
function countingBytes(handler: FetchHandler): { handler: FetchHandler; bytes: () => number } {
  let bytes = 0;
  const counter = () =>
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
  return {
    bytes: () => bytes,
    handler: async (request, context) => {
      const counted = request.body
        ? new Request(request.url, {
            method: request.method,
            headers: request.headers,
            body: request.body.pipeThrough(counter()),
            duplex: 'half',
          } as RequestInit)
        : request;
      const response = await handler(counted, context);
      if (!response.body) return response;
      return new Response(response.body.pipeThrough(counter()), { status: response.status, headers: response.headers });
    },
  };
}

describe('Conan 1 v1 mode on PostgreSQL + S3: package bytes never pass through the node', () => {
  let metadata: Backend<MetadataStore>;
  let blobs: Backend<BlobStore>;
  let dispose: () => Promise<void>;
  let server: NodeServer;
  let counting: ReturnType<typeof countingBytes>;

  beforeAll(async () => {
    metadata = await postgresBackend();
    blobs = await s3Backend('conan1-direct/');
    const made = await conformanceRegistry({ metadata: metadata.store, blobs: blobs.store });
    dispose = made.dispose;
    counting = countingBytes(createConanHandler(made.registry));
    server = await serveNode(counting.handler);
  });
  afterAll(async () => {
    await server?.close();
    await dispose?.();
    await metadata?.dispose();
    await blobs?.dispose();
  });

  it('uploads and downloads a multi-MiB package straight to and from the object store', async () => {
    const client = new Conan1Client(server.url);
    await client.login('demo', 'demo');
    await client.upload(REF, recipeFiles('from conan import ConanFile\n'));
    const archive = randomBytes(ARCHIVE_BYTES);
    const files = packageFiles(archive);
    const before = counting.bytes();
    const urls = await client.upload(REF, files, PKG);
    expect(new URL(urls['conan_package.tgz']!).origin, 'the archive goes to the object store').not.toBe(new URL(server.url).origin);
    const downloaded = await client.download(REF, PKG);
    expect(sha1(downloaded['conan_package.tgz']!)).toBe(sha1(archive));
    // Only the small files the server reads (conaninfo.txt, the manifest) and JSON answers went through the node.
    const throughNode = counting.bytes() - before;
    expect(throughNode).toBeLessThan(16 * 1024);
    // The archive's md5 (the store's ETag) is what the snapshot shows, as conan_server's would.
    const snapshot = (await (await client.api(`/conans/${REF}/packages/${PKG}`)).json()) as Record<string, string>;
    expect(Object.keys(snapshot).sort()).toEqual(['conan_package.tgz', 'conaninfo.txt', 'conanmanifest.txt']);
    expect(snapshot['conan_package.tgz']).toMatch(/^[0-9a-f]{32}$/);
  });

  it('refuses an archive of another size than announced, and the manifest then publishes nothing', async () => {
    const client = new Conan1Client(server.url);
    await client.login('demo', 'demo');
    const files = packageFiles(randomBytes(64 * 1024), '[settings]\n    os=Windows\n');
    const id = 'ca33edce272a279b24f87dc0d4cf5bbdcffbc187';
    const urls = await client.uploadUrls(REF, files, id);
    // The length is signed, so S3 refuses this PUT; s3rver does not check it and stores the short object.
    await Conan1Client.put(urls['conan_package.tgz']!, files['conan_package.tgz']!.subarray(1));
    await Conan1Client.put(urls['conaninfo.txt']!, files['conaninfo.txt']!);
    const manifest = await Conan1Client.put(urls['conanmanifest.txt']!, files['conanmanifest.txt']!);
    expect([manifest.status, await manifest.text()]).toEqual([400, expect.stringContaining("Upload incomplete: 'conan_package.tgz'")]);
    expect((await client.api(`/conans/${REF}/packages/${id}`)).status).toBe(404);
  });
});
