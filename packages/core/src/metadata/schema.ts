/**
 * Table types for Kysely. Times are integer microseconds since the epoch
 * (PostgreSQL returns bigint as string, hence `number | string` on reads).
 * User and channel are '' when a reference has none, so unique keys work on
 * every database.
 */
export interface Database {
  recipes: RecipesTable;
  recipe_revisions: RecipeRevisionsTable;
  package_revisions: PackageRevisionsTable;
  recipe_files: FilesTable & { recipe_revision_id: string };
  package_files: FilesTable & { package_revision_id: string };
  blobs: BlobsTable;
  users: UsersTable;
  api_tokens: ApiTokensTable;
  audit_events: AuditEventsTable;
  download_counts: DownloadCountsTable;
  package_requires: PackageRequiresTable;
}

type Micros = number | string;

export interface RecipesTable {
  id: string;
  name: string;
  version: string;
  user: string;
  channel: string;
  /** Newest publication time of a visible revision; `null` when none is visible (kept by publish and delete). */
  latest_published_at: Micros | null;
}

export interface RecipeRevisionsTable {
  id: string;
  recipe_id: string;
  revision: string;
  created_at: Micros;
  /** Set when conanmanifest.txt is stored; `null` means not visible (yet, or any more). */
  published_at: Micros | null;
  /** Set by a delete (the revision is hidden), cleared when a file is recorded again. */
  deleted_at: Micros | null;
  /** Last file recorded or delete; garbage collection removes unpublished revisions untouched for long. */
  touched_at: Micros | null;
}

export interface PackageRevisionsTable {
  id: string;
  recipe_revision_id: string;
  package_id: string;
  revision: string;
  created_at: Micros;
  published_at: Micros | null;
  deleted_at: Micros | null;
  touched_at: Micros | null;
}

export interface FilesTable {
  path: string;
  blob_key: string;
  size: number | string;
  sha1: string;
}

export interface BlobsTable {
  key: string;
  size: number | string;
  sha1: string;
  sha256: string;
  created_at: Micros;
  /** md5 of the bytes, kept for the files a manifest is checked against (conanfile.py, conaninfo.txt, the manifest). */
  md5: string | null;
  /** The bytes as text, kept for the files the server reads (conaninfo.txt, conanmanifest.txt); bounded at upload. */
  content: string | null;
}

export interface UsersTable {
  name: string;
  password_hash: string;
  created_at: Micros;
  updated_at: Micros;
}

export interface ApiTokensTable {
  id: string;
  user_name: string;
  name: string;
  /** Hex sha256 of the token's secret part; the secret itself is never stored. */
  secret_sha256: string;
  /** `read`, `write` or `delete`. */
  scope: string;
  /** Recipe pattern the token is narrowed to (`name/version@user/channel`), or `null` for all. */
  pattern: string | null;
  created_at: Micros;
  /** `null`: never expires. */
  expires_at: Micros | null;
  /** Updated at most about once a minute per token and node. */
  last_used_at: Micros | null;
}

export interface AuditEventsTable {
  id: string;
  at: Micros;
  /** An {@link AuditEventKind} of metadata-store.ts. */
  kind: string;
  user: string | null;
  token_id: string | null;
  address: string | null;
  /** The reference (or user name) the change is about. */
  ref: string | null;
  detail: string | null;
}

export interface DownloadCountsTable {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  kind: 'recipe' | 'package';
  /** The revision downloaded, as `conan` prints it. */
  ref: string;
  count: number | string;
}

/** One `[requires]` line of a package revision's conaninfo.txt (reverse dependencies). */
export interface PackageRequiresTable {
  package_revision_id: string;
  /** Line number among the requires, from 0. */
  position: number;
  /** The required recipe's name and version as written (`1.3.Z` in some package id modes). */
  name: string;
  version: string;
  /** The whole line. */
  reference: string;
}
