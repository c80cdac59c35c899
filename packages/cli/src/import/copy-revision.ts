import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  MANIFEST_FILE,
  hashingStream,
  newBlobKey,
  type BlobRecord,
  type BlobStore,
  type FileOwner,
  type MetadataStore,
  type StoredFile,
} from '@cimmeria/core';
import { isBackendUnavailable } from '../errors.js';
import type { RevisionFile } from './conan-server-layout.js';

/** Files come from a store already trusted; no size limit beyond the disk's. */
const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/** What {@link copyRevision} did with one revision. */
export type CopyOutcome =
  | { kind: 'imported'; files: number; bytes: number }
  /** Already visible with the same files (paths and sha1): nothing written. */
  | { kind: 'present' }
  /** Already visible with other files: nothing written, never overwritten. */
  | { kind: 'conflict'; message: string }
  /** Storing failed; the blobs written for it were deleted where possible. */
  | { kind: 'failed'; message: string };

/** Options of {@link copyRevision}. */
export interface CopyRevisionOptions {
  metadata: MetadataStore;
  blobs: BlobStore;
  owner: FileOwner;
  /** The revision's files; one of them is {@link MANIFEST_FILE}. */
  files: RevisionFile[];
  /** Publication time to keep, in microseconds since the epoch. */
  publishedAtMicros: number;
  /** Called after each file whose bytes are stored, so long copies show progress. */
  onFileStored?: (size: number) => void;
}

/**
 * Copies one revision into the stores, publishing it at its original time.
 *
 * All bytes are stored first, then all files recorded with the manifest
 * last: the revision only becomes visible once every file is recorded, and a
 * failure before that leaves it invisible, so a later run imports it again.
 * Errors saying a store is unreachable are thrown (every other revision would
 * fail the same way); other errors end as `failed`.
 */
export async function copyRevision(options: CopyRevisionOptions): Promise<CopyOutcome> {
  const { metadata, owner, files } = options;
  try {
    const existing = await metadata.files(owner);
    if (existing) return await compareWithExisting(existing, files);
  } catch (error) {
    if (isBackendUnavailable(error)) throw error;
    return { kind: 'failed', message: `cannot compare with the revision present: ${messageOf(error)}` };
  }

  // The manifest last: recording it publishes the revision.
  const ordered = [...files.filter((f) => f.path !== MANIFEST_FILE), ...files.filter((f) => f.path === MANIFEST_FILE)];
  const written: string[] = []; // keys whose bytes may be in the blob store, in `ordered` order
  const stored: { path: string; blob: BlobRecord }[] = [];
  let recorded = 0;
  let current = '';
  try {
    for (const file of ordered) {
      current = file.path;
      const key = newBlobKey();
      written.push(key);
      const hashing = hashingStream(createReadStream(file.location), NO_LIMIT);
      await options.blobs.put(key, hashing.stream);
      const blob = { key, ...hashing.digest() };
      stored.push({ path: file.path, blob });
      options.onFileStored?.(blob.size);
    }
    for (const { path, blob } of stored) {
      current = path;
      const isManifest = path === MANIFEST_FILE;
      // The audit trail says where a publication came from.
      const actor = { user: 'cli:import' };
      await metadata.recordFile(owner, path, blob, isManifest ? { publishedAtMicros: options.publishedAtMicros, actor } : { actor });
      recorded += 1;
    }
  } catch (error) {
    // Blobs not recorded are used by nothing: delete them now rather than
    // leave them to garbage collection (a failed put leaves nothing, but
    // deleting a missing key is harmless). Recorded ones belong to the
    // invisible revision; the next run records new ones in their place.
    await Promise.all(written.slice(recorded).map((key) => options.blobs.delete(key).catch(() => undefined)));
    if (isBackendUnavailable(error)) throw error;
    return { kind: 'failed', message: `cannot store ${current}: ${messageOf(error)}` };
  }
  return { kind: 'imported', files: stored.length, bytes: stored.reduce((sum, s) => sum + s.blob.size, 0) };
}

/** Same paths, and the same bytes by sha1, as the revision already visible? */
async function compareWithExisting(existing: StoredFile[], files: RevisionFile[]): Promise<CopyOutcome> {
  const conflict = (why: string): CopyOutcome => ({ kind: 'conflict', message: `already present with other files (${why}): left as it is` });
  const byPath = new Map(existing.map((f) => [f.path, f]));
  const missing = files.filter((f) => !byPath.has(f.path)).map((f) => f.path);
  if (missing.length > 0) return conflict(`${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not in the one present`);
  if (existing.length !== files.length) {
    const local = new Set(files.map((f) => f.path));
    return conflict(`only the one present has ${existing.filter((f) => !local.has(f.path)).map((f) => f.path).join(', ')}`);
  }
  // Sizes first: cheap, and a differing size spares hashing a large file.
  for (const file of files) {
    const stored = byPath.get(file.path)!;
    if ((await stat(file.location)).size !== stored.size || (await sha1Of(file.location)) !== stored.sha1) {
      return conflict(`${file.path} differs`);
    }
  }
  return { kind: 'present' };
}

async function sha1Of(location: string): Promise<string> {
  const hashing = hashingStream(createReadStream(location), NO_LIMIT);
  for await (const _ of hashing.stream) {
    // Only the digest is wanted.
  }
  return hashing.digest().sha1;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
