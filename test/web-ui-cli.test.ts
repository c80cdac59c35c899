import { describe, expect, it } from 'vitest';
import { startServe, tempDir } from '../packages/cli/test/support/cli-process.js';

// Issue 13: the UI is on by default in `cimmeria serve`, off with `ui: false` (CIMMERIA_UI=false).

async function withServe(env: Record<string, string>, check: (url: string) => Promise<void>) {
  const data = await tempDir('cimmeria-web-ui-cli-');
  const serve = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', data.dir], { env, timeoutMs: 60_000 });
  try {
    await check(serve.url);
  } finally {
    await serve.stop();
    await data.remove();
  }
}

describe('issue 13: the ui setting of cimmeria serve', () => {
  it('serves the UI by default, and a browser opening / is sent there', async () => {
    await withServe({}, async (url) => {
      const root = await fetch(`${url}/`, { redirect: 'manual' });
      expect(root.status).toBe(302);
      expect(root.headers.get('location')).toBe('/ui/');
      const page = await fetch(`${url}/ui/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await page.text()).toContain('<div id="app">');
      expect((await fetch(`${url}/v2/ping`)).status).toBe(200);
    });
  });

  it('CIMMERIA_UI=false turns it off', async () => {
    await withServe({ CIMMERIA_UI: 'false' }, async (url) => {
      expect((await fetch(`${url}/ui/`)).status).toBe(404);
      expect((await fetch(`${url}/`, { redirect: 'manual' })).status).toBe(404);
    });
  });
});
