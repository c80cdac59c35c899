import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashPassword } from '@cimmeria/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { login, runCli, startServe, type ServeProcess } from './support/cli-process.js';
import { tempDirForAll } from './support/hooks.js';

// Issue 8, item 3: after `user remove`, `user passwd`, or removing a user from
// the config, the old token still uploaded and deleted until it expired.

/** The bound these tests run with; a token must be refused within 3x of it on a busy machine. */
const CACHE_SECONDS = 1;
const LIMIT_MS = 3 * CACHE_SECONDS * 1000 + 2000;
const ENV = { CIMMERIA_CREDENTIAL_CACHE_SECONDS: String(CACHE_SECONDS), CIMMERIA_TOKEN_SECRET: 'revocation-test-secret-0123' };
const WRITERS = 'permissions:\n  write:\n    - { pattern: "*/*@*/*", users: [alice, bob, carol] }\n';
const FILE = '/v2/conans/hello/1.0/_/_/revisions/0123456789abcdef0123456789abcdef/files/conanfile.py';

const checkCredentials = async (url: string, token: string) =>
  (await fetch(`${url}/v2/users/check_credentials`, { headers: { authorization: `Bearer ${token}` } })).status;

const upload = async (url: string, token: string) =>
  (await fetch(`${url}${FILE}`, { method: 'PUT', body: 'x', headers: { authorization: `Bearer ${token}` } })).status;

/** Ms until `token` gets 401; fails after LIMIT_MS. */
async function msUntilRefused(url: string, token: string): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < LIMIT_MS) {
    if ((await checkCredentials(url, token)) === 401) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`token still accepted ${LIMIT_MS} ms after the change`);
}

describe('item 3 of issue 8: cimmeria user revokes tokens of a running server', () => {
  const tmp = tempDirForAll();
  let data: string;
  let serve: ServeProcess;
  const user = (...args: string[]) => runCli(['user', ...args, '--data', data]);

  beforeAll(async () => {
    data = join(tmp.dir, 'data');
    await writeFile(join(tmp.dir, 'config.yaml'), WRITERS);
    expect((await user('add', 'alice', '--password', 'alice-1')).code).toBe(0);
    expect((await user('add', 'bob', '--password', 'bob-1')).code).toBe(0);
    serve = await startServe(
      ['--port', '0', '--host', '127.0.0.1', '--data', data, '--config', join(tmp.dir, 'config.yaml'), '--log-level', 'silent'],
      { env: ENV },
    );
  });
  afterAll(async () => {
    expect(await serve?.stop()).toBe(0);
  });

  it('item 3: after `user passwd`, the old token gets 401 within the bound; a new login works', async () => {
    const old = (await login(serve.url, 'alice', 'alice-1')).token;
    expect(await checkCredentials(serve.url, old)).toBe(200);
    expect((await runCli(['user', 'passwd', 'alice', '--data', data], { input: 'alice-2\n' })).code).toBe(0);
    expect(await msUntilRefused(serve.url, old)).toBeLessThan(LIMIT_MS);
    expect(await upload(serve.url, old)).toBe(401);
    const fresh = (await login(serve.url, 'alice', 'alice-2')).token;
    expect(await checkCredentials(serve.url, fresh)).toBe(200);
  });

  it('item 3: after `user remove`, the old token gets 401 within the bound, and `user add` of the same name does not revive it', async () => {
    const old = (await login(serve.url, 'bob', 'bob-1')).token;
    expect(await checkCredentials(serve.url, old)).toBe(200);
    expect((await user('remove', 'bob')).code).toBe(0);
    expect(await msUntilRefused(serve.url, old)).toBeLessThan(LIMIT_MS);
    expect(await upload(serve.url, old)).toBe(401);
    // Re-created with the very same password: still a new user for tokens.
    expect((await user('add', 'bob', '--password', 'bob-1')).code).toBe(0);
    await new Promise((r) => setTimeout(r, CACHE_SECONDS * 1000 + 200));
    expect(await checkCredentials(serve.url, old)).toBe(401);
    expect(await upload(serve.url, old)).toBe(401);
    expect(await checkCredentials(serve.url, (await login(serve.url, 'bob', 'bob-1')).token)).toBe(200);
  });
});

describe('item 3 of issue 8: users removed from the config', () => {
  const tmp = tempDirForAll();
  const running: ServeProcess[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
  });

  async function serveWith(users: Record<string, string>): Promise<ServeProcess> {
    const lines = Object.entries(users).map(([name, hash]) => `  ${name}: "${hash}"`);
    await writeFile(join(tmp.dir, 'config.yaml'), `users:\n${lines.join('\n')}\n${WRITERS}`);
    const server = await startServe(
      ['--port', '0', '--host', '127.0.0.1', '--data', join(tmp.dir, 'data'), '--config', join(tmp.dir, 'config.yaml'), '--log-level', 'silent'],
      { env: ENV },
    );
    running.push(server);
    return server;
  }

  it('item 3: a static user token stops working once the user is removed from the config and the server restarts', async () => {
    const users = { carol: await hashPassword('carol-pass'), dave: await hashPassword('dave-pass') };
    let server = await serveWith(users);
    const carol = (await login(server.url, 'carol', 'carol-pass')).token;
    expect(await checkCredentials(server.url, carol)).toBe(200);

    // A restart alone keeps the token valid...
    await server.stop();
    running.splice(0);
    server = await serveWith(users);
    expect(await checkCredentials(server.url, carol)).toBe(200);

    // ...removing carol from the config does not.
    await server.stop();
    running.splice(0);
    server = await serveWith({ dave: users.dave });
    expect(await checkCredentials(server.url, carol)).toBe(401);
    expect(await upload(server.url, carol)).toBe(401);
  });
});

describe('item 3 of issue 8: users of a conan_server conf', () => {
  const tmp = tempDirForAll();
  const running: ServeProcess[] = [];
  afterAll(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
  });

  async function serveConf(password: string): Promise<ServeProcess> {
    const conf = join(tmp.dir, 'server.conf');
    await writeFile(conf, `[server]\njwt_secret: a-shared-secret-of-the-cluster\n\n[users]\nerin: ${password}\n`);
    // Each node has its own data directory: only server.conf is shared.
    const data = join(tmp.dir, `data-${running.length}`);
    const server = await startServe(
      ['--port', '0', '--host', '127.0.0.1', '--data', data, '--conan-server-conf', conf, '--log-level', 'silent'],
      { env: { CIMMERIA_CREDENTIAL_CACHE_SECONDS: String(CACHE_SECONDS) } },
    );
    running.push(server);
    return server;
  }

  it('item 3: their tokens work on every node (each hashes server.conf itself) and stop once the password there changes', async () => {
    const a = await serveConf('erin-1');
    const b = await serveConf('erin-1');
    const token = (await login(a.url, 'erin', 'erin-1')).token;
    expect([await checkCredentials(a.url, token), await checkCredentials(b.url, token)]).toEqual([200, 200]);
    const c = await serveConf('erin-2');
    expect(await checkCredentials(c.url, token)).toBe(401);
  });
});
