import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from './errors.js';

/** Where things live inside the data directory. */
export function dataPaths(data: string) {
  return {
    /** The default database and blob store (`sqlite:` and `fs:` unless configured otherwise). */
    metadata: join(data, 'metadata.db'),
    blobs: join(data, 'blobs'),
    tokenSecret: join(data, 'token-secret'),
  };
}

/**
 * The token secret kept in `DATA/token-secret` (mode 0600), generated on
 * first use, so session tokens survive restarts without any configuration.
 */
export async function persistentTokenSecret(data: string): Promise<string> {
  const file = dataPaths(data).tokenSecret;
  const read = async () => {
    const secret = (await readFile(file, 'utf8')).trim();
    if (secret.length < 16) throw new ConfigError(`${file}: the token secret must be at least 16 characters; delete the file to get a new one`);
    return secret;
  };
  try {
    return await read();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(data, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  try {
    // `wx`: if another process created it meanwhile, use theirs rather than overwrite it.
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return read();
    throw error;
  }
}
