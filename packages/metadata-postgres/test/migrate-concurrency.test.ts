import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { MIGRATION_LOCK_KEY, createPostgresMetadataStore } from '../src/index.js';
import { PG_URL, dropSchema, freshSchemaName, withAdmin } from './support.js';

it('migrates once when ten nodes start together on a fresh schema', async () => {
  const schema = freshSchemaName();
  // Ten nodes: ten pools, as ten processes would have. The schema does not exist yet.
  const nodes = Array.from({ length: 10 }, (_, i) =>
    createPostgresMetadataStore({
      connectionString: PG_URL,
      schema,
      applicationName: `cimmeria-test-migrate-${schema}-${i}`,
      pool: { max: 2 },
    }),
  );
  try {
    const results = await Promise.all(nodes.map((node) => node.store.migrate()));

    const applied = results.filter((names) => names.length > 0);
    expect(applied).toHaveLength(1);
    expect(applied[0]).toContain('0001-initial');
    expect(results.filter((names) => names.length === 0)).toHaveLength(9);

    const { rows } = await sql<{ name: string }>`select name from cimmeria_migrations order by name`.execute(nodes[0]!.db);
    expect(rows.map((r) => r.name)).toEqual(['0001-initial', '0002-revision-lifecycle', '0003-blob-text', '0004-api-tokens', '0005-audit', '0006-recipes-search', '0007-web-api']);
    // Every node can use the schema straight away.
    await Promise.all(nodes.map((node) => node.store.ping()));
    expect(await nodes[9]!.store.searchRecipes('')).toEqual([]);

    // The lock is released: none of the nodes' sessions holds it any more (other test files may).
    const held = await withAdmin(async (client) => {
      const key = BigInt.asUintN(64, MIGRATION_LOCK_KEY);
      const { rows: locks } = await client.query(
        `select 1 from pg_locks l join pg_stat_activity a on a.pid = l.pid
         where l.locktype = 'advisory' and l.classid = $1 and l.objid = $2 and a.application_name like $3`,
        [Number(key >> 32n), Number(key & 0xffffffffn), `cimmeria-test-migrate-${schema}-%`],
      );
      return locks.length;
    });
    expect(held).toBe(0);
  } finally {
    await Promise.all(nodes.map((node) => node.close()));
    await dropSchema(schema);
  }
});

it('waits for a node that holds the migration lock', async () => {
  const schema = freshSchemaName();
  const node = createPostgresMetadataStore({ connectionString: PG_URL, schema, pool: { max: 2 } });
  try {
    let released = false;
    const migrated = await withAdmin(async (holder) => {
      await holder.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
      const migration = node.store.migrate().then((names) => ({ names, afterRelease: released }));
      await new Promise((resolve) => setTimeout(resolve, 300));
      released = true;
      await holder.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
      return migration;
    });
    expect(migrated.afterRelease).toBe(true);
    expect(migrated.names).toContain('0001-initial');
  } finally {
    await node.close();
    await dropSchema(schema);
  }
});
