import type { Authenticator } from '../auth/authenticator.js';
import type { Authorizer } from '../auth/authorizer.js';
import type { TokenService } from '../auth/tokens.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { RegistryMetrics } from '../metrics/registry-metrics.js';

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
  /**
   * Password checks (calls of `authenticator.authenticate`: logins, and HTTP
   * Basic on any route) running at once on this node. scrypt runs on
   * libuv's thread pool (4 threads unless `UV_THREADPOOL_SIZE` says
   * otherwise), which file I/O shares: the default 2 leaves half of it to
   * file I/O however many logins arrive. Raise it for an authenticator that
   * does not hash locally.
   */
  maxConcurrentPasswordChecks?: number;
  /** Password checks waiting for a slot; past that a login is answered 503 with `Retry-After` at once. Default 16. */
  passwordCheckQueueSize?: number;
  /**
   * Failed logins of one user name within a window, after which that user's
   * logins are answered 429 with `Retry-After` (after a 1 s pause, which
   * slows a flooding client down) without checking the password, until the
   * window ends. Logins from an address the user
   * logged in from in the last 24 hours are still checked, so others'
   * failures cannot lock a user out. Counted in memory on each node. Default
   * 10; `0` turns it off.
   */
  loginFailuresPerUser?: number;
  /**
   * Failed logins from one client address (IPv6: one /64) within a window,
   * after which logins from it are answered 429 until the window ends.
   * Counted in memory on each node. Default 30; `0` turns it off. Behind a
   * reverse proxy, tell the handler where the client address is
   * (`trustProxy` or `clientAddress` of `createConanHandler`).
   */
  loginFailuresPerAddress?: number;
  /** Length of the login failure windows, in seconds. Default 60. */
  loginThrottleWindowSeconds?: number;
  /**
   * How long a node may rely on what it last learned of a user's
   * credentials, in seconds: a token of a removed user, or issued before a
   * password change, is refused at most this long after the change (on
   * every node, with `Authenticator.credentialVersion`), and a successful
   * HTTP Basic user + password is accepted again without hashing for this
   * long. Default 5; `0` looks the user up on every request.
   */
  credentialCacheSeconds?: number;
  /**
   * Where to report requests, transfers and store calls: `createMetrics()`
   * of `@cimmeria/core/metrics` (Prometheus), or your own implementation.
   * Default: nothing is measured.
   */
  metrics?: RegistryMetrics;
  /**
   * Serve Conan 1 clients in their default mode (v1 protocol, no
   * revisions): default true. When false, ping advertises `only_v2` and such
   * clients tell their user to set `CONAN_REVISIONS_ENABLED=1`; Conan 1
   * clients with revisions are served either way.
   */
  conan1V1Mode?: boolean;
  /** Lifetime in seconds of the file URLs Conan 1 clients get (default 1800, as conan_server's). */
  conan1UrlExpiresInSeconds?: number;
  /**
   * Absolute URL of the API's root as clients reach it (e.g.
   * `https://conan.example.com/artifacts`), for the file URLs handed to
   * Conan 1 clients. Default: taken from each request (its origin and the
   * path the API is mounted under).
   */
  conan1PublicUrl?: string;
}

export { DEFAULT_MAX_TEXT_FILE_BYTES, DEFAULT_MAX_UPLOAD_BYTES } from '../defaults.js';
