import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import {
  formatRecipe,
  type PackageRef,
  type PackageRevisionRef,
  type RecipeRef,
  type RecipeRevisionRef,
} from '../reference/references.js';
import {
  type AuditActor,
  type AuditEvent,
  type AuditEventKind,
  type AuditQuery,
  type DownloadCount,
  type NewAuditEvent,
  MANIFEST_FILE,
  type ApiTokenRecord,
  type ApiTokenScope,
  type NewApiToken,
  ManifestMismatchError,
  RevisionOverwriteError,
  type BinaryEntry,
  type BlobRecord,
  type BlobUse,
  type FileOwner,
  type LinkFileOptions,
  type NewBlob,
  type PurgeOptions,
  type PurgeReport,
  type RecordFileOptions,
  type RecordOutcome,
  type ReleaseBlobsOptions,
  type MetadataStore,
  type RevisionEntry,
  type RecipeSearchPage,
  type StoredFile,
} from './metadata-store.js';
import { createHotQueries, type HotQueries } from './hot-queries.js';
import { migrateToLatest } from './migrations/index.js';
import { requireRows } from './conaninfo.js';
import { distinctJoinedNames } from './joined-names.js';
import { asciiLower, caseBlindNameRanges, lowerNameRange } from './name-prefix-range.js';
import type {
  DependentEntry,
  FileEntry,
  PackageDetail,
  PublishedRevision,
  RecipeHistory,
  RecipeNamePage,
  RecipeNameQuery,
  RegistryTotals,
} from './metadata-store.js';
import { PACKAGE_INFO_FILE, identityFile, isMetadataPath, keepsMd5, keepsText, listedMd5 } from './revision-content.js';
import type { ApiTokensTable, AuditEventsTable, Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Options of {@link KyselyMetadataStore}. */
export interface KyselyMetadataStoreOptions {
  /**
   * Current time in microseconds since the epoch. Defaults to this process's
   * clock; cluster backends pass the database's clock so every node agrees.
   */
  clock?: (db: Db) => Promise<number>;
  /**
   * A collation that orders text by code units, for the listings the
   * database pages (e.g. `C` on PostgreSQL, whose databases usually use a
   * linguistic one). Leave it out where the default already does (SQLite).
   */
  codeUnitCollation?: string;
}

const processClock = async () => Date.now() * 1000;

/** Joins names in one string: recipe names never hold a newline (NAME_PATTERN). */
const NAME_SEPARATOR = '\n';

const toNumber = (value: number | string) => (typeof value === 'number' ? value : Number(value));

function recipeKey(ref: RecipeRef) {
  return { name: ref.name, version: ref.version, user: ref.user ?? '', channel: ref.channel ?? '' };
}

/**
 * The one {@link MetadataStore} implementation: portable Kysely queries that
 * SQLite and PostgreSQL run alike. Inject the Kysely instance (its dialect
 * decides the database).
 */
export class KyselyMetadataStore implements MetadataStore {
  private readonly codeUnitCollation: string | undefined;
  private readonly clock: (db: Db) => Promise<number>;
  /** The queries of `latest`, installs and downloads, built once (hot-queries.ts). */
  private readonly hot: HotQueries;

  constructor(
    /** The injected Kysely instance; the store never closes it. */
    readonly db: Kysely<Database>,
    options: KyselyMetadataStoreOptions = {},
  ) {
    this.codeUnitCollation = options.codeUnitCollation;
    this.clock = options.clock ?? processClock;
    this.hot = createHotQueries(db);
  }

  /** Applies pending migrations. Returns the names of those applied. */
  migrate(): Promise<string[]> {
    return migrateToLatest(this.db);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  // --- reads -------------------------------------------------------------

  private recipeRevisionsQuery(db: Db, ref: RecipeRef) {
    const key = recipeKey(ref);
    return db
      .selectFrom('recipe_revisions as rr')
      .innerJoin('recipes as r', 'r.id', 'rr.recipe_id')
      .where('r.name', '=', key.name)
      .where('r.version', '=', key.version)
      .where('r.user', '=', key.user)
      .where('r.channel', '=', key.channel);
  }

  async recipeRevisions(ref: RecipeRef): Promise<RevisionEntry[]> {
    const key = recipeKey(ref);
    const rows = await this.hot.recipeRevisions.rows(key.name, key.version, key.user, key.channel);
    return rows.map((r) => ({ revision: r.revision, timeMicros: toNumber(r.published_at!) }));
  }

  async recipeRevision(ref: RecipeRevisionRef): Promise<RevisionEntry | undefined> {
    const key = recipeKey(ref);
    const row = await this.hot.recipeRevision.first(key.name, key.version, key.user, key.channel, ref.revision);
    return row && { revision: row.revision, timeMicros: toNumber(row.published_at!) };
  }

  /** Package revisions of a visible recipe revision. */
  private visiblePackageRevisions(db: Db, ref: RecipeRevisionRef) {
    return this.recipeRevisionsQuery(db, ref)
      .where('rr.revision', '=', ref.revision)
      .where('rr.published_at', 'is not', null)
      .innerJoin('package_revisions as pr', 'pr.recipe_revision_id', 'rr.id')
      .where('pr.published_at', 'is not', null);
  }

  async packageRevisions(ref: PackageRef): Promise<RevisionEntry[]> {
    const key = recipeKey(ref);
    const rows = await this.hot.packageRevisions.rows(key.name, key.version, key.user, key.channel, ref.revision, ref.packageId);
    return rows.map((r) => ({ revision: r.revision, timeMicros: toNumber(r.published_at!) }));
  }

  async latestBinaries(ref: RecipeRevisionRef): Promise<BinaryEntry[] | undefined> {
    // One query: the recipe revision (no row: not visible), left-joined to
    // the latest published revision of each binary, its conaninfo.txt and
    // the text kept with that file's bytes. Every step is an index lookup.
    const rows = await this.recipeRevisionsQuery(this.db, ref)
      .where('rr.revision', '=', ref.revision)
      .where('rr.published_at', 'is not', null)
      .leftJoin('package_revisions as pr', (join) =>
        join.onRef('pr.recipe_revision_id', '=', 'rr.id').on((eb) =>
          eb(
            'pr.published_at',
            '=',
            eb
              .selectFrom('package_revisions as newest')
              .whereRef('newest.recipe_revision_id', '=', 'pr.recipe_revision_id')
              .whereRef('newest.package_id', '=', 'pr.package_id')
              .select((e) => e.fn.max('newest.published_at').as('latest')),
          ),
        ),
      )
      .leftJoin('package_files as pf', (join) =>
        join.onRef('pf.package_revision_id', '=', 'pr.id').on('pf.path', '=', PACKAGE_INFO_FILE),
      )
      .leftJoin('blobs as b', 'b.key', 'pf.blob_key')
      .select(['pr.package_id', 'pr.revision', 'pr.published_at', 'pf.blob_key', 'pf.size', 'b.content'])
      .orderBy('pr.package_id')
      .orderBy('pr.revision')
      .execute();
    if (rows.length === 0) return undefined;
    const binaries = new Map<string, BinaryEntry>();
    for (const row of rows) {
      // Imports may publish two revisions of a binary at the same time: the first wins.
      if (row.package_id === null || row.revision === null || binaries.has(row.package_id)) continue;
      const entry: BinaryEntry = { packageId: row.package_id, revision: row.revision, timeMicros: toNumber(row.published_at!) };
      if (row.blob_key !== null) {
        entry.conaninfo = { blobKey: row.blob_key, size: toNumber(row.size!), ...(row.content === null ? {} : { content: row.content }) };
      }
      binaries.set(row.package_id, entry);
    }
    return [...binaries.values()];
  }

  /** Id of the visible revision owning files, or `undefined`. */
  private async visibleOwnerId(owner: FileOwner): Promise<string | undefined> {
    const { ref } = owner;
    const key = recipeKey(ref);
    if (owner.kind === 'recipe') {
      return (await this.hot.recipeOwnerId.first(key.name, key.version, key.user, key.channel, ref.revision))?.id;
    }
    const { packageId, packageRevision } = owner.ref;
    return (await this.hot.packageOwnerId.first(key.name, key.version, key.user, key.channel, ref.revision, packageId, packageRevision))
      ?.id;
  }

  /** The same inside a transaction (the hot queries run outside any). */
  private async visibleOwnerIdIn(db: Db, owner: FileOwner): Promise<string | undefined> {
    if (owner.kind === 'recipe') {
      const row = await this.recipeRevisionsQuery(db, owner.ref)
        .where('rr.revision', '=', owner.ref.revision)
        .where('rr.published_at', 'is not', null)
        .select('rr.id')
        .executeTakeFirst();
      return row?.id;
    }
    const row = await this.visiblePackageRevisions(db, owner.ref)
      .where('pr.package_id', '=', owner.ref.packageId)
      .where('pr.revision', '=', owner.ref.packageRevision)
      .select('pr.id')
      .executeTakeFirst();
    return row?.id;
  }

  async files(owner: FileOwner): Promise<StoredFile[] | undefined> {
    const ownerId = await this.visibleOwnerId(owner);
    if (ownerId === undefined) return undefined;
    const rows = await (owner.kind === 'recipe' ? this.hot.recipeFiles : this.hot.packageFiles).rows(ownerId);
    return rows.map(toStoredFile);
  }

  async file(owner: FileOwner, path: string): Promise<StoredFile | undefined> {
    // One query: the visible revision and its file (the download path).
    const { ref } = owner;
    const key = recipeKey(ref);
    const row =
      owner.kind === 'recipe'
        ? await this.hot.recipeFile.first(key.name, key.version, key.user, key.channel, ref.revision, path)
        : await this.hot.packageFile.first(
            key.name,
            key.version,
            key.user,
            key.channel,
            ref.revision,
            owner.ref.packageId,
            owner.ref.packageRevision,
            path,
          );
    return row && toStoredFile(row);
  }

  async searchRecipes(namePrefix: string, page: RecipeSearchPage = {}): Promise<RecipeRef[]> {
    let query = this.db
      .selectFrom('recipes as r')
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom('recipe_revisions as rr')
            .whereRef('rr.recipe_id', '=', 'r.id')
            .where('rr.published_at', 'is not', null)
            .select(sql`1`.as('one')),
        ),
      );
    for (const condition of this.namePrefixConditions(namePrefix)) query = query.where(condition);
    if (page.after) {
      const after = recipeKey(page.after);
      query = query.where((eb) =>
        eb(eb.refTuple('r.name', 'r.version', 'r.user', 'r.channel'), '>', eb.tuple(after.name, after.version, after.user, after.channel)),
      );
    }
    // Code-unit order on both databases: SQLite compares text as bytes,
    // and PostgreSQL's recipes columns are collated "C" (its migration
    // pg-0002), whatever the database collation; the same order as ref
    // validation allows only ASCII.
    let ordered = query
      .select(['r.name', 'r.version', 'r.user', 'r.channel'])
      .orderBy('r.name')
      .orderBy('r.version')
      .orderBy('r.user')
      .orderBy('r.channel');
    if (page.limit !== undefined) ordered = ordered.limit(page.limit);
    const rows = await ordered.execute();
    return rows.map(toRecipeRef);
  }

  /**
   * Conditions on `recipes as r` for names starting with `prefix` ASCII
   * case-insensitively (none for ''): a range of `lower(r.name)`, not LIKE,
   * which the index on lower(name) (migration 0006) serves on both
   * databases, whatever the LIKE rules of each.
   */
  private namePrefixConditions(prefix: string) {
    const range = lowerNameRange(prefix);
    if (!range) return [];
    const lower = this.codeUnitCollation === undefined ? sql`lower(r.name)` : sql`lower(r.name) collate ${sql.id(this.codeUnitCollation)}`;
    const from = sql<boolean>`${lower} >= ${range.from}`;
    return range.to === undefined ? [from] : [from, sql<boolean>`${lower} < ${range.to}`];
  }

  // --- web API listings -----------------------------------------------------

  /** `name` ordered by code units: SQLite's default; other databases name a collation that does it. */
  private nameOrder(column: string) {
    return this.codeUnitCollation === undefined
      ? sql.ref(column)
      : sql`${sql.ref(column)} collate ${sql.id(this.codeUnitCollation)}`;
  }

  async visibleRecipeNames(query: RecipeNameQuery): Promise<RecipeNamePage> {
    if (query.offset <= 0 && query.limit >= Number.MAX_SAFE_INTEGER) return this.allVisibleRecipeNames(query.namePrefix);
    let base = this.db.selectFrom('recipes as r').where('r.latest_published_at', 'is not', null);
    for (const condition of this.namePrefixConditions(query.namePrefix)) base = base.where(condition);
    const [count, rows] = await Promise.all([
      base.select((eb) => eb.fn.count<number | string>('r.name').distinct().as('n')).executeTakeFirst(),
      base
        .select('r.name')
        .groupBy('r.name')
        .orderBy(this.nameOrder('r.name'))
        .limit(Math.max(0, Math.floor(query.limit)))
        .offset(Math.max(0, Math.floor(query.offset)))
        .execute(),
    ]);
    return { names: rows.map((r) => r.name), total: toNumber(count?.n ?? 0) };
  }

  /**
   * Every visible name (a caller matching a pattern over them), read as one
   * string per range: a row per recipe made Kysely build an object each,
   * which cost more than SQLite's scan of the covering
   * `recipes_visible_by_name` index. The prefix gives ranges of `name`
   * itself, which that index serves (the `lower(name)` range would fetch a
   * table row per recipe); what they read is checked against the prefix
   * here. No count: the caller counts what it keeps.
   */
  private async allVisibleRecipeNames(namePrefix: string): Promise<RecipeNamePage> {
    // No GROUP BY or ORDER BY: on SQLite they cost a subquery run as a
    // coroutine, more than the scan itself. SQLite reads the index in name
    // order, so the names come sorted (checked, and sorted if not), a
    // name's recipes side by side, the ranges one after the other.
    const joinedIn = (range?: { from: string; to?: string }) => {
      let query = this.db.selectFrom('recipes as r').where('r.latest_published_at', 'is not', null);
      if (range) query = query.where('r.name', '>=', range.from);
      if (range?.to !== undefined) query = query.where('r.name', '<', range.to);
      return query.select(sql<string | null>`string_agg(r.name, ${NAME_SEPARATOR})`.as('names'));
    };
    const ranges = caseBlindNameRanges(namePrefix);
    let query = joinedIn(ranges[0]);
    for (const range of ranges.slice(1)) query = query.unionAll(joinedIn(range));
    const parts = (await query.execute()).flatMap((row) => (row.names ? [row.names] : []));
    if (parts.length === 0) return { names: [], total: 0 };
    const names = distinctJoinedNames(parts.join(NAME_SEPARATOR), NAME_SEPARATOR, asciiLower(namePrefix));
    return { names, total: names.length };
  }

  async recipeHistories(names: string[]): Promise<RecipeHistory[]> {
    if (names.length === 0) return [];
    const histories = new Map<string, RecipeHistory>();
    for (const batch of chunks([...new Set(names)])) {
      const rows = await this.db
        .selectFrom('recipes as r')
        .innerJoin('recipe_revisions as rr', 'rr.recipe_id', 'r.id')
        .where('r.name', 'in', batch)
        .where('r.latest_published_at', 'is not', null)
        .where('rr.published_at', 'is not', null)
        .select(['r.id', 'r.name', 'r.version', 'r.user', 'r.channel', 'rr.revision', 'rr.published_at'])
        .orderBy('rr.published_at', 'desc')
        .execute();
      for (const row of rows) {
        let history = histories.get(row.id);
        if (!history) histories.set(row.id, (history = { ref: toRecipeRef(row), revisions: [] }));
        history.revisions.push({ revision: row.revision, timeMicros: toNumber(row.published_at!) });
      }
    }
    return [...histories.values()].sort(
      (a, b) =>
        compareCodeUnits(a.ref.name, b.ref.name) ||
        compareCodeUnits(a.ref.version, b.ref.version) ||
        compareCodeUnits(a.ref.user ?? '', b.ref.user ?? '') ||
        compareCodeUnits(a.ref.channel ?? '', b.ref.channel ?? ''),
    );
  }

  async packageDetails(ref: RecipeRevisionRef): Promise<PackageDetail[] | undefined> {
    const recipeRevision = await this.recipeRevisionsQuery(this.db, ref)
      .where('rr.revision', '=', ref.revision)
      .where('rr.published_at', 'is not', null)
      .select('rr.id')
      .executeTakeFirst();
    if (!recipeRevision) return undefined;
    // Two queries whatever the number of binaries: revisions with their
    // conaninfo.txt text, then every file of those revisions.
    const revisions = await this.db
      .selectFrom('package_revisions as pr')
      .leftJoin('package_files as pf', (join) =>
        join.onRef('pf.package_revision_id', '=', 'pr.id').on('pf.path', '=', PACKAGE_INFO_FILE),
      )
      .leftJoin('blobs as b', 'b.key', 'pf.blob_key')
      .where('pr.recipe_revision_id', '=', recipeRevision.id)
      .where('pr.published_at', 'is not', null)
      .select(['pr.id', 'pr.package_id', 'pr.revision', 'pr.published_at', 'b.content'])
      .orderBy('pr.package_id')
      .orderBy('pr.published_at', 'desc')
      .orderBy('pr.revision')
      .execute();
    const files = await this.db
      .selectFrom('package_files as pf')
      .innerJoin('package_revisions as pr', 'pr.id', 'pf.package_revision_id')
      .where('pr.recipe_revision_id', '=', recipeRevision.id)
      .where('pr.published_at', 'is not', null)
      .select(['pf.package_revision_id', 'pf.path', 'pf.size'])
      .execute();
    const filesOf = new Map<string, FileEntry[]>();
    for (const f of files) {
      let list = filesOf.get(f.package_revision_id);
      if (!list) filesOf.set(f.package_revision_id, (list = []));
      list.push({ path: f.path, size: toNumber(f.size) });
    }
    for (const list of filesOf.values()) list.sort((a, b) => compareCodeUnits(a.path, b.path));
    const details = new Map<string, PackageDetail>();
    for (const row of revisions) {
      let detail = details.get(row.package_id);
      if (!detail) {
        details.set(row.package_id, (detail = { packageId: row.package_id, revisions: [] }));
        if (row.content !== null) detail.conaninfo = row.content;
      }
      detail.revisions.push({ revision: row.revision, timeMicros: toNumber(row.published_at!), files: filesOf.get(row.id) ?? [] });
    }
    return [...details.values()].sort((a, b) => compareCodeUnits(a.packageId, b.packageId));
  }

  async dependents(name: string, limit: number): Promise<DependentEntry[]> {
    const rows = await this.db
      .selectFrom('package_requires as q')
      .innerJoin('package_revisions as pr', 'pr.id', 'q.package_revision_id')
      .innerJoin('recipe_revisions as rr', 'rr.id', 'pr.recipe_revision_id')
      .innerJoin('recipes as r', 'r.id', 'rr.recipe_id')
      .where('q.name', '=', name)
      .where('pr.published_at', 'is not', null)
      .where('rr.published_at', 'is not', null)
      .select(['r.name', 'r.version', 'r.user', 'r.channel', 'rr.revision', 'pr.package_id', 'q.reference', 'q.version as required_version'])
      .orderBy(this.nameOrder('r.name'))
      .orderBy(this.nameOrder('r.version'))
      .orderBy(this.nameOrder('r.user'))
      .orderBy(this.nameOrder('r.channel'))
      .orderBy(this.nameOrder('rr.revision'))
      .orderBy(this.nameOrder('pr.package_id'))
      .orderBy(this.nameOrder('q.reference'))
      .limit(Math.max(0, Math.floor(limit)))
      .execute();
    // Several revisions of a binary usually require the same: one entry each.
    const seen = new Set<string>();
    const unique = rows.filter((row) => {
      const key = JSON.stringify([row.name, row.version, row.user, row.channel, row.revision, row.package_id, row.reference]);
      return !seen.has(key) && !!seen.add(key);
    });
    return unique.map((row) => ({
      ref: { ...toRecipeRef(row), revision: row.revision },
      packageId: row.package_id,
      requires: row.reference,
      version: row.required_version,
    }));
  }

  async totals(): Promise<RegistryTotals> {
    const count = async (query: Promise<{ n: number | string | bigint } | undefined>) => Number((await query)?.n ?? 0);
    const [recipes, revisions, binaries, recipeBytes, packageBytes] = await Promise.all([
      count(this.db.selectFrom('recipes').where('latest_published_at', 'is not', null).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst()),
      count(this.db.selectFrom('recipe_revisions').where('published_at', 'is not', null).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst()),
      count(
        this.db
          .selectFrom('package_revisions as pr')
          .innerJoin('recipe_revisions as rr', 'rr.id', 'pr.recipe_revision_id')
          .where('pr.published_at', 'is not', null)
          .where('rr.published_at', 'is not', null)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirst(),
      ),
      count(
        this.db
          .selectFrom('recipe_files as f')
          .innerJoin('recipe_revisions as rr', 'rr.id', 'f.recipe_revision_id')
          .where('rr.published_at', 'is not', null)
          .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('f.size'), sql<number>`0`).as('n'))
          .executeTakeFirst(),
      ),
      count(
        this.db
          .selectFrom('package_files as f')
          .innerJoin('package_revisions as pr', 'pr.id', 'f.package_revision_id')
          .innerJoin('recipe_revisions as rr', 'rr.id', 'pr.recipe_revision_id')
          .where('pr.published_at', 'is not', null)
          .where('rr.published_at', 'is not', null)
          .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('f.size'), sql<number>`0`).as('n'))
          .executeTakeFirst(),
      ),
    ]);
    return { recipes, revisions, binaries, bytes: recipeBytes + packageBytes };
  }

  async recentRecipeRevisions(limit: number, beforeMicros?: number): Promise<PublishedRevision[]> {
    let query = this.db
      .selectFrom('recipe_revisions as rr')
      .innerJoin('recipes as r', 'r.id', 'rr.recipe_id')
      .where('rr.published_at', 'is not', null);
    if (beforeMicros !== undefined) query = query.where('rr.published_at', '<', beforeMicros);
    const rows = await query
      .select(['r.name', 'r.version', 'r.user', 'r.channel', 'rr.revision', 'rr.published_at'])
      .orderBy('rr.published_at', 'desc')
      .limit(Math.max(0, Math.floor(limit)))
      .execute();
    return rows.map((row) => ({ ref: { ...toRecipeRef(row), revision: row.revision }, timeMicros: toNumber(row.published_at!) }));
  }

  // --- writes ------------------------------------------------------------

  async recordFile(owner: FileOwner, path: string, blob: NewBlob, options: RecordFileOptions = {}): Promise<RecordOutcome> {
    return this.db.transaction().execute(async (trx) => {
      const now = await this.clock(trx);
      return this.writeFile(trx, owner, path, blob, now, options, true);
    });
  }

  async linkFile(owner: FileOwner, path: string, blobKey: string, options: LinkFileOptions = {}): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const now = await this.clock(trx);
      // Refreshing the record locks it: a concurrent releaseBlobs either ran
      // first (no row to update: nothing is linked) or sees a fresh time.
      const touched = await trx
        .updateTable('blobs')
        .set({ created_at: now })
        .where('key', '=', blobKey)
        .returning(['key', 'size', 'sha1', 'sha256', 'md5', 'content'])
        .executeTakeFirst();
      if (!touched) return false;
      // Bytes stored under another name (or before md5 and text were kept)
      // cannot be checked or listed without reading them: have them sent.
      if ((keepsMd5(path) && touched.md5 === null) || (keepsText(path) && touched.content === null)) return false;
      const blob: NewBlob = {
        key: touched.key,
        size: toNumber(touched.size),
        sha1: touched.sha1,
        sha256: touched.sha256,
        ...(touched.md5 === null ? {} : { md5: touched.md5 }),
        ...(touched.content === null ? {} : { text: touched.content }),
      };
      await this.writeFile(trx, owner, path, blob, now, options, false);
      return true;
    });
  }

  async replaceFiles(
    owner: FileOwner,
    change: { write: { path: string; blob: NewBlob }[]; remove?: string[] },
    options: LinkFileOptions = {},
  ): Promise<boolean> {
    const manifest = change.write.find((f) => f.path === MANIFEST_FILE);
    if (change.write.length > 0 && !manifest) throw new Error('replaceFiles: the files written must include the manifest');
    return this.db.transaction().execute(async (trx) => {
      const now = await this.clock(trx);
      let ownerId: string | undefined;
      if (manifest) {
        const recipeRevisionId = await this.ensureRecipeRevision(trx, owner.ref, now);
        ownerId =
          owner.kind === 'package' ? await this.ensurePackageRevision(trx, recipeRevisionId, owner.ref, now) : recipeRevisionId;
      } else {
        ownerId = await this.visibleOwnerIdIn(trx, owner);
        if (ownerId === undefined) return false;
      }
      const [files, ownerColumn] =
        owner.kind === 'recipe' ? (['recipe_files', 'recipe_revision_id'] as const) : (['package_files', 'package_revision_id'] as const);
      const dropped = [...change.write.map((f) => f.path), ...(change.remove ?? [])];
      if (dropped.length > 0) {
        await trx
          .deleteFrom(files as 'recipe_files')
          .where(ownerColumn as 'recipe_revision_id', '=', ownerId)
          .where('path', 'in', dropped)
          .execute();
      }
      // The manifest first: the files after it are checked against it, as in
      // a published revision; nobody sees the steps, all commit together.
      const ordered = manifest ? [manifest, ...change.write.filter((f) => f !== manifest)] : [];
      for (const { path, blob } of ordered) {
        await this.writeFile(trx, owner, path, blob, now, { ...options, allowOverwrite: true }, true);
      }
      if (!manifest) {
        const revisions = owner.kind === 'recipe' ? 'recipe_revisions' : 'package_revisions';
        await trx.updateTable(revisions as 'recipe_revisions').set({ touched_at: now }).where('id', '=', ownerId).execute();
      }
      return true;
    });
  }

  async fileDigests(owner: FileOwner): Promise<(StoredFile & { md5?: string })[] | undefined> {
    const ownerId = await this.visibleOwnerId(owner);
    if (ownerId === undefined) return undefined;
    const table = owner.kind === 'recipe' ? 'recipe_files' : 'package_files';
    const column = owner.kind === 'recipe' ? 'recipe_revision_id' : 'package_revision_id';
    const rows = await this.db
      .selectFrom(`${table} as f` as 'recipe_files as f')
      .leftJoin('blobs as b', 'b.key', 'f.blob_key')
      .where(`f.${column}` as 'f.recipe_revision_id', '=', ownerId)
      .select(['f.path', 'f.blob_key', 'f.size', 'f.sha1', 'b.md5'])
      .orderBy('f.path')
      .execute();
    return rows.map((row) => ({ ...toStoredFile(row), ...(row.md5 ? { md5: row.md5 } : {}) }));
  }

  /**
   * Records `path` of a revision (creating the revision), enforcing that a
   * revision id means one content; storing the manifest publishes. With
   * `insertBlob`, also records the blob (a new upload; a link refreshed its
   * existing record already).
   */
  private async writeFile(
    trx: Transaction<Database>,
    owner: FileOwner,
    path: string,
    blob: NewBlob,
    now: number,
    options: RecordFileOptions,
    insertBlob: boolean,
  ): Promise<RecordOutcome> {
    const recipeRevisionId = await this.ensureRecipeRevision(trx, owner.ref, now);
    const packageRevisionId =
      owner.kind === 'package' ? await this.ensurePackageRevision(trx, recipeRevisionId, owner.ref, now) : undefined;
    // Recipe and package revisions have the same lifecycle columns and file
    // tables of the same shape; the casts let one set of statements serve both.
    const [revisions, files, ownerColumn, ownerId] =
      packageRevisionId === undefined
        ? (['recipe_revisions', 'recipe_files', 'recipe_revision_id', recipeRevisionId] as const)
        : (['package_revisions', 'package_files', 'package_revision_id', packageRevisionId] as const);
    // Lock the revision first: records into it take turns from here (a row
    // lock on PostgreSQL, after which each READ COMMITTED statement sees what
    // the previous holder committed; SQLite has one writer at a time), so a
    // check below and the write it allows never interleave with another
    // node's record of the same revision.
    const locked = await trx
      .updateTable(revisions as 'recipe_revisions')
      .set((eb) => ({ touched_at: eb.ref('touched_at') }))
      .where('id', '=', ownerId)
      .returning('published_at')
      .executeTakeFirstOrThrow();
    const published = locked.published_at !== null;
    const fileOf = (filePath: string) =>
      trx
        .selectFrom(`${files} as f` as 'recipe_files as f')
        .leftJoin('blobs as b', 'b.key', 'f.blob_key')
        .where(`f.${ownerColumn}` as 'f.recipe_revision_id', '=', ownerId)
        .where('f.path', '=', filePath)
        .select(['f.sha1', 'b.md5', 'b.content'])
        .executeTakeFirst();

    const existing = await trx
      .selectFrom(files as 'recipe_files')
      .where(ownerColumn as 'recipe_revision_id', '=', ownerId)
      .where('path', '=', path)
      .select(['sha1', 'blob_key'])
      .executeTakeFirst();
    const sameBytes = existing !== undefined && existing.sha1 === blob.sha1;
    if (published && existing && !sameBytes && !isMetadataPath(path) && !options.allowOverwrite) {
      throw new RevisionOverwriteError(path);
    }
    const overwrites = published && existing !== undefined && !sameBytes && !isMetadataPath(path);
    const unchanged = sameBytes && !options.replaceSameBytes;
    const unchangedPublished = published && sameBytes;
    if (!unchangedPublished) {
      // The manifest is checked whenever it is stored (publishing needs it);
      // the file it lists when it replaces that of a published revision (an
      // unpublished one is checked when its manifest comes).
      const identity = identityFile(owner.kind);
      if (path === MANIFEST_FILE && blob.text !== undefined) {
        const file = await fileOf(identity);
        const listed = listedMd5(blob.text, identity);
        if (file?.md5 && listed !== undefined && listed !== file.md5) {
          throw new ManifestMismatchError(identity, listed, file.md5);
        }
      } else if (path === identity && published && blob.md5 !== undefined) {
        const manifest = await fileOf(MANIFEST_FILE);
        const listed = manifest?.content ? listedMd5(manifest.content, identity) : undefined;
        if (listed !== undefined && listed !== blob.md5.toLowerCase()) {
          throw new ManifestMismatchError(identity, listed, blob.md5.toLowerCase());
        }
      }
      // Recording a file brings a deleted revision back (its id is its content).
      await trx
        .updateTable(revisions as 'recipe_revisions')
        .set({ deleted_at: null, touched_at: now })
        .where('id', '=', ownerId)
        .execute();
    }
    if (!unchanged) {
      if (insertBlob) {
        await trx
          .insertInto('blobs')
          .values({
            key: blob.key,
            size: blob.size,
            sha1: blob.sha1,
            sha256: blob.sha256,
            created_at: now,
            md5: blob.md5?.toLowerCase() ?? null,
            // PostgreSQL text cannot hold NUL; U+FFFD keeps every line a manifest
            // check reads meaning the same (a path with a NUL matches no file).
            content: blob.text?.replaceAll('\0', '\uFFFD') ?? null,
          })
          .onConflict((oc) => oc.column('key').doNothing())
          .execute();
      }
      const file = { path, blob_key: blob.key, size: blob.size, sha1: blob.sha1 };
      await trx
        .insertInto(files as 'recipe_files')
        .values({ [ownerColumn]: ownerId, ...file } as { recipe_revision_id: string } & typeof file)
        .onConflict((oc) => oc.columns([ownerColumn as 'recipe_revision_id', 'path']).doUpdateSet(file))
        .execute();
      if (owner.kind === 'package' && path === PACKAGE_INFO_FILE) await this.indexRequires(trx, ownerId, blob.text ?? '');
    }
    // Rule 4: storing the manifest of a published revision again keeps its
    // time and place, unless asked otherwise (or given a time, by imports).
    const publishes =
      path === MANIFEST_FILE &&
      (!published || options.reuploadMakesLatest === true || options.publishedAtMicros !== undefined);
    if (overwrites) {
      await appendAudit(trx, now, { kind: 'file.overwritten', ref: ownerRef(owner), detail: path, actor: options.actor });
    }
    if (publishes) {
      await appendAudit(trx, now, {
        kind: owner.kind === 'recipe' ? 'recipe.published' : 'package.published',
        ref: ownerRef(owner),
        actor: options.actor,
      });
      if (owner.kind === 'recipe') {
        await this.publishRecipeRevision(trx, recipeRevisionId, now, options.publishedAtMicros);
      } else {
        await this.publishPackageRevision(trx, ownerId, recipeRevisionId, owner.ref.packageId, now, options.publishedAtMicros);
      }
    }
    return unchanged ? { status: 'unchanged', blobKey: existing!.blob_key } : { status: 'recorded' };
  }

  /** Replaces the `[requires]` index of a package revision with what its conaninfo.txt says. */
  private async indexRequires(trx: Transaction<Database>, packageRevisionId: string, conaninfo: string): Promise<void> {
    await trx.deleteFrom('package_requires').where('package_revision_id', '=', packageRevisionId).execute();
    const rows = requireRows(packageRevisionId, conaninfo);
    for (const batch of chunks(rows, 200)) await trx.insertInto('package_requires').values(batch).execute();
  }

  /** Recomputes `recipes.latest_published_at` (what listings of visible recipes read) of some recipes. */
  private async refreshRecipeVisibility(trx: Transaction<Database>, recipeIds: string[]): Promise<void> {
    for (const ids of chunks(recipeIds)) {
      await trx
        .updateTable('recipes')
        .set({
          latest_published_at: sql`(select max(rr.published_at) from recipe_revisions rr where rr.recipe_id = recipes.id)`,
        })
        .where('id', 'in', ids)
        .execute();
    }
  }

  private async ensureRecipeRevision(trx: Transaction<Database>, ref: RecipeRevisionRef, now: number): Promise<string> {
    const key = recipeKey(ref);
    await trx
      .insertInto('recipes')
      .values({ id: randomUUID(), ...key })
      .onConflict((oc) => oc.columns(['name', 'version', 'user', 'channel']).doNothing())
      .execute();
    const recipe = await trx
      .selectFrom('recipes')
      .where('name', '=', key.name)
      .where('version', '=', key.version)
      .where('user', '=', key.user)
      .where('channel', '=', key.channel)
      .select('id')
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('recipe_revisions')
      .values({ id: randomUUID(), recipe_id: recipe.id, revision: ref.revision, created_at: now, published_at: null })
      .onConflict((oc) => oc.columns(['recipe_id', 'revision']).doNothing())
      .execute();
    const revision = await trx
      .selectFrom('recipe_revisions')
      .where('recipe_id', '=', recipe.id)
      .where('revision', '=', ref.revision)
      .select('id')
      .executeTakeFirstOrThrow();
    return revision.id;
  }

  private async ensurePackageRevision(
    trx: Transaction<Database>,
    recipeRevisionId: string,
    ref: PackageRevisionRef,
    now: number,
  ): Promise<string> {
    await trx
      .insertInto('package_revisions')
      .values({
        id: randomUUID(),
        recipe_revision_id: recipeRevisionId,
        package_id: ref.packageId,
        revision: ref.packageRevision,
        created_at: now,
        published_at: null,
      })
      .onConflict((oc) => oc.columns(['recipe_revision_id', 'package_id', 'revision']).doNothing())
      .execute();
    const row = await trx
      .selectFrom('package_revisions')
      .where('recipe_revision_id', '=', recipeRevisionId)
      .where('package_id', '=', ref.packageId)
      .where('revision', '=', ref.packageRevision)
      .select('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /**
   * Publishes with a time strictly after every sibling's, so "latest" is
   * well defined even when clocks tie.
   */
  private async publishRecipeRevision(
    trx: Transaction<Database>,
    id: string,
    now: number,
    publishedAt: number | undefined,
  ): Promise<void> {
    const recipeId = (await trx.selectFrom('recipe_revisions').where('id', '=', id).select('recipe_id').executeTakeFirstOrThrow())
      .recipe_id;
    if (publishedAt !== undefined) {
      await trx.updateTable('recipe_revisions').set({ published_at: publishedAt }).where('id', '=', id).execute();
      await this.refreshRecipeVisibility(trx, [recipeId]);
      return;
    }
    // Publications of one recipe take turns, or two of them (on PostgreSQL,
    // under READ COMMITTED) read the same latest time and publish a tie. A
    // no-op update locks the parent row on every database until commit.
    await trx
      .updateTable('recipes')
      .set((eb) => ({ name: eb.ref('name') }))
      .where('id', '=', trx.selectFrom('recipe_revisions').where('id', '=', id).select('recipe_id'))
      .execute();
    const row = await trx
      .selectFrom('recipe_revisions')
      .where(
        'recipe_id',
        '=',
        trx.selectFrom('recipe_revisions').where('id', '=', id).select('recipe_id'),
      )
      .select((eb) => eb.fn.max('published_at').as('latest'))
      .executeTakeFirst();
    await trx
      .updateTable('recipe_revisions')
      .set({ published_at: nextTime(now, row?.latest) })
      .where('id', '=', id)
      .execute();
    await this.refreshRecipeVisibility(trx, [recipeId]);
  }

  private async publishPackageRevision(
    trx: Transaction<Database>,
    id: string,
    recipeRevisionId: string,
    packageId: string,
    now: number,
    publishedAt: number | undefined,
  ): Promise<void> {
    if (publishedAt !== undefined) {
      await trx.updateTable('package_revisions').set({ published_at: publishedAt }).where('id', '=', id).execute();
      return;
    }
    // As for recipes: binaries of one recipe revision publish in turn.
    await trx
      .updateTable('recipe_revisions')
      .set((eb) => ({ revision: eb.ref('revision') }))
      .where('id', '=', recipeRevisionId)
      .execute();
    const row = await trx
      .selectFrom('package_revisions')
      .where('recipe_revision_id', '=', recipeRevisionId)
      .where('package_id', '=', packageId)
      .select((eb) => eb.fn.max('published_at').as('latest'))
      .executeTakeFirst();
    await trx
      .updateTable('package_revisions')
      .set({ published_at: nextTime(now, row?.latest) })
      .where('id', '=', id)
      .execute();
  }

  // --- deletes -----------------------------------------------------------
  //
  // A delete hides revisions (published_at and deleted_at) and keeps their
  // rows: an upload of the same revision racing the delete then ends with
  // the revision whole, never with only the files recorded after the delete.
  // Garbage collection removes the rows later (purgeUnpublished).

  async deleteRecipe(ref: RecipeRef, actor?: AuditActor): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const key = recipeKey(ref);
      const ids = (
        await trx
          .selectFrom('recipe_revisions as rr')
          .innerJoin('recipes as r', 'r.id', 'rr.recipe_id')
          .where('r.name', '=', key.name)
          .where('r.version', '=', key.version)
          .where('r.user', '=', key.user)
          .where('r.channel', '=', key.channel)
          .where('rr.deleted_at', 'is', null)
          .select('rr.id')
          .execute()
      ).map((row) => row.id);
      if (ids.length === 0) return false;
      const now = await this.hideRecipeRevisions(trx, ids);
      await appendAudit(trx, now, { kind: 'recipe.deleted', ref: formatRecipe(ref), actor });
      return true;
    });
  }

  async deleteRecipeRevision(ref: RecipeRevisionRef, actor?: AuditActor): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const revision = await this.findRecipeRevision(trx, ref);
      if (!revision) return false;
      const now = await this.hideRecipeRevisions(trx, [revision.id]);
      await appendAudit(trx, now, { kind: 'recipe_revision.deleted', ref: formatRecipeRevision(ref), actor });
      return true;
    });
  }

  async deletePackages(ref: RecipeRevisionRef, actor?: AuditActor): Promise<boolean> {
    return this.deletePackagesWhere(ref, {}, { kind: 'packages.deleted', ref: formatRecipeRevision(ref), actor });
  }

  async deletePackage(ref: PackageRef, actor?: AuditActor): Promise<boolean> {
    return this.deletePackagesWhere(ref, { packageId: ref.packageId }, { kind: 'package.deleted', ref: formatPackage(ref), actor });
  }

  async deletePackageRevision(ref: PackageRevisionRef, actor?: AuditActor): Promise<boolean> {
    return this.deletePackagesWhere(
      ref,
      { packageId: ref.packageId, revision: ref.packageRevision },
      { kind: 'package_revision.deleted', ref: formatPackageRevision(ref), actor },
    );
  }

  /**
   * Deletes the package revisions of a recipe revision that match `criteria`.
   * Returns `false` when the recipe revision is missing, or when a package
   * was named and nothing matched.
   */
  private async deletePackagesWhere(
    ref: RecipeRevisionRef,
    criteria: { packageId?: string; revision?: string },
    event: NewAuditEvent,
  ): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const recipeRevision = await this.findRecipeRevision(trx, ref);
      if (!recipeRevision) return false;
      let query = trx
        .selectFrom('package_revisions')
        .where('recipe_revision_id', '=', recipeRevision.id)
        .where('deleted_at', 'is', null);
      if (criteria.packageId !== undefined) query = query.where('package_id', '=', criteria.packageId);
      if (criteria.revision !== undefined) query = query.where('revision', '=', criteria.revision);
      const ids = (await query.select('id').execute()).map((row) => row.id);
      if (ids.length > 0) {
        const now = await this.clock(trx);
        await this.hidePackageRevisions(trx, ids, now);
        // Only a delete that hid something is a change worth recording.
        await appendAudit(trx, now, event);
      }
      return ids.length > 0 || criteria.packageId === undefined;
    });
  }

  /** Hides recipe revisions and their binaries; returns the time it used. */
  private async hideRecipeRevisions(trx: Transaction<Database>, ids: string[]): Promise<number> {
    const now = await this.clock(trx);
    const packageIds = (
      await trx
        .selectFrom('package_revisions')
        .where('recipe_revision_id', 'in', ids)
        .where('deleted_at', 'is', null)
        .select('id')
        .execute()
    ).map((row) => row.id);
    if (packageIds.length > 0) await this.hidePackageRevisions(trx, packageIds, now);
    await trx
      .updateTable('recipe_revisions')
      .set({ published_at: null, deleted_at: now, touched_at: now })
      .where('id', 'in', ids)
      .execute();
    const recipeIds = await trx.selectFrom('recipe_revisions').where('id', 'in', ids).select('recipe_id').distinct().execute();
    await this.refreshRecipeVisibility(trx, recipeIds.map((r) => r.recipe_id));
    return now;
  }

  private async hidePackageRevisions(trx: Transaction<Database>, ids: string[], now: number): Promise<void> {
    await trx
      .updateTable('package_revisions')
      .set({ published_at: null, deleted_at: now, touched_at: now })
      .where('id', 'in', ids)
      .execute();
  }

  /** A recipe revision that is not deleted (published or still uploading). */
  private findRecipeRevision(trx: Transaction<Database>, ref: RecipeRevisionRef) {
    return this.recipeRevisionsQuery(trx, ref)
      .where('rr.revision', '=', ref.revision)
      .where('rr.deleted_at', 'is', null)
      .select(['rr.id', 'rr.recipe_id'])
      .executeTakeFirst();
  }

  async purgeUnpublished(options: PurgeOptions): Promise<PurgeReport> {
    const cutoff = options.olderThanMicros;
    const stale = (table: 'recipe_revisions' | 'package_revisions' | 'pr') =>
      sql<boolean>`${sql.ref(`${table}.published_at`)} is null and coalesce(${sql.ref(`${table}.touched_at`)}, ${sql.ref(`${table}.created_at`)}) < ${cutoff}`;
    return this.db.transaction().execute(async (trx) => {
      // No-op updates select and lock in one statement: a file recorded into
      // one of these revisions meanwhile either came first (the revision is
      // touched, so no longer stale, and the database re-checks) or waits.
      // (No table aliases: SQLite refuses them in RETURNING.)
      const packageIds = (
        await trx
          .updateTable('package_revisions')
          .set((eb) => ({ touched_at: eb.ref('package_revisions.touched_at') }))
          .where(stale('package_revisions'))
          .returning('id')
          .execute()
      ).map((r) => r.id);
      const recipeIds = (
        await trx
          .updateTable('recipe_revisions')
          .set((eb) => ({ touched_at: eb.ref('recipe_revisions.touched_at') }))
          .where(stale('recipe_revisions'))
          // Only with every binary purged too.
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('package_revisions as pr')
                  .whereRef('pr.recipe_revision_id', '=', 'recipe_revisions.id')
                  .where(sql<boolean>`not (${stale('pr')})`)
                  .select(sql`1`.as('one')),
              ),
            ),
          )
          .returning('id')
          .execute()
      ).map((r) => r.id);
      if (!options.dryRun) {
        for (const ids of chunks(packageIds)) {
          await trx.deleteFrom('package_requires').where('package_revision_id', 'in', ids).execute();
          await trx.deleteFrom('package_files').where('package_revision_id', 'in', ids).execute();
          await trx.deleteFrom('package_revisions').where('id', 'in', ids).execute();
        }
        for (const ids of chunks(recipeIds)) {
          await trx.deleteFrom('recipe_files').where('recipe_revision_id', 'in', ids).execute();
          await trx.deleteFrom('recipe_revisions').where('id', 'in', ids).execute();
        }
        await trx
          .deleteFrom('recipes')
          .where(({ not, exists, selectFrom }) =>
            not(exists(selectFrom('recipe_revisions as rr').whereRef('rr.recipe_id', '=', 'recipes.id').select(sql`1`.as('one')))),
          )
          .execute();
      }
      return { recipeRevisions: recipeIds.length, packageRevisions: packageIds.length };
    });
  }

  // --- blobs and users ---------------------------------------------------

  async findBlobBySha1(sha1: string): Promise<BlobRecord | undefined> {
    const row = await this.db
      .selectFrom('blobs')
      .where('sha1', '=', sha1)
      .select(['key', 'size', 'sha1', 'sha256'])
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    return row && { key: row.key, size: toNumber(row.size), sha1: row.sha1, sha256: row.sha256 };
  }

  async findBlobsBySha1(sha1: string, limit = 20): Promise<BlobUse[]> {
    const blobs = await this.db
      .selectFrom('blobs')
      .where('sha1', '=', sha1)
      .select(['key', 'size', 'sha1', 'sha256'])
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
    if (blobs.length === 0) return [];
    const keys = blobs.map((b) => b.key);
    const recipeColumns = ['fk.blob_key', 'r.name', 'r.version', 'r.user', 'r.channel'] as const;
    const fromRecipeFiles = this.db
      .selectFrom('recipe_files as fk')
      .innerJoin('recipe_revisions as rr', 'rr.id', 'fk.recipe_revision_id')
      .innerJoin('recipes as r', 'r.id', 'rr.recipe_id')
      .where('fk.blob_key', 'in', keys)
      .where('rr.published_at', 'is not', null)
      .select(recipeColumns);
    const fromPackageFiles = this.db
      .selectFrom('package_files as fk')
      .innerJoin('package_revisions as pr', 'pr.id', 'fk.package_revision_id')
      .innerJoin('recipe_revisions as rr', 'rr.id', 'pr.recipe_revision_id')
      .innerJoin('recipes as r', 'r.id', 'rr.recipe_id')
      .where('fk.blob_key', 'in', keys)
      .where('pr.published_at', 'is not', null)
      .select(recipeColumns);
    const uses = await fromRecipeFiles.union(fromPackageFiles).execute();
    return blobs.map((b) => ({
      key: b.key,
      size: toNumber(b.size),
      sha1: b.sha1,
      sha256: b.sha256,
      recipes: uses.filter((u) => u.blob_key === b.key).map((u) => toRecipeRef(u)),
    }));
  }

  async releaseBlobs(keys: string[], options: ReleaseBlobsOptions): Promise<string[]> {
    if (keys.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      // A dry run has not purged stale unpublished revisions: their files do not count as uses.
      const live = (alias: string) =>
        options.dryRun
          ? sql` and (${sql.ref(`${alias}.published_at`)} is not null or coalesce(${sql.ref(`${alias}.touched_at`)}, ${sql.ref(`${alias}.created_at`)}) >= ${options.olderThanMicros})`
          : sql``;
      const unused = sql<boolean>`not exists (select 1 from recipe_files f join recipe_revisions rr on rr.id = f.recipe_revision_id where f.blob_key = blobs.key${live('rr')})
        and not exists (select 1 from package_files f join package_revisions pr on pr.id = f.package_revision_id where f.blob_key = blobs.key${live('pr')})`;
      const released = options.dryRun
        ? await trx
            .selectFrom('blobs')
            .where('key', 'in', keys)
            .where('created_at', '<', options.olderThanMicros)
            .where(unused)
            .select('key')
            .execute()
        : await trx
            .deleteFrom('blobs')
            .where('key', 'in', keys)
            .where('created_at', '<', options.olderThanMicros)
            .where(unused)
            .returning('key')
            .execute();
      const releasedSet = new Set(released.map((r) => r.key));
      // Bytes with no record at all: an upload that failed, or died, before recording.
      const recorded = new Set(
        (await trx.selectFrom('blobs').where('key', 'in', keys).select('key').execute()).map((r) => r.key),
      );
      const referenced = new Set([
        ...(await trx.selectFrom('recipe_files').where('blob_key', 'in', keys).select('blob_key').execute()),
        ...(await trx.selectFrom('package_files').where('blob_key', 'in', keys).select('blob_key').execute()),
      ].map((r) => r.blob_key));
      const orphans = keys.filter((k) => !recorded.has(k) && !referenced.has(k) && !releasedSet.has(k));
      return [...releasedSet, ...orphans];
    });
  }

  async getPasswordHash(user: string): Promise<string | undefined> {
    const row = await this.hot.passwordHash.first(user);
    return row?.password_hash;
  }

  async setPasswordHash(user: string, hash: string, actor?: AuditActor): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const now = await this.clock(trx);
      await trx
        .insertInto('users')
        .values({ name: user, password_hash: hash, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column('name').doUpdateSet({ password_hash: hash, updated_at: now }))
        .execute();
      await appendAudit(trx, now, { kind: 'user.password_changed', ref: user, actor });
    });
  }

  async addUser(user: string, hash: string, actor?: AuditActor): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const now = await this.clock(trx);
      const result = await trx
        .insertInto('users')
        .values({ name: user, password_hash: hash, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      const added = Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
      if (added) await appendAudit(trx, now, { kind: 'user.added', ref: user, actor });
      return added;
    });
  }

  async deleteUser(user: string, actor?: AuditActor): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('api_tokens').where('user_name', '=', user).execute();
      const result = await trx.deleteFrom('users').where('name', '=', user).executeTakeFirst();
      const removed = Number(result.numDeletedRows) > 0;
      if (removed) await appendAudit(trx, await this.clock(trx), { kind: 'user.removed', ref: user, actor });
      return removed;
    });
  }

  async listUsers(): Promise<string[]> {
    const rows = await this.db.selectFrom('users').select('name').orderBy('name').execute();
    return rows.map((r) => r.name);
  }

  async createApiToken(token: NewApiToken, actor?: AuditActor): Promise<ApiTokenRecord> {
    return this.db.transaction().execute(async (trx) => {
      const now = await this.clock(trx);
      const expires = token.expiresInSeconds === undefined ? null : now + Math.round(token.expiresInSeconds * 1_000_000);
      const row = {
        id: token.id,
        user_name: token.user,
        name: token.name,
        secret_sha256: token.secretSha256,
        scope: token.scope,
        pattern: token.pattern ?? null,
        created_at: now,
        expires_at: expires,
        last_used_at: null,
      };
      await trx.insertInto('api_tokens').values(row).execute();
      await appendAudit(trx, now, {
        kind: 'token.created',
        ref: `${token.user}/${token.id}`,
        detail: `${token.name} (${token.scope}${token.pattern === undefined ? '' : ` ${token.pattern}`})`,
        actor,
      });
      return apiTokenOfRow(row);
    });
  }

  async apiToken(id: string): Promise<(ApiTokenRecord & { secretSha256: string }) | undefined> {
    const row = await this.hot.apiToken.first(id);
    return row ? { ...apiTokenOfRow(row), secretSha256: row.secret_sha256 } : undefined;
  }

  async listApiTokens(user?: string): Promise<ApiTokenRecord[]> {
    let query = this.db.selectFrom('api_tokens').selectAll();
    if (user !== undefined) query = query.where('user_name', '=', user);
    const rows = await query.orderBy('created_at').orderBy('id').execute();
    return rows.map(apiTokenOfRow);
  }

  async revokeApiToken(id: string, user?: string, actor?: AuditActor): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      let query = trx.deleteFrom('api_tokens').where('id', '=', id);
      if (user !== undefined) query = query.where('user_name', '=', user);
      const deleted = await query.returning(['user_name']).executeTakeFirst();
      if (!deleted) return false;
      await appendAudit(trx, await this.clock(trx), { kind: 'token.revoked', ref: `${deleted.user_name}/${id}`, actor });
      return true;
    });
  }

  async touchApiToken(id: string): Promise<void> {
    const now = await this.clock(this.db);
    await this.db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
  }

  // --- audit trail and download counts -----------------------------------

  async auditEvents(query: AuditQuery): Promise<AuditEvent[]> {
    const limit = Math.max(0, Math.floor(query.limit));
    const events: AuditEvent[] = [];
    // Pages newest first, keyset on (at, id); a ref predicate filters each
    // page, so a pattern matching little reads at most the table, never
    // holds more than a page and the result.
    let before: { at: number; id: string } | undefined;
    const pageSize = Math.min(Math.max(limit, 100), 1000);
    while (events.length < limit) {
      let select = this.db.selectFrom('audit_events').selectAll();
      if (query.sinceMicros !== undefined) select = select.where('at', '>=', query.sinceMicros);
      if (query.user !== undefined) select = select.where('user', '=', query.user);
      if (before !== undefined) {
        const { at, id } = before;
        select = select.where((eb) => eb.or([eb('at', '<', at), eb.and([eb('at', '=', at), eb('id', '<', id)])]));
      }
      const rows = await select.orderBy('at', 'desc').orderBy('id', 'desc').limit(pageSize).execute();
      for (const row of rows) {
        const event = toAuditEvent(row);
        if (query.refMatches && !(event.ref !== undefined && query.refMatches(event.ref))) continue;
        events.push(event);
        if (events.length === limit) break;
      }
      if (rows.length < pageSize) break;
      const last = rows[rows.length - 1]!;
      before = { at: toNumber(last.at), id: last.id };
    }
    return events;
  }

  async pruneAudit(olderThanMicros: number, options: { dryRun?: boolean } = {}): Promise<number> {
    if (options.dryRun) {
      const row = await this.db
        .selectFrom('audit_events')
        .where('at', '<', olderThanMicros)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    }
    const result = await this.db.deleteFrom('audit_events').where('at', '<', olderThanMicros).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async addDownloads(counts: DownloadCount[]): Promise<void> {
    if (counts.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const c of counts) {
        await trx
          .insertInto('download_counts')
          .values({ day: c.day, kind: c.kind, ref: c.ref, count: c.count })
          .onConflict((oc) =>
            oc
              .columns(['ref', 'day', 'kind'])
              .doUpdateSet((eb) => ({ count: eb('download_counts.count', '+', eb.ref('excluded.count')) })),
          )
          .execute();
      }
    });
  }

  async downloadCounts(kind: 'recipe' | 'package', ref: string): Promise<DownloadCount[]> {
    const rows = await this.db
      .selectFrom('download_counts')
      .where('ref', '=', ref)
      .where('kind', '=', kind)
      .select(['day', 'count'])
      .orderBy('day', 'desc')
      .execute();
    return rows.map((r) => ({ kind, ref, day: r.day, count: toNumber(r.count) }));
  }
}

function apiTokenOfRow(row: Selectable<ApiTokensTable>): ApiTokenRecord {
  const record: ApiTokenRecord = {
    id: row.id,
    user: row.user_name,
    name: row.name,
    scope: row.scope as ApiTokenScope,
    createdAtMicros: Number(row.created_at),
  };
  if (row.pattern !== null) record.pattern = row.pattern;
  if (row.expires_at !== null) record.expiresAtMicros = Number(row.expires_at);
  if (row.last_used_at !== null) record.lastUsedAtMicros = Number(row.last_used_at);
  return record;
}

/**
 * Records a change in the audit trail, inside the transaction making it (so
 * the event exists iff the change commits). For every writer of the
 * metadata database, e.g. API tokens (`token.created`, `token.revoked`).
 */
export async function appendAudit(trx: Transaction<Database>, now: number, event: NewAuditEvent): Promise<void> {
  await trx
    .insertInto('audit_events')
    .values({
      id: auditId(now),
      at: now,
      kind: event.kind,
      user: clip(event.actor?.user, 101),
      token_id: clip(event.actor?.tokenId, 64),
      address: clip(event.actor?.address, 64),
      ref: clip(event.ref, 1024),
      detail: clip(event.detail, 1024),
    })
    .execute();
}

let auditSequence = 0;

/**
 * Ids that sort as their time does, for keyset paging; events of the same
 * microsecond (the process clock ticks in milliseconds) sort in the order
 * this process wrote them, then by randomness across processes.
 */
function auditId(now: number): string {
  auditSequence = (auditSequence + 1) % 36 ** 8;
  return `${Math.floor(now).toString(36).padStart(12, '0')}-${auditSequence.toString(36).padStart(8, '0')}-${randomUUID().replaceAll('-', '').slice(0, 14)}`;
}

function clip(value: string | undefined, max: number): string | null {
  return value === undefined ? null : value.slice(0, max);
}

// References in the trail read as `conan list` prints them (`zlib/1.3#rev:pkg#prev`), so `--ref` patterns are the familiar ones.
const formatRecipeRevision = (ref: RecipeRevisionRef) => `${formatRecipe(ref)}#${ref.revision}`;
const formatPackage = (ref: PackageRef) => `${formatRecipeRevision(ref)}:${ref.packageId}`;
const formatPackageRevision = (ref: PackageRevisionRef) => `${formatPackage(ref)}#${ref.packageRevision}`;

function ownerRef(owner: FileOwner): string {
  return owner.kind === 'recipe' ? formatRecipeRevision(owner.ref) : formatPackageRevision(owner.ref);
}

function toAuditEvent(row: Selectable<AuditEventsTable>): AuditEvent {
  const actor: AuditActor = {
    ...(row.user === null ? {} : { user: row.user }),
    ...(row.token_id === null ? {} : { tokenId: row.token_id }),
    ...(row.address === null ? {} : { address: row.address }),
  };
  return {
    id: row.id,
    atMicros: toNumber(row.at),
    kind: row.kind as AuditEventKind,
    ...(row.ref === null ? {} : { ref: row.ref }),
    ...(row.detail === null ? {} : { detail: row.detail }),
    actor,
  };
}

/** Keeps `IN (...)` lists within every database's limit on bound parameters. */
function chunks<T>(items: T[], size = 500): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

function toRecipeRef(row: { name: string; version: string; user: string; channel: string }): RecipeRef {
  return row.user === ''
    ? { name: row.name, version: row.version }
    : { name: row.name, version: row.version, user: row.user, channel: row.channel };
}

/** Code-unit order, as the databases sort these columns (PostgreSQL under the "C" collation). */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function nextTime(now: number, latest: number | string | null | undefined): number {
  const previous = latest === null || latest === undefined ? -Infinity : toNumber(latest);
  return Math.max(now, previous + 1);
}

function toStoredFile(row: { path: string; blob_key: string; size: number | string; sha1: string }): StoredFile {
  return { path: row.path, blobKey: row.blob_key, size: toNumber(row.size), sha1: row.sha1 };
}
