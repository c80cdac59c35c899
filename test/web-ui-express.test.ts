import { createServer } from 'node:http';
import express from 'express';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conanRouter } from '@cimmeria/adapter-express';
import { createWebUi } from '@cimmeria/web';
import { conformanceRegistry } from './support/conformance-registry.js';
import { listen } from './support/listen.js';
import { basicAuth } from './support/login.js';
import { conaninfo, launchBrowser, publishPackage, publishRecipe, watchedPage } from './support/web-ui-browser.js';

// Issue 13: the UI where a host app mounts the API, here Express under /conan:
// pages, assets and API calls all stay below the prefix.

describe('issue 13: the web UI under an Express mount (/conan)', () => {
  let url: string;
  let closeServer: () => Promise<void>;
  let dispose: () => Promise<void>;
  let browser: BrowserContext;
  let closeBrowser: () => Promise<void>;

  beforeAll(async () => {
    const made = await conformanceRegistry();
    dispose = made.dispose;
    const app = express();
    app.get('/', (_req, res) => {
      res.type('text/plain').send('the host app');
    });
    app.use('/conan', conanRouter(made.registry, { ui: createWebUi() }));
    ({ url, close: closeServer } = await listen(createServer(app)));
    const demo = basicAuth('demo', 'demo');
    const zlib = { name: 'zlib', version: '1.3.1', user: 'acme', channel: 'stable' };
    expect(await publishRecipe(`${url}/conan`, demo, zlib, 'a1b2', { 'conanfile.py': 'from conan import ConanFile\n' })).toBe(200);
    await publishPackage(`${url}/conan`, demo, zlib, 'a1b2', 'fe01', 'c3', { 'conaninfo.txt': conaninfo({ os: 'Linux', arch: 'armv8' }, {}) });
    ({ browser, close: closeBrowser } = await launchBrowser());
  }, 120_000);

  afterAll(async () => {
    await closeBrowser?.();
    await closeServer?.();
    await dispose?.();
  });

  it('redirects /conan/ui to /conan/ui/ and leaves the host app its own /', async () => {
    const response = await fetch(`${url}/conan/ui`, { redirect: 'manual' });
    expect(response.status).toBe(301);
    expect(new URL(response.headers.get('location')!, `${url}/conan/ui`).href).toBe(`${url}/conan/ui/`);
    expect(await (await fetch(`${url}/`)).text()).toBe('the host app');
  });

  it('search, recipe and binaries work below the prefix, and the remote URL names it', async () => {
    const { page, errors, foreignRequests } = await watchedPage(browser, url);
    await page.goto(`${url}/conan/ui`);
    await page.getByLabel('Recipe name or pattern').fill('zlib');
    await page.locator('#results a.result', { hasText: 'zlib' }).click();
    expect(new URL(page.url()).pathname).toBe('/conan/ui/recipes/zlib');
    await page.getByRole('link', { name: 'zlib/1.3.1@acme/stable' }).click();
    expect(new URL(page.url()).pathname).toBe('/conan/ui/recipes/zlib/1.3.1/acme/stable');
    await page.locator('table.binaries tbody tr', { hasText: 'armv8' }).waitFor();
    const text = await page.locator('main').textContent();
    expect(text).toContain(`conan remote add cimmeria ${url}/conan`);
    expect(text).toContain('conan install --requires=zlib/1.3.1@acme/stable');

    // A deep link loads by itself (the page's asset URLs climb back to /conan/ui/).
    await page.reload();
    await page.locator('table.binaries tbody tr', { hasText: 'armv8' }).waitFor();
    expect(foreignRequests).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('logs in and out through the mount', async () => {
    const { page, errors } = await watchedPage(browser, url);
    await page.goto(`${url}/conan/ui/login`);
    await page.getByLabel('User name').fill('demo');
    await page.getByLabel('Password').fill('demo');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Your tokens' }).waitFor();
    expect(await page.getByTestId('user').textContent()).toBe('demo');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('link', { name: 'Log in' }).waitFor();
    expect(errors).toEqual([]);
  });
});
