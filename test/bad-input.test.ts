import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConanHandler, type Registry } from '@cimmeria/core';
import { serveNode, type NodeServer } from '@cimmeria/core/node';
import { basicAuth, login } from './support/login.js';
import { conformanceRegistry } from './support/conformance-registry.js';

// Every kind of bad input gets a clear 4xx and changes nothing a user can see.

const TOKEN_SECRET = 'conformance-secret-0123456789';
const MAX_UPLOAD = 64 * 1024;
const RECIPE = '/v2/conans/hello/1.0/_/_';
const RREV = 'abc123';
const FILES = `${RECIPE}/revisions/${RREV}/files`;

let server: NodeServer;
let registry: Registry;
let dispose: () => Promise<void>;
let demo: string;

async function call(path: string, init: RequestInit & { token?: string | null } = {}) {
  const headers = new Headers(init.headers);
  const token = init.token === undefined ? demo : init.token;
  if (token) headers.set('authorization', `Bearer ${token}`);
  const response = await fetch(`${server.url}${path}`, { ...init, headers });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

/** Sends a path exactly as written: fetch() would resolve `.` and `..` segments before sending. */
function rawCall(path: string, method = 'GET', body = ''): Promise<number> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port: server.port, path, method, headers: { authorization: `Bearer ${demo}` } };
    const req = httpRequest(options, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sha1 = (data: string | Uint8Array) => createHash('sha1').update(data).digest('hex');

async function upload(path: string, body: string, extraHeaders: Record<string, string> = {}) {
  return call(`${FILES}/${path}`, {
    method: 'PUT',
    body,
    headers: { 'x-checksum-sha1': sha1(body), ...extraHeaders },
  });
}

beforeAll(async () => {
  const made = await conformanceRegistry({ maxUploadBytes: MAX_UPLOAD });
  registry = made.registry;
  dispose = made.dispose;
  server = await serveNode(createConanHandler(registry));
  demo = await login(server.url, 'demo', 'demo');
  // A published revision to compare against after each rejected request.
  expect((await upload('conanfile.py', 'from conan import ConanFile\n')).status).toBe(200);
  expect((await upload('conanmanifest.txt', 'manifest\n')).status).toBe(200);
});

afterAll(async () => {
  await server?.close();
  await dispose?.();
});

async function blobKeys() {
  const keys: string[] = [];
  for await (const blob of registry.service.blobs.list()) keys.push(blob.key);
  return keys.sort();
}

async function filesNow() {
  const listing = await call(FILES);
  expect(listing.status).toBe(200);
  return Object.keys(JSON.parse(listing.text).files).sort();
}

describe('invalid references', () => {
  it.each([
    ['a name with a space', '/v2/conans/he%20llo/1.0/_/_/latest'],
    ['a one-character name', '/v2/conans/h/1.0/_/_/latest'],
    ['a name starting with -', '/v2/conans/-hello/1.0/_/_/latest'],
    ['a name with !', '/v2/conans/hello!/1.0/_/_/latest'],
    ['a version with ~', '/v2/conans/hello/1.0~1/_/_/latest'],
    ['a 102-character name', `/v2/conans/${'a'.repeat(102)}/1.0/_/_/latest`],
    ['a user without channel', '/v2/conans/hello/1.0/acme/_/latest'],
    ['a bad user', '/v2/conans/hello/1.0/ac%24me/stable/latest'],
  ])('rejects %s with 400 naming the problem', async (_, path) => {
    const response = await call(path);
    expect(response.status).toBe(400);
    expect(response.text).toMatch(/Invalid (name|version|user|channel|reference)/);
  });

  it('accepts uppercase names from older clients and dotted versions such as cci.20210118', async () => {
    expect((await call('/v2/conans/OpenSSL/1.1.1/_/_/latest')).status).toBe(404);
    expect((await call('/v2/conans/zlib/cci.20210118/_/_/latest')).status).toBe(404);
  });

  it.each([
    // Any other shape is a possible id (conan_server takes it): unknown ones are 404 (test/conan-ids.test.ts).
    ['a 65-character revision', `${RECIPE}/revisions/${'a'.repeat(65)}/files`],
    ['a revision with a backslash', `${RECIPE}/revisions/a%5Cb/files`],
    ['a 65-character package id', `${RECIPE}/revisions/${RREV}/packages/${'b'.repeat(65)}/latest`],
    ['a package id with a control character', `${RECIPE}/revisions/${RREV}/packages/a%01b/latest`],
    ['a package revision with a NUL byte', `${RECIPE}/revisions/${RREV}/packages/abc/revisions/g%00d/files`],
  ])('rejects %s with 400', async (_, path) => {
    const response = await call(path);
    expect(response.status).toBe(400);
    expect(response.text).toMatch(/Invalid (revision|package id)/);
  });
});

describe('invalid file paths', () => {
  it.each([
    ['an encoded ../ sequence', '..%2F..%2Fetc%2Fpasswd'],
    ['a literal .. segment', 'metadata/../../secret'],
    ['an encoded .. segment', 'metadata/%2e%2e/x'],
    ['an absolute path (empty first segment)', '/etc/passwd'],
    ['a backslash', 'metadata%5C..%5Cx'],
    ['a NUL byte', 'conanfile.py%00.txt'],
    ['a control character', 'conanfile.py%0A'],
    ['an empty segment', 'metadata//build.log'],
    ['a . segment', 'metadata/./build.log'],
    ['an empty path', ''],
  ])('rejects an upload with %s and stores nothing', async (_, path) => {
    const before = await filesNow();
    expect(await rawCall(`${FILES}/${path}`, 'PUT', 'x')).toBe(400);
    expect(await filesNow()).toEqual(before);
  });

  it('rejects downloads with .. as well', async () => {
    expect(await rawCall(`${FILES}/metadata/../conanfile.py`)).toBe(400);
  });

  it('accepts nested paths such as metadata/logs/build.log', async () => {
    expect((await upload('metadata/logs/build.log', 'ok\n')).status).toBe(200);
    expect((await call(`${FILES}/metadata/logs/build.log`)).text).toBe('ok\n');
  });
});

describe('uploads', () => {
  it('rejects a checksum mismatch with 400, keeps the previous content and leaves no blob', async () => {
    const blobsBefore = await blobKeys();
    const response = await call(`${FILES}/conanfile.py`, {
      method: 'PUT',
      body: 'tampered',
      headers: { 'x-checksum-sha1': sha1('something else') },
    });
    expect(response.status).toBe(400);
    expect(response.text).toMatch(/Checksum mismatch/);
    expect((await call(`${FILES}/conanfile.py`)).text).toBe('from conan import ConanFile\n');
    expect(await blobKeys()).toEqual(blobsBefore);
  });

  it('rejects a malformed X-Checksum-Sha1 with 400', async () => {
    const response = await call(`${FILES}/other.txt`, { method: 'PUT', body: 'x', headers: { 'x-checksum-sha1': 'nope' } });
    expect(response.status).toBe(400);
    expect(await filesNow()).not.toContain('other.txt');
  });

  it('rejects a body over the maximum with 413 when Content-Length says so', async () => {
    const response = await call(`${FILES}/big.bin`, { method: 'PUT', body: 'x'.repeat(MAX_UPLOAD + 1) });
    expect(response.status).toBe(413);
    expect(await filesNow()).not.toContain('big.bin');
  });

  it('rejects a streamed body over the maximum with 413 and stores nothing', async () => {
    const blobsBefore = await blobKeys();
    const chunk = new Uint8Array(16 * 1024);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(chunk);
      },
    });
    const response = await fetch(`${server.url}${FILES}/streamed.bin`, {
      method: 'PUT',
      body,
      duplex: 'half',
      headers: { authorization: `Bearer ${demo}` },
    } as RequestInit).catch((error: unknown) => error);
    // The server answers 413 and may close the connection while the client is still sending.
    if (response instanceof Response) expect(response.status).toBe(413);
    expect(await filesNow()).not.toContain('streamed.bin');
    expect(await blobKeys()).toEqual(blobsBefore);
  });

  it('rejects an anonymous upload with 401 and an unprivileged one with 403', async () => {
    expect((await call(`${FILES}/x.txt`, { method: 'PUT', body: 'x', token: null })).status).toBe(401);
    const other = await login(server.url, 'other', 'other');
    expect((await call(`${FILES}/x.txt`, { method: 'PUT', body: 'x', token: other })).status).toBe(403);
    expect(await filesNow()).not.toContain('x.txt');
  });
});

describe('tokens', () => {
  it('rejects a malformed token with 401', async () => {
    const response = await call(`${RECIPE}/latest`, { token: 'not-a-jwt' });
    expect(response.status).toBe(401);
    expect(response.text).toMatch(/Invalid token/);
  });

  it('rejects a token signed with another secret with 401', async () => {
    const forged = await new SignJWT({ user: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('cimmeria')
      .setSubject('admin')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-0123456789'));
    expect((await call(`${RECIPE}/latest`, { token: forged })).status).toBe(401);
  });

  it('rejects an expired token with 401 telling to log in again', async () => {
    const expired = await new SignJWT({ user: 'demo' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('cimmeria')
      .setSubject('demo')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(TOKEN_SECRET));
    const response = await call(`${RECIPE}/latest`, { token: expired });
    expect(response.status).toBe(401);
    expect(response.text).toMatch(/expired/);
  });

  it('rejects an unsupported authorization scheme with 401', async () => {
    const response = await call(`${RECIPE}/latest`, { token: null, headers: { authorization: 'Digest abc' } });
    expect(response.status).toBe(401);
  });

  it('rejects wrong passwords with 401', async () => {
    const response = await fetch(`${server.url}/v2/users/authenticate`, {
      headers: { authorization: basicAuth('demo', 'wrong') },
    });
    expect(response.status).toBe(401);
  });
});

describe('routes', () => {
  it('answers unknown routes with 404', async () => {
    expect((await call('/v2/nothing/here')).status).toBe(404);
    expect((await call('/not/the/api')).status).toBe(404);
    expect((await call(`${RECIPE}/unknown`)).status).toBe(404);
  });

  it('answers HEAD wherever GET is answered', async () => {
    const ping = await call('/v1/ping', { method: 'HEAD' });
    expect(ping.status).toBe(200);
    const latest = await call(`${RECIPE}/latest`, { method: 'HEAD' });
    expect(latest.status).toBe(200);
    expect(latest.headers.get('content-type')).toBe('application/json');
    expect(latest.text).toBe('');
  });

  it('answers a wrong method with 405 and an Allow header', async () => {
    const response = await call(`${RECIPE}/latest`, { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    const post = await call(`${FILES}/conanfile.py`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toContain('PUT');
  });

  it('rejects a malformed search query with 400', async () => {
    expect((await call('/v2/conans/search?q=*&ignorecase=maybe')).status).toBe(400);
  });

  it('answers an unsatisfiable range with 416', async () => {
    const response = await call(`${FILES}/conanfile.py`, { headers: { range: 'bytes=1000-' } });
    expect(response.status).toBe(416);
    expect(response.headers.get('content-range')).toBe('bytes */28');
  });
});
