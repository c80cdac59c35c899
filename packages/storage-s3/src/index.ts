export {
  S3BlobStore,
  type S3BlobStoreOptions,
  DEFAULT_PART_SIZE_BYTES,
  DEFAULT_QUEUE_SIZE,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  MIN_PART_SIZE_BYTES,
} from './s3-blob-store.js';
export { s3ClientFromUrl, redactS3Url, S3UrlError, type S3ClientTimeouts, type S3Location } from './s3-url.js';
