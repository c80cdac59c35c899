import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MANIFEST_FILE,
  MetadataUnavailableError,
  PasswordAuthenticator,
  StaticUsers,
  TokenService,
  createConanHandler,
  createRegistry,
} from '@cimmeria/core';
import { FsBlobStore } from '@cimmeria/storage-fs';
import {
  FlakyProxy,
  PG_URL,
  dropSchema,
  hello,
  helloOwner as owner,
  openStore,
  terminateBackends,
  testBlob as blob,
  waitFor,
  withAdmin,
  type TestStore,
} from './support.js';


const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** A store whose connections go through a proxy that the test can take down. */
async function storeBehindProxy(poolErrors: Error[] = []): Promise<{ pgStore: TestStore; proxy: FlakyProxy }> {
  const proxy = FlakyProxy.forUrl(PG_URL);
  await proxy.up();
  cleanups.push(() => proxy.down());
  const pgStore = await openStore({
    connectionString: proxy.urlFor(PG_URL),
    pool: { max: 3, connectionTimeoutMillis: 1_000 },
    onPoolError: (error) => poolErrors.push(error),
  });
  cleanups.push(() => pgStore.close().then(() => dropSchema(pgStore.schema)));
  return { pgStore, proxy };
}

describe('connection loss', () => {
  it('fails a query whose connection is killed with MetadataUnavailableError, then serves the next one', async () => {
    const poolErrors: Error[] = [];
    const pgStore = await openStore({ onPoolError: (error) => poolErrors.push(error) });
    cleanups.push(() => pgStore.dispose());
    await pgStore.store.recordFile(owner, MANIFEST_FILE, blob(1));

    // A query is running on a pooled connection when the server kills it (as a restart does).
    const running = sql`select pg_sleep(30)`.execute(pgStore.db);
    const outcome = running.then(
      () => undefined,
      (error: unknown) => error,
    );
    await waitFor(async () => (await activeQueries(pgStore)) > 0);
    expect(await terminateBackends(pgStore.applicationName)).toBeGreaterThan(0);
    const error = await outcome;
    expect(error).toBeInstanceOf(MetadataUnavailableError);
    expect((error as MetadataUnavailableError).cause).toMatchObject({ code: '57P01' });

    // The same store, no restart: the pool drops the dead clients (idle ones as pg notices
    // their socket closed) and opens new ones.
    await waitFor(async () => pgStore.pool.totalCount === 0);
    expect((await pgStore.store.recipeRevisions(hello)).map((r) => r.revision)).toEqual(['aaa1']);
    await pgStore.store.recordFile(owner, 'conanfile.py', blob(2));
    expect((await pgStore.store.files(owner))?.length).toBe(2);
  });

  it('survives idle pooled connections being killed without crashing the process', async () => {
    const poolErrors: Error[] = [];
    const pgStore = await openStore({ onPoolError: (error) => poolErrors.push(error) });
    cleanups.push(() => pgStore.dispose());
    await pgStore.store.recordFile(owner, MANIFEST_FILE, blob(1));
    // Warm the pool with several idle clients.
    await Promise.all([1, 2, 3].map(() => pgStore.store.recipeRevisions(hello)));
    expect(pgStore.pool.idleCount).toBeGreaterThan(0);

    expect(await terminateBackends(pgStore.applicationName)).toBeGreaterThan(0);
    await waitFor(async () => pgStore.pool.totalCount === 0);
    expect(poolErrors.length).toBeGreaterThan(0);
    expect(poolErrors[0]).toMatchObject({ code: '57P01' });

    expect((await pgStore.store.recipeRevisions(hello)).map((r) => r.revision)).toEqual(['aaa1']);
  });

  it('answers MetadataUnavailableError while the server is down and recovers when it is back', async () => {
    const { pgStore, proxy } = await storeBehindProxy();
    await pgStore.store.recordFile(owner, MANIFEST_FILE, blob(1));
    await Promise.all([1, 2].map(() => pgStore.store.recipeRevisions(hello)));

    await proxy.down();
    // Reads, writes (transactions) and pings all say "unavailable", never a generic error.
    await expect(pgStore.store.recipeRevisions(hello)).rejects.toBeInstanceOf(MetadataUnavailableError);
    await expect(pgStore.store.recordFile(owner, 'conanfile.py', blob(2))).rejects.toBeInstanceOf(MetadataUnavailableError);
    await expect(pgStore.store.ping()).rejects.toBeInstanceOf(MetadataUnavailableError);
    const refused = await pgStore.store.searchRecipes('').catch((error: unknown) => error);
    expect((refused as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
    await waitFor(async () => pgStore.pool.totalCount === 0);

    await proxy.up();
    expect((await pgStore.store.recipeRevisions(hello)).map((r) => r.revision)).toEqual(['aaa1']);
    await pgStore.store.recordFile(owner, 'conanfile.py', blob(2));
    expect((await pgStore.store.files(owner))?.length).toBe(2);
  });

  it('gives up after connectionTimeoutMillis when the server does not answer at all', async () => {
    const { pgStore, proxy } = await storeBehindProxy();
    proxy.hang();
    const started = Date.now();
    await expect(pgStore.store.recipeRevisions(hello)).rejects.toBeInstanceOf(MetadataUnavailableError);
    expect(Date.now() - started).toBeLessThan(5_000);
    await proxy.up();
    await expect(pgStore.store.ping()).resolves.toBeUndefined();
  });

  it('answers 503 with Retry-After over HTTP during the outage, and 200 right after', async () => {
    const { pgStore, proxy } = await storeBehindProxy();
    const dir = await mkdtemp(join(tmpdir(), 'cimmeria-pg-http-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const reported: unknown[] = [];
    const handler = createConanHandler(
      createRegistry({
        metadata: pgStore.store,
        blobs: new FsBlobStore({ directory: dir }),
        authenticator: new PasswordAuthenticator(new StaticUsers({})),
        tokens: new TokenService({ secret: 'postgres-test-secret-0123456789' }),
      }),
      { onError: (error) => reported.push(error) },
    );
    await pgStore.store.recordFile(owner, MANIFEST_FILE, blob(1));
    const latest = () => handler(new Request('http://conan.test/v2/conans/hello/1.0/_/_/latest'));

    const before = await latest();
    expect(before.status).toBe(200);
    expect(await before.json()).toMatchObject({ revision: 'aaa1' });

    await proxy.down();
    const during = await latest();
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toMatch(/^\d+$/);
    await during.text();
    expect(reported.at(-1)).toBeInstanceOf(MetadataUnavailableError);
    await waitFor(async () => pgStore.pool.totalCount === 0);

    await proxy.up();
    const after = await latest();
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ revision: 'aaa1' });
  });
});

async function activeQueries(pgStore: TestStore): Promise<number> {
  return withAdmin(async (client) => {
    const { rows } = await client.query(
      `select 1 from pg_stat_activity where application_name = $1 and state = 'active' and query like '%pg_sleep%'`,
      [pgStore.applicationName],
    );
    return rows.length;
  });
}

