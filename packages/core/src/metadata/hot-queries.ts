import type { CompiledQuery, Compilable, Kysely, RootOperationNode } from 'kysely';
import type { ApiTokensTable, Database } from './schema.js';

const STATEMENT_NAME = Symbol('cimmeria.statementName');
let preparedCount = 0;

/**
 * The name under which a driver may prepare `query` once per connection and
 * reuse it (PostgreSQL's named statements: parsed and planned once), for a
 * query of {@link PreparedQuery}; `undefined` for any other query, which has
 * no stable SQL worth keeping on the server.
 */
export function preparedStatementName(query: CompiledQuery): string | undefined {
  return (query as { [STATEMENT_NAME]?: string })[STATEMENT_NAME];
}

/**
 * A query built and compiled by Kysely once, then run with new parameter
 * values: building and compiling a query through Kysely costs more than
 * SQLite takes to run it, on paths every install takes (`latest`, a file's
 * look-up). The SQL is Kysely's own, so every dialect runs what it would
 * have run; execution still goes through Kysely's executor (its connection
 * handling, the dialect's deadlines and error mapping).
 */
export class PreparedQuery<Args extends readonly string[], Row> {
  private readonly sql: string;
  private readonly query: RootOperationNode;
  private readonly queryId: CompiledQuery['queryId'];
  /** The name it is prepared under where the database keeps prepared statements per connection. */
  private readonly statementName: string;
  /** For each compiled parameter: the index of the argument it takes, or a constant of the query. */
  private readonly slots: ({ arg: number } | { value: unknown })[];

  constructor(
    private readonly db: Kysely<Database>,
    arity: Args['length'],
    build: (db: Kysely<Database>, ...args: Args) => Compilable<Row>,
  ) {
    // Compile once with placeholders no caller can send (NUL is refused in
    // references and paths), then find where each argument went.
    const placeholders = Array.from({ length: arity }, (_, i) => `\u0000hot-query-arg-${i}\u0000`);
    const compiled = build(db, ...(placeholders as unknown as Args)).compile();
    this.sql = compiled.sql;
    this.query = compiled.query;
    this.queryId = compiled.queryId;
    this.statementName = `cimmeria_${++preparedCount}`;
    this.slots = compiled.parameters.map((value) => {
      const arg = typeof value === 'string' ? placeholders.indexOf(value) : -1;
      return arg === -1 ? { value } : { arg };
    });
    const used = new Set(this.slots.flatMap((slot) => ('arg' in slot ? [slot.arg] : [])));
    if (used.size !== arity) throw new Error(`hot query uses ${used.size} of its ${arity} arguments: ${this.sql}`);
  }

  /** Runs the query with `args` in place of the placeholders; the rows. */
  async rows(...args: Args): Promise<Row[]> {
    const parameters = this.slots.map((slot) => ('arg' in slot ? args[slot.arg] : slot.value));
    const compiled: CompiledQuery & { [STATEMENT_NAME]?: string } = {
      sql: this.sql,
      query: this.query,
      queryId: this.queryId,
      parameters,
      [STATEMENT_NAME]: this.statementName,
    };
    const { rows } = await this.db.executeQuery<Row>(compiled);
    return rows;
  }

  /** The first row, or `undefined`. */
  async first(...args: Args): Promise<Row | undefined> {
    return (await this.rows(...args))[0];
  }
}

type RecipeKeyArgs = [name: string, version: string, user: string, channel: string];
type RecipeRevisionArgs = [...RecipeKeyArgs, revision: string];
type PackageRevisionArgs = [...RecipeRevisionArgs, packageId: string, packageRevision: string];

// Each look-up goes down the key one table at a time, as scalar subqueries:
// SQLite runs `recipe_id = (select id from recipes where ...)` several times
// faster than the equivalent join (about 5 against 25 µs a query), and both
// SQLite and PostgreSQL use the same indexes for it.

function recipeIdOf(db: Kysely<Database>, ...[name, version, user, channel]: RecipeKeyArgs) {
  return db
    .selectFrom('recipes')
    .where('name', '=', name)
    .where('version', '=', version)
    .where('user', '=', user)
    .where('channel', '=', channel)
    .select('id');
}

/** Published revisions of a recipe. */
function recipeRevisionsOf(db: Kysely<Database>, ...key: RecipeKeyArgs) {
  return db
    .selectFrom('recipe_revisions')
    .where('recipe_id', '=', recipeIdOf(db, ...key))
    .where('published_at', 'is not', null);
}

function recipeRevisionIdOf(db: Kysely<Database>, ...[name, version, user, channel, revision]: RecipeRevisionArgs) {
  return recipeRevisionsOf(db, name, version, user, channel).where('revision', '=', revision).select('id');
}

/** Published revisions of a binary of a published recipe revision. */
function packageRevisionsOf(db: Kysely<Database>, ...[name, version, user, channel, revision, packageId]: [...RecipeRevisionArgs, string]) {
  return db
    .selectFrom('package_revisions')
    .where('recipe_revision_id', '=', recipeRevisionIdOf(db, name, version, user, channel, revision))
    .where('package_id', '=', packageId)
    .where('published_at', 'is not', null);
}

function packageRevisionIdOf(db: Kysely<Database>, ...[name, version, user, channel, revision, packageId, packageRevision]: PackageRevisionArgs) {
  return packageRevisionsOf(db, name, version, user, channel, revision, packageId).where('revision', '=', packageRevision).select('id');
}

const FILE_COLUMNS = ['path', 'blob_key', 'size', 'sha1'] as const;
const API_TOKEN_COLUMNS = [
  'id',
  'user_name',
  'name',
  'secret_sha256',
  'scope',
  'pattern',
  'created_at',
  'expires_at',
  'last_used_at',
] as const satisfies readonly (keyof ApiTokensTable)[];

/**
 * The queries of the paths every client takes (revision look-ups of `latest`
 * and of an install, a file's look-up for a download, credentials), built
 * once per store. They return the same rows as the store's Kysely builders.
 */
export function createHotQueries(db: Kysely<Database>) {
  return {
    /** Published revisions of a recipe, newest first. */
    recipeRevisions: new PreparedQuery(db, 4, (db, ...key: RecipeKeyArgs) =>
      recipeRevisionsOf(db, ...key)
        .select(['revision', 'published_at'])
        .orderBy('published_at', 'desc'),
    ),
    /** One published revision of a recipe. */
    recipeRevision: new PreparedQuery(db, 5, (db, name, version, user, channel, revision) =>
      recipeRevisionsOf(db, name, version, user, channel)
        .where('revision', '=', revision)
        .select(['revision', 'published_at']),
    ),
    /** Published revisions of a binary of a published recipe revision, newest first. */
    packageRevisions: new PreparedQuery(db, 6, (db, name, version, user, channel, revision, packageId) =>
      packageRevisionsOf(db, name, version, user, channel, revision, packageId)
        .select(['revision', 'published_at'])
        .orderBy('published_at', 'desc'),
    ),
    /** Id of a published recipe revision. */
    recipeOwnerId: new PreparedQuery(db, 5, (db, ...ref: RecipeRevisionArgs) => recipeRevisionIdOf(db, ...ref)),
    /** Id of a published package revision of a published recipe revision. */
    packageOwnerId: new PreparedQuery(db, 7, (db, ...ref: PackageRevisionArgs) => packageRevisionIdOf(db, ...ref)),
    recipeFiles: new PreparedQuery(db, 1, (db, ownerId) =>
      db.selectFrom('recipe_files').where('recipe_revision_id', '=', ownerId).select(FILE_COLUMNS).orderBy('path'),
    ),
    packageFiles: new PreparedQuery(db, 1, (db, ownerId) =>
      db.selectFrom('package_files').where('package_revision_id', '=', ownerId).select(FILE_COLUMNS).orderBy('path'),
    ),
    /** A file of a published recipe revision, in one query (the download path). */
    recipeFile: new PreparedQuery(db, 6, (db, name, version, user, channel, revision, path) =>
      db
        .selectFrom('recipe_files')
        .where('recipe_revision_id', '=', recipeRevisionIdOf(db, name, version, user, channel, revision))
        .where('path', '=', path)
        .select(FILE_COLUMNS),
    ),
    /** A file of a published package revision, in one query (the download path). */
    packageFile: new PreparedQuery(db, 8, (db, name, version, user, channel, revision, packageId, packageRevision, path) =>
      db
        .selectFrom('package_files')
        .where('package_revision_id', '=', packageRevisionIdOf(db, name, version, user, channel, revision, packageId, packageRevision))
        .where('path', '=', path)
        .select(FILE_COLUMNS),
    ),
    passwordHash: new PreparedQuery(db, 1, (db, user) => db.selectFrom('users').where('name', '=', user).select('password_hash')),
    // Columns named, not `*`: PostgreSQL refuses to run a prepared statement
    // whose result columns changed ("cached plan must not change result
    // type"), as a column added by a newer node's migration would do.
    apiToken: new PreparedQuery(db, 1, (db, id) => db.selectFrom('api_tokens').select(API_TOKEN_COLUMNS).where('id', '=', id)),
  };
}

/** The hot queries of one store. */
export type HotQueries = ReturnType<typeof createHotQueries>;
