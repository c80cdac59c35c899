import crypto from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/** s3rver's fixed account. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** A real S3-compatible server (s3rver) on 127.0.0.1, port 0, over a temp directory. */
export interface TestS3 {
  endpoint: string;
  /** A client for it: path-style, s3rver's credentials. Destroyed on close. */
  client(config?: S3ClientConfig): S3Client;
  /** Creates a bucket with a fresh name (3+ characters). */
  createBucket(client: S3Client): Promise<string>;
  /** Bytes of multipart upload parts s3rver has written to disk so far for a bucket. */
  partBytesOnDisk(bucket: string): Promise<number>;
  close(): Promise<void>;
}

let buckets = 0;

/** Where s3rver's filesystem store keeps the multipart uploads of a bucket: one directory per upload id. */
const uploadsDir = (root: string, bucket: string) => join(root, bucket, '._S3rver_uploads');

interface KoaContext {
  method: string;
  url: string;
  status: number;
  type: string;
  body: unknown;
}

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The directory of multipart upload `uploadId` of `key`, or `undefined` after answering
 * 404 NoSuchUpload (no such upload, or one of another key).
 */
async function uploadOf(ctx: KoaContext, root: string, bucket: string, uploadId: string, key: string): Promise<string | undefined> {
  const dir = join(uploadsDir(root, bucket), uploadId.replace(/[^a-zA-Z0-9]/g, ''));
  const storedKey = await readFile(join(dir, 'key'), 'utf8').catch(() => undefined);
  if (storedKey === key) return dir;
  ctx.status = 404;
  ctx.type = 'application/xml';
  ctx.body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>';
  return undefined;
}

/**
 * s3rver 3.7 answers ListMultipartUploads with 501 NotImplemented and
 * AbortMultipartUpload and ListParts with 405 MethodNotAllowed. This Koa
 * middleware, put in front of its router, implements them on s3rver's own
 * on-disk layout, so tests can check over the real API that an aborted
 * upload leaves nothing and that gc finds abandoned ones. An upload's
 * `Initiated` is when s3rver wrote its `key` file, a part's `LastModified`
 * when it wrote the part. (No signature check on these routes, no
 * pagination; everything else is s3rver.)
 */
function multipartShim(root: string) {
  return async (ctx: KoaContext, next: () => Promise<void>) => {
    const url = new URL(ctx.url, 'http://s3');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    if (ctx.method === 'GET' && url.searchParams.has('uploads') && !key) {
      const ids = await readdir(uploadsDir(root, bucket)).catch(() => [] as string[]);
      const prefix = url.searchParams.get('prefix') ?? '';
      const uploads = await Promise.all(
        ids.map(async (id) => {
          const keyFile = join(uploadsDir(root, bucket), id, 'key');
          // A part s3rver wrote after the upload was aborted recreates a folder without `key`: no upload.
          const uploadKey = await readFile(keyFile, 'utf8').catch(() => undefined);
          if (uploadKey === undefined || !uploadKey.startsWith(prefix)) return '';
          const initiated = (await stat(keyFile)).mtime.toISOString();
          return `<Upload><Key>${xmlEscape(uploadKey)}</Key><UploadId>${xmlEscape(id)}</UploadId><Initiated>${initiated}</Initiated></Upload>`;
        }),
      );
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Bucket>${xmlEscape(bucket)}</Bucket><IsTruncated>false</IsTruncated>${uploads.join('')}</ListMultipartUploadsResult>`;
      return;
    }
    const uploadId = url.searchParams.get('uploadId');
    if (ctx.method === 'GET' && uploadId && key) {
      const dir = await uploadOf(ctx, root, bucket, uploadId, key);
      if (dir === undefined) return;
      const parts = [];
      for (const name of (await readdir(dir)).filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(a) - Number(b))) {
        const info = await stat(join(dir, name));
        parts.push(`<Part><PartNumber>${name}</PartNumber><LastModified>${info.mtime.toISOString()}</LastModified><Size>${info.size}</Size></Part>`);
      }
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Bucket>${xmlEscape(bucket)}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${xmlEscape(uploadId)}</UploadId>` +
        `<IsTruncated>false</IsTruncated>${parts.join('')}</ListPartsResult>`;
      return;
    }
    if (ctx.method === 'DELETE' && uploadId && key) {
      const dir = await uploadOf(ctx, root, bucket, uploadId, key);
      if (dir === undefined) return;
      await rm(dir, { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    return next();
  };
}

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with single DES, which
 * OpenSSL 3 (Node >= 17) refuses: every truncated listing is a 500. Single
 * DES-CBC is 3DES-CBC with the key repeated three times, which OpenSSL still
 * has; route s3rver's two calls there (same bytes, nothing else affected).
 */
function letS3rverPaginate(): void {
  const patched = crypto as unknown as { __cimmeriaDes?: true };
  if (patched.__cimmeriaDes) return;
  patched.__cimmeriaDes = true;
  const tripled = (key: crypto.CipherKey) => Buffer.concat([key as Buffer, key as Buffer, key as Buffer]);
  const { createCipheriv, createDecipheriv } = crypto;
  crypto.createCipheriv = ((algorithm: string, key: crypto.CipherKey, iv: crypto.BinaryLike | null, options?: never) =>
    algorithm === 'des'
      ? createCipheriv('des-ede3-cbc', tripled(key), iv)
      : createCipheriv(algorithm, key, iv, options)) as typeof crypto.createCipheriv;
  crypto.createDecipheriv = ((algorithm: string, key: crypto.CipherKey, iv: crypto.BinaryLike | null, options?: never) =>
    algorithm === 'des'
      ? createDecipheriv('des-ede3-cbc', tripled(key), iv)
      : createDecipheriv(algorithm, key, iv, options)) as typeof crypto.createDecipheriv;
}

export async function startS3(): Promise<TestS3> {
  letS3rverPaginate();
  const directory = await mkdtemp(join(tmpdir(), 'cimmeria-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  // S3rver is a Koa app: its middleware array is composed when it starts listening.
  (server as unknown as { middleware: unknown[] }).middleware.unshift(multipartShim(directory));
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: S3Client[] = [];
  return {
    endpoint,
    client(config = {}) {
      const client = new S3Client({
        endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: S3RVER_CREDENTIALS,
        ...config,
      });
      clients.push(client);
      return client;
    },
    async createBucket(client) {
      const bucket = `bucket-${process.pid}-${++buckets}`;
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      return bucket;
    },
    async partBytesOnDisk(bucket) {
      let total = 0;
      const root = uploadsDir(directory, bucket);
      for (const id of await readdir(root).catch(() => [] as string[])) {
        for (const name of await readdir(join(root, id)).catch(() => [] as string[])) {
          if (/^\d+$/.test(name)) total += (await stat(join(root, id, name)).catch(() => ({ size: 0 }))).size;
        }
      }
      return total;
    },
    async close() {
      for (const client of clients) client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** A 127.0.0.1 port nothing listens on (bound, then released). */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
