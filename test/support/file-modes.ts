import { stat } from 'node:fs/promises';
import { afterAll, beforeAll } from 'vitest';

/** The permission bits of the file or folder at `path`. */
export const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

/**
 * Runs the tests of the enclosing file or `describe` under umask 022, the usual umask of a
 * login shell, under which files are world-readable unless created otherwise; the previous
 * umask is restored after them.
 */
export function underLoginShellUmask(): void {
  let previous: number;
  beforeAll(() => {
    previous = process.umask(0o022);
  });
  afterAll(() => {
    process.umask(previous);
  });
}
