// Shapes of the web API v1 answers (see the OpenAPI description at /api/v1/openapi.json).

export interface Me {
  user: string | null;
  authenticated: boolean;
  canWrite?: boolean;
}

export interface RecipeSummary {
  name: string;
  latest: { reference: string; version: string; user: string | null; channel: string | null; revision: string; time: string };
  versions: number;
}

export interface RecipeList {
  items: RecipeSummary[];
  page: number;
  perPage: number;
  total: number;
}

export interface RecipeVersion {
  version: string;
  user: string | null;
  channel: string | null;
  reference: string;
  latestRevision: { revision: string; time: string };
  revisions: number;
}

export interface RecipeDetail {
  name: string;
  versions: RecipeVersion[];
}

export interface Revision {
  revision: string;
  time: string;
}

export interface FileEntry {
  path: string;
  size: number;
}

export interface RevisionDetail {
  reference: string;
  revision: string;
  time: string;
  files: FileEntry[];
  conanfile: string | null;
  conanfileTruncated?: boolean;
  metadataFiles?: FileEntry[];
}

export interface Binary {
  packageId: string;
  settings: Record<string, string>;
  options: Record<string, string>;
  requires: string[];
  revisions: { revision: string; time: string; files?: FileEntry[] }[];
}

export interface Dependent {
  reference: string;
  revision: string;
  packageId: string;
  requires: string;
}

export interface Stats {
  /** Totals are null for callers who may not read every recipe. */
  recipes?: number | null;
  revisions?: number | null;
  binaries?: number | null;
  bytes?: number | null;
  recent?: { reference: string; revision: string; time: string }[];
}

export interface Token {
  id: string;
  user: string;
  name: string;
  scope: string;
  pattern: string | null;
  created: string;
  expires: string | null;
  last_used: string | null;
}
