import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  asProgram,
  backendSwapSnippet,
  embeddingSnippet,
  snippetEnv,
  startSnippet,
  swapStores,
  uploadAndDownload,
  type Flavor,
} from './support/readme-snippets.js';

// Issue 11: what a platform engineer does with the published packages. Every
// package is packed (`pnpm pack`), the tarballs are installed with npm into a
// fresh app outside the monorepo, and apps of each kind (ES module, CommonJS,
// TypeScript compiled with skipLibCheck: false to ES modules, to CommonJS, and
// with the classic `module: commonjs`) run the README's embedding example and
// upload and download a file through it.
//
// One npm install serves the apps (they are folders of one project, sharing
// its node_modules): they need the same packages, and one install keeps the
// test near a minute on a warm npm cache. better-sqlite3 ships prebuilt
// binaries in its npm package, so nothing compiles.

const exec = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const PACKAGES = ['core', 'metadata-sqlite', 'storage-fs', 'metadata-postgres', 'storage-s3', 'adapter-express', 'adapter-fastify', 'auth-ldap', 'web', 'cli'];
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** The environment of npm and the apps: the user's, without what pnpm (running the tests) sets for itself. */
const cleanEnv = () => snippetEnv();

interface Packed {
  name: string;
  tarball: string;
}

let work: string;
let app: string;
const packed: Packed[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cimmeria-packaging-'));
  const packs = join(work, 'packs');
  await mkdir(packs);
  for (const folder of PACKAGES) {
    const dir = join(ROOT, 'packages', folder);
    const { name, version } = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name: string; version: string };
    await exec('pnpm', ['pack', '--pack-destination', packs], { cwd: dir, env: cleanEnv() });
    packed.push({ name, tarball: join(packs, `${name.replace('@', '').replace('/', '-')}-${version}.tgz`) });
  }

  app = join(work, 'app');
  await mkdir(app);
  const tarballs = Object.fromEntries(packed.map((p) => [p.name, `file:${p.tarball}`]));
  const nodeTypes = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> })
    .devDependencies['@types/node']!;
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'packaging-test-app',
      private: true,
      dependencies: { ...tarballs, '@types/node': nodeTypes },
      // The packages' dependencies on each other (^0.1.0) are these tarballs, not the registry's.
      overrides: Object.fromEntries(packed.map((p) => [p.name, `$${p.name}`])),
    }),
  );
  await exec('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: app,
    env: cleanEnv(),
    timeout: 240_000,
  });
}, 300_000);

afterAll(() => rm(work, { recursive: true, force: true }));

describe('tarballs', () => {
  it("item 5 of issue 11: every tarball has the LICENSE, a README, types for import and require, and nothing else but dist/ (and the CLI bin/)", async () => {
    const license = await readFile(join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toContain('MIT License');
    for (const { name, tarball } of packed) {
      const files = (await exec('tar', ['-tzf', tarball])).stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
      expect(files, name).toContain('LICENSE');
      expect(files, name).toContain('README.md');
      expect(files, name).toContain('package.json');
      expect(files.filter((f) => !['LICENSE', 'README.md', 'package.json'].includes(f) && !/^(dist|bin)\//.test(f)), name).toEqual([]);
      expect((await exec('tar', ['-xzOf', tarball, 'package/LICENSE'])).stdout, `${name} LICENSE`).toBe(license);

      const manifest = JSON.parse((await exec('tar', ['-xzOf', tarball, 'package/package.json'])).stdout) as {
        exports: Record<string, unknown>;
        dependencies?: Record<string, string>;
      };
      const root = manifest.exports['.'] as Record<string, { types: string; default: string }>;
      for (const [condition, ext, types] of [['import', '.js', '.d.ts'], ['require', '.cjs', '.d.cts']] as const) {
        expect(files, `${name} ${condition}`).toContain(root[condition]!.default.replace('./', ''));
        expect(root[condition]!.default.endsWith(ext)).toBe(true);
        expect(files, `${name} ${condition} types`).toContain(root[condition]!.types.replace('./', ''));
        expect(root[condition]!.types.endsWith(types)).toBe(true);
      }
      expect(Object.values(manifest.dependencies ?? {}).filter((v) => v.startsWith('workspace:')), name).toEqual([]);
    }
  });
});

describe('the CLI', () => {
  it('item 1 of issue 11: the installed `cimmeria` command runs', async () => {
    const { stdout } = await exec(join(app, 'node_modules', '.bin', 'cimmeria'), ['--version'], { cwd: app, env: cleanEnv() });
    const { version } = JSON.parse(await readFile(join(ROOT, 'packages', 'cli', 'package.json'), 'utf8')) as { version: string };
    expect(stdout.trim()).toContain(version);
  });
});

/** What each kind of app compiles, and how. */
const TS_SETUPS: Record<string, { type: 'module' | 'commonjs'; flavor: Flavor; ext: string; compilerOptions: object }> = {
  'ts-esm': { type: 'module', flavor: 'ts-esm', ext: '.mts', compilerOptions: { module: 'nodenext' } },
  'ts-cjs': { type: 'commonjs', flavor: 'ts-cjs', ext: '.cts', compilerOptions: { module: 'nodenext' } },
  // The setting of many older CommonJS services: `module: commonjs` (node10 resolution, no package exports).
  'ts-classic': {
    type: 'commonjs',
    flavor: 'ts-cjs',
    ext: '.ts',
    compilerOptions: { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true },
  },
};

/**
 * Uses a little of every package's public types, so the compiler checks all
 * their declarations, and fails where a type it needs is missing or `any`.
 */
const EVERY_PACKAGE = `import { createRegistry, type BlobStore, type MetadataStore, type Registry } from '@cimmeria/core';
import { serveNode, toNodeListener } from '@cimmeria/core/node';
import { createSqliteMetadataStore } from '@cimmeria/metadata-sqlite';
import { FsBlobStore } from '@cimmeria/storage-fs';
import { createPostgresMetadataStore, type PostgresMetadata } from '@cimmeria/metadata-postgres';
import { S3BlobStore } from '@cimmeria/storage-s3';
import { conanRouter } from '@cimmeria/adapter-express';
import { conanPlugin } from '@cimmeria/adapter-fastify';
import { createWebUi } from '@cimmeria/web';
import { loadConfig, startServer } from 'cimmeria';

type IsAny<T> = 0 extends 1 & T ? true : false;
// The pg pool and the Express router are typed (item 4: without their types packages they were any, or TS7016).
export const poolIsTyped: IsAny<PostgresMetadata['pool']> = false;
export const routerIsTyped: IsAny<ReturnType<typeof conanRouter>> = false;
export const stores: [MetadataStore, BlobStore] = [createSqliteMetadataStore({ filename: ':memory:' }).store, new FsBlobStore({ directory: 'blobs' })];
export const used = [createRegistry, serveNode, toNodeListener, createPostgresMetadataStore, S3BlobStore, conanPlugin, createWebUi, loadConfig, startServer];
export type Used = Registry;
`;

async function makeApp(name: string, type: 'module' | 'commonjs'): Promise<string> {
  const dir = join(app, name);
  await mkdir(dir);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, private: true, type }));
  return dir;
}

async function runsTheReadmeExample(dir: string, file: string): Promise<void> {
  const server = await startSnippet(file, dir, cleanEnv());
  try {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await uploadAndDownload(server.url);
  } finally {
    await server.stop();
  }
}

describe('apps outside the monorepo, on the installed tarballs', () => {
  it('item 1 of issue 11: an ES module app (import) runs the README embedding example as written', async () => {
    const dir = await makeApp('esm', 'module');
    await writeFile(join(dir, 'server.mjs'), asProgram(embeddingSnippet(), 'esm'));
    await runsTheReadmeExample(dir, 'server.mjs');
  });

  it('item 1 of issue 11: a CommonJS app (require) runs the README embedding example', async () => {
    const dir = await makeApp('cjs', 'commonjs');
    await writeFile(join(dir, 'server.js'), asProgram(embeddingSnippet(), 'cjs'));
    await runsTheReadmeExample(dir, 'server.js');
  });

  it.each(Object.keys(TS_SETUPS))(
    'items 1 and 4 of issue 11: a TypeScript app (%s, skipLibCheck: false) type-checks every package and the README code, and runs the example',
    async (name) => {
      const setup = TS_SETUPS[name]!;
      const dir = await makeApp(name, setup.type);
      const swap = swapStores(embeddingSnippet(), backendSwapSnippet());
      await writeFile(join(dir, `server${setup.ext}`), asProgram(embeddingSnippet(), setup.flavor));
      await writeFile(join(dir, `swap${setup.ext}`), asProgram(swap, setup.flavor));
      await writeFile(join(dir, `every-package${setup.ext}`), EVERY_PACKAGE);
      await writeFile(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'es2022',
            strict: true,
            skipLibCheck: false,
            types: ['node'],
            outDir: 'out',
            ...setup.compilerOptions,
          },
          include: [`*${setup.ext}`],
        }),
      );
      const compiled = await exec(process.execPath, [TSC, '-p', '.'], { cwd: dir, env: cleanEnv() }).catch(
        (error: { stdout?: string; stderr?: string }) => ({ failed: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
      );
      expect('failed' in compiled ? compiled.failed : '', `tsc in ${name}`).toBe('');
      const out = `server${{ '.mts': '.mjs', '.cts': '.cjs', '.ts': '.js' }[setup.ext]}`;
      expect(await readdir(join(dir, 'out'))).toContain(out);
      await runsTheReadmeExample(dir, join('out', out));
    },
  );
});
