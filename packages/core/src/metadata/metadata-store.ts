import type {
  PackageRef,
  PackageRevisionRef,
  RecipeRef,
  RecipeRevisionRef,
} from '../reference/references.js';

/** A visible revision and its publication time (microseconds since the epoch). */
export interface RevisionEntry {
  revision: string;
  timeMicros: number;
}

/** The latest visible revision of one binary package. */
export interface PackageEntry extends RevisionEntry {
  packageId: string;
}

/** A binary of {@link MetadataStore.latestBinaries}: its latest revision and what a listing shows of it. */
export interface BinaryEntry extends PackageEntry {
  /** Its `conaninfo.txt`, if it has one. */
  conaninfo?: {
    blobKey: string;
    size: number;
    /** The text, kept at upload; absent for files stored before it was kept (read the blob, bounded). */
    content?: string;
  };
}

/** A file of a revision and the blob holding its bytes. */
export interface StoredFile {
  path: string;
  blobKey: string;
  size: number;
  sha1: string;
}

/** A blob as recorded once its bytes are safely stored. */
export interface BlobRecord {
  key: string;
  size: number;
  sha1: string;
  sha256: string;
}

/** A blob about to be recorded, with what the server keeps of the few files it checks or reads. */
export interface NewBlob extends BlobRecord {
  /** md5 of the bytes: given for `conanfile.py`, `conaninfo.txt` and `conanmanifest.txt`. */
  md5?: string;
  /** The bytes as text: given for `conaninfo.txt` and `conanmanifest.txt` (bounded by the caller). */
  text?: string;
}

/** A stored blob and the recipes whose files use it (checksum deploy decides with these). */
export interface BlobUse extends BlobRecord {
  /** Recipes with at least one file, of any revision or binary, stored in this blob. */
  recipes: RecipeRef[];
}

/** Options of {@link MetadataStore.linkFile} (and {@link MetadataStore.recordFile}). */
export interface LinkFileOptions {
  /**
   * Replace a file of a published revision with other bytes (an overwrite:
   * the caller may delete). Without it such a replacement throws
   * {@link RevisionOverwriteError}. `metadata/*` files never need it.
   */
  allowOverwrite?: boolean;
  /**
   * Storing the manifest of a published revision again publishes it again,
   * with a fresh time: it becomes the latest. Without it (rule 4 of
   * DESIGN.md) it keeps its time and its place.
   */
  reuploadMakesLatest?: boolean;
  /** Who records the file, for the audit trail (publication, overwrite). */
  actor?: AuditActor;
}

/** Options of {@link MetadataStore.recordFile}. */
export interface RecordFileOptions extends LinkFileOptions {
  /**
   * When `path` is the manifest: publish at exactly this time (microseconds
   * since the epoch) instead of the clock's, keeping the time a revision had
   * on another server (imports). Ordinary uploads leave it out.
   */
  publishedAtMicros?: number;
  /**
   * Point the file at the new blob even when the revision has the same bytes
   * there already: the caller found the recorded blob missing from the blob
   * store (restored or swapped), and this upload brings the bytes back.
   */
  replaceSameBytes?: boolean;
}

/**
 * What recording a file did: `recorded` its blob, or left the file
 * `unchanged` because the revision already has the same bytes (same sha1)
 * at that path, in the blob `blobKey`; the caller then deletes the blob it
 * just stored (after checking `blobKey` is really there).
 */
export type RecordOutcome = { status: 'recorded' } | { status: 'unchanged'; blobKey: string };

/** Options of {@link MetadataStore.releaseBlobs}. */
export interface ReleaseBlobsOptions {
  /**
   * Only blobs whose record is older than this (microseconds since the
   * epoch) are released: a record is refreshed each time a file is linked
   * to it, so a blob being linked right now is kept.
   */
  olderThanMicros: number;
  /** Report what would be released without deleting any record. */
  dryRun?: boolean;
}

/** Options of {@link MetadataStore.purgeUnpublished}. */
export interface PurgeOptions {
  /** Only revisions untouched (no file recorded, no delete) since before this (microseconds since the epoch). */
  olderThanMicros: number;
  /** Count what would be purged, remove nothing. */
  dryRun?: boolean;
}

/** What {@link MetadataStore.purgeUnpublished} removed (or would remove). */
export interface PurgeReport {
  recipeRevisions: number;
  packageRevisions: number;
}

/** The revision a file belongs to. */
export type FileOwner =
  | { kind: 'recipe'; ref: RecipeRevisionRef }
  | { kind: 'package'; ref: PackageRevisionRef };

/** Who made a change, as the audit trail records it. All optional: the CLI has no address, an anonymous caller no user. */
export interface AuditActor {
  user?: string;
  /** The API token used, if any. */
  tokenId?: string;
  /** The client's address (IP). */
  address?: string;
}

/** What the audit trail records. */
export const AUDIT_EVENT_KINDS = [
  'recipe.published',
  'package.published',
  'file.overwritten',
  'recipe.deleted',
  'recipe_revision.deleted',
  'packages.deleted',
  'package.deleted',
  'package_revision.deleted',
  'user.added',
  'user.removed',
  'user.password_changed',
  'token.created',
  'token.revoked',
] as const;
export type AuditEventKind = (typeof AUDIT_EVENT_KINDS)[number];

/** A change to record. */
export interface NewAuditEvent {
  kind: AuditEventKind;
  /** The reference (as `conan` prints it), user name or token the change is about. */
  ref?: string;
  /** More about it, e.g. the overwritten file's path. */
  detail?: string;
  actor?: AuditActor;
}

/** A recorded change. */
export interface AuditEvent extends NewAuditEvent {
  id: string;
  /** When (microseconds since the epoch, the store's clock). */
  atMicros: number;
}

/** Filter of {@link MetadataStore.auditEvents}. */
export interface AuditQuery {
  /** Only events at or after this time (microseconds since the epoch). */
  sinceMicros?: number;
  /** Only events by this user. */
  user?: string;
  /** Only events whose reference matches (a caller-side predicate: patterns stay out of SQL). */
  refMatches?: (ref: string) => boolean;
  /** At most this many (newest first). */
  limit: number;
}

/** Downloads of a revision on a UTC day. */
export interface DownloadCount {
  kind: 'recipe' | 'package';
  /** The revision, as `conan` prints it. */
  ref: string;
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  count: number;
}

/** A page of {@link MetadataStore.visibleRecipeNames}. */
export interface RecipeNameQuery {
  /** Literal name prefix, matched case-insensitively ('' for all). */
  namePrefix: string;
  offset: number;
  limit: number;
}

/** Distinct names of visible recipes, in code-unit order, and how many there are in all. */
export interface RecipeNamePage {
  names: string[];
  total: number;
}

/** A recipe reference and its visible revisions, newest first. */
export interface RecipeHistory {
  ref: RecipeRef;
  revisions: RevisionEntry[];
}

/** A file as listings show it. */
export interface FileEntry {
  path: string;
  size: number;
}

/** A visible package revision and its files. */
export interface PackageRevisionDetail extends RevisionEntry {
  files: FileEntry[];
}

/** A binary of a recipe revision: its visible revisions (newest first) and the conaninfo.txt text of the newest. */
export interface PackageDetail {
  packageId: string;
  /** `undefined` when the newest revision has no conaninfo.txt, or its text was not kept. */
  conaninfo?: string;
  revisions: PackageRevisionDetail[];
}

/** A visible binary whose conaninfo.txt `[requires]` names a recipe. */
export interface DependentEntry {
  ref: RecipeRevisionRef;
  packageId: string;
  /** The `[requires]` line. */
  requires: string;
  /** The version part of that line (`1.3.Z` in some package id modes). */
  version: string;
}

/** What is visible, counted. */
export interface RegistryTotals {
  /** Recipe references (`name/version@user/channel`) with a visible revision. */
  recipes: number;
  /** Visible recipe revisions. */
  revisions: number;
  /** Visible package revisions. */
  binaries: number;
  /** Bytes of the files of visible revisions (shared blobs counted once per file). */
  bytes: number;
}

/** A visible recipe revision and when it was published. */
export interface PublishedRevision {
  ref: RecipeRevisionRef;
  timeMicros: number;
}

/** The file whose storage publishes a revision (rule 3 of DESIGN.md). */
export const MANIFEST_FILE = 'conanmanifest.txt';

/**
 * Thrown when a file of a published revision would be replaced by other
 * bytes without {@link LinkFileOptions.allowOverwrite}. Nothing was changed.
 */
export class RevisionOverwriteError extends Error {
  constructor(readonly path: string) {
    super(`'${path}' of a published revision would be replaced by other bytes`);
    this.name = 'RevisionOverwriteError';
  }
}

/**
 * Thrown when a revision's `conanmanifest.txt` lists another md5 for its
 * `conanfile.py` (recipe) or `conaninfo.txt` (package) than the file has,
 * whichever of the two was being recorded. Nothing was changed.
 */
export class ManifestMismatchError extends Error {
  constructor(
    /** The file checked: `conanfile.py` or `conaninfo.txt`. */
    readonly path: string,
    /** What the manifest lists for it. */
    readonly listedMd5: string,
    /** What the file has. */
    readonly actualMd5: string,
  ) {
    super(`conanmanifest.txt lists md5 ${listedMd5} for ${path}, which has md5 ${actualMd5}`);
    this.name = 'ManifestMismatchError';
  }
}

/** Thrown by metadata stores when the database cannot be reached; the edge turns it into 503. */
export class MetadataUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetadataUnavailableError';
  }
}

/** Scope of an API token: what it may do at most (`read` < `write` < `delete`). */
export type ApiTokenScope = 'read' | 'write' | 'delete';

/** An API token as stored: everything but its secret, of which only a sha256 is kept. */
export interface ApiTokenRecord {
  id: string;
  user: string;
  name: string;
  scope: ApiTokenScope;
  /** Recipe pattern (`name/version@user/channel`, fnmatch parts) the token is narrowed to, or `undefined` for all. */
  pattern?: string;
  /** Microseconds since the epoch. */
  createdAtMicros: number;
  /** Microseconds since the epoch; `undefined`: never expires. */
  expiresAtMicros?: number;
  /** Microseconds since the epoch; `undefined`: never used. */
  lastUsedAtMicros?: number;
}

/** What {@link MetadataStore.createApiToken} stores. */
export interface NewApiToken {
  id: string;
  user: string;
  name: string;
  /** Hex sha256 of the secret. */
  secretSha256: string;
  scope: ApiTokenScope;
  pattern?: string;
  /** Lifetime from now (the store's clock), in seconds; `undefined`: never expires. */
  expiresInSeconds?: number;
}

/**
 * The only source of truth for what exists. Reads return only visible
 * (published) revisions; every write is one transaction.
 */
export interface MetadataStore {
  /** Visible revisions of a recipe, newest first. */
  recipeRevisions(ref: RecipeRef): Promise<RevisionEntry[]>;
  /** A visible recipe revision, or `undefined`. */
  recipeRevision(ref: RecipeRevisionRef): Promise<RevisionEntry | undefined>;
  /** Visible revisions of a binary package, newest first (empty if the recipe revision is not visible). */
  packageRevisions(ref: PackageRef): Promise<RevisionEntry[]>;
  /** The latest visible revision of each binary package of a recipe revision. */
  latestPackages(ref: RecipeRevisionRef): Promise<PackageEntry[]>;
  /**
   * What listing the binaries of a recipe revision shows, in one query: the
   * latest visible revision of each binary with its `conaninfo.txt` text.
   * `undefined` when the recipe revision is not visible.
   */
  latestBinaries(ref: RecipeRevisionRef): Promise<BinaryEntry[] | undefined>;
  /** Files of a visible revision, or `undefined` if the revision is not visible. */
  files(owner: FileOwner): Promise<StoredFile[] | undefined>;
  /** One file of a visible revision, or `undefined`. */
  file(owner: FileOwner, path: string): Promise<StoredFile | undefined>;
  /** Recipes with a visible revision whose name starts with `namePrefix` (case-insensitive), sorted by name, version, user, channel (code-unit order, whatever the database collation). */
  searchRecipes(namePrefix: string): Promise<RecipeRef[]>;

  /**
   * Records a stored blob as `path` of a revision, creating the revision if
   * needed, in one transaction that first locks the revision (so records
   * racing on several nodes take turns). Storing {@link MANIFEST_FILE}
   * publishes an unpublished revision with a fresh time; a published one
   * keeps its time unless {@link LinkFileOptions.reuploadMakesLatest}.
   *
   * A revision id means one content (rule 6 of DESIGN.md):
   * - the same bytes (sha1) at the same path leave the file `unchanged`;
   * - other bytes replacing a file of a published revision (not under
   *   `metadata/`) throw {@link RevisionOverwriteError} unless
   *   {@link LinkFileOptions.allowOverwrite};
   * - a manifest whose listed md5 contradicts the revision's `conanfile.py`
   *   (recipe) or `conaninfo.txt` (package), and that file replaced in a
   *   published revision so as to contradict its manifest, throw
   *   {@link ManifestMismatchError}. A manifest that does not list the file,
   *   or a file or manifest whose md5 or text was not kept, is no constraint.
   * Thrown errors leave everything as it was.
   */
  recordFile(owner: FileOwner, path: string, blob: NewBlob, options?: RecordFileOptions): Promise<RecordOutcome>;
  /**
   * Records an already stored blob as `path` of a revision, as
   * {@link recordFile} does (checksum deploy: no bytes are sent). Refreshes
   * the blob record's time in the same transaction so garbage collection
   * cannot remove it meanwhile. `false` (nothing recorded) when no record of
   * `blobKey` exists any more, or when `path` is one whose md5 or text the
   * server keeps and the blob's were not kept (the client then sends the
   * bytes).
   */
  linkFile(owner: FileOwner, path: string, blobKey: string, options?: LinkFileOptions): Promise<boolean>;

  /**
   * Deletes hide: a deleted revision is no longer visible, but its records
   * stay until {@link purgeUnpublished}, so that an upload of the same
   * revision racing a delete ends with the revision whole (a revision id is
   * a content hash: its files are the same). Recording a file into a
   * deleted revision brings it back as an unpublished one.
   *
   * Deletes a recipe with all its revisions and binaries. `false` if nothing existed.
   */
  deleteRecipe(ref: RecipeRef, actor?: AuditActor): Promise<boolean>;
  deleteRecipeRevision(ref: RecipeRevisionRef, actor?: AuditActor): Promise<boolean>;
  /** Deletes every binary of a recipe revision. `false` if the recipe revision does not exist. */
  deletePackages(ref: RecipeRevisionRef, actor?: AuditActor): Promise<boolean>;
  deletePackage(ref: PackageRef, actor?: AuditActor): Promise<boolean>;
  deletePackageRevision(ref: PackageRevisionRef, actor?: AuditActor): Promise<boolean>;

  /** A stored blob with this sha1, if any (the newest). */
  findBlobBySha1(sha1: string): Promise<BlobRecord | undefined>;
  /** Up to `limit` (default 20) stored blobs with this sha1, newest first, with the recipes using each. */
  findBlobsBySha1(sha1: string, limit?: number): Promise<BlobUse[]>;
  /**
   * Garbage collection: of `keys` (blob store keys), returns those that no
   * file uses and whose record is older than `olderThanMicros` or missing,
   * and deletes their records (unless `dryRun`) in the same statement, so a
   * concurrent {@link linkFile} either refreshes a record first (and it is
   * kept) or finds it gone (and answers `false`). The caller then deletes
   * the returned blobs from the blob store.
   */
  releaseBlobs(keys: string[], options: ReleaseBlobsOptions): Promise<string[]>;
  /**
   * Garbage collection, before {@link releaseBlobs}: removes the records of
   * revisions that are not published (deleted, or abandoned mid-upload) and
   * untouched since `olderThanMicros`, with their files (a recipe revision
   * only with all its binaries). A file recorded into one of them meanwhile
   * keeps it.
   */
  purgeUnpublished(options: PurgeOptions): Promise<PurgeReport>;

  /**
   * Web API listings. Names of recipes with a visible revision whose name
   * starts with `namePrefix` (case-insensitive), one per name, code-unit
   * order, paged; with the count of all such names.
   */
  visibleRecipeNames(query: RecipeNameQuery): Promise<RecipeNamePage>;
  /** Recipes of these names with their visible revisions (newest first), sorted by name, version, user, channel (code units); recipes without one are left out. */
  recipeHistories(names: string[]): Promise<RecipeHistory[]>;
  /** Binaries of a visible recipe revision with their visible revisions and files, by package id; `undefined` if the recipe revision is not visible. */
  packageDetails(ref: RecipeRevisionRef): Promise<PackageDetail[] | undefined>;
  /**
   * Visible binaries whose conaninfo.txt `[requires]` names recipe `name`
   * (exactly), at most `limit` (sorted by reference, revision, package id).
   */
  dependents(name: string, limit: number): Promise<DependentEntry[]>;
  /** Counts of what is visible. */
  totals(): Promise<RegistryTotals>;
  /** Visible recipe revisions published before `beforeMicros` (all without it), newest first, at most `limit`. */
  recentRecipeRevisions(limit: number, beforeMicros?: number): Promise<PublishedRevision[]>;

  /** Password hashes of users managed by `cimmeria user`. */
  getPasswordHash(user: string): Promise<string | undefined>;
  setPasswordHash(user: string, hash: string, actor?: AuditActor): Promise<void>;
  /** Creates a user unless one of that name exists; `false` (nothing changed) if it did. */
  addUser(user: string, hash: string, actor?: AuditActor): Promise<boolean>;
  /** `false` if the user did not exist. Deletes the user's API tokens in the same transaction. */
  deleteUser(user: string, actor?: AuditActor): Promise<boolean>;
  listUsers(): Promise<string[]>;

  /**
   * Audit trail: every change above is recorded with its actor in the
   * change's own transaction (a change that fails records nothing). Newest
   * first, at most `query.limit`.
   */
  auditEvents(query: AuditQuery): Promise<AuditEvent[]>;
  /** Removes events older than `olderThanMicros` (or only counts them, with `dryRun`); returns how many (retention, run by `gc`). */
  pruneAudit(olderThanMicros: number, options?: { dryRun?: boolean }): Promise<number>;
  /** Adds downloads to the per-revision, per-day counters (one upsert each). */
  addDownloads(counts: DownloadCount[]): Promise<void>;
  /** Download counters of a revision, newest day first. */
  downloadCounts(kind: 'recipe' | 'package', ref: string): Promise<DownloadCount[]>;

  /** Stores a new API token (audited as `token.created`); returns it as stored. */
  createApiToken(token: NewApiToken, actor?: AuditActor): Promise<ApiTokenRecord>;
  /** One API token with the sha256 of its secret, or `undefined` (unknown or revoked). */
  apiToken(id: string): Promise<(ApiTokenRecord & { secretSha256: string }) | undefined>;
  /** API tokens of `user` (of everyone without it), oldest first. */
  listApiTokens(user?: string): Promise<ApiTokenRecord[]>;
  /** Deletes an API token (only if it belongs to `user`, when given; audited as `token.revoked`). `false` if there was none. */
  revokeApiToken(id: string, user?: string, actor?: AuditActor): Promise<boolean>;
  /** Records a use of an API token now (the store's clock). */
  touchApiToken(id: string): Promise<void>;

  /** Checks the database is reachable. */
  ping(): Promise<void>;
}
