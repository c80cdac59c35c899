import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { startServe, tempDir, type ServeProcess } from '../packages/cli/test/support/cli-process.js';
import { basicAuth } from './support/login.js';
import {
  conaninfo,
  launchBrowser,
  publishPackage,
  publishRecipe,
  seriousViolations,
  watchedPage,
  type WatchedPage,
} from './support/web-ui-browser.js';

// Issue 13, "Tested in a real browser": Debian's Chromium against the real
// `cimmeria serve`, with packages uploaded over the Conan API.

const SERVER_CONF = new URL('../conformance/server.conf', import.meta.url).pathname;
const DEMO = basicAuth('demo', 'demo');
const ZLIB = { name: 'zlib', version: '1.3.1' };
const ZLIB_REV = 'b8bc2603a0d9e8e3c2f5b0cb8b5a9a11';
const ZLIB_CONANFILE = `from conan import ConanFile

class ZlibConan(ConanFile):
    name = "zlib"
    settings = "os", "arch", "compiler", "build_type"
    options = {"shared": [True, False]}
`;
const LINUX_ID = '0a6dc2ab2ed8a3f8d9c9d4b1d8c5e6f70a6dc2ab';
const WINDOWS_ID = '1b7ed3bc3fe9b4a9eadae5c2e9d6f7a81b7ed3bc';
const OPENSSL = { name: 'openssl', version: '3.4.0' };

/** Markup and script a hostile uploader could put anywhere a value is free text. */
const HOSTILE = {
  conanfile: `# </code></pre><script>window.__pwned = 'conanfile'</script><img src=x onerror="window.__pwned='img'">\nx = "<svg onload=alert(1)>"\n`,
  fileName: `<img src=x onerror=window.__pwned='file'>.txt`,
  setting: `<script>window.__pwned='setting'</script>`,
  option: `javascript:alert('option')`,
};

describe('issue 13: the web UI in Chromium against cimmeria serve', () => {
  let data: Awaited<ReturnType<typeof tempDir>>;
  let serve: ServeProcess;
  let browser: BrowserContext;
  let closeBrowser: () => Promise<void>;
  const pages: WatchedPage[] = [];
  const open = async () => {
    const watched = await watchedPage(browser, serve.url);
    pages.push(watched);
    return watched;
  };

  beforeAll(async () => {
    data = await tempDir('cimmeria-web-ui-');
    serve = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', data.dir, '--conan-server-conf', SERVER_CONF], {
      timeoutMs: 60_000,
    });
    const url = serve.url;
    expect(await publishRecipe(url, DEMO, ZLIB, ZLIB_REV, { 'conanfile.py': ZLIB_CONANFILE })).toBe(200);
    await publishPackage(url, DEMO, ZLIB, ZLIB_REV, LINUX_ID, 'c1', {
      'conaninfo.txt': conaninfo({ os: 'Linux', arch: 'x86_64', compiler: 'gcc', 'compiler.version': '13', build_type: 'Release' }, { shared: 'False' }),
    });
    await publishPackage(url, DEMO, ZLIB, ZLIB_REV, WINDOWS_ID, 'c2', {
      'conaninfo.txt': conaninfo({ os: 'Windows', arch: 'x86_64', compiler: 'msvc', 'compiler.version': '194', build_type: 'Debug' }, { shared: 'True' }),
    });
    expect(await publishRecipe(url, DEMO, OPENSSL, 'd1', { 'conanfile.py': 'from conan import ConanFile\n' })).toBe(200);
    await publishPackage(url, DEMO, OPENSSL, 'd1', 'e1e1', 'f1', {
      'conaninfo.txt': conaninfo({ os: 'Linux' }, {}, ['zlib/1.3.Z']),
    });
    expect(
      await publishRecipe(url, DEMO, { name: 'evil', version: '1.0' }, 'e0', {
        'conanfile.py': HOSTILE.conanfile,
        [HOSTILE.fileName]: 'x',
      }),
    ).toBe(200);
    await publishPackage(url, DEMO, { name: 'evil', version: '1.0' }, 'e0', 'bad0', 'b0', {
      'conaninfo.txt': conaninfo({ os: HOSTILE.setting, arch: 'x86_64' }, { shared: HOSTILE.option }),
    });
    ({ browser, close: closeBrowser } = await launchBrowser());
  }, 180_000);

  afterAll(async () => {
    await closeBrowser?.();
    const code = await serve?.stop();
    await data?.remove();
    expect(code, serve?.stderr()).toBe(0);
  });

  it('GET / of cimmeria serve lands on the UI, which asks no other host for anything', async () => {
    const { page, errors, foreignRequests } = await open();
    await page.goto(`${serve.url}/`);
    expect(new URL(page.url()).pathname).toBe('/ui/');
    await page.getByRole('heading', { name: 'Find a package' }).waitFor();
    expect(foreignRequests).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('search finds a package as you type, and the keyboard reaches it', async () => {
    const { page, errors } = await open();
    await page.goto(`${serve.url}/ui/`);
    const box = page.getByLabel('Recipe name or pattern');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('q');
    await box.pressSequentially('zl', { delay: 30 });
    // The query goes to the URL after a pause in typing, and the results follow it.
    await page.waitForURL((u) => u.searchParams.get('q') === 'zl');
    await expect.poll(() => page.locator('#results a.result').allTextContents()).toEqual([expect.stringContaining('zlib/1.3.1')]);
    await box.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toContain('zlib');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'zlib' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/ui/recipes/zlib');
    expect(errors).toEqual([]);
  });

  it("the recipe page shows the version, its revision, a binary's settings, filters, the conanfile and how to consume it", async () => {
    const { page, errors } = await open();
    await page.goto(`${serve.url}/ui/recipes/zlib`);
    await page.getByRole('link', { name: 'zlib/1.3.1' }).click();
    await page.getByRole('heading', { level: 1, name: 'zlib/1.3.1' }).waitFor();
    await page.getByText(ZLIB_REV).first().waitFor();

    const table = page.locator('table.binaries');
    await table.waitFor();
    const headers = await table.locator('thead th').allTextContents();
    expect(headers).toEqual(expect.arrayContaining(['os', 'arch', 'compiler', 'compiler.version', 'build_type', 'option shared']));
    expect(await table.locator('tbody tr').count()).toBe(2);
    const linux = table.locator('tbody tr', { hasText: 'Linux' });
    expect(await linux.textContent()).toContain('gcc');
    expect(await linux.textContent()).toContain('Release');

    await page.getByLabel('os', { exact: true }).selectOption('Windows');
    expect(await table.locator('tbody tr').count()).toBe(1);
    expect(await table.locator('tbody tr').textContent()).toContain('msvc');

    // The conanfile, highlighted: Python keywords in their own spans.
    const source = page.locator('pre.source code');
    await source.waitFor();
    expect(await source.textContent()).toBe(ZLIB_CONANFILE);
    expect(await source.locator('.hljs-keyword', { hasText: 'class' }).count()).toBe(1);

    const text = await page.locator('main').textContent();
    expect(text).toContain(`conan remote add cimmeria ${serve.url}`);
    expect(text).toContain('conan install --requires=zlib/1.3.1');
    expect(text).toContain('requires = "zlib/1.3.1"');
    expect(errors).toEqual([]);
  });

  it('the recipe page lists the packages that require it', async () => {
    const { page } = await open();
    await page.goto(`${serve.url}/ui/recipes/zlib`);
    const usedBy = page.getByRole('region', { name: 'Packages that require this recipe' });
    await usedBy.waitFor();
    expect(await usedBy.textContent()).toContain('openssl/3.4.0');
  });

  it('renders hostile names, files, conanfile and conaninfo values as text: nothing runs', async () => {
    const watched = await open();
    const { page } = watched;
    await page.goto(`${serve.url}/ui/recipes/evil/1.0/_/_`);
    await page.locator('table.binaries').waitFor();
    await page.locator('pre.source').waitFor();
    await page.getByText(HOSTILE.fileName).first().waitFor();
    await page.getByText(HOSTILE.setting).first().waitFor();
    await page.getByText(HOSTILE.option).first().waitFor();
    expect(await page.locator('pre.source code').textContent()).toBe(HOSTILE.conanfile);
    // Nothing the package carried became an element.
    expect(await page.locator('main script, main img, main svg, main iframe').count()).toBe(0);
    await page.waitForLoadState('networkidle');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(watched.dialogs).toEqual([]);
  });

  it('log in, create a token that uploads with the Conan API, revoke it in the UI, then it fails; log out', async () => {
    const { page, errors } = await open();
    await page.goto(`${serve.url}/ui/`);
    await page.getByRole('link', { name: 'Log in' }).click();
    await page.getByLabel('User name').fill('demo');
    await page.getByLabel('Password').fill('demo');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'API tokens' }).waitFor();
    expect(await page.getByTestId('user').textContent()).toBe('demo');
    // The session is a cookie scripts cannot read.
    expect(await page.evaluate(() => document.cookie)).toBe('');

    await page.getByLabel('Name', { exact: true }).fill('ui-made');
    await page.getByLabel('Scope', { exact: true }).selectOption('write');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = (await page.getByLabel('Your new token', { exact: true }).textContent())!.trim();
    expect(secret).toMatch(/^cim_/);
    await page.getByRole('cell', { name: 'ui-made', exact: true }).waitFor();

    const bearer = `Bearer ${secret}`;
    expect(await publishRecipe(serve.url, bearer, { name: 'fromtoken', version: '1.0' }, 'a1', { 'conanfile.py': '# ok\n' })).toBe(200);

    await page.getByRole('button', { name: 'Revoke token ui-made' }).click();
    await page.getByRole('button', { name: 'Confirm: revoke token ui-made' }).click();
    await page.getByText('No token yet.').waitFor();
    expect(await publishRecipe(serve.url, bearer, { name: 'fromtoken', version: '2.0' }, 'a2', { 'conanfile.py': '# no\n' })).toBe(401);

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('link', { name: 'Log in' }).waitFor();
    const me = await page.evaluate(async () => (await fetch('../api/v1/me')).json());
    expect(me).toMatchObject({ authenticated: false });
    expect(errors).toEqual([]);
  });

  it('is usable 360 px wide: no page-wide horizontal scrolling', async () => {
    const { page } = await open();
    await page.setViewportSize({ width: 360, height: 740 });
    for (const path of ['/ui/', '/ui/recipes/zlib', `/ui/recipes/zlib/1.3.1/_/_/${ZLIB_REV}`, '/ui/login']) {
      await page.goto(`${serve.url}${path}`);
      await page.locator('main h1').waitFor();
      await page.waitForLoadState('networkidle');
      expect(await page.evaluate(() => document.documentElement.scrollWidth), path).toBeLessThanOrEqual(360);
    }
  });

  it.each(['light', 'dark'] as const)('axe-core finds no serious or critical violation on the main pages (%s)', async (scheme) => {
    await browser.clearCookies();
    const { page } = await open();
    await page.emulateMedia({ colorScheme: scheme });
    const found: string[] = [];
    for (const path of ['/ui/', '/ui/?q=z', '/ui/recipes/zlib', `/ui/recipes/zlib/1.3.1/_/_/${ZLIB_REV}`, '/ui/login']) {
      await page.goto(`${serve.url}${path}`);
      await page.locator('main h1').waitFor();
      await page.waitForLoadState('networkidle');
      found.push(...(await seriousViolations(page)).map((v) => `${path}: ${v}`));
    }
    await page.getByRole('link', { name: 'Log in' }).click();
    await page.getByLabel('User name').fill('demo');
    await page.getByLabel('Password').fill('demo');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Your tokens' }).waitFor();
    await page.waitForLoadState('networkidle');
    found.push(...(await seriousViolations(page)).map((v) => `/ui/tokens: ${v}`));
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('link', { name: 'Log in' }).waitFor();
    expect(found).toEqual([]);
    // The check itself sees a violation when there is one: an input without a label.
    await page.evaluate(() => document.querySelector('main')!.append(document.createElement('input')));
    expect((await seriousViolations(page)).join('\n')).toContain('label');
  });
});
