import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createServer } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conanRouter } from '@cimmeria/adapter-express';
import { conanPlugin } from '@cimmeria/adapter-fastify';
import { createConanHandler, type FetchHandler, type Registry } from '@cimmeria/core';
import { CONTENT_SECURITY_POLICY, createWebUi } from '@cimmeria/web';
import { conformanceRegistry } from './support/conformance-registry.js';
import { listen } from './support/listen.js';

// Issue 13: how the built UI is served (caching, security headers, page
// routes), whatever host mounts it. The browser tests are in web-ui.test.ts.

const UI_DIR = new URL('../packages/web/dist/ui/', import.meta.url).pathname;
const KiB = 1024;

describe('issue 13: the web UI as served by the handler', () => {
  let handler: FetchHandler;
  let plain: FetchHandler;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    const made = await conformanceRegistry();
    dispose = made.dispose;
    handler = createConanHandler(made.registry, { basePath: '/conan', ui: createWebUi() });
    plain = createConanHandler(made.registry, { basePath: '/conan' });
  });
  afterAll(async () => {
    await dispose?.();
  });
  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
    handler(new Request(`http://registry.test${path}`, { method, headers }));

  it('is off unless the host passes it', async () => {
    expect((await plain(new Request('http://registry.test/conan/ui/'))).status).toBe(404);
  });

  it('redirects {mount}/ui to {mount}/ui/ with a relative location (it holds under a prefix the host strips)', async () => {
    const response = await get('/conan/ui');
    expect(response.status).toBe(301);
    expect(response.headers.get('location')).toBe('ui/');
    expect(new URL(response.headers.get('location')!, 'http://registry.test/conan/ui').pathname).toBe('/conan/ui/');
  });

  it('serves index.html uncached with a CSP that allows no inline script, and its scripts are all external', async () => {
    const response = await get('/conan/ui/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toBe(CONTENT_SECURITY_POLICY);
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await response.text();
    const scripts = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [tag, body] of scripts) {
      expect(tag).toMatch(/\ssrc="\.\/assets\/[^"]+\.js"/);
      expect(body!.trim()).toBe('');
    }
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('answers page routes with index.html whose asset URLs climb back to ui/', async () => {
    const response = await get('/conan/ui/recipes/zlib/1.3.1/_/_');
    expect(response.status).toBe(200);
    const html = await response.text();
    const src = /<script[^>]*src="([^"]+)"/.exec(html)![1]!;
    expect(src.startsWith('../../../../assets/')).toBe(true);
    const asset = new URL(src, 'http://registry.test/conan/ui/recipes/zlib/1.3.1/_/_');
    expect(asset.pathname.startsWith('/conan/ui/assets/')).toBe(true);
    expect((await get(asset.pathname)).status).toBe(200);
  });

  it('serves hashed assets for a year, immutable, with their type, an ETag honoured by If-None-Match, gzip when asked', async () => {
    const html = await (await get('/conan/ui/')).text();
    const src = /<script[^>]*src="\.\/([^"]+)"/.exec(html)![1]!;
    const response = await get(`/conan/ui/${src}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const etag = response.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    const body = await response.text();
    expect(body.length).toBeGreaterThan(1000);

    const again = await get(`/conan/ui/${src}`, { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');

    const zipped = await get(`/conan/ui/${src}`, { 'accept-encoding': 'gzip, br' });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(zipped.headers.get('vary')).toBe('accept-encoding');
    expect(Number(zipped.headers.get('content-length'))).toBeLessThan(body.length);

    const css = /<link[^>]*rel="stylesheet"[^>]*href="\.\/([^"]+)"/.exec(html)![1]!;
    expect((await get(`/conan/ui/${css}`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('answers a missing asset 404 (not the page), HEAD without a body, and other methods 405', async () => {
    expect((await get('/conan/ui/assets/index-missing.js')).status).toBe(404);
    const head = await get('/conan/ui/', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await get('/conan/ui/', {}, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('leaves the Conan API where it was', async () => {
    expect((await get('/conan/v2/ping')).status).toBe(200);
  });

  it('ships under 150 KB of JavaScript gzipped, and no URL of another host', () => {
    const assets = join(UI_DIR, 'assets');
    let gzipped = 0;
    for (const name of readdirSync(assets)) {
      const body = readFileSync(join(assets, name));
      if (name.endsWith('.js')) gzipped += gzipSync(body).byteLength;
      // No fonts, styles or scripts from a CDN: the UI must work offline and leak no visit.
      expect(body.toString('utf8'), name).not.toMatch(/(?:src|href|url)\s*[=(]\s*["']?https?:\/\//i);
    }
    expect(gzipped).toBeGreaterThan(5 * KiB);
    expect(gzipped).toBeLessThan(150 * KiB);
  });
});

const hosts: Record<string, (registry: Registry) => Promise<{ url: string; close: () => Promise<void> }>> = {
  express: async (registry) => {
    const app = express();
    app.use('/conan', conanRouter(registry, { ui: createWebUi() }));
    return listen(createServer(app));
  },
  fastify: async (registry) => {
    const app = Fastify();
    await app.register(conanPlugin, { registry, prefix: '/conan', ui: createWebUi() });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
  },
};

describe.each(Object.keys(hosts))('issue 13: the ui option of the %s adapter, mounted at /conan', (host) => {
  let url: string;
  let close: () => Promise<void>;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    const made = await conformanceRegistry();
    dispose = made.dispose;
    ({ url, close } = await hosts[host]!(made.registry));
  });
  afterAll(async () => {
    await close?.();
    await dispose?.();
  });

  it('redirects /conan/ui into it, serves pages and their assets below the prefix', async () => {
    const redirect = await fetch(`${url}/conan/ui`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(new URL(redirect.headers.get('location')!, `${url}/conan/ui`).href).toBe(`${url}/conan/ui/`);
    const page = await fetch(`${url}/conan/ui/recipes/zlib`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    const src = /<script[^>]*src="([^"]+)"/.exec(await page.text())![1]!;
    const asset = await fetch(new URL(src, `${url}/conan/ui/recipes/zlib`));
    expect(asset.status).toBe(200);
    expect(asset.url).toMatch(new RegExp(`^${url}/conan/ui/assets/`));
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${url}/ui/`)).status).toBe(404);
  });
});
