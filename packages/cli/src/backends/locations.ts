import { join } from 'node:path';
import type { CimmeriaConfig } from '../config/schema.js';

/** Where metadata lives: `sqlite:` + an absolute path, or a `postgres://` URL. */
export function databaseUrlOf(config: Pick<CimmeriaConfig, 'database' | 'data'>): string {
  return config.database ?? `sqlite:${join(config.data, 'metadata.db')}`;
}

/** Where blobs live: `fs:` + an absolute path, or an `s3://` URL. */
export function storageUrlOf(config: Pick<CimmeriaConfig, 'storage' | 'data'>): string {
  return config.storage ?? `fs:${join(config.data, 'blobs')}`;
}

/**
 * A database or storage URL fit for logs and messages: the password of a
 * `postgres://` URL and the secret parameters of an `s3://` URL become `***`.
 * (storage-s3's own `redactS3Url` does the same for S3 alone; this one also
 * serves PostgreSQL and does not load the AWS SDK just to print a line.)
 */
export function redactUrl(url: string): string {
  if (url.startsWith('sqlite:') || url.startsWith('fs:')) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<invalid URL>';
  }
  if (parsed.password) parsed.password = '***';
  for (const name of ['password', 'secretAccessKey', 'sessionToken', 'sslkey', 'sslpassword']) {
    if (parsed.searchParams.has(name)) parsed.searchParams.set(name, '***');
  }
  return parsed.toString().replaceAll('%2A%2A%2A', '***');
}
