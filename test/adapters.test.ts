import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conanRouter } from '@cimmeria/adapter-express';
import { conanPlugin } from '@cimmeria/adapter-fastify';
import type { Registry } from '@cimmeria/core';
import { login } from './support/login.js';
import { conformanceRegistry } from './support/conformance-registry.js';
import { listen } from './support/listen.js';

// One suite, run against each adapter: the Conan server mounted under /conan
// next to the host's own routes and body parsers.

interface Host {
  url: string;
  close: () => Promise<void>;
}

const hosts: Record<string, (registry: Registry) => Promise<Host>> = {
  express: async (registry) => {
    const app = express();
    app.use(express.json());
    app.post('/api/echo', (req, res) => void res.json(req.body));
    app.get('/healthz', (_req, res) => void res.send('host health'));
    app.use('/conan', conanRouter(registry, { health: true }));
    return listen(createServer(app));
  },
  fastify: async (registry) => {
    // Without it close() waits out keep-alive on connections busy at that moment.
    const app = Fastify({ forceCloseConnections: true });
    app.post('/api/echo', async (request) => request.body);
    app.get('/healthz', async () => 'host health');
    await app.register(conanPlugin, { registry, prefix: '/conan', health: true });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  },
};

const sha1 = (data: Uint8Array) => createHash('sha1').update(data).digest('hex');
const FILES = '/conan/v2/conans/big/1.0/_/_/revisions/abc/files';

describe.each(Object.keys(hosts))('the %s adapter', (name) => {
  let host: Host;
  let dispose: () => Promise<void>;
  let token: string;

  beforeAll(async () => {
    const made = await conformanceRegistry();
    dispose = made.dispose;
    host = await hosts[name]!(made.registry);
    token = await login(`${host.url}/conan`, 'demo', 'demo');
  });

  afterAll(async () => {
    await host?.close();
    await dispose?.();
  });

  const put = (path: string, body: Uint8Array) =>
    fetch(`${host.url}${FILES}/${path}`, {
      method: 'PUT',
      body: body as BodyInit,
      headers: { authorization: `Bearer ${token}`, 'x-checksum-sha1': sha1(body) },
    });

  it('answers probes under its mount path, leaving the host its own', async () => {
    const alive = await fetch(`${host.url}/conan/healthz`);
    expect(alive.status).toBe(200);
    expect(await alive.json()).toEqual({ status: 'alive' });
    const ready = await fetch(`${host.url}/conan/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { metadata: 'ok', blobs: 'ok' } });
    expect(await (await fetch(`${host.url}/healthz`)).text()).toBe('host health');
  });

  it('leaves the host routes and their JSON parser working', async () => {
    const response = await fetch(`${host.url}/api/echo`, {
      method: 'POST',
      body: JSON.stringify({ hello: 'world' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(await response.json()).toEqual({ hello: 'world' });
  });

  it('answers ping under the mount path', async () => {
    const response = await fetch(`${host.url}/conan/v1/ping`);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-conan-server-capabilities')).toContain('revisions');
  });

  it('stores a 5 MiB upload byte for byte, whatever its content type says', async () => {
    const body = randomBytes(5 * 1024 * 1024);
    expect((await put('conan_sources.tgz', body)).status).toBe(200);
    const manifest = new TextEncoder().encode('manifest');
    // An explicit binary content type goes through as well.
    const asJson = await fetch(`${host.url}${FILES}/conanmanifest.txt`, {
      method: 'PUT',
      body: manifest,
      headers: { authorization: `Bearer ${token}`, 'x-checksum-sha1': sha1(manifest), 'content-type': 'application/octet-stream' },
    });
    expect(asJson.status).toBe(200);
    const download = await fetch(`${host.url}${FILES}/conan_sources.tgz`);
    expect(download.status).toBe(200);
    expect(sha1(new Uint8Array(await download.arrayBuffer()))).toBe(sha1(body));
  });

  it('answers HEAD with the size and no body', async () => {
    const response = await fetch(`${host.url}${FILES}/conan_sources.tgz`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(5 * 1024 * 1024));
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it('serves ranges', async () => {
    const response = await fetch(`${host.url}${FILES}/conanmanifest.txt`, { headers: { range: 'bytes=4-' } });
    expect(response.status).toBe(206);
    expect(await response.text()).toBe('fest');
  });

  it('answers unknown routes under the mount path with 404 and wrong methods with 405', async () => {
    expect((await fetch(`${host.url}/conan/v2/nothing`)).status).toBe(404);
    const wrong = await fetch(`${host.url}/conan/v2/conans/big/1.0/_/_/latest`, { method: 'POST' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('the express adapter behind a parser that turned the upload into JSON', () => {
  it('refuses the upload with 415 rather than storing the wrong bytes', async () => {
    const { registry, dispose } = await conformanceRegistry();
    const app = express();
    app.use(express.json({ type: () => true }));
    app.get('/healthz', (_req, res) => void res.send('host health'));
    app.use('/conan', conanRouter(registry, { health: true }));
    const host = await listen(createServer(app));
    try {
      const token = await login(`${host.url}/conan`, 'demo', 'demo');
      const body = '{"not": "a file"}';
      const response = await fetch(`${host.url}${FILES}/conanfile.py`, {
        method: 'PUT',
        body,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(415);
      const files = await fetch(`${host.url}${FILES}`);
      expect(files.status).toBe(404);
    } finally {
      await host.close();
      await dispose();
    }
  });
});
