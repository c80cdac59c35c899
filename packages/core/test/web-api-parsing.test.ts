import { describe, expect, it } from 'vitest';
import { ConanServerAuthorizer } from '../src/auth/authorizer.js';
import { parseConaninfo, requiredRecipe, requiredVersionMatches } from '../src/metadata/conaninfo.js';
import { compareConanVersions } from '../src/web-api/version-order.js';

describe('conaninfo.txt as the web API shows it', () => {
  it('reads settings, options and requires, ignoring other sections and junk', () => {
    const info = parseConaninfo(
      '[settings]\narch=x86_64\ncompiler.version=13\nos=Linux\n\n[options]\nshared=False\n<script>=x\n[requires]\nzlib/1.3.Z\nopenssl/3.2.1#rev:pid\n[conf]\ntools.x=1\nno equals sign\n',
    );
    expect(info).toEqual({
      settings: { arch: 'x86_64', 'compiler.version': '13', os: 'Linux' },
      options: { shared: 'False', '<script>': 'x' },
      requires: ['zlib/1.3.Z', 'openssl/3.2.1#rev:pid'],
    });
    // Keys such as __proto__ stay plain data.
    expect(parseConaninfo('[options]\n__proto__=1\n').options).toEqual({ ['__proto__']: '1' });
  });

  it('splits a required reference and matches versions as `who uses zlib/1.3?` means', () => {
    expect(requiredRecipe('zlib/1.3.Z')).toEqual({ name: 'zlib', version: '1.3.Z' });
    expect(requiredRecipe('zlib/1.3.1@acme/stable#r:p')).toEqual({ name: 'zlib', version: '1.3.1' });
    expect(requiredRecipe('garbage')).toBeUndefined();
    expect(requiredVersionMatches('1.3.Z', '1.3')).toBe(true);
    expect(requiredVersionMatches('1.3.Z', '1.3.1')).toBe(true);
    expect(requiredVersionMatches('1.3.1', '1.3')).toBe(true);
    expect(requiredVersionMatches('1.3.1', '1.30')).toBe(false);
    expect(requiredVersionMatches('1.Y.Z', '2')).toBe(false);
    expect(requiredVersionMatches('1.2', '1.2.1')).toBe(false);
  });
});

describe("Conan's version order", () => {
  it('orders as conan does: numbers as numbers, pre-releases before, builds after', () => {
    const sorted = ['1.10', '1.2', '1.2.0', '1.2-rc1', '1.2+b1', '2.0', '1.2.1', 'abc', '1.a'].sort(compareConanVersions);
    expect(sorted).toEqual(['1.2-rc1', '1.2', '1.2.0', '1.2+b1', '1.2.1', '1.10', '1.a', '2.0', 'abc']);
    expect(compareConanVersions('1.0', '1')).toBe(0);
  });
});

describe('ConanServerAuthorizer.readsAll', () => {
  it('is true only when whatever rule decides grants the principal', () => {
    const open = new ConanServerAuthorizer();
    expect(open.readsAll(undefined)).toBe(true);
    const restricted = new ConanServerAuthorizer({
      read: [
        { pattern: 'secret/*', users: ['alice'] },
        { pattern: '*/*@*/*', users: ['*'] },
      ],
    });
    expect(restricted.readsAll(undefined)).toBe(false);
    expect(restricted.readsAll({ name: 'bob' })).toBe(false);
    expect(restricted.readsAll({ name: 'alice' })).toBe(true);
    // No universal rule: some recipe matches none, and is denied.
    expect(new ConanServerAuthorizer({ read: [{ pattern: '*/*', users: ['*'] }] }).readsAll(undefined)).toBe(false);
    expect(new ConanServerAuthorizer({ read: [{ pattern: '*/*@*/*', users: ['?'] }] }).readsAll(undefined)).toBe(false);
    expect(new ConanServerAuthorizer({ read: [{ pattern: '*/*@*/*', users: ['@devs'] }] }).readsAll({ name: 'x', groups: ['@devs'] })).toBe(true);
  });
});
