import type { MetadataStore } from '../metadata/metadata-store.js';
import { BLOB_KEY_PREFIX } from '../storage/blob-keys.js';
import type { BlobStore } from '../storage/blob-store.js';

/** Default grace period of {@link collectGarbage}: a day. */
export const DEFAULT_GC_GRACE_MS = 24 * 60 * 60 * 1000;

/** Options of {@link collectGarbage}. */
export interface CollectGarbageOptions {
  metadata: MetadataStore;
  blobs: BlobStore;
  /**
   * Blobs younger than this (by the blob store's last-modified time and by
   * their metadata record) are kept, whatever references them: an upload
   * stores its bytes before recording them, and another node may be in
   * between right now. Default 24 hours.
   */
  graceMs?: number;
  /** Report what would be removed, removing nothing. */
  dryRun?: boolean;
  /** Current time in ms; tests move it. Default `Date.now`. */
  now?: () => number;
  /** Running totals, after each batch. */
  onProgress?: (progress: GarbageReport) => void;
  /** Keys checked per metadata transaction. Default 500. */
  batchSize?: number;
}

/** What {@link collectGarbage} found and did. */
export interface GarbageReport {
  /** Unpublished revisions (deleted, or abandoned mid-upload) whose records were removed first. */
  purged: { recipeRevisions: number; packageRevisions: number };
  /** Blobs listed in the blob store. */
  scanned: number;
  /** Blobs removed (or, in a dry run, that would be). */
  removed: number;
  /** Bytes of those blobs. */
  bytesFreed: number;
  /** Blobs kept because they are younger than the grace period. */
  keptYoung: number;
  /**
   * What interrupted uploads left in the blob store (temporary files,
   * incomplete multipart uploads), last active before the grace period:
   * removed (or, in a dry run, that would be), and the bytes they held.
   * Absent until the blob scan is done, and when the store cannot tell
   * (no {@link BlobStore.removeAbandonedUploads}).
   */
  abandonedUploads?: { removed: number; bytes: number };
  /**
   * Blobs whose record was released but whose bytes could not be deleted,
   * and upload leftovers that could not be removed (retried by the next run).
   */
  failed: { key: string; message: string }[];
  dryRun: boolean;
}

/**
 * First removes the records of revisions left unpublished (deleted, or
 * abandoned mid-upload) for longer than the grace period, then the blobs no
 * record uses, older than the grace period, then what uploads interrupted
 * before the grace period left in the blob store (when the store can tell). Safe while nodes serve: a blob
 * is released in one metadata statement that a concurrent checksum-deploy
 * link either precedes (refreshing the record, so the blob is kept) or
 * follows (finding it gone, so the client uploads).
 */
export async function collectGarbage(options: CollectGarbageOptions): Promise<GarbageReport> {
  const { metadata, blobs } = options;
  const graceMs = options.graceMs ?? DEFAULT_GC_GRACE_MS;
  const now = options.now ?? Date.now;
  const batchSize = options.batchSize ?? 500;
  const cutoffMs = now() - graceMs;
  const purged = await metadata.purgeUnpublished({ olderThanMicros: cutoffMs * 1000, dryRun: options.dryRun });
  const report: GarbageReport = { purged, scanned: 0, removed: 0, bytesFreed: 0, keptYoung: 0, failed: [], dryRun: !!options.dryRun };

  let batch: { key: string; size: number }[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const sizes = new Map(batch.map((b) => [b.key, b.size]));
    batch = [];
    const released = await metadata.releaseBlobs([...sizes.keys()], {
      olderThanMicros: cutoffMs * 1000,
      dryRun: options.dryRun,
    });
    for (const key of released) {
      if (!options.dryRun) {
        try {
          await blobs.delete(key);
        } catch (error) {
          // The record is gone already; the bytes are an orphan the next run removes.
          report.failed.push({ key, message: (error as Error).message });
          continue;
        }
      }
      report.removed += 1;
      report.bytesFreed += sizes.get(key) ?? 0;
    }
    options.onProgress?.({ ...report, purged: { ...report.purged } });
  };

  for await (const blob of blobs.list(BLOB_KEY_PREFIX)) {
    report.scanned += 1;
    if (blob.lastModified.getTime() >= cutoffMs) {
      report.keptYoung += 1;
      continue;
    }
    batch.push({ key: blob.key, size: blob.size });
    if (batch.length >= batchSize) await flush();
  }
  await flush();

  if (blobs.removeAbandonedUploads) {
    const abandoned = await blobs.removeAbandonedUploads(new Date(cutoffMs), { dryRun: options.dryRun });
    report.abandonedUploads = { removed: abandoned.removed, bytes: abandoned.bytes };
    for (const failure of abandoned.failed) report.failed.push({ key: failure.id, message: failure.message });
    options.onProgress?.({ ...report, purged: { ...report.purged }, abandonedUploads: { ...report.abandonedUploads } });
  }
  return report;
}
