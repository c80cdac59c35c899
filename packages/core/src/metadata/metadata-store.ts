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

/** A stored blob and the recipes whose files use it (checksum deploy decides with these). */
export interface BlobUse extends BlobRecord {
  /** Recipes with at least one file, of any revision or binary, stored in this blob. */
  recipes: RecipeRef[];
}

/** Options of {@link MetadataStore.recordFile}. */
export interface RecordFileOptions {
  /**
   * When `path` is the manifest: publish at exactly this time (microseconds
   * since the epoch) instead of the clock's, keeping the time a revision had
   * on another server (imports). Ordinary uploads leave it out.
   */
  publishedAtMicros?: number;
}

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

/** The file whose storage publishes a revision (rule 3 of DESIGN.md). */
export const MANIFEST_FILE = 'conanmanifest.txt';

/** Thrown by metadata stores when the database cannot be reached; the edge turns it into 503. */
export class MetadataUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetadataUnavailableError';
  }
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
  /** Files of a visible revision, or `undefined` if the revision is not visible. */
  files(owner: FileOwner): Promise<StoredFile[] | undefined>;
  /** One file of a visible revision, or `undefined`. */
  file(owner: FileOwner, path: string): Promise<StoredFile | undefined>;
  /** Recipes with a visible revision whose name starts with `namePrefix` (case-insensitive), sorted by name, version, user, channel (code-unit order, whatever the database collation). */
  searchRecipes(namePrefix: string): Promise<RecipeRef[]>;

  /**
   * Records a stored blob as `path` of a revision, creating the revision if
   * needed. Storing {@link MANIFEST_FILE} publishes the revision (or makes
   * it the latest again) with a fresh time.
   */
  recordFile(owner: FileOwner, path: string, blob: BlobRecord, options?: RecordFileOptions): Promise<void>;
  /**
   * Records an already stored blob as `path` of a revision, as
   * {@link recordFile} does (checksum deploy: no bytes are sent). Refreshes
   * the blob record's time in the same transaction so garbage collection
   * cannot remove it meanwhile. `false` (nothing recorded) when no record of
   * `blobKey` exists any more.
   */
  linkFile(owner: FileOwner, path: string, blobKey: string): Promise<boolean>;

  /**
   * Deletes hide: a deleted revision is no longer visible, but its records
   * stay until {@link purgeUnpublished}, so that an upload of the same
   * revision racing a delete ends with the revision whole (a revision id is
   * a content hash: its files are the same). Recording a file into a
   * deleted revision brings it back as an unpublished one.
   *
   * Deletes a recipe with all its revisions and binaries. `false` if nothing existed.
   */
  deleteRecipe(ref: RecipeRef): Promise<boolean>;
  deleteRecipeRevision(ref: RecipeRevisionRef): Promise<boolean>;
  /** Deletes every binary of a recipe revision. `false` if the recipe revision does not exist. */
  deletePackages(ref: RecipeRevisionRef): Promise<boolean>;
  deletePackage(ref: PackageRef): Promise<boolean>;
  deletePackageRevision(ref: PackageRevisionRef): Promise<boolean>;

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

  /** Password hashes of users managed by `cimmeria user`. */
  getPasswordHash(user: string): Promise<string | undefined>;
  setPasswordHash(user: string, hash: string): Promise<void>;
  /** Creates a user unless one of that name exists; `false` (nothing changed) if it did. */
  addUser(user: string, hash: string): Promise<boolean>;
  /** `false` if the user did not exist. */
  deleteUser(user: string): Promise<boolean>;
  listUsers(): Promise<string[]>;

  /** Checks the database is reachable. */
  ping(): Promise<void>;
}
