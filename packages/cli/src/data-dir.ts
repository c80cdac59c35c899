import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative, isAbsolute } from 'node:path';
import { databaseUrlOf, storageUrlOf } from './backends/locations.js';
import type { CimmeriaConfig } from './config/schema.js';
import { ConfigError } from './errors.js';

/**
 * Creates a folder for the server's data, and its missing parents, 0700:
 * password hashes, the token secret and packages are no business of other
 * local accounts. An existing folder keeps the mode its operator gave it.
 */
export async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

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
  await makePrivateDir(data);
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

/** Group or other accounts have some access. */
const OPEN_TO_OTHERS = 0o077;

/** Mode bits of `path`, or undefined when it cannot be seen (missing; a warning is no reason to fail a start). */
async function modeOf(path: string): Promise<number | undefined> {
  return stat(path).then(
    (info) => info.mode & 0o777,
    () => undefined,
  );
}

const isInside = (path: string, dir: string) => {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/** `path` as one shell word. */
const shellWord = (path: string) => (/^[\w./@%+=:,-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`);

/**
 * Lines warning that the local data (the data directory, a SQLite database
 * file, a blob directory) is open to other local accounts, as an install
 * made by an older version under umask 022 is, followed by the command that
 * makes it private. Empty when all is private (or not on this disk). The
 * modes are the operator's, who may have set them on purpose: this only
 * tells, it changes nothing.
 */
export async function exposedDataWarnings(
  config: Pick<CimmeriaConfig, 'data' | 'database' | 'storage' | 'tokenSecret'>,
): Promise<string[]> {
  const lines: string[] = [];
  const recursive: string[] = [];
  const files: string[] = [];
  const note = (what: string, path: string, mode: number) =>
    lines.push(`Warning: ${what} ${path} is open to other local accounts (mode ${mode.toString(8).padStart(4, '0')}).`);

  const database = databaseUrlOf(config);
  const storage = storageUrlOf(config);
  const localPaths = [database, storage].filter((url) => /^(sqlite|fs):/.test(url)).map((url) => url.slice(url.indexOf(':') + 1));
  // A cluster node (PostgreSQL, S3, a configured secret) keeps nothing in the data directory.
  const usesData = config.tokenSecret === undefined || localPaths.some((path) => isInside(path, config.data));
  const dataMode = usesData ? await modeOf(config.data) : undefined;
  if (dataMode !== undefined && dataMode & OPEN_TO_OTHERS) {
    note('the data directory', config.data, dataMode);
    recursive.push(config.data);
  }
  if (database.startsWith('sqlite:')) {
    const file = database.slice('sqlite:'.length);
    const mode = await modeOf(file);
    if (mode !== undefined && mode & OPEN_TO_OTHERS) {
      note('the database (it holds password hashes)', file, mode);
      if (isInside(file, config.data)) {
        if (!recursive.includes(config.data)) recursive.push(config.data);
      } else {
        for (const path of [file, `${file}-wal`, `${file}-shm`]) if ((await modeOf(path)) !== undefined) files.push(path);
      }
    }
  }
  if (storage.startsWith('fs:')) {
    const dir = storage.slice('fs:'.length);
    const mode = await modeOf(dir);
    if (mode !== undefined && mode & OPEN_TO_OTHERS && !isInside(dir, config.data)) {
      note('the blob directory', dir, mode);
      recursive.push(dir);
    }
  }
  if (lines.length === 0) return lines;
  const commands = [
    ...(recursive.length > 0 ? [`chmod -R go-rwx ${recursive.map(shellWord).join(' ')}`] : []),
    ...(files.length > 0 ? [`chmod go-rwx ${files.map(shellWord).join(' ')}`] : []),
  ];
  lines.push(`To make it private to the account running cimmeria, run: ${commands.join(' && ')}`);
  return lines;
}
