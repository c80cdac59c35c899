import type { BlobStore } from '@cimmeria/core';
import type { CimmeriaConfig } from '../config/schema.js';
import { makePrivateDir } from '../data-dir.js';
import { ConfigError } from '../errors.js';
import { checkBlobStore } from './check-blob-store.js';
import { redactUrl, storageUrlOf } from './locations.js';
import { importBackend } from './optional-backend.js';

/** An open blob store and how to release it. */
export interface OpenedBlobStore {
  store: BlobStore;
  /** The store, for logs: secrets redacted. */
  description: string;
  close(): Promise<void>;
}

/** Options of {@link openBlobStore}. */
export interface OpenBlobStoreOptions {
  /** Check that the store answers before returning (S3: the bucket exists, the credentials may use it). Default true. */
  check?: boolean;
}

/**
 * Opens the configured blob store: a local directory (created if missing)
 * or an S3 bucket (which must exist; every request bounded by
 * `storageTimeoutMs`, transfers by `storageIdleTimeoutMs`), and checks that
 * it answers, with a deadline. `@cimmeria/storage-s3` (and the AWS SDK) is
 * loaded only when used.
 */
export async function openBlobStore(
  config: Pick<
    CimmeriaConfig,
    'storage' | 'data' | 'storagePartSizeBytes' | 'storageQueueSize' | 'storageTimeoutMs' | 'storageIdleTimeoutMs' | 'downloads'
  >,
  options: OpenBlobStoreOptions = {},
): Promise<OpenedBlobStore> {
  const url = storageUrlOf(config);
  const description = redactUrl(url);
  if (url.startsWith('fs:')) {
    const directory = url.slice('fs:'.length);
    await makePrivateDir(directory);
    const { FsBlobStore } = await import('@cimmeria/storage-fs');
    return { store: new FsBlobStore({ directory }), description, close: async () => {} };
  }
  const { S3BlobStore, S3UrlError, s3ClientFromUrl } = await importBackend(() => import('@cimmeria/storage-s3'), '@cimmeria/storage-s3', 's3:// storage');
  let location;
  try {
    location = s3ClientFromUrl(url, {}, { connectTimeoutMs: config.storageTimeoutMs, idleTimeoutMs: config.storageIdleTimeoutMs });
  } catch (error) {
    // S3UrlError messages never contain the URL, so they can be shown.
    if (error instanceof S3UrlError) throw new ConfigError(`Invalid configuration: storage: ${error.message}`);
    throw error;
  }
  const store = new S3BlobStore({
    ...location,
    partSizeBytes: config.storagePartSizeBytes,
    queueSize: config.storageQueueSize,
    presign: config.downloads === 'redirect',
    requestTimeoutMs: config.storageTimeoutMs,
    idleTimeoutMs: config.storageIdleTimeoutMs,
  });
  const close = async () => location.client.destroy();
  if (options.check ?? true) {
    try {
      await checkBlobStore(store, description, config.storageTimeoutMs);
    } catch (error) {
      // Also ends a request still waiting for an answer.
      await close();
      throw error;
    }
  }
  return { store, description, close };
}
