import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PG_URL, dropSchema, freshSchemaName, withAdmin } from '../../metadata-postgres/test/support.js';
import { login, runCli, startServe } from './support/cli-process.js';
import { tempDirEachTest } from './support/hooks.js';
import { s3BucketForAll } from './support/s3-bucket.js';

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
const RREV = '0123456789abcdef0123456789abcdef';
const RECIPE = `/v2/conans/hello/1.0/_/_/revisions/${RREV}/files`;
// PostgreSQL here trusts local connections, so any password works: it must never be printed.
const PASSWORD = 'pg-pass-never-logged';
const pgUrlWithPassword = () => {
  const url = new URL(PG_URL);
  url.password = PASSWORD;
  return url.toString();
};

const tmp = tempDirEachTest();
let schema: string;
beforeEach(async () => {
  schema = freshSchemaName();
});
afterEach(async () => {
  await dropSchema(schema);
});

describe('cimmeria serve on PostgreSQL and S3', () => {
  const s3 = s3BucketForAll();

  const storageUrl = (prefix: string) =>
    `s3://${s3.bucket}/${prefix}?endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=true&accessKeyId=S3RVER&secretAccessKey=S3RVER`;

  it('migrates at start, stores bytes in S3, redirects downloads there, and logs no secret', async () => {
    const env = {
      CIMMERIA_DATABASE: pgUrlWithPassword(),
      CIMMERIA_DATABASE_SCHEMA: schema,
      CIMMERIA_STORAGE: storageUrl('serve'),
      CIMMERIA_TOKEN_SECRET: 'a-shared-token-secret-of-the-cluster',
    };
    const server = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', join(tmp.dir, 'data')], { env });
    try {
      const password = /password: (\S+)/.exec(server.stderr())![1]!;
      const { token } = await login(server.url, 'admin', password);
      for (const [name, content] of [['conanfile.py', 'print(1)\n'], ['conanmanifest.txt', 'manifest\n']] as const) {
        const response = await fetch(`${server.url}${RECIPE}/${name}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'x-checksum-sha1': sha1(content) },
          body: content,
        });
        expect(response.status).toBe(200);
      }
      const download = await fetch(`${server.url}${RECIPE}/conanfile.py`, { redirect: 'manual' });
      expect(download.status).toBe(302);
      const location = download.headers.get('location')!;
      expect(location.startsWith(`${s3.endpoint}/${s3.bucket}/serve/blobs/`)).toBe(true);
      expect(await (await fetch(location)).text()).toBe('print(1)\n');

      // The tables are in the configured schema of the real database.
      const revisions = await withAdmin((client) =>
        client.query(`select count(*)::int as n from "${schema}".recipe_revisions where published_at is not null`),
      );
      expect(revisions.rows[0].n).toBe(1);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    const output = server.stdout() + server.stderr();
    expect(output).toContain('"database":"postgres://postgres:***@127.0.0.1:5432/test"');
    expect(output).toContain('secretAccessKey=***');
    expect(output).not.toContain(PASSWORD);
    expect(output).not.toContain('secretAccessKey=S3RVER');
  });

  it('warns when several nodes could not share tokens', async () => {
    const env = { CIMMERIA_DATABASE: PG_URL, CIMMERIA_DATABASE_SCHEMA: schema, CIMMERIA_STORAGE: storageUrl('warn') };
    const server = await startServe(['--port', '0', '--host', '127.0.0.1', '--data', join(tmp.dir, 'data')], { env });
    await server.stop();
    expect(server.stderr()).toContain('Set CIMMERIA_TOKEN_SECRET (the same on every node)');
  });

  it('shares users between the user command and the server through PostgreSQL', async () => {
    const flags = ['--database', PG_URL, '--storage', storageUrl('users'), '--data', join(tmp.dir, 'data')];
    const env = { CIMMERIA_DATABASE_SCHEMA: schema };
    const added = await runCli(['user', 'add', 'alice', '--password', 'wonderland', ...flags], { env });
    expect(added.stderr).toContain("Added user 'alice'");
    expect(added.code).toBe(0);
    const server = await startServe(['--port', '0', '--host', '127.0.0.1', ...flags], { env });
    try {
      expect(server.stderr()).not.toContain("Created user 'admin'");
      expect((await login(server.url, 'alice', 'wonderland')).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});

describe('cimmeria migrate', () => {
  it('applies the migrations once and then reports the database up to date', async () => {
    const args = ['migrate', '--database', pgUrlWithPassword(), '--data', tmp.dir];
    const env = { CIMMERIA_DATABASE_SCHEMA: schema };
    const first = await runCli(args, { env });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied 0001-initial$/m);
    expect(first.stderr).toContain('applied');
    const second = await runCli(args, { env });
    expect(second.code).toBe(0);
    expect(second.stdout).toBe('');
    expect(second.stderr).toContain('up to date');
    expect(first.stderr + second.stderr).not.toContain(PASSWORD);
  });

  it('migrates a SQLite database by default, in the data directory', async () => {
    const result = await runCli(['migrate', '--data', tmp.dir]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`sqlite:${join(tmp.dir, 'metadata.db')}`);
  });

  it('says why it cannot reach the database, without the password', async () => {
    const result = await runCli(['migrate', '--database', `postgres://postgres:${PASSWORD}@127.0.0.1:1/test`, '--data', tmp.dir], {
      env: { CIMMERIA_DATABASE_TIMEOUT_MS: '1000' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Cannot open the database postgres://postgres:***@127.0.0.1:1/test');
    expect(result.stderr).not.toContain(PASSWORD);
  });
});

describe('backend settings', () => {
  it('refuses unknown schemes without echoing the value', async () => {
    const result = await runCli(['migrate', '--database', 'mysql://root:hunter2@db/x', '--data', tmp.dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('database: expected sqlite:PATH or postgres://');
    expect(result.stderr).toContain('(from --database)');
    expect(result.stderr).not.toContain('hunter2');
  });

  it('refuses a malformed S3 URL without echoing it', async () => {
    const result = await runCli(['gc', '--storage', 's3://x/p?secretAccessKey=hunter2', '--data', tmp.dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('storage: Invalid S3 URL');
    expect(result.stderr).not.toContain('hunter2');
  });
});
