import type { ByteRange } from '../storage/blob-store.js';
import { ConanError } from '../service/errors.js';

/**
 * Parses a single-range `Range: bytes=...` header against a blob size.
 * Returns `undefined` when the whole body should be sent (no header, or a
 * form we ignore such as multiple ranges, which RFC 9110 allows).
 * Throws `RANGE_NOT_SATISFIABLE` when the range lies outside the blob.
 */
export function parseRange(header: string | null, size: number): ByteRange | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  let start: number;
  let end: number;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) throw unsatisfiable(size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(first);
    end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
    if (last !== '' && Number(last) < start) return undefined;
  }
  if (start >= size) throw unsatisfiable(size);
  return { start, end };
}

function unsatisfiable(size: number): ConanError {
  return new ConanError('RANGE_NOT_SATISFIABLE', `Requested range not satisfiable (size ${size})`, {
    'content-range': `bytes */${size}`,
  });
}
