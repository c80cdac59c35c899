import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_URL, dropSchema, freshSchemaName } from '../packages/metadata-postgres/test/support.js';
import { startS3, type TestS3 } from '../packages/storage-s3/test/support/s3rver.js';
import {
  backendSwapSnippet,
  embeddingSnippet,
  programmaticSnippet,
  runToEnd,
  snippetEnv,
  startSnippet,
  swapStores,
  uploadAndDownload,
  withLiteral,
} from './support/readme-snippets.js';

// The README's code, run as a reader runs it: saved as server.mjs in an empty
// folder of an app whose node_modules holds the packages (here the
// workspace's builds; test/packaging.test.ts does the same with the packed
// tarballs installed by npm).
const PACKAGES: Record<string, string> = {
  '@cimmeria/core': 'core',
  '@cimmeria/metadata-sqlite': 'metadata-sqlite',
  '@cimmeria/storage-fs': 'storage-fs',
  '@cimmeria/metadata-postgres': 'metadata-postgres',
  '@cimmeria/storage-s3': 'storage-s3',
  cimmeria: 'cli',
};

let app: string;
beforeAll(async () => {
  app = await mkdtemp(join(tmpdir(), 'cimmeria-readme-'));
  await mkdir(join(app, 'node_modules', '@cimmeria'), { recursive: true });
  for (const [name, folder] of Object.entries(PACKAGES)) {
    await symlink(new URL(`../packages/${folder}`, import.meta.url).pathname, join(app, 'node_modules', name), 'dir');
  }
});
afterAll(() => rm(app, { recursive: true, force: true }));

/** A fresh, empty working folder inside the app, holding `code` as `server.mjs`. */
async function saved(code: string): Promise<string> {
  const dir = await mkdtemp(join(app, 'run-'));
  await writeFile(join(dir, 'server.mjs'), code);
  return dir;
}

describe('README: Embedding', () => {
  it('item 3 of issue 11: the embedding example runs as written in an empty folder (./data created) and serves uploads and downloads', async () => {
    const dir = await saved(embeddingSnippet());
    const server = await startSnippet('server.mjs', dir, snippetEnv());
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await uploadAndDownload(server.url);
      expect((await stat(join(dir, 'data', 'metadata.db'))).isFile()).toBe(true);
      expect((await stat(join(dir, 'data'))).mode & 0o777).toBe(0o700);
    } finally {
      await server.stop();
    }
  });

  it('item 3 of issue 11: without TOKEN_SECRET the example stops at once with a line saying what to set', async () => {
    const dir = await saved(embeddingSnippet());
    const { code, output } = await runToEnd('server.mjs', dir, snippetEnv({ TOKEN_SECRET: undefined }));
    expect(code).not.toBe(0);
    expect(output).toContain('Set TOKEN_SECRET');
    expect(output).not.toContain("reading 'length'");
  });

  it('item 6 of issue 11: the PostgreSQL + S3 swap runs on PostgreSQL (a schema of its own) and S3, and downloads come from S3', async () => {
    const schema = freshSchemaName();
    const s3: TestS3 = await startS3();
    try {
      const bucket = await s3.createBucket(s3.client());
      let code = swapStores(embeddingSnippet(), backendSwapSnippet());
      code = withLiteral(code, "'postgres://app@db.internal:5432/app'", JSON.stringify(PG_URL));
      code = withLiteral(code, "schema: 'cimmeria'", `schema: '${schema}'`);
      const s3Url = `s3://${bucket}/packages?endpoint=${s3.endpoint}&forcePathStyle=true&accessKeyId=S3RVER&secretAccessKey=S3RVER&region=us-east-1`;
      code = withLiteral(code, "'s3://acme-conan/packages?region=eu-west-1'", JSON.stringify(s3Url));
      const dir = await saved(code);
      const server = await startSnippet('server.mjs', dir, snippetEnv());
      try {
        await uploadAndDownload(server.url);
        // Bytes come from S3 (a redirect to a presigned URL), not from the node.
        const download = await fetch(`${server.url}/v2/conans/readme/1.0/_/_/revisions/4f1e2d/files/conan_export.tgz`, {
          redirect: 'manual',
        });
        expect(download.status).toBe(302);
        expect(download.headers.get('location')).toContain(`${s3.endpoint}/${bucket}/packages/`);
      } finally {
        await server.stop();
      }
    } finally {
      await s3.close();
      await dropSchema(schema);
    }
  });
});

describe('README: Programmatic use', () => {
  it('item 3 of issue 11: the CLI example starts a server and closes it', async () => {
    const dir = await saved(programmaticSnippet());
    // Bound to loopback only, and closed without the default 5 s drain.
    const env = snippetEnv({ CIMMERIA_HOST: '127.0.0.1', CIMMERIA_DRAIN_DELAY_MS: '0', CIMMERIA_LOG_LEVEL: 'silent' });
    const { code, output } = await runToEnd('server.mjs', dir, env);
    expect(code, output).toBe(0);
    expect((await stat(join(dir, 'data', 'metadata.db'))).isFile()).toBe(true);
  });
});
