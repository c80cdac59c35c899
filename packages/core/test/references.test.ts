import { describe, expect, it } from 'vitest';
import { checkFilePath } from '../src/reference/file-path.js';
import {
  checkPackageId,
  checkRevision,
  formatPackageRevision,
  formatRecipe,
  recipeRefFromSegments,
} from '../src/reference/references.js';

describe('recipe references from wire segments', () => {
  it('maps _/_ to a reference without user and channel', () => {
    expect(recipeRefFromSegments('hello', '1.0', '_', '_')).toEqual({ name: 'hello', version: '1.0' });
  });

  it('keeps user and channel', () => {
    const ref = recipeRefFromSegments('hello', '1.0', 'acme', 'stable');
    expect(formatRecipe(ref)).toBe('hello/1.0@acme/stable');
  });

  it.each(['zlib-ng', 'Boost', 'lib_foo', 'a+b', '_x', 'x.y'])('accepts the name %s', (name) => {
    expect(recipeRefFromSegments(name, '1.0', '_', '_').name).toBe(name);
  });

  it.each(['cci.20210118', '1.2.3-rc.1+build.5', '2.1.6'])('accepts the version %s', (version) => {
    expect(recipeRefFromSegments('pkg', version, '_', '_').version).toBe(version);
  });

  it.each(['a', '-x', '.x', '+x', 'a b', 'a/b', 'a!', 'x'.repeat(102), ''])('rejects the name %j', (name) => {
    expect(() => recipeRefFromSegments(name, '1.0', '_', '_')).toThrow(/Invalid name/);
  });

  it('rejects a user without a channel and the reverse', () => {
    expect(() => recipeRefFromSegments('hello', '1.0', 'acme', '_')).toThrow(/user and channel go together/);
    expect(() => recipeRefFromSegments('hello', '1.0', '_', 'stable')).toThrow(/user and channel go together/);
  });

  it('formats full package revisions like conan_server messages', () => {
    const ref = { name: 'hello', version: '1.0', revision: 'abc', packageId: 'def', packageRevision: '012' };
    expect(formatPackageRevision(ref)).toBe('hello/1.0@_/_#abc:def#012');
  });
});

describe('revisions and package ids', () => {
  it('accepts lowercase hex up to 64 digits', () => {
    expect(checkRevision('48b7d4f8e8c2eb849a190279fdce2c8c')).toBe('48b7d4f8e8c2eb849a190279fdce2c8c');
    expect(checkPackageId('9b430c7767068028f519c382e9362804069cf5d9')).toBe('9b430c7767068028f519c382e9362804069cf5d9');
    expect(checkRevision('a'.repeat(64))).toHaveLength(64);
  });

  // issue 9 item 1: what conan_server takes (any one path segment) is accepted when it is a safe segment.
  it.each(['myreciperev', 'ABC', 'pid1', 'xyz', '12 34', '...', '.hidden', 'a:b', 'é'.repeat(64), '😀'.repeat(64)])(
    'issue 9 item 1: accepts %j as conan_server does',
    (value) => {
      expect(checkRevision(value)).toBe(value);
      expect(checkPackageId(value)).toBe(value);
    },
  );

  it.each(['', '.', '..', '../x', 'a/b', 'a\\b', 'a\u0000b', 'a\nb', 'a\u007fb', 'a\u0085b', '\ud800', 'a'.repeat(65)])(
    'issue 9 item 1: rejects %j, which is not one safe path segment',
    (value) => {
      expect(() => checkRevision(value)).toThrow(/Invalid revision/);
      expect(() => checkPackageId(value)).toThrow(/Invalid package id/);
    },
  );

  it('shows control characters escaped and long values cut in the message', () => {
    expect(() => checkRevision('a\nb')).toThrow("Invalid revision 'a\\x0ab': must be 1-64 characters");
    expect(() => checkPackageId('x'.repeat(500))).toThrow(`'${'x'.repeat(80)}...'`);
  });
});

describe('file paths', () => {
  it.each(['conanfile.py', 'metadata/logs/build.log', 'conan_sources.tgz', '.hidden', 'a..b'])('accepts %s', (path) => {
    expect(checkFilePath(path)).toBe(path);
  });

  it.each([
    ['', /empty/],
    ['/etc/passwd', /absolute/],
    ['a/../b', /'\.\.' segments/],
    ['./a', /'\.' segments/],
    ['a//b', /empty path segments/],
    ['a/', /empty path segments/],
    ['a\\b', /backslashes/],
    ['a\u0000b', /control characters/],
    ['x'.repeat(1025), /longer than/],
  ])('rejects %j', (path, message) => {
    expect(() => checkFilePath(path)).toThrow(message);
  });

  it('shows control characters escaped in the message', () => {
    expect(() => checkFilePath('a\u0000b')).toThrow("'a\\x00b'");
  });
});
