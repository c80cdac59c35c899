import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { login, runCli, startServe } from './support/cli-process.js';
import { tempDirEachTest } from './support/hooks.js';

const tmp = tempDirEachTest();

const args = (data: string) => ['--port', '0', '--host', '127.0.0.1', '--data', data];
const RECIPE_FILE = '/v2/conans/hello/1.0/_/_/revisions/0123456789abcdef0123456789abcdef/files/conanfile.py';

describe('cimmeria serve', () => {
  it('creates admin on first start, prints its password once, and keeps tokens valid across restarts', async () => {
    const data = join(tmp.dir, 'data');
    const first = await startServe(args(data));
    let password: string;
    let token: string;
    try {
      const printed = first.stderr().match(/Created user 'admin' with password: (\S+)/g) ?? [];
      expect(printed).toHaveLength(1);
      password = /password: (\S+)/.exec(printed[0]!)![1]!;
      expect(first.stderr()).toContain("only user 'admin' may upload");

      const ok = await login(first.url, 'admin', password);
      expect(ok.status).toBe(200);
      token = ok.token;
      expect((await login(first.url, 'admin', `${password}x`)).status).toBe(401);

      // The default write rule lets admin upload; anonymous callers are asked to log in.
      const upload = (authorization?: string) =>
        fetch(`${first.url}${RECIPE_FILE}`, {
          method: 'PUT',
          body: 'from conan import ConanFile\n',
          headers: authorization ? { authorization } : {},
        });
      expect((await upload(`Bearer ${token}`)).status).toBe(200);
      expect((await upload()).status).toBe(401);
    } finally {
      expect(await first.stop('SIGINT')).toBe(0);
    }

    const second = await startServe(args(data));
    try {
      expect(second.stderr()).not.toContain('password');
      expect((await login(second.url, 'admin', password)).status).toBe(200);
      // The generated token secret was kept in the data directory.
      const check = await fetch(`${second.url}/v2/users/check_credentials`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(check.status).toBe(200);
      expect(await check.text()).toBe('admin');
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });

  it('bounds conaninfo.txt by maxTextFileBytes (issue 8 item 5) and can make a re-upload the latest (issue 9 item 2)', async () => {
    const serve = await startServe(args(tmp.dir), {
      env: { CIMMERIA_MAX_TEXT_FILE_BYTES: '100', CIMMERIA_REUPLOAD_MAKES_LATEST: 'true' },
    });
    try {
      const password = /password: (\S+)/.exec(serve.stderr())![1]!;
      const { token } = await login(serve.url, 'admin', password);
      const recipe = '/v2/conans/hello/1.0/_/_';
      const put = async (path: string, body: string) =>
        (await fetch(`${serve.url}${recipe}${path}`, { method: 'PUT', body, headers: { authorization: `Bearer ${token}` } })).status;
      expect(await put('/revisions/a1/packages/f00d/revisions/b1/files/conaninfo.txt', 'x'.repeat(101))).toBe(413);
      expect(await put('/revisions/a1/packages/f00d/revisions/b1/files/conaninfo.txt', 'x'.repeat(100))).toBe(200);
      for (const revision of ['a1', 'a2', 'a1']) expect(await put(`/revisions/${revision}/files/conanmanifest.txt`, revision)).toBe(200);
      expect((await (await fetch(`${serve.url}${recipe}/latest`)).json()).revision).toBe('a1');
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  it('logs one line per request with method, path, status and ms, and never credentials', async () => {
    const serve = await startServe(args(tmp.dir));
    const password = /password: (\S+)/.exec(serve.stderr())![1]!;
    let token: string;
    try {
      token = (await login(serve.url, 'admin', password)).token;
      await fetch(`${serve.url}/v2/users/check_credentials?secret=query`, { headers: { authorization: `Bearer ${token}` } });
      await fetch(`${serve.url}/v2/conans/missing/1.0/_/_/latest`);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
    const lines = serve
      .stdout()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = lines.filter((l) => 'status' in l);
    expect(requests.map((l) => [l.method, l.path, l.status])).toEqual([
      ['GET', '/v2/users/authenticate', 200],
      ['GET', '/v2/users/check_credentials', 200],
      ['GET', '/v2/conans/missing/1.0/_/_/latest', 404],
    ]);
    for (const line of requests) {
      expect(typeof line.ms).toBe('number');
      expect(line.msg).toMatch(/^GET \/v2\/\S+ \d{3} [\d.]+ms$/);
    }
    const everything = serve.stdout() + serve.stderr().replace(/password: \S+/, '');
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(password);
    expect(everything).not.toMatch(/authorization|Basic |Bearer |secret=query/i);
  });

  it('exits 1 with a clear message when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await runCli(['serve', '--port', String(port), '--host', '127.0.0.1', '--data', tmp.dir]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`Cannot listen on 127.0.0.1:${port}`);
    } finally {
      blocker.close();
    }
  });
});
