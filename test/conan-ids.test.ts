import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConanHandler, type MetadataStore } from '@cimmeria/core';
import { serveNode, type NodeServer } from '@cimmeria/core/node';
import { postgresBackend, type Backend } from './support/backends.js';
import { conformanceRegistry } from './support/conformance-registry.js';
import { login } from './support/login.js';

// Issue 9, item 1: revisions and package ids are whatever conan_server takes
// (any one path segment), bounded and kept safe; unknown ones are 404, unsafe
// ones 400. Both databases store them exactly (case-sensitive).

const RECIPE = '/v2/conans/hello/1.0/_/_';
const sha1 = (data: string) => createHash('sha1').update(data).digest('hex');

const backends: [string, () => Promise<Backend<MetadataStore> | undefined>][] = [
  ['SQLite', async () => undefined],
  ['PostgreSQL', postgresBackend],
];

describe.each(backends)('issue 9 item 1: revision and package ids on %s', (_, makeMetadata) => {
  let server: NodeServer;
  let dispose: () => Promise<void>;
  let token: string;

  beforeAll(async () => {
    const metadata = await makeMetadata();
    const made = await conformanceRegistry(metadata ? { metadata: metadata.store } : {});
    server = await serveNode(createConanHandler(made.registry));
    dispose = async () => {
      await made.dispose();
      await metadata?.dispose();
    };
    token = await login(server.url, 'demo', 'demo');
  });

  afterAll(async () => {
    await server?.close();
    await dispose?.();
  });

  async function call(path: string, init: RequestInit = {}) {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token}`);
    const response = await fetch(`${server.url}${path}`, { ...init, headers });
    return { status: response.status, text: await response.text() };
  }

  /** Sends a path exactly as written: fetch() would resolve `.` and `..` segments first. */
  function rawCall(path: string, method = 'GET', body = ''): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const options = { host: '127.0.0.1', port: server.port, path, method, headers: { authorization: `Bearer ${token}` } };
      const req = httpRequest(options, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async function put(path: string, body: string) {
    const response = await call(path, { method: 'PUT', body, headers: { 'x-checksum-sha1': sha1(body) } });
    expect(response.status, `PUT ${path}: ${response.text}`).toBe(200);
  }

  const json = async (path: string) => {
    const response = await call(path);
    expect(response.status, `GET ${path}: ${response.text}`).toBe(200);
    return JSON.parse(response.text);
  };

  /** A recipe revision with one binary, uploaded as the client does (manifests last). */
  async function uploadBinary(rrev: string, packageId: string, prev: string, info: string) {
    const rrevPath = `${RECIPE}/revisions/${encodeURIComponent(rrev)}`;
    const prevPath = `${rrevPath}/packages/${encodeURIComponent(packageId)}/revisions/${encodeURIComponent(prev)}`;
    await put(`${rrevPath}/files/conanfile.py`, 'from conan import ConanFile\n');
    await put(`${rrevPath}/files/conanmanifest.txt`, 'recipe manifest\n');
    await put(`${prevPath}/files/conaninfo.txt`, info);
    await put(`${prevPath}/files/conanmanifest.txt`, 'package manifest\n');
  }

  it('answers 404, not 400, for an unknown package id such as pid1 (what `conan download pkg/1.0:pid1` asks)', async () => {
    await uploadBinary('abc123', 'f00d', 'beef', '[settings]\n');
    const response = await call(`${RECIPE}/revisions/abc123/packages/pid1/latest`);
    expect(response.status).toBe(404);
    expect(response.text).not.toMatch(/Invalid/);
    expect((await call(`${RECIPE}/revisions/myreciperev/files`)).status).toBe(404);
  });

  it('stores and serves a revision such as myreciperev with an uppercase package id and revision', async () => {
    await uploadBinary('myreciperev', 'MyPackageId', 'PREV1', '[settings]\nos=Linux\n');
    expect((await json(`${RECIPE}/latest`)).revision).toBe('myreciperev');
    expect((await json(`${RECIPE}/revisions/myreciperev/packages/MyPackageId/latest`)).revision).toBe('PREV1');
    const file = await call(`${RECIPE}/revisions/myreciperev/packages/MyPackageId/revisions/PREV1/files/conaninfo.txt`);
    expect(file).toEqual({ status: 200, text: '[settings]\nos=Linux\n' });
    expect(await json(`${RECIPE}/revisions/myreciperev/search`)).toEqual({ MyPackageId: { content: '[settings]\nos=Linux\n' } });
  });

  it('compares ids exactly: another case is another id', async () => {
    expect((await call(`${RECIPE}/revisions/MYRECIPEREV/files`)).status).toBe(404);
    expect((await call(`${RECIPE}/revisions/myreciperev/packages/mypackageid/latest`)).status).toBe(404);
    expect((await call(`${RECIPE}/revisions/myreciperev/packages/MyPackageId/revisions/prev1/files`)).status).toBe(404);

    await uploadBinary('myreciperev', 'mypackageid', 'prev1', '[settings]\nos=Windows\n');
    expect(await json(`${RECIPE}/revisions/myreciperev/search`)).toEqual({
      MyPackageId: { content: '[settings]\nos=Linux\n' },
      mypackageid: { content: '[settings]\nos=Windows\n' },
    });
    expect((await json(`${RECIPE}/revisions/myreciperev/packages/MyPackageId/latest`)).revision).toBe('PREV1');
    expect((await json(`${RECIPE}/revisions/myreciperev/packages/mypackageid/latest`)).revision).toBe('prev1');
  });

  it('holds an id of 64 characters, non-ASCII ones too, and refuses 65', async () => {
    const long = 'é'.repeat(64); // 128 bytes of UTF-8: the column must count characters
    await uploadBinary(long, 'a'.repeat(64), 'B'.repeat(64), '[settings]\n');
    expect((await json(`${RECIPE}/latest`)).revision).toBe(long);
    const tooLong = await call(`${RECIPE}/revisions/${'a'.repeat(65)}/files`);
    expect(tooLong.status).toBe(400);
    expect(tooLong.text).toMatch(/^Invalid revision 'a+': must be 1-64 characters/);
    expect((await call(`${RECIPE}/revisions/${long}/packages/${'c'.repeat(65)}/latest`)).status).toBe(400);
  });

  it.each([
    ['a backslash', 'a%5Cb'],
    ['a NUL byte', 'a%00b'],
    ['a line feed', 'a%0Ab'],
    ['DEL', 'a%7Fb'],
    ['a . segment written encoded', '%2E'],
    ['a .. segment written encoded', '%2E%2E'],
    ['a literal .. segment', '..'],
  ])('refuses a revision or package id with %s (400) and stores nothing', async (_, bad) => {
    const before = await json(`${RECIPE}/revisions`);
    const asRevision = await rawCall(`${RECIPE}/revisions/${bad}/files/conanfile.py`, 'PUT', 'x');
    const asPackageId = await rawCall(`${RECIPE}/revisions/abc123/packages/${bad}/revisions/beef/files/conaninfo.txt`, 'PUT', 'x');
    const asPackageRevision = await rawCall(`${RECIPE}/revisions/abc123/packages/f00d/revisions/${bad}/files/conaninfo.txt`, 'PUT', 'x');
    for (const response of [asRevision, asPackageId, asPackageRevision]) {
      expect(response.status, response.text).toBe(400);
    }
    expect(asRevision.text + asPackageId.text + asPackageRevision.text).not.toContain('\n');
    expect(await json(`${RECIPE}/revisions`)).toEqual(before);
    expect((await json(`${RECIPE}/revisions/abc123/packages/f00d/revisions`)).revisions).toHaveLength(1);
  });
});
