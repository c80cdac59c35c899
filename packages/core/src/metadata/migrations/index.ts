import type { Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationResultSet } from 'kysely/migration';
import { initialMigration } from './0001-initial.js';
import { revisionLifecycleMigration } from './0002-revision-lifecycle.js';
import { blobTextMigration } from './0003-blob-text.js';
import { apiTokensMigration } from './0004-api-tokens.js';
import { auditMigration } from './0005-audit.js';
import { webApiMigration } from './0007-web-api.js';

/**
 * Kysely's `MigrationProvider`, spelled out: published types that import
 * `kysely/migration` do not resolve for TypeScript hosts on
 * `moduleResolution: node10` (the default of `module: commonjs`), which
 * cannot see package subpaths.
 */
export interface CoreMigrationProvider {
  getMigrations(): Promise<Record<string, { up(db: Kysely<any>): Promise<void>; down?(db: Kysely<any>): Promise<void> }>>;
}

/** The core's migrations, in order, for Kysely's `Migrator`. Names never change once released. */
export const migrationProvider: CoreMigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return {
      '0001-initial': initialMigration,
      '0002-revision-lifecycle': revisionLifecycleMigration,
      '0003-blob-text': blobTextMigration,
      '0004-api-tokens': apiTokensMigration,
      '0005-audit': auditMigration,
      '0007-web-api': webApiMigration,
    };
  },
};

/** Options of {@link migrateToLatest}. */
export interface MigrateOptions {
  /**
   * Schema of the migration bookkeeping tables. Without it Kysely looks for
   * them in every schema it can see (so a second Cimmeria schema in the same
   * PostgreSQL database would think it was migrated); backends with schemas
   * pass the current one.
   */
  migrationTableSchema?: string;
}

/** Applies pending migrations; throws with the failing migration's name if one fails. */
export async function migrateToLatest(db: Kysely<any>, options: MigrateOptions = {}): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: migrationProvider,
    migrationTableName: 'cimmeria_migrations',
    migrationLockTableName: 'cimmeria_migrations_lock',
    ...(options.migrationTableSchema === undefined ? {} : { migrationTableSchema: options.migrationTableSchema }),
  });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new Error(`Migration ${failed?.migrationName ?? '(unknown)'} failed: ${String(result.error)}`, {
      cause: result.error,
    });
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
