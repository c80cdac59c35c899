import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findOldNode } from './support/old-node.js';

// `pnpm start` and `pnpm test` run scripts/build-if-needed.mjs first. It is run
// here in a small stand-in workspace whose build takes a moment, not a minute.
const SCRIPT = new URL('../scripts/build-if-needed.mjs', import.meta.url).pathname;

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cimmeria-build-if-needed-'));
  await mkdir(join(root, 'scripts'));
  await copyFile(SCRIPT, join(root, 'scripts', 'build-if-needed.mjs'));
  const build = "require('fs').mkdirSync('packages/a/dist',{recursive:true});require('fs').writeFileSync('packages/a/dist/index.js','')";
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'stand-in', private: true, scripts: { build: `node -e "${build}"` } }));
  await mkdir(join(root, 'packages', 'a', 'src'), { recursive: true });
  await writeFile(join(root, 'packages', 'a', 'package.json'), '{"name":"a"}');
  await writeFile(join(root, 'packages', 'a', 'src', 'index.ts'), 'export {};\n');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const run = (node = process.execPath) =>
  spawnSync(node, [join(root, 'scripts', 'build-if-needed.mjs')], { cwd: root, encoding: 'utf8', timeout: 60_000 });

describe('scripts/build-if-needed.mjs', () => {
  it('item 9: the first build says what it is doing and that it takes about a minute, before building', () => {
    const first = run();
    expect(first.status).toBe(0);
    expect(first.stderr).toMatch(/^Building Cimmeria \(first run, about a minute\)\.\.\.\n/);
    expect(existsSync(join(root, 'packages', 'a', 'dist', 'index.js'))).toBe(true);

    const again = run();
    expect(again.status).toBe(0);
    expect(again.stderr).toBe('');
  });

  it('item 9: a later build names the packages that changed', async () => {
    expect(run().status).toBe(0);
    const later = new Date(Date.now() + 60_000);
    await utimes(join(root, 'packages', 'a', 'src', 'index.ts'), later, later);
    const rebuild = run();
    expect(rebuild.status).toBe(0);
    expect(rebuild.stderr).toMatch(/^Building Cimmeria \(a changed\)\.\.\.\n/);
  });

  const oldNode = findOldNode();
  // Skipped only on a machine without any Node.js older than 22 to try.
  it.skipIf(!oldNode)(`item 2: on Node.js ${oldNode?.version ?? '< 22 (none found)'} it says Node 22 is needed, and builds nothing`, () => {
    const result = run(oldNode!.path);
    expect(result.stderr).toBe(`Cimmeria needs Node.js 22 or newer (this is ${oldNode!.version})\n`);
    expect(result.status).toBe(1);
    expect(existsSync(join(root, 'packages', 'a', 'dist'))).toBe(false);
  });
});
