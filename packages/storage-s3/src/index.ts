export {
  S3BlobStore,
  type S3BlobStoreOptions,
  DEFAULT_PART_SIZE_BYTES,
  DEFAULT_QUEUE_SIZE,
  MIN_PART_SIZE_BYTES,
} from './s3-blob-store.js';
export { s3ClientFromUrl, redactS3Url, S3UrlError, type S3Location } from './s3-url.js';
