import { describe, expect, it } from 'vitest';
import { distinctJoinedNames } from '../src/metadata/joined-names.js';
import { caseBlindNameRanges, startsWithIgnoringAsciiCase } from '../src/metadata/name-prefix-range.js';

describe('issue 13: every visible name read as one string', () => {
  it('drops repeats of names read in order and keeps those with the prefix, any case', () => {
    expect(distinctJoinedNames('Zeta\nabc\nabc\nzlib\nzlib\nzlib', '\n', '')).toEqual(['Zeta', 'abc', 'zlib']);
    expect(distinctJoinedNames('ZLIB\nZeta\nzlib\nzlib\nzm', '\n', 'zl')).toEqual(['ZLIB', 'zlib']);
    expect(distinctJoinedNames('only', '\n', '')).toEqual(['only']);
    expect(distinctJoinedNames('ab\nab', '\n', 'abc')).toEqual([]);
  });

  it('sorts by code units what a database read in another order, repeats apart', () => {
    expect(distinctJoinedNames('zlib\nabc\nZeta\nzlib\nabc\nB1', '\n', '')).toEqual(['B1', 'Zeta', 'abc', 'zlib']);
    expect(distinctJoinedNames('lib2\nlib10\nLIB3\nlib2', '\n', 'lib')).toEqual(['LIB3', 'lib10', 'lib2']);
  });

  it('reads ranges of name holding every case of the prefix, disjoint and in order', () => {
    const names = ['A', 'ZLIB', 'ZLib', 'Zeta', 'ZlIB', '_zlib', 'a', 'zl', 'zl_x', 'zlib', 'zlIB2', 'zlib2', 'zLiBrary', 'zm', 'zk', 'Zk', '~', 'a_b', 'A_B9'];
    for (const prefix of ['z', 'ZL', 'zLi', 'zl_', 'zlib2', 'ZLIBR', 'a', 'a_B', '_', '~', 'q', '\uffff', 'z\uffff']) {
      const ranges = caseBlindNameRanges(prefix);
      const inRange = (n: string) => ranges.filter((r) => n >= r.from && (r.to === undefined || n < r.to)).length;
      for (const name of names) {
        const wanted = startsWithIgnoringAsciiCase(name, prefix.toLowerCase());
        // Every name with the prefix is in exactly one range.
        if (wanted) expect(inRange(name), `${prefix} ${name}`).toBe(1);
        else expect(inRange(name), `${prefix} ${name}`).toBeLessThanOrEqual(1);
      }
      for (let i = 1; i < ranges.length; i++) expect(ranges[i - 1]!.to! <= ranges[i]!.from, prefix).toBe(true);
    }
    expect(caseBlindNameRanges('_1')).toEqual([{ from: '_1', to: '_2' }]);
    expect(caseBlindNameRanges('z_')).toEqual([
      { from: 'Z_', to: 'Z`' },
      { from: 'z_', to: 'z`' },
    ]);
    // Three letters get ranges of their own; the rest is bounded by its cases.
    const zlib = caseBlindNameRanges('zLib');
    expect(zlib).toHaveLength(8);
    expect(zlib[0]).toEqual({ from: 'ZLIB', to: 'ZLIc' });
    expect(zlib[7]).toEqual({ from: 'zliB', to: 'zlic' });
    expect(caseBlindNameRanges('')).toEqual([]);
  });
});
