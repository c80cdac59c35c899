import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { tempDir } from './cli-process.js';

/**
 * A temporary directory made by `before` and removed by `after`. The `after` hook is
 * registered where this is called, so (vitest runs after-hooks as a stack) it runs after the
 * after-hooks registered below it: servers they stop are gone before the directory is removed.
 */
function tempDirHooks(before: typeof beforeAll, after: typeof afterAll, prefix?: string): { readonly dir: string } {
  let current: { dir: string; remove: () => Promise<void> } | undefined;
  before(async () => {
    current = await tempDir(prefix);
  });
  after(async () => {
    await current?.remove();
    current = undefined;
  });
  return {
    get dir() {
      if (!current) throw new Error('temporary directory used outside a test');
      return current.dir;
    },
  };
}

/** A fresh temporary directory for each test of the enclosing file or `describe`, removed after it. */
export function tempDirEachTest(prefix?: string): { readonly dir: string } {
  return tempDirHooks(beforeEach, afterEach, prefix);
}

/** One temporary directory for all the tests of the enclosing file or `describe`, removed after them. */
export function tempDirForAll(prefix?: string): { readonly dir: string } {
  return tempDirHooks(beforeAll, afterAll, prefix);
}
