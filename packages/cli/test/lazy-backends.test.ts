import { cp, mkdir, readFile, realpath, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PG_URL, dropSchema, freshSchemaName } from '../../metadata-postgres/test/support.js';
import { runCli, startServe } from './support/cli-process.js';
import { tempDirEachTest } from './support/hooks.js';

// Issue 11 item 8: pg and the AWS SDK (90 MB installed, tens of MB in memory)
// are for clusters; a SQLite server should neither load nor need them.

const packageDir = new URL('..', import.meta.url).pathname;
const RECORDER = new URL('./support/record-imports.mjs', import.meta.url).pathname;
const pkg = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8'));

/** What only PostgreSQL or S3 needs, as resolved module URLs show it (in this workspace or installed). */
const CLUSTER_ONLY = {
  '@cimmeria/metadata-postgres': /\/(@cimmeria|packages)\/metadata-postgres\//,
  '@cimmeria/storage-s3': /\/(@cimmeria|packages)\/storage-s3\//,
  pg: /\/node_modules\/pg\//,
  'the AWS SDK': /\/node_modules\/@(aws-sdk|smithy)\//,
};

const tmp = tempDirEachTest();

/** Which of {@link CLUSTER_ONLY} appear among the recorded module URLs. */
async function clusterModulesIn(file: string): Promise<string[]> {
  const urls = (await readFile(file, 'utf8')).split('\n');
  return Object.entries(CLUSTER_ONLY)
    .filter(([, pattern]) => urls.some((url) => pattern.test(url)))
    .map(([name]) => name);
}

describe('item 8: modules a SQLite server loads', () => {
  it('cimmeria serve on SQLite and a directory never loads @cimmeria/metadata-postgres, @cimmeria/storage-s3, pg or the AWS SDK', async () => {
    const record = join(tmp.dir, 'modules.txt');
    const serve = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', join(tmp.dir, 'data')], {
      nodeOptions: ['--import', RECORDER],
      env: { RECORD_IMPORTS_TO: record },
    });
    try {
      expect((await fetch(`${serve.url}/readyz`)).status).toBe(200);
      expect((await fetch(`${serve.url}/v2/conans/search?q=*`)).status).toBe(200);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
    const urls = await readFile(record, 'utf8');
    // The recorder works: the SQLite store was recorded.
    expect(urls).toMatch(/\/(@cimmeria|packages)\/metadata-sqlite\//);
    expect(await clusterModulesIn(record)).toEqual([]);
  });

  it('(control: the same recorder sees them when PostgreSQL and S3 are configured)', async () => {
    const schema = freshSchemaName();
    const record = join(tmp.dir, 'modules.txt');
    try {
      const result = await runCli(['gc', '--dry-run', '--data', tmp.dir, '--database', PG_URL, '--storage', 's3://some-bucket?endpoint=http://127.0.0.1:1'], {
        nodeOptions: ['--import', RECORDER],
        env: { RECORD_IMPORTS_TO: record, CIMMERIA_DATABASE_SCHEMA: schema },
      });
      expect(result.stderr).toContain('Cannot use the blob store');
    } finally {
      await dropSchema(schema);
    }
    expect(await clusterModulesIn(record)).toEqual(Object.keys(CLUSTER_ONLY));
  });
});

describe('item 8: an installation without the optional backends (npm install --omit=optional)', () => {
  /** cimmeria in tmp/node_modules with its required dependencies only; returns its bin. */
  async function installWithoutOptional(): Promise<string> {
    const modules = join(tmp.dir, 'node_modules');
    const cli = join(modules, 'cimmeria');
    await mkdir(cli, { recursive: true });
    for (const entry of ['package.json', ...pkg.files]) await cp(join(packageDir, entry), join(cli, entry), { recursive: true });
    for (const name of Object.keys(pkg.dependencies)) {
      await mkdir(dirname(join(modules, name)), { recursive: true });
      await symlink(await realpath(join(packageDir, 'node_modules', name)), join(modules, name));
    }
    return join(cli, pkg.bin.cimmeria);
  }

  it('serves on SQLite, and says which package to install for postgres:// and s3://', async () => {
    expect(Object.keys(pkg.optionalDependencies ?? {}).sort()).toEqual(['@cimmeria/metadata-postgres', '@cimmeria/storage-s3']);
    const cli = await installWithoutOptional();
    const data = join(tmp.dir, 'data');

    const serve = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', data], { cli });
    try {
      expect((await fetch(`${serve.url}/v2/ping`)).status).toBe(200);
    } finally {
      expect(await serve.stop()).toBe(0);
    }

    const postgres = await runCli(['migrate', '--data', data, '--database', 'postgres://db.internal/cimmeria'], { cli });
    expect(postgres.stderr).toBe(
      'Install @cimmeria/metadata-postgres to use a postgres:// database: it is an optional dependency of cimmeria, ' +
        'missing from this installation (npm install @cimmeria/metadata-postgres)\n',
    );
    expect(postgres.code).toBe(1);

    const s3 = await runCli(['gc', '--data', data, '--storage', 's3://acme-conan/packages'], { cli });
    expect(s3.stderr).toBe(
      'Install @cimmeria/storage-s3 to use s3:// storage: it is an optional dependency of cimmeria, ' +
        'missing from this installation (npm install @cimmeria/storage-s3)\n',
    );
    expect(s3.code).toBe(1);
  });
});
