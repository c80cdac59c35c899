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
  recordFile(owner: FileOwner, path: string, blob: BlobRecord): Promise<void>;

  /** Deletes a recipe with all its revisions and binaries. `false` if nothing existed. */
  deleteRecipe(ref: RecipeRef): Promise<boolean>;
  deleteRecipeRevision(ref: RecipeRevisionRef): Promise<boolean>;
  /** Deletes every binary of a recipe revision. `false` if the recipe revision does not exist. */
  deletePackages(ref: RecipeRevisionRef): Promise<boolean>;
  deletePackage(ref: PackageRef): Promise<boolean>;
  deletePackageRevision(ref: PackageRevisionRef): Promise<boolean>;

  /** A stored blob with this sha1, if any (for checksum deploy). */
  findBlobBySha1(sha1: string): Promise<BlobRecord | undefined>;

  /** Password hashes of users managed by `cimmeria user`. */
  getPasswordHash(user: string): Promise<string | undefined>;
  setPasswordHash(user: string, hash: string): Promise<void>;
  /** `false` if the user did not exist. */
  deleteUser(user: string): Promise<boolean>;
  listUsers(): Promise<string[]>;

  /** Checks the database is reachable. */
  ping(): Promise<void>;
}
