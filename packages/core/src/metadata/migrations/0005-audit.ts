import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The audit trail and download counts.
 *
 * - `audit_events`: one row per change, written in the change's own
 *   transaction. References are kept as text (not row ids) so an event
 *   outlives the rows garbage collection purges; `at_by_time` serves
 *   "newest first since T" and retention pruning.
 * - `download_counts`: one counter per revision per UTC day, upserted, so
 *   downloads never grow a table by a row each.
 */
export const auditMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('audit_events')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('kind', 'varchar(40)', (c) => c.notNull())
      .addColumn('user', 'varchar(101)')
      .addColumn('token_id', 'varchar(64)')
      .addColumn('address', 'varchar(64)')
      .addColumn('ref', 'varchar(1024)')
      .addColumn('detail', 'varchar(1024)')
      .execute();
    await db.schema.createIndex('audit_events_by_time').on('audit_events').columns(['at', 'id']).execute();

    await db.schema
      .createTable('download_counts')
      .addColumn('day', 'varchar(10)', (c) => c.notNull())
      .addColumn('kind', 'varchar(10)', (c) => c.notNull())
      .addColumn('ref', 'varchar(1024)', (c) => c.notNull())
      .addColumn('count', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('download_counts_pk', ['ref', 'day', 'kind'])
      .execute();
  },

  async down(db: Kysely<any>) {
    await db.schema.dropTable('download_counts').execute();
    await db.schema.dropTable('audit_events').execute();
  },
};
