import { afterEach, describe, expect, it } from 'vitest';
import { MANIFEST_FILE } from '@cimmeria/core';
import { hello, helloOwner as owner, openStore, terminateBackends, testBlob as blob, waitFor, withAdmin, type TestStore } from './support.js';

// The look-ups every client makes (issue 10): named statements, sent on one
// pipelined connection instead of each taking a pooled one.


const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function store(options: Parameters<typeof openStore>[0] = {}): Promise<TestStore> {
  const pgStore = await openStore(options);
  cleanups.push(() => pgStore.dispose());
  await pgStore.store.recordFile(owner, MANIFEST_FILE, blob(1));
  return pgStore;
}

/** Connections of this store open on the server now. */
async function backends(pgStore: TestStore): Promise<number> {
  return withAdmin(async (client) => {
    const { rows } = await client.query<{ n: string }>('select count(*) as n from pg_stat_activity where application_name = $1', [
      pgStore.applicationName,
    ]);
    return Number(rows[0]!.n);
  });
}


describe('hot look-ups on PostgreSQL', () => {
  it('answers many look-ups at once on one connection, leaving the pool to transactions', async () => {
    const pgStore = await store({ pool: { max: 2 } });
    // The publication above took a pooled connection; it idles now.
    expect(pgStore.pool.totalCount).toBe(1);

    const answers = await Promise.all(Array.from({ length: 50 }, () => pgStore.store.recipeRevisions(hello)));
    for (const revisions of answers) expect(revisions.map((r) => r.revision)).toEqual(['aaa1']);
    // Fifty look-ups at once did not wait for the pool's two connections...
    expect(pgStore.pool.totalCount).toBe(1);
    expect(pgStore.pool.waitingCount).toBe(0);
    // ...they shared one more.
    expect(await backends(pgStore)).toBe(2);

    // A look-up sees a publication acknowledged on another connection.
    await pgStore.store.recordFile({ kind: 'recipe', ref: { ...hello, revision: 'bbb2' } }, MANIFEST_FILE, blob(2));
    expect((await pgStore.store.recipeRevisions(hello)).map((r) => r.revision)).toEqual(['bbb2', 'aaa1']);
  });

  it('answers a failing look-up with its own error and the others with their rows', async () => {
    const pgStore = await store();
    const results = await Promise.allSettled([
      pgStore.store.recipeRevisions(hello),
      // NUL is refused by PostgreSQL in text: a server error for this statement only.
      pgStore.store.recipeRevisions({ name: 'he\u0000llo', version: '1.0' }),
      pgStore.store.recipeRevisions(hello),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[2] as PromiseFulfilledResult<{ revision: string }[]>).value.map((r) => r.revision)).toEqual(['aaa1']);
  });

  it('opens a new connection for look-ups after the server ended the old one (a restart, a failover)', async () => {
    const poolErrors: Error[] = [];
    const pgStore = await store({ onPoolError: (error) => poolErrors.push(error) });
    await pgStore.store.recipeRevisions(hello);
    await terminateBackends(pgStore.applicationName);
    // The node heard of it (57P01 on the idle connection) without crashing...
    await waitFor(async () => poolErrors.length > 0);
    // ...and the next look-up opens a fresh connection.
    expect((await pgStore.store.recipeRevisions(hello)).map((r) => r.revision)).toEqual(['aaa1']);
  });

  it('with preparedStatements: false, takes pooled connections like any query (for a pooler that loses them)', async () => {
    const pgStore = await store({ preparedStatements: false, pool: { max: 2 } });
    const answers = await Promise.all(Array.from({ length: 20 }, () => pgStore.store.recipeRevisions(hello)));
    for (const revisions of answers) expect(revisions.map((r) => r.revision)).toEqual(['aaa1']);
    expect(pgStore.pool.totalCount).toBe(2);
    expect(await backends(pgStore)).toBe(2);
  });
});
