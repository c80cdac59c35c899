#!/usr/bin/env node
// Takes the web UI screenshots shown in the README (docs/web-ui-*.png):
// a real `cimmeria serve` with a few packages uploaded over the Conan API,
// Debian's Chromium driven by playwright-core. Run after `pnpm build`:
//   node scripts/screenshots.mjs
import { mkdir } from 'node:fs/promises';
import { chromium } from 'playwright-core';
import { startServe, tempDir } from '../packages/cli/test/support/cli-process.ts';
import { conaninfo, publishPackage, publishRecipe } from '../test/support/conan-upload.ts';

const CHROMIUM = process.env.CIMMERIA_CHROMIUM ?? '/usr/bin/chromium';
const OUT = new URL('../docs/', import.meta.url).pathname;
const SERVER_CONF = new URL('../conformance/server.conf', import.meta.url).pathname;
const DEMO = `Basic ${Buffer.from('demo:demo').toString('base64')}`;

const CONANFILE = `from conan import ConanFile
from conan.tools.cmake import CMake, cmake_layout


class ZlibConan(ConanFile):
    name = "zlib"
    version = "1.3.1"
    license = "Zlib"
    description = "A massively spiffy yet delicately unobtrusive compression library"
    settings = "os", "arch", "compiler", "build_type"
    options = {"shared": [True, False], "fPIC": [True, False]}
    default_options = {"shared": False, "fPIC": True}
    exports_sources = "CMakeLists.txt", "src/*"

    def layout(self):
        cmake_layout(self)

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package_info(self):
        self.cpp_info.libs = ["z"]
`;

const rev = (seed) => seed.repeat(32).slice(0, 32);
const pkgId = (seed) => seed.repeat(40).slice(0, 40);

async function seed(url) {
  const recipes = [
    ['zlib', ['1.2.13', '1.3', '1.3.1']],
    ['zstd', ['1.5.5', '1.5.6']],
    ['openssl', ['3.0.13', '3.4.0']],
    ['boost', ['1.84.0', '1.86.0']],
    ['fmt', ['10.2.1', '11.0.2']],
    ['spdlog', ['1.14.1']],
    ['libcurl', ['8.10.1']],
  ];
  let n = 0;
  for (const [name, versions] of recipes) {
    for (const version of versions) {
      n++;
      const status = await publishRecipe(url, DEMO, { name, version }, rev(n.toString(16)), {
        'conanfile.py': name === 'zlib' ? CONANFILE : `from conan import ConanFile\n\n\nclass Recipe(ConanFile):\n    name = "${name}"\n`,
      });
      if (status !== 200) throw new Error(`upload of ${name}/${version}: ${status}`);
    }
  }
  const zlib = { name: 'zlib', version: '1.3.1' };
  const zlibRev = rev('3');
  const configs = [
    ['Linux', 'x86_64', 'gcc', '13', 'Release', 'False'],
    ['Linux', 'x86_64', 'gcc', '13', 'Debug', 'False'],
    ['Linux', 'armv8', 'gcc', '13', 'Release', 'True'],
    ['Linux', 'x86_64', 'clang', '18', 'Release', 'True'],
    ['Macos', 'armv8', 'apple-clang', '15', 'Release', 'False'],
    ['Windows', 'x86_64', 'msvc', '194', 'Release', 'False'],
    ['Windows', 'x86_64', 'msvc', '194', 'Debug', 'True'],
  ];
  for (const [i, [os, arch, compiler, version, buildType, shared]] of configs.entries()) {
    await publishPackage(url, DEMO, zlib, zlibRev, pkgId((i + 10).toString(16)), rev('c' + i), {
      'conaninfo.txt': conaninfo(
        { os, arch, compiler, 'compiler.version': version, build_type: buildType },
        { shared, ...(os === 'Windows' ? {} : { fPIC: 'True' }) },
      ),
    });
  }
  await publishPackage(url, DEMO, { name: 'libcurl', version: '8.10.1' }, rev('d'), pkgId('e'), rev('f'), {
    'conaninfo.txt': conaninfo({ os: 'Linux', arch: 'x86_64' }, { shared: 'False' }, ['zlib/1.3.Z', 'openssl/3.4.Z']),
  });
}

const data = await tempDir('cimmeria-screenshots-');
const serve = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', data.dir, '--conan-server-conf', SERVER_CONF], {
  timeoutMs: 60_000,
});
try {
  await seed(serve.url);
  await mkdir(OUT, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const shots = [
    ['search', '/ui/', 'light', 1100],
    ['recipe', '/ui/recipes/zlib', 'light', 1100],
    ['binaries', `/ui/recipes/zlib/1.3.1/_/_`, 'light', 1100],
    ['binaries-dark', `/ui/recipes/zlib/1.3.1/_/_`, 'dark', 1100],
    ['mobile', '/ui/recipes/zlib/1.3.1/_/_', 'light', 360],
  ];
  for (const [name, path, colorScheme, width] of shots) {
    const context = await browser.newContext({ colorScheme, viewport: { width, height: width < 500 ? 780 : 800 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    await page.goto(`${serve.url}${path}`);
    await page.locator('main h1').waitFor();
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: `${OUT}web-ui-${name}.png`, fullPage: width >= 500 && name !== 'binaries-dark' });
    await context.close();
    console.log(`docs/web-ui-${name}.png`);
  }
  // The tokens page, logged in, right after creating a token.
  const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
  const page = await context.newPage();
  await page.goto(`${serve.url}/ui/login`);
  await page.getByLabel('User name').fill('demo');
  await page.getByLabel('Password').fill('demo');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Your tokens' }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill('ci-uploads');
  await page.getByLabel('Scope', { exact: true }).selectOption('write');
  await page.getByRole('button', { name: 'Create token' }).click();
  await page.getByRole('cell', { name: 'ci-uploads', exact: true }).waitFor();
  await page.screenshot({ path: `${OUT}web-ui-tokens.png` });
  console.log('docs/web-ui-tokens.png');
  await browser.close();
} finally {
  await serve.stop();
  await data.remove();
}
