import { chmod, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { modeOf, underLoginShellUmask } from '../../../test/support/file-modes.js';
import { exposedDataWarnings } from '../src/data-dir.js';
import { login, startServe, type ServeProcess } from './support/cli-process.js';
import { tempDirEachTest } from './support/hooks.js';

const RECIPE_FILE = '/v2/conans/hello/1.0/_/_/revisions/0123456789abcdef0123456789abcdef/files/conanfile.py';
const args = (data: string) => ['--port', '0', '--host', '127.0.0.1', '--data', data];

underLoginShellUmask();

const tmp = tempDirEachTest();
let server: ServeProcess | undefined;
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
});

async function modesUnder(dir: string): Promise<Map<string, number>> {
  const modes = new Map<string, number>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    modes.set(path.slice(dir.length + 1), await modeOf(path));
  }
  return modes;
}

describe('cimmeria serve keeps its data private', () => {
  it('item 11 of issue 8: under umask 022, the data directory is 0700 and metadata.db, its journal, blobs and the token secret are 0600', async () => {
    const data = join(tmp.dir, 'data');
    server = await startServe(args(data));
    const { token } = await login(server.url, 'admin', /password: (\S+)/.exec(server.stderr())![1]!);
    const upload = await fetch(`${server.url}${RECIPE_FILE}`, {
      method: 'PUT',
      body: 'from conan import ConanFile\n',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(upload.status).toBe(200);
    // A fresh install is private: nothing to warn about.
    expect(server.stderr()).not.toMatch(/other local accounts/);

    expect(await modeOf(data)).toBe(0o700);
    const modes = await modesUnder(data);
    // While the server runs, SQLite's WAL and shared-memory files exist too.
    for (const name of ['metadata.db', 'metadata.db-wal', 'metadata.db-shm', 'token-secret']) {
      expect(modes.get(name), name).toBe(0o600);
    }
    let blobFiles = 0;
    for (const [path, mode] of modes) {
      const isDir = (await stat(join(data, path))).isDirectory();
      if (!isDir && path.startsWith('blobs/')) blobFiles += 1;
      expect(mode, path).toBe(isDir ? 0o700 : 0o600);
    }
    // The uploaded file, and the folders above it.
    expect(blobFiles).toBe(1);
  });

  it('item 11 of issue 8: warns at start when an existing data directory or metadata.db is open to others, and changes no mode', async () => {
    const data = join(tmp.dir, 'old-install');
    await mkdir(data);
    await chmod(data, 0o755);
    // An empty file is an empty SQLite database: what an older version left, 0644.
    await writeFile(join(data, 'metadata.db'), '');
    await chmod(join(data, 'metadata.db'), 0o644);

    server = await startServe(args(data));
    const stderr = server.stderr();
    expect(stderr).toContain(`Warning: the data directory ${data} is open to other local accounts (mode 0755).`);
    expect(stderr).toContain(`${join(data, 'metadata.db')} is open to other local accounts (mode 0644).`);
    expect(stderr).toContain(`run: chmod -R go-rwx ${data}\n`);
    // The operator's modes are theirs to change.
    expect(await modeOf(data)).toBe(0o755);
    expect(await modeOf(join(data, 'metadata.db'))).toBe(0o644);
  });
});

describe('exposedDataWarnings', () => {
  it('item 11 of issue 8: names a database outside the data directory with its own chmod, and not a data directory a cluster node does not use', async () => {
    const data = join(tmp.dir, 'data');
    await mkdir(data);
    await chmod(data, 0o755);
    const db = join(tmp.dir, 'elsewhere.db');
    await writeFile(db, '');
    await chmod(db, 0o644);

    expect(await exposedDataWarnings({ data, database: `sqlite:${db}`, storage: 's3://bucket', tokenSecret: 'a-secret-of-16-characters' })).toEqual([
      `Warning: the database (it holds password hashes) ${db} is open to other local accounts (mode 0644).`,
      `To make it private to the account running cimmeria, run: chmod go-rwx ${db}`,
    ]);
    expect(
      await exposedDataWarnings({ data, database: 'postgres://db/cimmeria', storage: 's3://bucket', tokenSecret: 'a-secret-of-16-characters' }),
    ).toEqual([]);
    // Without a configured secret, the token secret lives in the data directory.
    expect(await exposedDataWarnings({ data, database: 'postgres://db/cimmeria', storage: 's3://bucket' })).toEqual([
      `Warning: the data directory ${data} is open to other local accounts (mode 0755).`,
      `To make it private to the account running cimmeria, run: chmod -R go-rwx ${data}`,
    ]);
  });
});
