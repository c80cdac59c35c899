import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { join } from 'node:path';
import { login, startServe, tempDir, type ServeProcess } from './cli-process.js';

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

/** A `cimmeria serve` started for each test on a fresh data directory, with the first-start admin logged in. */
export interface AdminServer {
  readonly server: ServeProcess;
  /** The data directory the server (and store commands pointed at it) use. */
  readonly data: string;
  /** A session token of `admin`. */
  readonly token: string;
}

/**
 * Starts `cimmeria serve` on a fresh data directory before each test, logs
 * the bootstrap admin in with the password it printed, and stops it after.
 */
export function adminServerEachTest(): AdminServer {
  const tmp = tempDirEachTest();
  let current: AdminServer | undefined;
  beforeEach(async () => {
    const data = join(tmp.dir, 'data');
    const server = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', data]);
    const token = (await login(server.url, 'admin', /password: (\S+)/.exec(server.stderr())![1]!)).token;
    current = { server, data, token };
  });
  afterEach(async () => {
    await current?.server.stop();
    current = undefined;
  });
  const get = (): AdminServer => {
    if (!current) throw new Error('server used outside a test');
    return current;
  };
  return {
    get server() {
      return get().server;
    },
    get data() {
      return get().data;
    },
    get token() {
      return get().token;
    },
  };
}
