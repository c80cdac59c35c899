import { randomUUID } from 'node:crypto';

/** Prefix of every blob key the core chooses; garbage collection lists under it. */
export const BLOB_KEY_PREFIX = 'blobs/';

/**
 * A fresh key for new bytes. Keys are chosen by Cimmeria, never by clients:
 * random, spread over 256 folders, so no two writers ever share one.
 */
export function newBlobKey(): string {
  const id = randomUUID();
  return `${BLOB_KEY_PREFIX}${id.slice(0, 2)}/${id}`;
}
