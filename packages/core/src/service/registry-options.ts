import type { Authenticator } from '../auth/authenticator.js';
import type { Authorizer } from '../auth/authorizer.js';
import type { TokenService } from '../auth/tokens.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import type { BlobStore } from '../storage/blob-store.js';

/** Everything a Cimmeria registry is made of. Hosts build the pieces and inject them. */
export interface RegistryOptions {
  /** Source of truth for what exists. */
  metadata: MetadataStore;
  /** Where file bytes live. */
  blobs: BlobStore;
  /** Checks `conan remote login` credentials. */
  authenticator: Authenticator;
  /** Issues and verifies session tokens. */
  tokens: TokenService;
  /** Who may read, write, delete. Default: read for anyone, write for no one. */
  authorizer?: Authorizer;
  /** Largest accepted file upload in bytes; bigger ones get 413. Default 10 GiB. */
  maxUploadBytes?: number;
  /**
   * Largest accepted `conaninfo.txt` and `conanmanifest.txt` in bytes (the
   * files the server itself reads; their text is kept in the metadata
   * store); bigger ones get 413. Default 1 MiB.
   */
  maxTextFileBytes?: number;
  /**
   * Storing the `conanmanifest.txt` of a published revision again (`conan
   * upload --force`) makes it the latest, with a new time. Default `false`:
   * a re-upload keeps the revision's time and place, as Conan expects
   * (rule 4 of DESIGN.md); delete a revision and upload it to make it the
   * latest.
   */
  reuploadMakesLatest?: boolean;
  /**
   * `redirect` (default when the blob store can presign): downloads answer
   * 302 to a short-lived URL of the blob store. `stream`: the node streams.
   */
  downloads?: 'redirect' | 'stream';
  /** Lifetime of presigned download URLs in seconds. Default 300. */
  presignExpiresInSeconds?: number;
  /**
   * Checksum deploy (default on): the server advertises `checksum_deploy`,
   * and a PUT with `X-Checksum-Deploy: true` and `X-Checksum-Sha1` stores a
   * file without its bytes when a blob with that sha1 is already stored and
   * the caller may read a recipe using it (knowing a checksum must not be
   * enough to obtain bytes one may not read).
   */
  checksumDeploy?: boolean;
}

export const DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 ** 3;
export const DEFAULT_MAX_TEXT_FILE_BYTES = 1024 ** 2;
