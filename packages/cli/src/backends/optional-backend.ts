import { CommandError } from '../errors.js';

/** True when `error` says the package `name` itself is not installed (not one of its own dependencies). */
function isMissingPackage(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && typeof message === 'string' && message.includes(`'${name}'`);
}

/**
 * Loads a backend package that the CLI lists as optional (PostgreSQL, S3):
 * `npm install --omit=optional cimmeria` leaves them, and the AWS SDK and
 * `pg` with them, out of a SQLite-only install. When one is needed and not
 * there, says which package to install, instead of a module resolution stack.
 */
export async function importBackend<T>(load: () => Promise<T>, name: string, use: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isMissingPackage(error, name)) {
      throw new CommandError(`Install ${name} to use ${use}: it is an optional dependency of cimmeria, missing from this installation (npm install ${name})`);
    }
    throw error;
  }
}
