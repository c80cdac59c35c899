import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConanHandler } from '@cimmeria/core';
import { serveNode, type NodeServer } from '@cimmeria/core/node';
import { Conan1Client, packageFiles, recipeFiles, sha1 } from './support/conan1-client.js';
import { conformanceRegistry } from './support/conformance-registry.js';

const REF = 'hello/1.0/user/channel';
const PKG = '4db1be536558d833e52e862fd84d64d75c2b3656';

describe('Conan 1 v1 mode: what an upload makes visible', () => {
  let server: NodeServer;
  let dispose: () => Promise<void>;
  let client: Conan1Client;

  beforeEach(async () => {
    const made = await conformanceRegistry();
    dispose = made.dispose;
    server = await serveNode(createConanHandler(made.registry));
    client = new Conan1Client(server.url);
    await client.login('demo', 'demo');
  });
  afterEach(async () => {
    await server.close();
    await dispose();
  });

  it('shows nothing of a batch before its manifest, and all of it after', async () => {
    const files = recipeFiles('from conan import ConanFile\n', new Uint8Array([1, 2, 3]));
    const urls = await client.uploadUrls(REF, files);
    expect((await Conan1Client.put(urls['conan_sources.tgz']!, files['conan_sources.tgz']!)).status).toBe(200);
    expect((await Conan1Client.put(urls['conanfile.py']!, files['conanfile.py']!)).status).toBe(200);
    expect((await client.api(`/conans/${REF}`)).status).toBe(404);
    expect((await fetch(`${server.url}/v2/conans/${REF}/latest`)).status).toBe(404);
    expect((await Conan1Client.put(urls['conanmanifest.txt']!, files['conanmanifest.txt']!)).status).toBe(200);
    expect(Object.keys(await (await client.api(`/conans/${REF}`)).json()).sort()).toEqual(Object.keys(files).sort());
    const latest = (await (await fetch(`${server.url}/v2/conans/${REF}/latest`)).json()) as { revision: string };
    expect(latest.revision).toBe('0');
  });

  it('refuses a manifest whose batch is not whole, and keeps the published files', async () => {
    const first = recipeFiles('first\n', new Uint8Array([1]));
    await client.upload(REF, first);
    const second = recipeFiles('second\n', new Uint8Array([2, 2]));
    const urls = await client.uploadUrls(REF, second);
    // The sources never arrive: the manifest must not publish the new conanfile with the old sources.
    expect((await Conan1Client.put(urls['conanfile.py']!, second['conanfile.py']!)).status).toBe(200);
    const manifest = await Conan1Client.put(urls['conanmanifest.txt']!, second['conanmanifest.txt']!);
    expect(manifest.status).toBe(400);
    expect(await manifest.text()).toContain("Upload incomplete: 'conan_sources.tgz'");
    const downloaded = await client.download(REF);
    expect(sha1(downloaded['conanfile.py']!)).toBe(sha1(first['conanfile.py']!));
    expect(sha1(downloaded['conan_sources.tgz']!)).toBe(sha1(first['conan_sources.tgz']!));
  });

  it('refuses a manifest that contradicts the conanfile, changing nothing', async () => {
    const files = recipeFiles('real\n');
    const other = recipeFiles('other\n');
    const urls = await client.uploadUrls(REF, { ...files });
    await Conan1Client.put(urls['conanfile.py']!, files['conanfile.py']!);
    // Same size, other md5: the manifest of another conanfile.
    const lying = new TextEncoder().encode(new TextDecoder().decode(other['conanmanifest.txt']!));
    expect(lying.byteLength).toBe(files['conanmanifest.txt']!.byteLength);
    const response = await Conan1Client.put(urls['conanmanifest.txt']!, lying);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('Content mismatch');
    expect((await client.api(`/conans/${REF}`)).status).toBe(404);
  });

  it('replaces revision 0 in place, and remove_files drops what the new recipe no longer has', async () => {
    await client.upload(REF, recipeFiles('first\n', new Uint8Array([1])));
    await client.upload(REF, packageFiles(new Uint8Array(1000).fill(7)), PKG);
    await client.upload(REF, recipeFiles('second\n'));
    expect((await client.api(`/conans/${REF}/remove_files`, { json: { files: ['conan_sources.tgz'] } })).status).toBe(200);
    expect(Object.keys(await (await client.api(`/conans/${REF}`)).json()).sort()).toEqual(['conanfile.py', 'conanmanifest.txt']);
    const downloaded = await client.download(REF);
    expect(new TextDecoder().decode(downloaded['conanfile.py']!)).toBe('second\n');
    // The binaries of revision 0 stay, as on conan_server.
    expect(Object.keys(await (await client.api(`/conans/${REF}/search`)).json())).toEqual([PKG]);
  });

  it('refuses new bytes through the URL of an already published file', async () => {
    const files = recipeFiles('first\n', new Uint8Array([1, 2, 3]));
    const urls = await client.upload(REF, files);
    const again = await Conan1Client.put(urls['conan_sources.tgz']!, new Uint8Array([9, 9, 9]));
    expect(again.status).toBe(409);
    expect(sha1((await client.download(REF))['conan_sources.tgz']!)).toBe(sha1(files['conan_sources.tgz']!));
  });

  it('checks the signed URL: size, path, signature', async () => {
    const files = recipeFiles('x\n');
    const urls = await client.uploadUrls(REF, files);
    const url = new URL(urls['conanfile.py']!);
    const wrongSize = await fetch(url, { method: 'PUT', body: new Uint8Array(files['conanfile.py']!.byteLength + 1) });
    expect([wrongSize.status, await wrongSize.text()]).toEqual([400, 'Bad file size']);
    const otherPath = new URL(url);
    otherPath.pathname = otherPath.pathname.replace('conanfile.py', 'conan_sources.tgz');
    expect((await fetch(otherPath, { method: 'PUT', body: new Uint8Array(files['conanfile.py']!) })).status).toBe(404);
    const forged = new URL(url);
    forged.searchParams.set('signature', `${url.searchParams.get('signature')!.slice(0, -2)}xx`);
    expect((await fetch(forged, { method: 'PUT', body: new Uint8Array(files['conanfile.py']!) })).status).toBe(404);
    expect((await fetch(`${server.url}/v1/files/${REF}/0/export/conanfile.py`)).status).toBe(404);
  });

  it('answers 403, not 401, to a logged-in user without permission', async () => {
    const other = new Conan1Client(server.url);
    await other.login('other', 'other');
    const response = await other.api(`/conans/${REF}/upload_urls`, { json: { 'conanmanifest.txt': 10 } });
    expect(response.status).toBe(403);
    const anonymous = new Conan1Client(server.url);
    expect((await anonymous.api(`/conans/${REF}/upload_urls`, { json: { 'conanmanifest.txt': 10 } })).status).toBe(401);
  });
});

describe('Conan 1 v1 mode turned off', () => {
  it('advertises only_v2 and answers no v1 route, while revisions mode still logs in', async () => {
    const { registry, dispose } = await conformanceRegistry({ conan1V1Mode: false });
    const server = await serveNode(createConanHandler(registry));
    try {
      const ping = await fetch(`${server.url}/v1/ping`);
      expect(ping.headers.get('x-conan-server-capabilities')!.split(',')).toContain('only_v2');
      const client = new Conan1Client(server.url);
      await client.login('demo', 'demo');
      const urls = await client.api(`/conans/${REF}/upload_urls`, { json: { 'conanmanifest.txt': 10 } });
      expect(urls.status).toBe(404);
      expect(await urls.text()).toContain('CONAN_REVISIONS_ENABLED=1');
    } finally {
      await server.close();
      await dispose();
    }
  });
});
