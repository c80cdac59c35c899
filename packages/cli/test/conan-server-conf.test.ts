import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { IniSyntaxError, conanServerConfFromIni, parseIni, readConanServerConf } from './support/api.js';
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
