import { createHash } from 'node:crypto';
import { createConanHandler } from '@cimmeria/core';
import { createMetrics } from '@cimmeria/core/metrics';
import { serveNode } from '@cimmeria/core/node';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { conformanceRegistry } from './support/conformance-registry.js';
import { labelValues, sample } from './support/prometheus-text.js';

const RREV = '/v2/conans/zlib/1.3/_/_/revisions/0123456789abcdef0123456789abcdef';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const CONANFILE = 'from conan import ConanFile\n\nclass Zlib(ConanFile):\n    name = "zlib"\n';
const MANIFEST = `1700000000\nconanfile.py: ${createHash('md5').update(CONANFILE).digest('hex')}\n`;

describe('metrics (issue 12)', () => {
  it("metrics: an embedder's own registry gets the counters of uploads, downloads, deletes, failed logins and store calls, and no default metrics", async () => {
    const host = new Registry();
    const metrics = createMetrics({ registry: host });
    const { registry, dispose } = await conformanceRegistry({ metrics });
    const server = await serveNode(createConanHandler(registry));
    try {
      const demo = { authorization: basic('demo', 'demo') };
      const before = await host.metrics();
      const put = (path: string, body: string) =>
        fetch(`${server.url}${RREV}/files/${path}`, { method: 'PUT', body, headers: demo });
      expect((await put('conanfile.py', CONANFILE)).status).toBe(200);
      expect((await put('conanmanifest.txt', MANIFEST)).status).toBe(200);
      const download = await fetch(`${server.url}${RREV}/files/conanfile.py`);
      expect([download.status, await download.text()]).toEqual([200, CONANFILE]);
      const badLogin = await fetch(`${server.url}/v2/users/authenticate`, { headers: { authorization: basic('demo', 'nope') } });
      expect(badLogin.status).toBe(401);
      expect((await fetch(`${server.url}${RREV}`, { method: 'DELETE', headers: demo })).status).toBe(200);
      const after = await host.metrics();

      const moved = (name: string, labels?: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
      expect(moved('cimmeria_http_requests_total', { operation: 'uploadRecipeFile', status: '200' })).toBe(2);
      expect(moved('cimmeria_http_requests_total', { operation: 'recipeFile', status: '200' })).toBe(1);
      expect(moved('cimmeria_http_request_duration_seconds_count', { operation: 'uploadRecipeFile' })).toBe(2);
      expect(moved('cimmeria_upload_bytes_total')).toBe(CONANFILE.length + MANIFEST.length);
      expect(moved('cimmeria_download_bytes_total')).toBe(CONANFILE.length);
      expect(moved('cimmeria_publications_total', { kind: 'recipe' })).toBe(1);
      expect(moved('cimmeria_deletes_total', { operation: 'deleteRecipeRevision' })).toBe(1);
      expect(moved('cimmeria_login_failures_total')).toBe(1);
      expect(moved('cimmeria_backend_call_duration_seconds_count', { backend: 'metadata', method: 'recordFile' })).toBe(2);
      expect(moved('cimmeria_backend_call_duration_seconds_count', { backend: 'blobs', method: 'put' })).toBe(2);
      // Every transfer is over: nothing left in flight.
      expect(sample(after, 'cimmeria_uploads_in_flight')).toBe(0);
      expect(sample(after, 'cimmeria_downloads_in_flight')).toBe(0);
      // The host asked for Cimmeria's metrics only, not Node's.
      expect(after).not.toMatch(/^process_cpu|^nodejs_/m);
    } finally {
      await server.close();
      await dispose();
    }
  });

  it('metrics: an upload whose body is still arriving shows in cimmeria_uploads_in_flight, and leaves it when done', async () => {
    const metrics = createMetrics();
    const { registry, dispose } = await conformanceRegistry({ metrics });
    const server = await serveNode(createConanHandler(registry));
    try {
      let finish!: () => void;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('first half '));
          finish = () => {
            controller.enqueue(new TextEncoder().encode('second half\n'));
            controller.close();
          };
        },
      });
      const upload = fetch(`${server.url}${RREV}/files/conanfile.py`, {
        method: 'PUT',
        body,
        headers: { authorization: basic('demo', 'demo') },
        duplex: 'half',
      } as RequestInit);
      const inFlight = async () => sample(await metrics.registry.metrics(), 'cimmeria_uploads_in_flight');
      // Bounded wait for the server to start reading the body.
      for (let i = 0; i < 100 && (await inFlight()) === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await inFlight()).toBe(1);
      finish();
      expect((await upload).status).toBe(200);
      expect(await inFlight()).toBe(0);
      expect(sample(await metrics.registry.metrics(), 'cimmeria_upload_bytes_total')).toBe('first half second half\n'.length);
    } finally {
      await server.close();
      await dispose();
    }
  });

  it('metrics: unknown routes are counted under one operation label, never their raw path', async () => {
    const metrics = createMetrics();
    const { registry, dispose } = await conformanceRegistry({ metrics });
    const server = await serveNode(createConanHandler(registry));
    try {
      for (let i = 0; i < 5; i++) {
        expect((await fetch(`${server.url}/no/such/page-${i}`)).status).toBe(404);
        expect((await fetch(`${server.url}/v2/conans/zlib/1.3/_/_/nonsense-${i}`)).status).toBe(404);
      }
      expect((await fetch(`${server.url}/v2/ping`, { method: 'DELETE' })).status).toBe(405);
      const text = await metrics.registry.metrics();
      expect(labelValues(text, 'cimmeria_http_requests_total', 'operation')).toEqual(['unknown']);
      expect(sample(text, 'cimmeria_http_requests_total', { operation: 'unknown', status: '404' })).toBe(10);
      expect(sample(text, 'cimmeria_http_requests_total', { operation: 'unknown', status: '405' })).toBe(1);
      expect(text).not.toMatch(/page-|nonsense-/);
    } finally {
      await server.close();
      await dispose();
    }
  });
});
