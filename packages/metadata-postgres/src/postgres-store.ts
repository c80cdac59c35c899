import { sql, type Kysely } from 'kysely';
import { KyselyMetadataStore, migrateToLatest, type Database, type KyselyMetadataStoreOptions } from '@cimmeria/core';
import { postgresClock } from './clock.js';
import { withoutQueryDeadline } from './dialect.js';
import { migratePostgresExtras } from './postgres-migrations.js';

/**
 * Key of the session-level advisory lock held while migrating: 'cimmeria'
 * in ASCII. Advisory locks are per database, so Cimmeria schemas sharing a
 * database migrate one after the other, which costs nothing.
 */
export const MIGRATION_LOCK_KEY = 0x63696d6d65726961n;

/** Options of {@link PostgresMetadataStore}. */
export interface PostgresMetadataStoreOptions extends KyselyMetadataStoreOptions {
  /**
   * Schema to create (if missing) before migrating. It must also be the
   * connections' `search_path`, which {@link createPostgresMetadataStore}
   * sets from its own `schema` option.
   */
  schema?: string;
}

/**
 * The core's {@link KyselyMetadataStore} on PostgreSQL: times from the
 * database's clock, and migrations that any number of nodes may start at
 * once. Give it a Kysely instance built on {@link PostgresMetadataDialect}
 * so an unreachable database surfaces as `MetadataUnavailableError`.
 */
export class PostgresMetadataStore extends KyselyMetadataStore {
  private readonly schema: string | undefined;

  constructor(db: Kysely<Database>, options: PostgresMetadataStoreOptions = {}) {
    const { schema, ...storeOptions } = options;
    super(db, { clock: postgresClock, codeUnitCollation: 'C', ...storeOptions });
    this.schema = schema;
  }

  /**
   * Applies pending migrations (the core's, then the PostgreSQL-only ones)
   * while holding {@link MIGRATION_LOCK_KEY}, on one dedicated connection:
   * ten nodes starting together migrate once, the others wait and find
   * nothing left to do. The lock goes with the session if the node dies.
   * Query deadlines do not apply (waiting for the lock, or building an
   * index, may take longer than a request may). Returns the names of the
   * migrations applied.
   */
  override async migrate(): Promise<string[]> {
    return this.db.connection().execute(async (connection) => {
      // The session timeouts createPostgresMetadataStore sets are lifted here, and restored after.
      await sql`set statement_timeout = 0`.execute(connection);
      await sql`set idle_in_transaction_session_timeout = 0`.execute(connection);
      try {
        return await withoutQueryDeadline(async () => {
          await sql`select pg_advisory_lock(${sql.lit(MIGRATION_LOCK_KEY)})`.execute(connection);
          try {
            if (this.schema !== undefined) {
              await sql`create schema if not exists ${sql.id(this.schema)}`.execute(connection);
            }
            const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(connection);
            const schema = rows[0]?.schema;
            if (!schema) throw new Error('No schema of the search_path exists: create it or set search_path');
            const core = await migrateToLatest(connection, { migrationTableSchema: schema });
            const extras = await migratePostgresExtras(connection, schema);
            return [...core, ...extras];
          } finally {
            // A dead session has already dropped the lock; keep the migration's own error then.
            await sql`select pg_advisory_unlock(${sql.lit(MIGRATION_LOCK_KEY)})`.execute(connection).catch(() => {});
          }
        });
      } finally {
        // A connection that fails here is lost, and destroyed rather than pooled without its timeouts.
        await sql`reset statement_timeout`.execute(connection).catch(() => {});
        await sql`reset idle_in_transaction_session_timeout`.execute(connection).catch(() => {});
      }
    });
  }
}
