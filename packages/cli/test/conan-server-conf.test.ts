import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IniSyntaxError, conanServerConfFromIni, parseIni, readConanServerConf } from './support/api.js';
import { login, startServe } from './support/cli-process.js';
import { tempDirEachTest } from './support/hooks.js';
import { verifyPassword } from '@cimmeria/core';

const SERVER_CONF = new URL('../../../conformance/server.conf', import.meta.url).pathname;

describe('parseIni', () => {
  it('reads sections, both separators and comments, keeping order', () => {
    const doc = parseIni(
      '# comment\n; another\n[a]\nx: 1\ny = two words # not a comment\n\n[b]\n*/*@*/*: demo, admin\nz/1.0@_/_: *\n[a]\nw: 3\n',
    );
    expect(doc.get('a')!.map((e) => [e.key, e.value])).toEqual([
      ['x', '1'],
      ['y', 'two words # not a comment'],
      ['w', '3'],
    ]);
    expect(doc.get('b')!.map((e) => e.key)).toEqual(['*/*@*/*', 'z/1.0@_/_']);
  });

  it('splits on the first separator, so values may contain : and =', () => {
    expect(parseIni('[users]\nbob: pa:ss=word\n').get('users')![0]).toMatchObject({ key: 'bob', value: 'pa:ss=word' });
  });

  it('names the line of a malformed entry', () => {
    expect(() => parseIni('[s]\nok: 1\nnot an entry\n')).toThrow(IniSyntaxError);
    expect(() => parseIni('[s]\nok: 1\nnot an entry\n')).toThrow(/line 3/);
    expect(() => parseIni('key: value\n')).toThrow(/outside any \[section\]/);
  });
});

describe('conan_server server.conf', () => {
  it('takes port, jwt settings, users and ordered permissions', async () => {
    const conf = conanServerConfFromIni(parseIni(await readFile(SERVER_CONF, 'utf8')));
    expect(conf).toEqual({
      port: '9310',
      jwtSecret: 'abcdefghijkl',
      jwtExpireMinutes: '120',
      users: { demo: 'demo', admin: 's3cret', other: 'other' },
      read: [
        { pattern: 'secret/*@*/*', users: ['demo'] },
        { pattern: '*/*@*/*', users: ['*'] },
      ],
      write: [{ pattern: '*/*@*/*', users: ['demo', 'admin'] }],
    });
  });

  it('keeps rule order as written, even when a broad rule comes first', () => {
    const conf = conanServerConfFromIni(
      parseIni('[read_permissions]\n*/*@*/*: ?\nsecret/*@*/*: demo\nzlib/*: *\n[write_permissions]\n'),
    );
    expect(conf.read!.map((r) => r.pattern)).toEqual(['*/*@*/*', 'secret/*@*/*', 'zlib/*']);
    expect(conf.write).toEqual([]); // present but empty: nobody may write
    expect(conf.users).toBeUndefined();
  });

  it('treats empty [server] values as unset', () => {
    expect(conanServerConfFromIni(parseIni('[server]\nport:\njwt_secret:\n'))).toEqual({});
  });

  it('becomes a configuration layer with hashed passwords and a usable token secret', async () => {
    const warnings: string[] = [];
    const layer = await readConanServerConf(SERVER_CONF);
    warnings.push(...(layer.warnings ?? []));
    const users = layer.values.users as Record<string, string>;
    expect(Object.keys(users)).toEqual(['demo', 'admin', 'other']);
    expect(users.admin).toMatch(/^scrypt\$/);
    expect(await verifyPassword('s3cret', users.admin!)).toBe(true);
    expect(await verifyPassword('demo', users.admin!)).toBe(false);
    expect(layer.values.port).toBe('9310');
    expect(layer.values.tokenExpiresMinutes).toBe('120');
    // 12 characters: too short for HS256 here, stretched deterministically.
    expect((layer.values.tokenSecret as string).length).toBe(64);
    expect(warnings.join()).toContain('jwt_secret is shorter than 16 characters');
    expect(layer.sources.port).toBe(`${SERVER_CONF} [server] port`);
    expect(layer.sources['permissions.read']).toBe(`${SERVER_CONF} [read_permissions]`);
  });
});

// Issue 9: a server.conf that conan_server runs with runs here too, or says why not.
describe('conan_server server.conf as conan_server reads it (real process)', () => {
  const tmp = tempDirEachTest();

  const SECRET = 'a-secret-of-more-than-16-characters';

  /** Writes a server.conf and returns the `serve` arguments that use it. */
  async function confArgs(text: string): Promise<string[]> {
    const file = join(tmp.dir, 'server.conf');
    await writeFile(file, text);
    return ['--port', '0', '--host', '127.0.0.1', '--data', join(tmp.dir, 'data'), '--conan-server-conf', file, '--log-level', 'silent'];
  }

  /** Starts `serve ARGS`, expecting it to refuse: its exit message, or a failure if it listens instead. */
  async function refusedStart(args: string[]): Promise<string> {
    const outcome = await startServe(args).then(
      async (serve) => {
        await serve.stop();
        return undefined;
      },
      (error: Error) => error.message,
    );
    expect(outcome, 'serve should refuse to start').toBeDefined();
    return outcome!;
  }

  const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));

  it('issue 9 item 3: starts with jwt_expire_minutes: 0.02, whose tokens live 1.2 s (rounded to 1 s)', async () => {
    const serve = await startServe(await confArgs(`[server]\njwt_secret: ${SECRET}\njwt_expire_minutes: 0.02\n[users]\ndemo: demo\n`));
    try {
      const { status, token } = await login(serve.url, 'demo', 'demo');
      expect(status).toBe(200);
      const { iat, exp } = claims(token);
      expect(exp - iat).toBe(1);
      // Once past its expiry, the token asks for a new login.
      await new Promise((resolve) => setTimeout(resolve, (exp + 1) * 1000 - Date.now()));
      const check = await fetch(`${serve.url}/v2/users/check_credentials`, { headers: { authorization: `Bearer ${token}` } });
      expect(check.status).toBe(401);
      expect(await check.text()).toMatch(/expired/);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  it("issue 9 item 3: a [users] name with a space ('super admin') logs in and is named in the permission rules", async () => {
    const serve = await startServe(
      await confArgs(
        `[server]\njwt_secret: ${SECRET}\n` +
          '[users]\nsuper admin: s3cret\nother: other\n' +
          '[write_permissions]\n*/*@*/*: demo, super admin\n' +
          '[read_permissions]\nsecret/*@*/*: super admin\n*/*@*/*: *\n',
      ),
    );
    try {
      const admin = await login(serve.url, 'super admin', 's3cret');
      expect(admin.status).toBe(200);
      expect(await (await fetch(`${serve.url}/v2/users/check_credentials`, { headers: { authorization: `Bearer ${admin.token}` } })).text()).toBe(
        'super admin',
      );
      const other = await login(serve.url, 'other', 'other');
      const files = '/v2/conans/secret/1.0/_/_/revisions/abc123/files';
      const put = (token: string, path: string) =>
        fetch(`${serve.url}${files}/${path}`, { method: 'PUT', body: path, headers: { authorization: `Bearer ${token}` } });
      expect((await put(other.token, 'conanfile.py')).status).toBe(403);
      expect((await put(admin.token, 'conanfile.py')).status).toBe(200);
      expect((await put(admin.token, 'conanmanifest.txt')).status).toBe(200);
      const latest = (token: string) =>
        fetch(`${serve.url}/v2/conans/secret/1.0/_/_/latest`, { headers: { authorization: `Bearer ${token}` } });
      expect((await latest(admin.token)).status).toBe(200);
      expect((await latest(other.token)).status).toBe(403);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  it('issue 9 item 3: refuses (exit 2) a [users] name no client could use, naming it and saying why', async () => {
    const refusal = await refusedStart(await confArgs('[users]\nops,dev: pw\njosé: pw\nok: pw\n'));
    expect(refusal).toMatch(/exited with 2 before listening/);
    expect(refusal).toContain(
      "Invalid configuration: users.ops,dev: user name 'ops,dev' contains ',', which separates users in permission rules: no rule could name it (from ",
    );
    expect(refusal).toMatch(/users\.josé: user name 'josé' has characters other than printable ASCII: .*Latin-1/);
    expect(refusal).not.toContain("'ok'");
  });

  it.each([
    ['custom_authenticator', 'Authenticator'],
    ['custom_authorizer', 'Authorizer'],
  ])('issue 9 item 4: refuses to start (exit 2) with a [server] %s, naming it and what to use instead', async (key, replacement) => {
    const args = await confArgs(`[server]\njwt_secret: ${SECRET}\n${key}: my_plugin\n[users]\ndemo: demo\n`);
    const refusal = await refusedStart(args);
    expect(refusal).toMatch(/exited with 2 before listening/);
    expect(refusal).toContain(`[server] ${key} = my_plugin`);
    expect(refusal).toContain(replacement);
    expect(refusal).toContain('ignoreConanServerPlugins');

    // An explicit setting goes on without it, with a warning.
    const serve = await startServe(args, { env: { CIMMERIA_IGNORE_CONAN_SERVER_PLUGINS: 'true' } });
    try {
      expect(serve.stderr()).toMatch(new RegExp(`warning: .*\\[server\\] ${key} = my_plugin is ignored`));
      expect((await login(serve.url, 'demo', 'demo')).status).toBe(200);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });
});
