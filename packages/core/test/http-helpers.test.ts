import { describe, expect, it } from 'vitest';
import { parseRange } from '../src/http/range.js';
import { apiSegments } from '../src/http/request-parsing.js';
import { formatTime } from '../src/http/responses.js';

describe('Range headers', () => {
  it.each([
    ['bytes=0-9', { start: 0, end: 9 }],
    ['bytes=10-', { start: 10, end: 99 }],
    ['bytes=-10', { start: 90, end: 99 }],
    ['bytes=95-200', { start: 95, end: 99 }],
    ['bytes=-500', { start: 0, end: 99 }],
  ])('%s on 100 bytes', (header, range) => {
    expect(parseRange(header, 100)).toEqual(range);
  });

  it('ignores absent, multi-range and malformed headers (whole body)', () => {
    expect(parseRange(null, 100)).toBeUndefined();
    expect(parseRange('bytes=0-1,5-6', 100)).toBeUndefined();
    expect(parseRange('items=0-1', 100)).toBeUndefined();
    expect(parseRange('bytes=9-1', 100)).toBeUndefined();
  });

  it('refuses ranges starting past the end', () => {
    expect(() => parseRange('bytes=100-', 100)).toThrow(/not satisfiable/);
    expect(() => parseRange('bytes=-0', 100)).toThrow(/not satisfiable/);
  });
});

describe('base paths', () => {
  it('finds the API under any prefix', () => {
    expect(apiSegments('/v1/ping')).toEqual(['v1', 'ping']);
    expect(apiSegments('/artifactory/api/conan/v2/conans/search')).toEqual(['v2', 'conans', 'search']);
    expect(apiSegments('/nothing/here')).toBeUndefined();
  });

  it('strips an explicit base path', () => {
    expect(apiSegments('/conan/v2/ping', '/conan')).toEqual(['v2', 'ping']);
    expect(apiSegments('/other/v2/ping', '/conan')).toBeUndefined();
  });

  it('decodes segments and refuses encoded slashes', () => {
    expect(apiSegments('/v2/a%20b')).toEqual(['v2', 'a b']);
    expect(() => apiSegments('/v2/a%2Fb')).toThrow(/Encoded '\/'/);
    expect(() => apiSegments('/v2/%E0%A4%A')).toThrow(/Malformed/);
  });
});

describe('times', () => {
  it('formats microseconds as ISO 8601 UTC like conan_server', () => {
    expect(formatTime(1_795_388_539_321_064)).toBe('2026-11-22T23:02:19.321064+00:00');
  });
});
