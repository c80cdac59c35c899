import { describe, expect, it } from 'vitest';
import { compileFnmatch, literalPrefix } from '../src/reference/fnmatch.js';
import { recipeMatcher } from '../src/reference/recipe-search.js';

describe('fnmatch patterns', () => {
  it.each([
    ['*', 'anything', true],
    ['hel?o', 'hello', true],
    ['hel?o', 'helo', false],
    ['[hz]ello', 'zello', true],
    ['[!hz]ello', 'zello', false],
    ['a.b', 'axb', false],
    ['zlib-ng/2.*', 'zlib-ng/2.1.6', true],
    ['(x)', '(x)', true],
    ['[unclosed', '[unclosed', true],
  ])('%s on %s -> %s', (pattern, value, expected) => {
    expect(compileFnmatch(pattern).matches(value)).toBe(expected);
  });

  it('is case-sensitive unless asked otherwise', () => {
    expect(compileFnmatch('HEL*').matches('hello')).toBe(false);
    expect(compileFnmatch('HEL*', { ignoreCase: true }).matches('hello')).toBe(true);
  });

  it('finds the literal prefix before the first wildcard', () => {
    expect(literalPrefix('zlib/1.*')).toBe('zlib/1.');
    expect(literalPrefix('*')).toBe('');
    expect(literalPrefix('hello')).toBe('hello');
  });
});

describe('recipe search matching (conan search / conan list)', () => {
  const hello = { name: 'hello', version: '1.0' };
  const helloAcme = { name: 'hello', version: '1.0', user: 'acme', channel: 'stable' };

  it.each([
    ['hello', hello, true],
    ['hello/*', hello, true],
    ['hello/*', helloAcme, true],
    ['hello/1.0', hello, true],
    ['hello/1.0', helloAcme, true],
    ['hello/1.0@', helloAcme, true],
    ['hello/1.0@acme', helloAcme, true],
    ['hello/1.0@acme/*', helloAcme, true],
    ['hello/1.0@acme/stable', helloAcme, true],
    ['hello/1.0@acme/testing', helloAcme, false],
    ['hello/1.0@*', hello, false],
    ['hell', hello, false],
    ['*@acme/*', helloAcme, true],
    ['nothing*', hello, false],
  ])('%s matches %o: %s', (pattern, ref, expected) => {
    expect(recipeMatcher(pattern, false)(ref)).toBe(expected);
  });

  it('matches case-insensitively when asked', () => {
    expect(recipeMatcher('HEL*', true)(hello)).toBe(true);
    expect(recipeMatcher('HEL*', false)(hello)).toBe(false);
  });
});
