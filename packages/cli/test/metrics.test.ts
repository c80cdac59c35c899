import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sample } from '../../../test/support/prometheus-text.js';
import { loadConfig } from './support/api.js';
import { basic, login, startServe } from './support/cli-process.js';
import { tempDirEachTest } from './support/hooks.js';

const tmp = tempDirEachTest();
const args = (data: string) => ['--port', '0', '--host', '127.0.0.1', '--data', data];
const RREV = '/v2/conans/zlib/1.3/_/_/revisions/0123456789abcdef0123456789abcdef';
const CONANFILE = 'from conan import ConanFile\n';
const MANIFEST = `1700000000\nconanfile.py: ${createHash('md5').update(CONANFILE).digest('hex')}\n`;
const TOKEN = 'scrape-token-0123456789';

describe('cimmeria serve: metrics (issue 12)', () => {
  it('metrics: GET /metrics shows the counters moving after an upload and a download, with Node default metrics', async () => {
    const serve = await startServe(args(join(tmp.dir, 'data')));
    try {
      const password = /password: (\S+)/.exec(serve.stderr())![1]!;
      const { token } = await login(serve.url, 'admin', password);
      const scrape = async () => {
        const response = await fetch(`${serve.url}/metrics`);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toContain('text/plain');
        return response.text();
      };
      const before = await scrape();
      const put = (path: string, body: string) =>
        fetch(`${serve.url}${RREV}/files/${path}`, { method: 'PUT', body, headers: { authorization: `Bearer ${token}` } });
      expect((await put('conanfile.py', CONANFILE)).status).toBe(200);
      expect((await put('conanmanifest.txt', MANIFEST)).status).toBe(200);
      expect(await (await fetch(`${serve.url}${RREV}/files/conanfile.py`)).text()).toBe(CONANFILE);
      const after = await scrape();

      const moved = (name: string, labels?: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
      expect(moved('cimmeria_http_requests_total', { operation: 'uploadRecipeFile', status: '200' })).toBe(2);
      expect(moved('cimmeria_http_requests_total', { operation: 'recipeFile', status: '200' })).toBe(1);
      expect(moved('cimmeria_upload_bytes_total')).toBe(CONANFILE.length + MANIFEST.length);
      expect(moved('cimmeria_download_bytes_total')).toBe(CONANFILE.length);
      expect(moved('cimmeria_publications_total', { kind: 'recipe' })).toBe(1);
      expect(moved('cimmeria_backend_call_duration_seconds_count', { backend: 'metadata' })).toBeGreaterThan(0);
      // Scrapes are not Conan requests.
      expect(after).not.toContain('operation="unknown"');
      expect(after).toMatch(/^process_cpu_seconds_total /m);

      // The example Grafana dashboard charts names the server really exposes.
      const dashboard = await readFile(new URL('../../../examples/grafana/cimmeria-dashboard.json', import.meta.url), 'utf8');
      const charted = new Set([...dashboard.matchAll(/\b((?:cimmeria|process|nodejs)_[a-z0-9_]+)\{/g)].map((m) => m[1]!));
      expect(charted.size).toBeGreaterThan(10);
      for (const name of charted) expect(after, name).toContain(`# TYPE ${name.replace(/_(bucket|count|sum)$/, '')} `);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  it('metrics: metricsToken makes the path answer 401 without it, and accepts it as Bearer or Basic password', async () => {
    const serve = await startServe(args(join(tmp.dir, 'data')), {
      env: { CIMMERIA_METRICS_TOKEN: TOKEN, CIMMERIA_METRICS_PATH: '/-/metrics' },
    });
    try {
      const scrape = (authorization?: string) =>
        fetch(`${serve.url}/-/metrics`, authorization ? { headers: { authorization } } : {});
      const anonymous = await scrape();
      expect(anonymous.status).toBe(401);
      expect(await anonymous.text()).not.toContain('cimmeria_');
      expect((await scrape(`Bearer ${TOKEN}x`)).status).toBe(401);
      expect((await scrape(basic('prometheus', 'wrong-token-0123456789'))).status).toBe(401);
      const bearer = await scrape(`Bearer ${TOKEN}`);
      expect(bearer.status).toBe(200);
      expect(await bearer.text()).toContain('cimmeria_http_requests_total');
      expect((await scrape(basic('prometheus', TOKEN))).status).toBe(200);
      // The default path is not served when another is configured.
      expect((await fetch(`${serve.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  it('metrics: metrics=false serves no metrics', async () => {
    const serve = await startServe(args(join(tmp.dir, 'data')), { env: { CIMMERIA_METRICS: 'false' } });
    try {
      expect((await fetch(`${serve.url}/metrics`)).status).toBe(404);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  it('metrics: settings are validated (a short metricsToken, a metricsPath inside the Conan API)', async () => {
    const config = await loadConfig({ env: {}, cwd: tmp.dir });
    expect([config.metrics, config.metricsPath, config.metricsToken]).toEqual([true, '/metrics', undefined]);
    await expect(loadConfig({ env: { CIMMERIA_METRICS_TOKEN: 'short' }, cwd: tmp.dir })).rejects.toThrow(/metricsToken/);
    await expect(loadConfig({ env: { CIMMERIA_METRICS_PATH: '/v2/metrics' }, cwd: tmp.dir })).rejects.toThrow(/metricsPath/);
  });
});
