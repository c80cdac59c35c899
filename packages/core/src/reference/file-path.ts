import { ConanError } from '../service/errors.js';
import { printable } from './printable.js';

const MAX_PATH_LENGTH = 1024;

/**
 * Validates a file path inside a revision (`conanfile.py`,
 * `metadata/logs/build.log`). Rejects anything that could escape or alias:
 * `..`, `.`, absolute paths, backslashes, NUL and other control characters,
 * and empty segments.
 */
export function checkFilePath(path: string): string {
  const reject = (why: string) => new ConanError('INVALID_PATH', `Invalid file path '${printable(path)}': ${why}`);
  if (path.length === 0) throw reject('empty');
  if (path.length > MAX_PATH_LENGTH) throw reject(`longer than ${MAX_PATH_LENGTH} characters`);
  if (path.startsWith('/')) throw reject('absolute paths are not allowed');
  if (path.includes('\\')) throw reject('backslashes are not allowed');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) throw reject('control characters are not allowed');
  for (const segment of path.split('/')) {
    if (segment === '') throw reject('empty path segments are not allowed');
    if (segment === '.' || segment === '..') throw reject(`'${segment}' segments are not allowed`);
  }
  return path;
}
