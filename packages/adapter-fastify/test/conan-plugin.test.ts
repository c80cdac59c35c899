import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { conanPlugin } from '@cimmeria/adapter-fastify';
import type { HasService, Registry } from '@cimmeria/core';
import { conformanceRegistry } from '../../../test/support/conformance-registry.js';
import { basicAuth, login } from '../../../test/support/login.js';

// What only the Fastify plugin has to get right: its parser and routes stay
// inside its own scope. The behaviour both adapters share is in test/adapters.test.ts.

const sha1 = (data: Uint8Array) => createHash('sha1').update(data).digest('hex');
const FILES = '/v2/conans/big/1.0/_/_/revisions/abc/files';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function registry(): Promise<Registry> {
  const made = await conformanceRegistry();
  cleanups.push(made.dispose);
  return made.registry;
}

/** A host with a JSON echo route; `setup` registers the plugin. Returns the base URL. */
async function start(setup: (app: FastifyInstance) => PromiseLike<unknown>, options: FastifyServerOptions = {}) {
  // Drop keep-alive connections at close even if a response was still finishing:
  // Fastify's default closes only those idle at that moment, then waits out keepAliveTimeout.
  const app = Fastify({ forceCloseConnections: true, ...options });
  app.post('/api/echo', async (request) => request.body);
  await setup(app);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(() => app.close());
  return url;
}

async function upload(api: string, path: string, body: Uint8Array, headers: Record<string, string> = {}) {
  return fetch(`${api}${FILES}/${path}`, {
    method: 'PUT',
    body: body as BodyInit,
    headers: { 'x-checksum-sha1': sha1(body), ...headers },
  });
}

/** Sends a bodyless request with any method (fetch() refuses TRACE); resolves status and Allow header. */
function send(method: string, url: string): Promise<{ status?: number; allow?: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method });
    request.once('response', (response) => {
      response.resume();
      resolve({ status: response.statusCode, allow: response.headers.allow });
    });
    request.once('error', reject);
    request.end();
  });
}

describe('conanPlugin', () => {
  it('streams uploads past the host bodyLimit and parsers, which keep applying to host routes', async () => {
    const r = await registry();
    const url = await start(
      (app) => {
        // A host parser that would buffer every other body: the plugin's scope must not inherit it.
        app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
        return app.register(conanPlugin, { registry: r, prefix: '/conan' });
      },
      { bodyLimit: 1024 },
    );
    const api = `${url}/conan`;
    const auth = { authorization: `Bearer ${await login(api, 'demo', 'demo')}` };

    const big = randomBytes(5 * 1024 * 1024);
    expect((await upload(api, 'conan_sources.tgz', big, auth)).status).toBe(200);
    // Valid JSON, labelled as such: stored as bytes, not parsed.
    const manifest = new TextEncoder().encode('{"looks": "like json"}');
    expect((await upload(api, 'conanmanifest.txt', manifest, { ...auth, 'content-type': 'application/json' })).status).toBe(200);
    expect(sha1(new Uint8Array(await (await fetch(`${api}${FILES}/conan_sources.tgz`)).arrayBuffer()))).toBe(sha1(big));
    expect(await (await fetch(`${api}${FILES}/conanmanifest.txt`)).text()).toBe('{"looks": "like json"}');

    const echo = (body: string) =>
      fetch(`${url}/api/echo`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(await (await echo('{"a":1}')).json()).toEqual({ a: 1 });
    expect((await echo(JSON.stringify({ pad: 'x'.repeat(2048) }))).status).toBe(413);
  });

  it('can be registered twice under different prefixes, and at the root next to host routes', async () => {
    const [a, b, root] = await Promise.all([registry(), registry(), registry()]);
    const url = await start(async (app) => {
      app.get('/status', async () => ({ status: 'ok' }));
      await app.register(conanPlugin, { registry: a, prefix: '/a' });
      await app.register(conanPlugin, { registry: b, prefix: '/b/conan' });
      await app.register(conanPlugin, { registry: root });
    });
    for (const api of [`${url}/a`, `${url}/b/conan`, url]) {
      expect((await fetch(`${api}/v1/ping`)).status, api).toBe(200);
    }
    expect(await (await fetch(`${url}/status`)).json()).toEqual({ status: 'ok' });
    // The root registration answers what no host route claims, as the core.
    expect((await fetch(`${url}/nothing`)).status).toBe(404);
    // Each prefix has its own registry.
    const token = await login(`${url}/a`, 'demo', 'demo');
    const body = new TextEncoder().encode('manifest');
    expect((await upload(`${url}/a`, 'conanmanifest.txt', body, { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await fetch(`${url}/a${FILES}/conanmanifest.txt`)).status).toBe(200);
    const head = await fetch(`${url}/a${FILES}/conanmanifest.txt`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(body.byteLength));
    expect((await fetch(`${url}/b/conan${FILES}/conanmanifest.txt`)).status).toBe(404);
  });

  it('reports unexpected errors to onError and answers 500', async () => {
    const failure = new Error('backend exploded');
    const broken = { service: { authenticate: () => Promise.reject(failure) } } as unknown as HasService;
    const seen: unknown[] = [];
    const url = await start((app) =>
      app.register(conanPlugin, { registry: broken, prefix: '/conan', onError: (error) => seen.push(error) }),
    );
    const response = await fetch(`${url}/conan/v2/users/authenticate`, { headers: { authorization: basicAuth('demo', 'demo') } });
    expect(response.status).toBe(500);
    expect(seen).toEqual([failure]);
  });

  it('hands every method the server accepts to the core, which answers 405', async () => {
    const r = await registry();
    const url = await start(async (app) => {
      // A method the host added before registering the plugin is routed too.
      app.addHttpMethod('PROPFIND');
      await app.register(conanPlugin, { registry: r, prefix: '/conan' });
    });
    for (const method of ['TRACE', 'PATCH', 'PROPFIND']) {
      expect(await send(method, `${url}/conan/v2/conans/big/1.0/_/_/latest`), method).toEqual({ status: 405, allow: 'GET, HEAD' });
    }
  });
});
