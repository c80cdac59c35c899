import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { MANIFEST_FILE, MetadataUnavailableError } from '@cimmeria/core';
import { BlackholeRelay } from '../../../test/support/blackhole-relay.js';
import { settle } from '../../../test/support/settle.js';
import { MIGRATION_LOCK_KEY } from '../src/index.js';
import { PG_URL, hello, helloOwner as owner, openStore, testBlob as blob, waitFor, withAdmin, type TestStore } from './support.js';

// Issue 8, item 6: a silent network partition (packets dropped, no reset) must not hang
// database calls. Each test puts a relay between the store and PostgreSQL and black-holes it.

const QUERY_TIMEOUT_MS = 800;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function storeBehindRelay(): Promise<{ pgStore: TestStore; relay: BlackholeRelay }> {
  const relay = await BlackholeRelay.forUrl(PG_URL, 5432);
  cleanups.push(() => relay.close());
  const pgStore = await openStore({
    connectionString: relay.urlFor(PG_URL),
    queryTimeoutMs: QUERY_TIMEOUT_MS,
    pool: { max: 3, connectionTimeoutMillis: QUERY_TIMEOUT_MS },
  });
  // Heal first: disposing drops the schema over a direct connection, the pool must be able to end.
  cleanups.push(async () => {
    relay.heal();
    await pgStore.dispose();
  });
  return { pgStore, relay };
}


describe('item 6 of issue 8: PostgreSQL behind a silent network partition', () => {
  it('item 6: reads and writes on open pooled connections fail as unavailable within the deadline, then work again after the partition without a restart', async () => {
    const { pgStore, relay } = await storeBehindRelay();
    await pgStore.store.recordFile(owner, MANIFEST_FILE, blob(1));
    // Open connections idle in the pool, as on a busy node: the partition catches them.
    await Promise.all([1, 2, 3].map(() => pgStore.store.recipeRevisions(hello)));
    expect(pgStore.pool.idleCount).toBeGreaterThan(0);

    relay.blackhole();
    for (const call of [
      () => pgStore.store.recipeRevisions(hello),
      () => pgStore.store.recordFile(owner, 'conanfile.py', blob(2)),
      () => pgStore.store.ping(),
    ]) {
      const result = await settle(call(), 3 * QUERY_TIMEOUT_MS + 2_000);
      expect(result.outcome).toBe('rejected');
      expect((result as { error: unknown }).error).toBeInstanceOf(MetadataUnavailableError);
      expect(result.ms).toBeLessThan(3 * QUERY_TIMEOUT_MS + 1_000);
    }

    relay.heal();
    expect((await pgStore.store.recipeRevisions(hello)).map((r) => r.revision)).toEqual(['aaa1']);
    await pgStore.store.recordFile(owner, 'conanfile.py', blob(3));
    expect((await pgStore.store.file(owner, 'conanfile.py'))?.blobKey).toBe(blob(3).key);
  });

  it('item 6: destroys a connection whose query timed out instead of handing it out again', async () => {
    const { pgStore, relay } = await storeBehindRelay();
    await pgStore.store.recordFile(owner, MANIFEST_FILE, blob(1));
    expect(pgStore.pool.totalCount).toBe(1);

    relay.blackhole();
    const timedOut = await settle(pgStore.store.ping(), 3 * QUERY_TIMEOUT_MS + 2_000);
    expect(timedOut.outcome).toBe('rejected');
    // The pool no longer holds it: the next caller opens a fresh connection...
    await waitFor(() => pgStore.pool.totalCount === 0);
    relay.heal();
    // ...and does not queue behind the query that never got its answer.
    const next = await settle(pgStore.store.ping(), QUERY_TIMEOUT_MS);
    expect(next.outcome).toBe('resolved');
  });

  it('item 6: a look-up of the pipeline lane that timed out takes its connection along; the next one opens a fresh one', async () => {
    const { pgStore, relay } = await storeBehindRelay();
    await pgStore.store.recordFile(owner, MANIFEST_FILE, blob(1));
    // Opens the lane's connection before the partition.
    await pgStore.store.recipeRevisions(hello);

    relay.blackhole();
    const stuck = [1, 2, 3].map(() => settle(pgStore.store.recipeRevisions(hello), 3 * QUERY_TIMEOUT_MS + 2_000));
    for (const result of await Promise.all(stuck)) {
      expect(result.outcome).toBe('rejected');
      expect((result as { error: unknown }).error).toBeInstanceOf(MetadataUnavailableError);
      expect(result.ms).toBeLessThan(2 * QUERY_TIMEOUT_MS + 1_000);
    }
    relay.heal();
    // Not queued behind the answers that never came on the old connection.
    const next = await settle(pgStore.store.recipeRevisions(hello), 2 * QUERY_TIMEOUT_MS);
    expect(next.outcome).toBe('resolved');
  });

  it('item 6: a transaction cut off mid-way is not left open on the server holding its locks', async () => {
    const { pgStore, relay } = await storeBehindRelay();
    await pgStore.store.recordFile(owner, MANIFEST_FILE, blob(1));
    let pid = 0;

    // A transaction takes a row lock, then the network goes silent before it finishes.
    const transaction = pgStore.db.transaction().execute(async (trx) => {
      pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0]!.pid;
      await sql`update recipe_revisions set created_at = created_at where revision = 'aaa1'`.execute(trx);
      relay.blackhole();
      await sql`select 1`.execute(trx);
    });
    const outcome = await settle(transaction, 3 * QUERY_TIMEOUT_MS + 2_000);
    expect(outcome.outcome).toBe('rejected');
    expect((outcome as { error: unknown }).error).toBeInstanceOf(MetadataUnavailableError);

    // Still partitioned: the server ends the silent session by itself and releases the lock, so
    // another node (a direct connection here) can update the same row.
    const other = await withAdmin(async (client) => {
      await client.query(`set search_path = "${pgStore.schema}"`);
      await client.query(`set lock_timeout = ${5 * QUERY_TIMEOUT_MS}`);
      const started = Date.now();
      await client.query(`update recipe_revisions set created_at = created_at where revision = 'aaa1'`);
      const { rows } = await client.query('select 1 from pg_stat_activity where pid = $1', [pid]);
      return { waitedMs: Date.now() - started, sessionLeft: rows.length };
    });
    expect(other.waitedMs).toBeLessThan(4 * QUERY_TIMEOUT_MS);
    expect(other.sessionLeft).toBe(0);
  });

  it('item 6: a statement the server cancels (statement_timeout) is unavailable, and its connection stays in the pool', async () => {
    const pgStore = await openStore({ queryTimeoutMs: 300, pool: { max: 1 } });
    cleanups.push(() => pgStore.dispose());
    await pgStore.store.ping();
    const error = await sql`select pg_sleep(5)`.execute(pgStore.db).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MetadataUnavailableError);
    expect((error as Error).cause).toMatchObject({ code: '57014' });
    expect(pgStore.pool.totalCount).toBe(1);
    await expect(pgStore.store.ping()).resolves.toBeUndefined();
  });

  it('item 6: migrations are not cut off by the query deadline (they may wait for another node)', async () => {
    const pgStore = await openStore({ queryTimeoutMs: 300, pool: { max: 1 } });
    cleanups.push(() => pgStore.dispose());
    // Another node holds the migration lock for longer than the deadline.
    const released = withAdmin(async (client) => {
      await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(pgStore.store.migrate()).resolves.toEqual([]);
    await released;
    // And the session got its timeout back.
    await expect(sql`select pg_sleep(2)`.execute(pgStore.db)).rejects.toBeInstanceOf(MetadataUnavailableError);
  });
});
