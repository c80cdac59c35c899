import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findOldNode } from '../../../test/support/old-node.js';
import { tempDir } from './support/cli-process.js';
import { tempDirEachTest } from './support/hooks.js';

const packageDir = new URL('..', import.meta.url).pathname;
/** The `cimmeria` command as npm and pnpm install it: the package's `bin`. */
const BIN = join(packageDir, JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).bin.cimmeria);
const oldNode = findOldNode();

const tmp = tempDirEachTest();

// Skipped only on a machine without any Node.js older than 22 to try.
describe.skipIf(!oldNode)(`on Node.js ${oldNode?.version ?? '< 22 (none found)'}`, () => {
  it('item 2: cimmeria says it needs Node.js 22 and exits 1, before loading SQLite (no segfault, nothing created)', () => {
    const data = join(tmp.dir, 'data');
    const result = spawnSync(oldNode!.path, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--data', data], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.signal).toBeNull();
    expect(result.stderr).toBe(`Cimmeria needs Node.js 22 or newer (this is ${oldNode!.version})\n`);
    expect(result.status).toBe(1);
    expect(existsSync(data)).toBe(false);
  });

  it('item 2: every command checks, --version and --help included', () => {
    for (const args of [['--version'], ['--help'], ['user', 'list', '--data', tmp.dir]]) {
      const result = spawnSync(oldNode!.path, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
      expect(result.stderr, args.join(' ')).toContain('Cimmeria needs Node.js 22 or newer');
      expect(result.status, args.join(' ')).toBe(1);
    }
  });
});
