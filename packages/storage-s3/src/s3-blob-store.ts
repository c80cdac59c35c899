import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  BlobStoreUnavailableError,
  type AbandonedUploadsReport,
  type BlobRead,
  type BlobStat,
  type BlobStore,
  type ByteRange,
} from '@cimmeria/core';
import { removeAbandonedUploads } from './abandoned-uploads.js';
import { isNoSuchKey, translateError } from './errors.js';
import { guardIdleStream, reportBodyProgress, withDeadline } from './deadlines.js';

const MiB = 1024 * 1024;
/** S3's smallest part (all but the last). */
export const MIN_PART_SIZE_BYTES = 5 * MiB;
export const DEFAULT_PART_SIZE_BYTES = 8 * MiB;
export const DEFAULT_QUEUE_SIZE = 4;
/** Default of {@link S3BlobStoreOptions.requestTimeoutMs}. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Default of {@link S3BlobStoreOptions.idleTimeoutMs}. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** Options of {@link S3BlobStore}. */
export interface S3BlobStoreOptions {
  /**
   * The client the host made (region, endpoint, credentials, retries, checksums
   * are its business). For S3-compatible stores reached by IP or without
   * virtual-host DNS, build it with `forcePathStyle: true`.
   */
  client: S3Client;
  /** Bucket holding the blobs. It must exist; the store never creates buckets. */
  bucket: string;
  /**
   * Key prefix under which blobs live, so the bucket can hold other things
   * (`cimmeria` and `cimmeria/` are the same). Keys returned by `list` are
   * relative to it.
   */
  prefix?: string;
  /**
   * Size of multipart upload parts. Default 8 MiB, at least 5 MiB (S3's
   * minimum). A blob is stored with at most 10,000 parts, so the largest
   * blob is 10,000 x this (about 78 GiB at the default).
   */
  partSizeBytes?: number;
  /**
   * Parts uploaded in parallel per blob. Default 4. An upload holds at most
   * about (queueSize + 1) x partSizeBytes in memory.
   */
  queueSize?: number;
  /**
   * Whether the store offers presigned GET URLs, so that the handler answers
   * downloads with a 302 to S3 instead of streaming the bytes. Default true.
   */
  presign?: boolean;
  /** Page size of ListObjectsV2 (1..1000). Default 1000; smaller only makes sense in tests. */
  listPageSize?: number;
  /**
   * Deadline of each request without a streamed body, in ms: HeadObject,
   * DeleteObject, a ListObjectsV2 page, HeadBucket (`ping`), multipart
   * create and abort, and GetObject until its response starts. Default
   * 10000. A request cut off fails with `BlobStoreUnavailableError` (HTTP 503
   * with Retry-After) instead of hanging while the network is partitioned.
   */
  requestTimeoutMs?: number;
  /**
   * Longest time without progress while bytes move, in ms: a part upload
   * whose body the socket stops taking, or that gets no answer this long
   * after its last byte (`requestTimeoutMs` for a body of at most 64 KiB),
   * a download body whose next bytes do not come while
   * its reader waits for them (a slow reader is never cut off), and the
   * whole of CompleteMultipartUpload (which S3 may answer slowly for big
   * objects). Default 30000. Either way the call fails with
   * `BlobStoreUnavailableError`.
   */
  idleTimeoutMs?: number;
}

/**
 * Blobs as objects of an S3 bucket (or any S3-compatible store).
 *
 * - `put` streams the body as a multipart upload (a single PutObject when it
 *   fits in one part); memory stays bounded by the part size and queue size.
 *   The object appears only when the upload completes; if the body throws,
 *   the multipart upload is aborted and the body's error is rethrown.
 * - `presignGet` (unless `presign: false`) gives short-lived GetObject URLs.
 * - Missing keys throw the core's `BlobNotFoundError`; unreachable or failing
 *   stores throw `BlobStoreUnavailableError` (503 at the HTTP edge).
 *
 * Abandoned multipart uploads (a node killed mid-upload, or an abort that
 * failed) keep their parts in the bucket until removed: garbage collection
 * aborts them ({@link S3BlobStore.removeAbandonedUploads}), and a bucket
 * lifecycle rule `AbortIncompleteMultipartUpload` (e.g. after 1 day) does too.
 */
export class S3BlobStore implements BlobStore {
  readonly client: S3Client;
  readonly bucket: string;
  /** The normalized prefix: empty, or ending with `/`. */
  readonly prefix: string;
  readonly partSizeBytes: number;
  readonly queueSize: number;
  readonly requestTimeoutMs: number;
  readonly idleTimeoutMs: number;
  private readonly listPageSize: number;

  /**
   * Present unless the store was made with `presign: false`: a capability, not
   * a method that could fail (see DESIGN.md, "Capabilities, not instanceof").
   */
  readonly presignGet?: (key: string, options: { expiresInSeconds: number; fileName?: string }) => Promise<string>;
  /**
   * Present with `presignGet`: short-lived PutObject URLs for exactly
   * `contentLength` bytes (the length is signed, so the store enforces it),
   * with a signed `signature` query parameter, which Conan 1 clients need to
   * trust an upload URL (they then send no `Authorization`).
   */
  readonly presignPut?: (key: string, options: { expiresInSeconds: number; contentLength: number }) => Promise<string>;

  constructor(options: S3BlobStoreOptions) {
    if (!options.bucket) throw new TypeError('S3BlobStore: bucket is required');
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = normalizePrefix(options.prefix);
    this.partSizeBytes = options.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES;
    if (!Number.isInteger(this.partSizeBytes) || this.partSizeBytes < MIN_PART_SIZE_BYTES) {
      throw new RangeError(`S3BlobStore: partSizeBytes must be an integer of at least ${MIN_PART_SIZE_BYTES} (5 MiB)`);
    }
    this.queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;
    if (!Number.isInteger(this.queueSize) || this.queueSize < 1) {
      throw new RangeError('S3BlobStore: queueSize must be a positive integer');
    }
    this.listPageSize = options.listPageSize ?? 1000;
    if (!Number.isInteger(this.listPageSize) || this.listPageSize < 1 || this.listPageSize > 1000) {
      throw new RangeError('S3BlobStore: listPageSize must be an integer in 1..1000');
    }
    this.requestTimeoutMs = positiveInteger(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, 'requestTimeoutMs');
    this.idleTimeoutMs = positiveInteger(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, 'idleTimeoutMs');
    if (options.presign ?? true) {
      this.presignGet = (key, opts) => this.presign(key, opts);
      this.presignPut = (key, opts) => this.presignUpload(key, opts);
    }
  }

  /**
   * Sends `command` with the deadline of its kind: part uploads are cut off
   * after `idleTimeoutMs` without the socket taking any of the body's bytes
   * or, once all are taken, without an answer (`requestTimeoutMs` for a
   * body of at most 64 KiB); CompleteMultipartUpload after `idleTimeoutMs`;
   * everything else after `requestTimeoutMs`.
   */
  private send<T>(command: object, what: string, options: { abortSignal?: AbortSignal } = {}): Promise<T> {
    const streamsBody = command instanceof UploadPartCommand || command instanceof PutObjectCommand;
    const ms = streamsBody || command instanceof CompleteMultipartUploadCommand ? this.idleTimeoutMs : this.requestTimeoutMs;
    return withDeadline(ms, `S3 ${what}`, options.abortSignal, (abortSignal, touch) => {
      if (streamsBody) reportBodyProgress(command, touch, this.requestTimeoutMs);
      // One method for every command kind: the SDK's overloads cannot be named generically.
      return this.client.send(command as never, { abortSignal }) as Promise<T>;
    });
  }

  /**
   * The client as lib-storage's Upload (or garbage collection) sees it: the
   * same client, except that every request it sends gets its deadline.
   */
  private clientWithDeadlines(what: string): S3Client {
    const client = Object.create(this.client) as S3Client;
    const send = (command: object, options?: { abortSignal?: AbortSignal }) =>
      this.send(command, what, options ?? {});
    client.send = send as S3Client['send'];
    return client;
  }

  /** The S3 object key of a blob key. */
  objectKey(key: string): string {
    if (!key || key.startsWith('/')) throw new Error(`Invalid blob key: ${key}`);
    return this.prefix + key;
  }

  async put(key: string, body: AsyncIterable<Uint8Array>): Promise<BlobStat> {
    const Key = this.objectKey(key);
    let size = 0;
    let source: { error: unknown } | undefined;
    // Pass the body on, counting it, and remember an error the body itself threw (as opposed
    // to one the upload machinery threw into us when it stopped early: that closes the body).
    async function* counted() {
      const iterator = body[Symbol.asyncIterator]();
      let finished = false;
      try {
        for (;;) {
          let step: IteratorResult<Uint8Array>;
          try {
            step = await iterator.next();
          } catch (error) {
            finished = true;
            source = { error };
            throw error;
          }
          if (step.done) {
            finished = true;
            return;
          }
          size += step.value.byteLength;
          yield step.value;
        }
      } finally {
        if (!finished) await iterator.return?.();
      }
    }
    const upload = new Upload({
      client: this.clientWithDeadlines('upload'),
      params: {
        Bucket: this.bucket,
        Key,
        Body: Readable.from(counted(), { objectMode: false }),
        ContentType: 'application/octet-stream',
      },
      partSize: this.partSizeBytes,
      queueSize: this.queueSize,
      // We abort ourselves: lib-storage would let a failed abort hide the error that caused it.
      leavePartsOnError: true,
    });
    try {
      await upload.done();
    } catch (error) {
      if (upload.uploadId) {
        const aborting = this.abortMultipart(Key, upload.uploadId);
        // S3 just went silent: its abort would most likely time out too (it runs on, bounded, in
        // the background; the bucket's lifecycle rule is the backstop). Do not make the caller
        // wait for it on top of the deadline it already waited for.
        if (!(error instanceof BlobStoreUnavailableError) || source) await aborting;
      }
      // The body's own error (client gone, checksum mismatch...) is what the caller must see.
      if (source) throw source.error;
      throw translateError(error, undefined, 'upload');
    }
    return { size };
  }

  /** Best effort: a failed abort leaves parts for the bucket's lifecycle rule to remove. */
  private async abortMultipart(Key: string, UploadId: string): Promise<void> {
    try {
      await this.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId }), 'abort');
    } catch {
      // Nothing better to do: the object was never completed, so no reader can see the parts.
    }
  }

  async get(key: string, range?: ByteRange): Promise<BlobRead> {
    let out;
    try {
      // The deadline covers the wait for the response to start; the body has its idle guard below.
      out = await withDeadline(this.requestTimeoutMs, 'S3 get', undefined, (abortSignal) =>
        this.client.send(
          new GetObjectCommand({
            Bucket: this.bucket,
            Key: this.objectKey(key),
            Range: range ? `bytes=${range.start}-${range.end}` : undefined,
          }),
          { abortSignal },
        ),
      );
    } catch (error) {
      throw translateError(error, key, 'get');
    }
    const body = out.Body
      ? guardIdleStream(out.Body.transformToWebStream() as ReadableStream<Uint8Array>, this.idleTimeoutMs, `S3 get of ${key}`)
      : emptyStream();
    if (!range) {
      return { body, size: parseContentRange(out.ContentRange)?.total ?? out.ContentLength ?? 0 };
    }
    const served = parseContentRange(out.ContentRange);
    if (!served || served.start !== range.start || served.end < Math.min(range.end, served.total - 1)) {
      await body.cancel().catch(() => {});
      throw new Error(`S3 answered the range ${range.start}-${range.end} of ${key} with ${out.ContentRange ?? 'no Content-Range'}`);
    }
    // Some S3-compatible stores serve more than asked (s3rver turns bytes=0-0 into the whole object).
    const wanted = Math.min(range.end, served.total - 1) - range.start + 1;
    return { body: served.end - served.start + 1 > wanted ? limitBytes(body, wanted) : body, size: served.total };
  }

  async stat(key: string): Promise<BlobStat | undefined> {
    try {
      const out = await this.send<{ ContentLength?: number; ETag?: string }>(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
        'stat',
      );
      // A single-part upload's ETag is the md5 of its bytes (a multipart one has a `-N` suffix).
      const md5 = /^"([0-9a-f]{32})"$/.exec(out.ETag ?? '')?.[1];
      return { size: out.ContentLength ?? 0, ...(md5 ? { md5 } : {}) };
    } catch (error) {
      if (isNoSuchKey(error)) return undefined;
      throw translateError(error, key, 'stat');
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), 'delete');
    } catch (error) {
      if (isNoSuchKey(error)) return;
      throw translateError(error, key, 'delete');
    }
  }

  async *list(prefix = ''): AsyncIterable<{ key: string; size: number; lastModified: Date }> {
    let ContinuationToken: string | undefined;
    do {
      let page;
      try {
        page = await this.send<ListObjectsV2CommandOutput>(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            ContinuationToken,
            MaxKeys: this.listPageSize,
          }),
          'list',
        );
      } catch (error) {
        throw translateError(error, undefined, 'list');
      }
      for (const object of page.Contents ?? []) {
        if (!object.Key?.startsWith(this.prefix)) continue;
        const key = object.Key.slice(this.prefix.length);
        if (!key || key.endsWith('/')) continue; // folder markers made by consoles
        yield { key, size: object.Size ?? 0, lastModified: object.LastModified ?? new Date(0) };
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  private async presignUpload(key: string, options: { expiresInSeconds: number; contentLength: number }): Promise<string> {
    const command = new PutObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), ContentLength: options.contentLength });
    // Added before signing, so it is part of what is signed: S3 ignores unknown signed parameters.
    command.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { query?: Record<string, string> };
        request.query = { ...request.query, signature: 'conan1' };
        // A checksum the SDK computed before the body was known (of no bytes) would make the store refuse the upload.
        const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
        for (const name of Object.keys(headers)) {
          if (/^x-amz-(checksum-|sdk-checksum-algorithm)/i.test(name)) delete headers[name];
        }
        return next(args);
      },
      // Low priority: after the SDK's own build steps (flexible checksums) have set their headers.
      { step: 'build', priority: 'low', name: 'conan1SignatureParameter' },
    );
    try {
      return await getSignedUrl(this.client, command, { expiresIn: options.expiresInSeconds, signableHeaders: new Set(['content-length']) });
    } catch (error) {
      throw translateError(error, undefined, 'presign');
    }
  }

  private async presign(key: string, options: { expiresInSeconds: number; fileName?: string }): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: this.objectKey(key),
      ResponseContentDisposition: options.fileName ? contentDisposition(options.fileName) : undefined,
    });
    try {
      return await getSignedUrl(this.client, command, { expiresIn: options.expiresInSeconds });
    } catch (error) {
      // Signing is local; it fails only when credentials cannot be resolved.
      throw translateError(error, undefined, 'presign');
    }
  }

  /**
   * Aborts the incomplete multipart uploads under the store's prefix that
   * were started, and last received a part, before `olderThan`, and counts
   * the bytes of their parts; with `dryRun`, only counts. Needs
   * `s3:ListBucketMultipartUploads`, `s3:ListMultipartUploadParts` and
   * `s3:AbortMultipartUpload`.
   */
  removeAbandonedUploads(olderThan: Date, options: { dryRun?: boolean } = {}): Promise<AbandonedUploadsReport> {
    const client = this.clientWithDeadlines('abandoned uploads');
    return removeAbandonedUploads({ client, bucket: this.bucket, prefix: this.prefix }, olderThan, options);
  }

  async ping(): Promise<void> {
    try {
      await this.send(new HeadBucketCommand({ Bucket: this.bucket }), 'ping');
    } catch (error) {
      // A readiness probe: a missing bucket or missing permission is "not ready" too.
      const translated = translateError(error, undefined, 'ping');
      if (translated instanceof BlobStoreUnavailableError) throw translated;
      const name = (error as { name?: string }).name ?? 'error';
      throw new BlobStoreUnavailableError(`S3 bucket ${this.bucket} not usable (${name})`, { cause: error });
    }
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`S3BlobStore: ${name} must be a positive integer (ms)`);
  return value;
}

function normalizePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  return trimmed ? `${trimmed}/` : '';
}

/** `bytes 0-9/1234` -> { start: 0, end: 9, total: 1234 }; undefined when missing or not of that form. */
function parseContentRange(contentRange: string | undefined): { start: number; end: number; total: number } | undefined {
  const match = contentRange && /^bytes (\d+)-(\d+)\/(\d+)$/.exec(contentRange.trim());
  return match ? { start: Number(match[1]), end: Number(match[2]), total: Number(match[3]) } : undefined;
}

/** The first `length` bytes of `stream`; the rest is not read. */
function limitBytes(stream: ReadableStream<Uint8Array>, length: number): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  let left = length;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (left <= 0) {
        controller.close();
        await reader.cancel().catch(() => {});
        return;
      }
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      const chunk = value.byteLength > left ? value.subarray(0, left) : value;
      left -= chunk.byteLength;
      controller.enqueue(chunk);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (controller) => controller.close() });
}

/** `attachment` with the file name, ASCII fallback plus RFC 6266 `filename*` when needed. */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  if (ascii === fileName) return `attachment; filename="${fileName}"`;
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
