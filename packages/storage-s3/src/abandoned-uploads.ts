import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, ListPartsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AbandonedUploadsReport } from '@cimmeria/core';
import { translateError } from './errors.js';

/** Where the store's uploads live: its bucket, and the key prefix it owns (empty, or ending with `/`). */
export interface UploadsLocation {
  client: S3Client;
  bucket: string;
  prefix: string;
}

/** Parts of one multipart upload: their bytes, and when the last one arrived. */
async function partsOf(where: UploadsLocation, Key: string, UploadId: string): Promise<{ bytes: number; lastPart?: Date }> {
  let bytes = 0;
  let lastPart: Date | undefined;
  let PartNumberMarker: string | undefined;
  // At most 10,000 parts: 10 pages.
  for (let page = 0; page < 10; page++) {
    const out = await where.client.send(new ListPartsCommand({ Bucket: where.bucket, Key, UploadId, PartNumberMarker }));
    for (const part of out.Parts ?? []) {
      bytes += part.Size ?? 0;
      if (part.LastModified && (!lastPart || part.LastModified > lastPart)) lastPart = part.LastModified;
    }
    if (!out.IsTruncated || !out.NextPartNumberMarker) break;
    PartNumberMarker = out.NextPartNumberMarker;
  }
  return { bytes, lastPart };
}

const isNoSuchUpload = (error: unknown) => (error as { name?: string }).name === 'NoSuchUpload';

/**
 * Aborts the incomplete multipart uploads under the store's prefix that
 * were started, and last received a part, before `olderThan`; counts the
 * bytes of their parts. An upload whose start time S3 does not give is
 * kept. With `dryRun`, only counts.
 */
export async function removeAbandonedUploads(
  where: UploadsLocation,
  olderThan: Date,
  options: { dryRun?: boolean } = {},
): Promise<AbandonedUploadsReport> {
  const report: AbandonedUploadsReport = { removed: 0, bytes: 0, failed: [] };
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  for (;;) {
    let page;
    try {
      page = await where.client.send(
        new ListMultipartUploadsCommand({ Bucket: where.bucket, Prefix: where.prefix || undefined, KeyMarker, UploadIdMarker }),
      );
    } catch (error) {
      throw translateError(error, undefined, 'list uploads');
    }
    for (const upload of page.Uploads ?? []) {
      const { Key, UploadId, Initiated } = upload;
      if (!Key?.startsWith(where.prefix) || !UploadId || !Initiated || Initiated >= olderThan) continue;
      const id = `${Key} (upload ${UploadId})`;
      try {
        // A long upload started before the cutoff may still be sending parts.
        const { bytes, lastPart } = await partsOf(where, Key, UploadId);
        if (lastPart && lastPart >= olderThan) continue;
        if (!options.dryRun) await where.client.send(new AbortMultipartUploadCommand({ Bucket: where.bucket, Key, UploadId }));
        report.removed += 1;
        report.bytes += bytes;
      } catch (error) {
        // Completed or aborted meanwhile (by its node or another gc): nothing left.
        if (isNoSuchUpload(error)) continue;
        const translated = translateError(error, undefined, 'abandoned upload');
        report.failed.push({ id, message: (translated as Error).message ?? String(translated) });
      }
    }
    const next = page.IsTruncated ? { key: page.NextKeyMarker, uploadId: page.NextUploadIdMarker } : undefined;
    // A store that answers the same page again would keep us here forever.
    if (!next || (!next.key && !next.uploadId) || (next.key === KeyMarker && next.uploadId === UploadIdMarker)) break;
    KeyMarker = next.key;
    UploadIdMarker = next.uploadId;
  }
  return report;
}
