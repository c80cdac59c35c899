import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Long-lived API tokens (CI logins). Only a sha256 of the secret is kept:
 * the secret is 256 random bits, so a slow hash buys nothing. `user_name`
 * is not a foreign key because tokens may belong to users configured
 * outside the database (static users); removing a database user deletes
 * its tokens in the same transaction, and every use checks the user still
 * exists.
 */
export const apiTokensMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('api_tokens')
      .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('user_name', 'varchar(255)', (c) => c.notNull())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('secret_sha256', 'varchar(64)', (c) => c.notNull())
      .addColumn('scope', 'varchar(16)', (c) => c.notNull())
      .addColumn('pattern', 'varchar(512)')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addColumn('last_used_at', 'bigint')
      .execute();
    await db.schema.createIndex('api_tokens_by_user').on('api_tokens').columns(['user_name', 'created_at']).execute();
  },

  async down(db: Kysely<any>) {
    await db.schema.dropTable('api_tokens').execute();
  },
};
