import { createHash, randomBytes } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { conanRouter } from '@cimmeria/adapter-express';
import type { HasService } from '@cimmeria/core';
import { conformanceRegistry } from '../../../test/support/conformance-registry.js';
import { listen } from '../../../test/support/listen.js';
import { basicAuth, login } from '../../../test/support/login.js';

// What only the Express adapter has to get right: nested mount paths, and
// bodies that a host parser read before the router saw them. The behaviour
// both adapters share is in test/adapters.test.ts.

const sha1 = (data: Uint8Array) => createHash('sha1').update(data).digest('hex');
const RECIPE = '/v2/conans/big/1.0/_/_';
const FILES = `${RECIPE}/revisions/abc/files`;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Starts `app` with a fresh registry mounted by `mount`; returns the base URL. */
async function start(mount: (app: express.Express, router: express.Router) => void) {
  const { registry, dispose } = await conformanceRegistry();
  cleanups.push(dispose);
  const app = express();
  mount(app, conanRouter(registry));
  const server = await listen(createServer(app));
  cleanups.push(server.close);
  return server.url;
}

describe('conanRouter', () => {
  it('works under a nested mount path next to sibling routes', async () => {
    const url = await start((app, router) => {
      const tools = express.Router();
      tools.get('/health', (_req, res) => void res.send('fine'));
      tools.use('/conan', router);
      app.use('/tools', tools);
    });
    expect(await (await fetch(`${url}/tools/health`)).text()).toBe('fine');
    const ping = await fetch(`${url}/tools/conan/v1/ping`);
    expect(ping.status).toBe(200);
    expect(ping.headers.get('x-conan-server-capabilities')).toContain('revisions');
    // Outside the mount the host answers, not the core.
    expect((await fetch(`${url}/conan/v1/ping`)).status).toBe(404);
  });

  it('takes a 5 MiB upload that express.raw() already read, byte for byte', async () => {
    const url = await start((app, router) => {
      app.use(express.raw({ type: () => true, limit: '50mb' }));
      app.use('/conan', router);
    });
    const token = await login(`${url}/conan`, 'demo', 'demo');
    const body = randomBytes(5 * 1024 * 1024);
    const put = (path: string, data: Uint8Array, checksum = sha1(data)) =>
      fetch(`${url}/conan${FILES}/${path}`, {
        method: 'PUT',
        body: data as BodyInit,
        headers: { authorization: `Bearer ${token}`, 'x-checksum-sha1': checksum },
      });
    // The core still checks the handed-over bytes against the client's checksum.
    expect((await put('conan_sources.tgz', body, '0'.repeat(40))).status).toBe(400);
    expect((await put('conan_sources.tgz', body)).status).toBe(200);
    // The revision becomes readable once its manifest is stored.
    expect((await put('conanmanifest.txt', new TextEncoder().encode('manifest'))).status).toBe(200);
    const download = await fetch(`${url}/conan${FILES}/conan_sources.tgz`);
    expect(download.status).toBe(200);
    expect(sha1(new Uint8Array(await download.arrayBuffer()))).toBe(sha1(body));
  });

  it('lets an empty body through that a JSON parser turned into {}', async () => {
    const url = await start((app, router) => {
      app.use(express.json({ type: () => true }));
      app.use('/conan', router);
    });
    const token = await login(`${url}/conan`, 'demo', 'demo');
    // fetch() drops `content-length: 0` on a DELETE; clients such as Python's requests send it.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const request = httpRequest(`${url}/conan${RECIPE}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': '0' },
      });
      request.once('response', (response) => {
        response.resume();
        resolve(response.statusCode);
      });
      request.once('error', reject);
      request.end();
    });
    // The core answers (nothing to delete), not the adapter's 415.
    expect(status).toBe(404);
  });

  it('reports unexpected errors to onError and answers 500', async () => {
    const failure = new Error('backend exploded');
    const broken = {
      service: {
        authenticate: () => Promise.reject(failure),
      },
    } as unknown as HasService;
    const seen: unknown[] = [];
    const app = express();
    app.use('/conan', conanRouter(broken, { onError: (error) => seen.push(error) }));
    const server = await listen(createServer(app));
    cleanups.push(server.close);
    const response = await fetch(`${server.url}/conan/v2/users/authenticate`, {
      headers: { authorization: basicAuth('demo', 'demo') },
    });
    expect(response.status).toBe(500);
    expect(seen).toEqual([failure]);
  });

  it('hands methods fetch() cannot send to the core, which answers 405', async () => {
    const url = await start((app, router) => void app.use('/conan', router));
    for (const method of ['TRACE', 'PROPFIND']) {
      const answer = await new Promise<{ status?: number; allow?: string }>((resolve, reject) => {
        const request = httpRequest(`${url}/conan${RECIPE}/latest`, { method });
        request.once('response', (response) => {
          response.resume();
          resolve({ status: response.statusCode, allow: response.headers.allow });
        });
        request.once('error', reject);
        request.end();
      });
      expect(answer, method).toEqual({ status: 405, allow: 'GET, HEAD' });
    }
  });
});
