/** A byte range, both ends inclusive, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

/** What a blob store knows about a stored blob. */
export interface BlobStat {
  size: number;
  /** md5 of the bytes, when the store knows it without reading them (an S3 ETag of a single-part upload). */
  md5?: string;
}

/** A blob being read: its bytes, and the total size of the blob. */
export interface BlobRead {
  body: ReadableStream<Uint8Array>;
  /** Size of the whole blob, not of the range. */
  size: number;
}

/** Thrown by blob stores when a key does not exist. */
export class BlobNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`Blob not found: ${key}`);
    this.name = 'BlobNotFoundError';
  }
}

/** Thrown by blob stores when the backend cannot be reached; the edge turns it into 503. */
export class BlobStoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BlobStoreUnavailableError';
  }
}

/** What {@link BlobStore.removeAbandonedUploads} found and did. */
export interface AbandonedUploadsReport {
  /** Leftovers removed (or, in a dry run, that would be). */
  removed: number;
  /** Bytes they held, as far as the store can tell. */
  bytes: number;
  /** Leftovers that could not be removed (the next run retries them), named for the operator. */
  failed: { id: string; message: string }[];
}

/**
 * Where package bytes live. Keys are chosen by the core (`[a-z0-9/-]`); a
 * store never decides what exists — the metadata store does.
 */
export interface BlobStore {
  /**
   * Stores `body` under `key`, streaming. The blob appears whole or not at
   * all: if `body` throws (client gone, checksum failure...), nothing is left
   * under `key`. A store that is done with a chunk (written, and not read
   * again) may pass it to `releaseChunk`: chunks only the upload read
   * (request bodies from the Node bridge) are then freed at once rather than
   * at the next garbage collection, which bounds memory under many
   * concurrent uploads; other chunks are left alone.
   */
  put(key: string, body: AsyncIterable<Uint8Array>): Promise<BlobStat>;
  /** Reads a blob, or the inclusive `range` of it. Throws {@link BlobNotFoundError}. */
  get(key: string, range?: ByteRange): Promise<BlobRead>;
  /** Size of a blob, or `undefined` if it does not exist. */
  stat(key: string): Promise<BlobStat | undefined>;
  /** Deletes a blob; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Lists stored blobs (for garbage collection), with their last-modified time. */
  list(prefix?: string): AsyncIterable<{ key: string; size: number; lastModified: Date }>;
  /**
   * Optional capability: a short-lived URL the client can download from
   * directly. Stores that cannot presign leave it undefined and the handler
   * streams the bytes itself.
   */
  presignGet?(key: string, options: { expiresInSeconds: number; fileName?: string }): Promise<string>;
  /**
   * Optional capability: a short-lived URL a client can PUT exactly
   * `contentLength` bytes to under `key`, with no other header than
   * `Content-Length`, carrying a query parameter named `signature` (Conan 1
   * clients only trust upload URLs that have one, and then send no
   * `Authorization`). Used for Conan 1 uploads, so their bytes never pass
   * through the node.
   */
  presignPut?(key: string, options: { expiresInSeconds: number; contentLength: number }): Promise<string>;
  /**
   * Optional capability: the blob as a file on this machine's disk, for a
   * host that sends files itself (the Node bridge streams it to the socket
   * with large reads and no web-stream hops; other hosts still read
   * {@link BlobStore.get}). `undefined` when there is no such blob. The file
   * is only read, and only for the request at hand: a store may remove it
   * later like any blob (readers that opened it keep their bytes on POSIX).
   */
  localFile?(key: string): Promise<{ path: string; size: number } | undefined>;
  /**
   * Optional capability: removes what uploads left behind when they never
   * finished (the process was killed mid-upload): temporary files, incomplete
   * multipart uploads. Only leftovers whose last activity is before
   * `olderThan` are touched, so an upload still in progress at that time is
   * never removed; pass a cutoff well in the past (garbage collection uses its
   * grace period). With `dryRun`, counts them and removes nothing.
   */
  removeAbandonedUploads?(olderThan: Date, options?: { dryRun?: boolean }): Promise<AbandonedUploadsReport>;
  /** Checks the backend is reachable (for readiness probes). */
  ping?(): Promise<void>;
}
