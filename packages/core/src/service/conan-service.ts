import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ApiTokens, grantAllows, parseApiToken } from '../auth/api-tokens.js';
import { userLookupOf } from '../auth/authenticator.js';
import { ConanServerAuthorizer, type Authorizer, type Permission } from '../auth/authorizer.js';
import { CredentialVersions } from '../auth/credential-versions.js';
import { LoginGuard } from '../auth/login-guard.js';
import type { Principal } from '../auth/principal.js';
import type { TokenService } from '../auth/tokens.js';
import {
  MANIFEST_FILE,
  ManifestMismatchError,
  RevisionOverwriteError,
  type AuditActor,
  type BinaryEntry,
  type FileOwner,
  type LinkFileOptions,
  type MetadataStore,
  type RecordFileOptions,
  type RecordOutcome,
  type RevisionEntry,
  type StoredFile,
} from '../metadata/metadata-store.js';
import { keepsMd5, keepsText } from '../metadata/revision-content.js';
import { recipeMatcher, searchNamePrefix } from '../reference/recipe-search.js';
import {
  formatPackage,
  formatPackageRevision,
  formatRecipe,
  formatRecipeForMessage,
  formatRecipeRevision,
  type PackageRef,
  type PackageRevisionRef,
  type RecipeRef,
  type RecipeRevisionRef,
} from '../reference/references.js';
import { BlobNotFoundError, type BlobRead, type BlobStore, type ByteRange } from '../storage/blob-store.js';
import { hashingStream } from '../storage/hashing.js';
import { newBlobKey } from '../storage/blob-keys.js';
import { Conan1Service } from '../conan1/conan1-service.js';
import { DownloadTally } from './download-tally.js';
import { ConanError } from './errors.js';
import { DEFAULT_MAX_TEXT_FILE_BYTES, DEFAULT_MAX_UPLOAD_BYTES, LOGIN_PROTECTION_DEFAULTS } from '../defaults.js';
import type { RegistryOptions } from './registry-options.js';

/** Binaries of a recipe revision as `conan list` wants them: package id -> its conaninfo.txt. */
export type BinariesInfo = Record<string, { content: string }>;

/** A file ready to be served: its record, and either a redirect or a way to open its bytes. */
export interface FileDownload {
  file: StoredFile;
  /** Set when the bytes should be fetched from the blob store directly. */
  redirectUrl?: string;
  open(range?: ByteRange): Promise<BlobRead>;
  /**
   * Set when the blob store keeps the bytes in a local file
   * ({@link BlobStore.localFile}): its path, for hosts that send files
   * themselves. Throws `FILE_NOT_FOUND` when the bytes are gone.
   */
  localFile?(): Promise<{ path: string }>;
}

/** What an upload declared in its headers. */
export interface UploadInfo {
  /** `X-Checksum-Sha1`, checked against the received bytes. */
  sha1?: string;
  /** `Content-Length`, checked against the maximum before reading. */
  contentLength?: number;
}

/** Where a login comes from, for throttling failed logins per client. */
export interface LoginContext {
  /** The client's address (IP), when the host knows it. */
  clientAddress?: string;
}

/** Where a change comes from, for the audit trail. */
export interface CallContext {
  /** The client's address (IP), when the host knows it. */
  clientAddress?: string;
}

/** Who makes a change, as the audit trail records it: the caller, the API token it used, and where it came from. */
export function actorOf(principal: Principal | undefined, context: CallContext | undefined): AuditActor {
  return {
    ...(principal ? { user: principal.name } : {}),
    ...(principal?.apiToken === undefined ? {} : { tokenId: principal.apiToken.id }),
    ...(context?.clientAddress === undefined ? {} : { address: context.clientAddress }),
  };
}

/** Recipes a search matches between two yields to the event loop. */
const SEARCH_YIELD_EVERY = 100;
/**
 * Recipes a search reads from the store at a time: a pattern without a
 * literal prefix reads every recipe, and one query for 100,000 of them
 * would block the event loop (SQLite answers synchronously) and hold them
 * all in memory.
 */
const SEARCH_PAGE_SIZE = 500;

/** Server capabilities advertised on ping. Only what is really implemented. */
export const CAPABILITIES = ['revisions', 'checksum_deploy'] as const;

const recipeNotFound = (ref: RecipeRef | RecipeRevisionRef) =>
  new ConanError(
    'RECIPE_NOT_FOUND',
    `Recipe not found: '${'revision' in ref ? formatRecipeRevision(ref) : formatRecipeForMessage(ref)}'`,
  );
const packageNotFound = (ref: PackageRef | PackageRevisionRef) =>
  new ConanError(
    'PACKAGE_NOT_FOUND',
    `Binary package not found: '${'packageRevision' in ref ? formatPackageRevision(ref) : formatPackage(ref)}'`,
  );

function loginGuard(options: RegistryOptions): LoginGuard {
  const d = LOGIN_PROTECTION_DEFAULTS;
  return new LoginGuard(options.authenticator, {
    maxConcurrentChecks: options.maxConcurrentPasswordChecks ?? d.maxConcurrentPasswordChecks,
    queueSize: options.passwordCheckQueueSize ?? d.passwordCheckQueueSize,
    failuresPerUser: options.loginFailuresPerUser ?? d.loginFailuresPerUser,
    failuresPerAddress: options.loginFailuresPerAddress ?? d.loginFailuresPerAddress,
    windowSeconds: options.loginThrottleWindowSeconds ?? d.loginThrottleWindowSeconds,
    successCacheSeconds: options.credentialCacheSeconds ?? d.credentialCacheSeconds,
  });
}

function credentialVersions(options: RegistryOptions): CredentialVersions | undefined {
  const { authenticator } = options;
  if (!authenticator.credentialVersion) return undefined;
  return new CredentialVersions(
    { credentialVersion: (user) => authenticator.credentialVersion!(user) },
    { maxAgeSeconds: options.credentialCacheSeconds ?? LOGIN_PROTECTION_DEFAULTS.credentialCacheSeconds },
  );
}

/** A revision as `conan list` prints it, as the audit trail and download counts name it. */
function auditRef(owner: FileOwner): string {
  const recipe = `${formatRecipe(owner.ref)}#${owner.ref.revision}`;
  return owner.kind === 'recipe' ? recipe : `${recipe}:${owner.ref.packageId}#${owner.ref.packageRevision}`;
}

function describeOwner(owner: FileOwner): string {
  return owner.kind === 'recipe' ? formatRecipeRevision(owner.ref) : formatPackageRevision(owner.ref);
}

/**
 * The Conan operations, with authorization. Pure domain code: typed
 * arguments in, typed results or {@link ConanError} out; no HTTP here.
 */
export class ConanService {
  readonly metadata: MetadataStore;
  readonly blobs: BlobStore;
  private readonly tokens: TokenService;
  private readonly logins: LoginGuard;
  /** Set when the authenticator can say when credentials change, so tokens can be revoked. */
  private readonly credentialVersions: CredentialVersions | undefined;
  private readonly authorizer: Authorizer;
  /** Long-lived API tokens of users (create, list, revoke); also accepted wherever a password or session token is. */
  readonly apiTokens: ApiTokens;
  private readonly maxUploadBytes: number;
  private readonly maxTextFileBytes: number;
  private readonly reuploadMakesLatest: boolean;
  private readonly redirectDownloads: boolean;
  private readonly presignExpiresInSeconds: number;
  private readonly downloadTally: DownloadTally;
  /** What ping advertises. */
  readonly capabilities: readonly string[];
  /** Conan 1 clients' v1 protocol (revision `0`, signed file URLs). */
  readonly conan1: Conan1Service;
  /** Where clients reach the API, for Conan 1 file URLs (`RegistryOptions.conan1PublicUrl`). */
  readonly conan1PublicUrl: string | undefined;

  constructor(options: RegistryOptions) {
    this.metadata = options.metadata;
    this.blobs = options.blobs;
    this.tokens = options.tokens;
    this.logins = loginGuard(options);
    this.credentialVersions = credentialVersions(options);
    this.authorizer = options.authorizer ?? new ConanServerAuthorizer();
    const lookupUser = userLookupOf(options.authenticator);
    // Without a look-up the authenticator cannot say a user is gone: tokens then live until revoked.
    this.apiTokens = new ApiTokens(options.metadata, {
      ...(lookupUser ? { lookupUser } : {}),
      cacheSeconds: options.credentialCacheSeconds ?? LOGIN_PROTECTION_DEFAULTS.credentialCacheSeconds,
    });
    this.maxUploadBytes = options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
    this.maxTextFileBytes = options.maxTextFileBytes ?? DEFAULT_MAX_TEXT_FILE_BYTES;
    this.reuploadMakesLatest = options.reuploadMakesLatest ?? false;
    this.redirectDownloads = (options.downloads ?? 'redirect') === 'redirect' && !!options.blobs.presignGet;
    this.presignExpiresInSeconds = options.presignExpiresInSeconds ?? 300;
    this.downloadTally = new DownloadTally(options.metadata);
    const v1Mode = options.conan1V1Mode ?? true;
    this.capabilities = [
      ...CAPABILITIES.filter((c) => c !== 'checksum_deploy' || options.checksumDeploy !== false),
      // Conan 1 clients without revisions then tell their user to enable them.
      ...(v1Mode ? [] : ['only_v2']),
    ];
    this.conan1PublicUrl = options.conan1PublicUrl;
    this.conan1 = new Conan1Service(this, {
      v1Mode,
      urlKey: options.tokens.derivedKey('conan1-file-urls'),
      urlExpiresInSeconds: options.conan1UrlExpiresInSeconds ?? 1800,
      maxUploadBytes: this.maxUploadBytes,
      maxTextFileBytes: this.maxTextFileBytes,
    });
  }

  // --- users -------------------------------------------------------------

  /**
   * Exchanges credentials for a session token. Failed logins are throttled
   * per user and per `context.clientAddress` (`TOO_MANY_REQUESTS`), and
   * password checks are bounded (`UNAVAILABLE` when too many wait).
   */
  async authenticate(user: string, password: string, context: LoginContext = {}): Promise<string> {
    // An API token as password: the session carries the token, so it is as narrow and dies with it.
    if (parseApiToken(password)) return this.tokens.issue(await this.apiTokenLogin(user, password, context));
    const principal = await this.logins.check(user, password, context.clientAddress, { remembered: false });
    // Fresh, not cached: a token issued under a version this node saw before
    // a password change would be refused once the cache catches up.
    const credentialVersion = await this.credentialVersions?.fresh(principal.name);
    return this.tokens.issue(principal, { credentialVersion });
  }

  /**
   * The principal for HTTP Basic credentials sent with any request, under
   * the same throttling and bounds as {@link authenticate}; a success is
   * remembered for `credentialCacheSeconds`, so a script sending Basic on
   * every request pays for one hash, not one per request.
   */
  authenticatePassword(user: string, password: string, context: LoginContext = {}): Promise<Principal> {
    if (parseApiToken(password)) return this.apiTokenLogin(user, password, context);
    return this.logins.check(user, password, context.clientAddress);
  }

  /** A user's API token given as password: a wrong one counts as a failed login of that user. */
  private apiTokenLogin(user: string, token: string, context: LoginContext): Promise<Principal> {
    return this.logins.checkWith(user, context.clientAddress, () => this.apiTokens.verify(token, user), undefined, token);
  }

  /**
   * Resolves a bearer token to its principal. A token issued under a
   * credential version is refused once that user's version changes
   * (password changed, user removed or re-created), as seen at most
   * `credentialCacheSeconds` ago.
   */
  async verifyToken(token: string, context: LoginContext = {}): Promise<Principal> {
    const apiToken = parseApiToken(token);
    if (apiToken) {
      // Throttled per token id and address: guessing secrets is guessing passwords.
      return this.logins.checkWith(`token:${apiToken.id}`, context.clientAddress, () => this.apiTokens.verify(token), 'Invalid token', token);
    }
    const { principal, credentialVersion, apiTokenId } = await this.tokens.verifyClaims(token);
    if (apiTokenId !== undefined) {
      const fromToken = await this.apiTokens.session(apiTokenId, principal.name);
      if (fromToken) return fromToken;
      throw new ConanError('UNAUTHORIZED', 'Token no longer valid (API token revoked or expired, or user removed): log in again');
    }
    if (credentialVersion === undefined) return principal;
    const versions = this.credentialVersions;
    // A version nobody can check any more (the authenticator changed) is not vouched for.
    if (versions && (await versions.current(principal.name)) === credentialVersion) return principal;
    // The cached version may predate new credentials used to log in on another node.
    if (versions && (await versions.fresh(principal.name)) === credentialVersion) return principal;
    throw new ConanError('UNAUTHORIZED', 'Token no longer valid (password changed or user removed): log in again');
  }

  /** The caller's user name; anonymous callers are asked to log in. */
  checkCredentials(principal: Principal | undefined): string {
    if (!principal) throw new ConanError('UNAUTHORIZED', 'Login required');
    return principal.name;
  }

  // --- authorization -----------------------------------------------------

  private async allowed(principal: Principal | undefined, permission: Permission, ref: RecipeRef): Promise<boolean> {
    // An API token only narrows what its user may do.
    if (principal?.apiToken && !grantAllows(principal.apiToken, permission, ref)) return false;
    return this.authorizer.can(principal, permission, ref);
  }

  /**
   * Throws unless `principal` may `permission` `ref`: `UNAUTHORIZED` for an
   * anonymous caller (so the client asks for a login), `FORBIDDEN` for a
   * known user.
   */
  authorize(principal: Principal | undefined, permission: Permission, ref: RecipeRef): Promise<void> {
    return this.require(principal, permission, ref);
  }

  /** Whether the caller may read a recipe (what `conan list` shows it), as every read here checks. */
  canRead(principal: Principal | undefined, ref: RecipeRef): Promise<boolean> {
    return this.allowed(principal, 'read', ref);
  }

  /**
   * `true` only when the caller may read every recipe: no API token narrows
   * it by pattern and the authorizer says so ({@link Authorizer.readsAll}).
   * Listings then page in the database instead of checking each recipe.
   */
  async readsEverything(principal: Principal | undefined): Promise<boolean> {
    if (principal?.apiToken?.pattern !== undefined && principal.apiToken.pattern !== '*/*@*/*') return false;
    return (await this.authorizer.readsAll?.(principal)) === true;
  }

  /** Seconds a session token from {@link authenticate} lives. */
  get sessionSeconds(): number {
    return this.tokens.expiresInSeconds;
  }

  /** Anonymous callers get 401 (so the client asks for a login); known users get 403. */
  private async require(principal: Principal | undefined, permission: Permission, ref: RecipeRef): Promise<void> {
    if (await this.allowed(principal, permission, ref)) return;
    // Say when the token is what stops a user who may: else CI owners hunt for a missing permission rule.
    const byToken = principal?.apiToken && !grantAllows(principal.apiToken, permission, ref) ? ' with this API token' : '';
    throw principal
      ? new ConanError('FORBIDDEN', `Permission denied: '${principal.name}' may not ${permission} '${formatRecipe(ref)}'${byToken}`)
      : new ConanError('UNAUTHORIZED', `Login required to ${permission} '${formatRecipe(ref)}'`);
  }

  // --- reads -------------------------------------------------------------

  /**
   * Recipes matching an fnmatch pattern that the caller may read. An
   * anonymous caller whose pattern matches a recipe it may not read gets 401,
   * as from conan_server, so the client offers a login; the answer never
   * names that recipe.
   */
  async search(principal: Principal | undefined, pattern: string, ignoreCase: boolean): Promise<string[]> {
    const matches = recipeMatcher(pattern, ignoreCase);
    // An index range when the pattern starts with literal text (`zl*`), every recipe otherwise.
    const namePrefix = searchNamePrefix(pattern);
    const results: string[] = [];
    let after: RecipeRef | undefined;
    for (;;) {
      const page = await this.metadata.searchRecipes(namePrefix, { limit: SEARCH_PAGE_SIZE, ...(after ? { after } : {}) });
      for (let i = 0; i < page.length; i++) {
        // Matching is linear but a store may hold many recipes: let other requests in now and then.
        if (i > 0 && i % SEARCH_YIELD_EVERY === 0) await yieldToEventLoop();
        const ref = page[i]!;
        if (!matches(ref)) continue;
        if (await this.allowed(principal, 'read', ref)) results.push(formatRecipe(ref));
        else if (!principal) throw new ConanError('UNAUTHORIZED', 'Login required to search these recipes');
      }
      if (page.length < SEARCH_PAGE_SIZE) return results;
      after = page[page.length - 1];
    }
  }

  async recipeRevisions(principal: Principal | undefined, ref: RecipeRef): Promise<RevisionEntry[]> {
    await this.require(principal, 'read', ref);
    const revisions = await this.metadata.recipeRevisions(ref);
    if (revisions.length === 0) throw recipeNotFound(ref);
    return revisions;
  }

  async latestRecipeRevision(principal: Principal | undefined, ref: RecipeRef): Promise<RevisionEntry> {
    return (await this.recipeRevisions(principal, ref))[0]!;
  }

  private async visibleRecipeRevision(ref: RecipeRevisionRef): Promise<RevisionEntry> {
    const revision = await this.metadata.recipeRevision(ref);
    if (!revision) throw recipeNotFound(ref);
    return revision;
  }

  async packageRevisions(principal: Principal | undefined, ref: PackageRef): Promise<RevisionEntry[]> {
    await this.require(principal, 'read', ref);
    await this.visibleRecipeRevision(ref);
    const revisions = await this.metadata.packageRevisions(ref);
    if (revisions.length === 0) throw packageNotFound(ref);
    return revisions;
  }

  async latestPackageRevision(principal: Principal | undefined, ref: PackageRef): Promise<RevisionEntry> {
    return (await this.packageRevisions(principal, ref))[0]!;
  }

  /**
   * Binaries of a recipe revision, or of its latest revision when `revision`
   * is absent: one metadata query, whose conaninfo.txt texts were kept at
   * upload, so a listing reads no blob.
   */
  async binaries(principal: Principal | undefined, ref: RecipeRef | RecipeRevisionRef): Promise<BinariesInfo> {
    await this.require(principal, 'read', ref);
    const revisionRef: RecipeRevisionRef =
      'revision' in ref ? ref : { ...ref, revision: (await this.latestRecipeRevision(principal, ref)).revision };
    const binaries = await this.metadata.latestBinaries(revisionRef);
    if (!binaries) throw recipeNotFound(revisionRef);
    const entries = await Promise.all(
      binaries.map(async (binary) => [binary.packageId, { content: await this.conaninfoText(binary) }] as const),
    );
    return Object.fromEntries(entries);
  }

  /**
   * A binary's conaninfo.txt text. Files stored before the text was kept
   * are read from their blob, but only within `maxTextFileBytes`: a larger
   * one (let in by an older server) lists as empty rather than be read.
   */
  private async conaninfoText(binary: BinaryEntry): Promise<string> {
    const info = binary.conaninfo;
    if (!info) return '';
    if (info.content !== undefined) return info.content;
    if (info.size > this.maxTextFileBytes) return '';
    const { body } = await this.blobs.get(info.blobKey);
    const reading = hashingStream(body as unknown as AsyncIterable<Uint8Array>, this.maxTextFileBytes, { text: true });
    for await (const _ of reading.stream) {
      // Only the text is wanted.
    }
    return reading.digest().text ?? '';
  }

  /** Paths of the files of a visible revision. */
  async listFiles(principal: Principal | undefined, owner: FileOwner): Promise<string[]> {
    await this.require(principal, 'read', owner.ref);
    const files = await this.metadata.files(owner);
    if (!files) throw await this.ownerNotFound(owner);
    return files.map((f) => f.path);
  }

  /**
   * A file of a visible revision, as a redirect or a stream the HTTP layer
   * opens (with a range if asked). Fetching a revision's manifest counts as
   * one download of it, unless `countDownload` is false.
   */
  async download(
    principal: Principal | undefined,
    owner: FileOwner,
    path: string,
    options: { countDownload?: boolean } = {},
  ): Promise<FileDownload> {
    await this.require(principal, 'read', owner.ref);
    return this.openFile(owner, path, options);
  }

  /**
   * {@link download} without the permission check, for callers that
   * checked access another way (a Conan 1 file URL the server signed).
   */
  async openFile(owner: FileOwner, path: string, options: { countDownload?: boolean } = {}): Promise<FileDownload> {
    const file = await this.metadata.file(owner, path);
    if (!file) {
      const files = await this.metadata.files(owner);
      if (!files) throw await this.ownerNotFound(owner);
      throw new ConanError('FILE_NOT_FOUND', `File not found: '${path}' in '${describeOwner(owner)}'`);
    }
    // Every install fetches the manifest once: one download of the revision.
    // (A HEAD is a look, not a download: its caller passes countDownload false.)
    if (path === MANIFEST_FILE && options.countDownload !== false) this.downloadTally.add(owner.kind, auditRef(owner));
    const missingContent = () =>
      new ConanError('FILE_NOT_FOUND', `File content missing from storage: '${path}' in '${describeOwner(owner)}'`);
    const open = async (range?: ByteRange) => {
      try {
        return await this.blobs.get(file.blobKey, range);
      } catch (error) {
        // Metadata says it exists but its bytes are gone: report it rather than a bare 500.
        if (error instanceof BlobNotFoundError) throw missingContent();
        throw error;
      }
    };
    const blobs = this.blobs;
    const localFile = blobs.localFile
      ? async () => {
          const local = await blobs.localFile!(file.blobKey);
          if (!local) throw missingContent();
          return local;
        }
      : undefined;
    if (this.redirectDownloads && this.blobs.presignGet) {
      const redirectUrl = await this.blobs.presignGet(file.blobKey, {
        expiresInSeconds: this.presignExpiresInSeconds,
        fileName: path.split('/').pop(),
      });
      return { file, redirectUrl, open };
    }
    return localFile ? { file, open, localFile } : { file, open };
  }

  /** Writes the download counts still held in memory (they are otherwise written every few seconds). */
  flushDownloadCounts(): Promise<void> {
    return this.downloadTally.flush();
  }

  /** The most precise "not found" for a revision that is not visible. */
  private async ownerNotFound(owner: FileOwner): Promise<ConanError> {
    if (owner.kind === 'recipe') return recipeNotFound(owner.ref);
    if (!(await this.metadata.recipeRevision(owner.ref))) return recipeNotFound(owner.ref);
    return packageNotFound(owner.ref);
  }

  // --- writes ------------------------------------------------------------

  /**
   * Streams an upload to blob storage while hashing it, checks the declared
   * sha1, and records it in one transaction. On any failure no trace is left
   * but an unreferenced blob at worst (removed by GC). `conaninfo.txt` and
   * `conanmanifest.txt`, which the server reads, are bounded by
   * `maxTextFileBytes` and their text kept; the same bytes as already
   * recorded are a no-op (the copy just stored is deleted).
   */
  async upload(
    principal: Principal | undefined,
    owner: FileOwner,
    path: string,
    body: AsyncIterable<Uint8Array>,
    info: UploadInfo,
    context?: CallContext,
  ): Promise<void> {
    await this.require(principal, 'write', owner.ref);
    const text = keepsText(path);
    const limit = text ? Math.min(this.maxTextFileBytes, this.maxUploadBytes) : this.maxUploadBytes;
    if (info.contentLength !== undefined && info.contentLength > limit) {
      throw new ConanError(
        'PAYLOAD_TOO_LARGE',
        text
          ? `'${path}' of ${info.contentLength} bytes exceeds the maximum of ${limit} bytes for files the server reads`
          : `Upload of ${info.contentLength} bytes exceeds the maximum of ${limit} bytes`,
      );
    }
    const key = newBlobKey();
    const hashing = hashingStream(body, limit, { md5: keepsMd5(path), text });
    let outcome: RecordOutcome;
    try {
      await this.blobs.put(key, hashing.stream);
      const digest = hashing.digest();
      if (info.sha1 !== undefined && info.sha1.toLowerCase() !== digest.sha1) {
        throw new ConanError(
          'CHECKSUM_MISMATCH',
          `Checksum mismatch for '${path}': X-Checksum-Sha1 says ${info.sha1}, received bytes have ${digest.sha1}`,
        );
      }
      const record = (extra: RecordFileOptions) =>
        this.recordContent(principal, owner, path, (options) =>
          this.metadata.recordFile(owner, path, { key, ...digest }, { ...options, ...extra, actor: actorOf(principal, context) }),
        );
      outcome = await record({});
      // The same bytes again: a no-op, unless the recorded copy has gone
      // missing from the blob store, when this upload brings them back.
      if (outcome.status === 'unchanged' && (await this.blobs.stat(outcome.blobKey)) === undefined) {
        outcome = await record({ replaceSameBytes: true });
      }
    } catch (error) {
      await this.blobs.delete(key).catch(() => undefined);
      throw error;
    }
    if (outcome.status === 'unchanged') await this.blobs.delete(key).catch(() => undefined);
  }

  /**
   * Records a file under the rules that make a revision id mean one content
   * (rule 6 of DESIGN.md). Replacing a file of a published revision with
   * other bytes is an overwrite: when the store refuses one, the caller's
   * delete permission decides whether to record it anyway (asked only then,
   * so ordinary uploads cost no extra authorization).
   */
  private async recordContent<T>(
    principal: Principal | undefined,
    owner: FileOwner,
    path: string,
    record: (options: LinkFileOptions) => Promise<T>,
  ): Promise<T> {
    const options: LinkFileOptions = { reuploadMakesLatest: this.reuploadMakesLatest };
    try {
      try {
        return await record(options);
      } catch (error) {
        if (!(error instanceof RevisionOverwriteError)) throw error;
        if (!(await this.allowed(principal, 'delete', owner.ref))) {
          const overwrite = `overwrite '${path}' of the published '${describeOwner(owner)}' with other bytes`;
          throw principal
            ? new ConanError('FORBIDDEN', `Permission denied: '${principal.name}' may not ${overwrite} (that needs the delete permission)`)
            : new ConanError('UNAUTHORIZED', `Login required to overwrite '${path}'`);
        }
        return await record({ ...options, allowOverwrite: true });
      }
    } catch (error) {
      if (error instanceof ManifestMismatchError) {
        // The md5s describe stored files: only for a caller who may read them.
        const detail = (await this.allowed(principal, 'read', owner.ref))
          ? `${MANIFEST_FILE} lists md5 ${error.listedMd5} for ${error.path}, but ${error.path} has md5 ${error.actualMd5}`
          : `${MANIFEST_FILE} and ${error.path} do not match`;
        throw new ConanError('BAD_REQUEST', `Content mismatch in '${describeOwner(owner)}': ${detail}`);
      }
      throw error;
    }
  }

  /**
   * Checksum deploy: records `path` with the bytes of an already stored blob
   * whose sha1 is `sha1`, without receiving them. Only blobs used by a
   * recipe the caller may read qualify, so knowing a checksum never yields
   * bytes one could not download. Only blobs the blob store really holds
   * qualify: the database may outlive the bytes (a blob store swapped or
   * restored under it), and linking bytes that are gone would publish a
   * file nobody can download. Throws NOT_FOUND (the client then uploads the
   * bytes) when no such blob exists.
   */
  async deployByChecksum(
    principal: Principal | undefined,
    owner: FileOwner,
    path: string,
    sha1: string,
    context?: CallContext,
  ): Promise<void> {
    await this.require(principal, 'write', owner.ref);
    if (!this.capabilities.includes('checksum_deploy')) {
      throw new ConanError('NOT_FOUND', 'Checksum deploy is disabled on this server: upload the file');
    }
    for (const candidate of await this.metadata.findBlobsBySha1(sha1.toLowerCase())) {
      if (!(await someAsync(candidate.recipes, (ref) => this.allowed(principal, 'read', ref)))) continue;
      // The record may outlive its bytes (a blob store swapped or restored): only link what is there.
      const stored = await this.blobs.stat(candidate.key);
      if (stored === undefined || stored.size !== candidate.size) continue;
      // linkFile is false when garbage collection released the blob meanwhile,
      // or when its md5/text, which this path needs, were not kept.
      const link = (options: LinkFileOptions) =>
        this.metadata.linkFile(owner, path, candidate.key, { ...options, actor: actorOf(principal, context) });
      if (await this.recordContent(principal, owner, path, link)) return;
    }
    throw new ConanError('NOT_FOUND', `No stored file with sha1 ${sha1} to deploy '${path}' from: upload it`);
  }

  // --- deletes -----------------------------------------------------------

  async deleteRecipe(principal: Principal | undefined, ref: RecipeRef, context?: CallContext): Promise<void> {
    await this.require(principal, 'delete', ref);
    if (!(await this.metadata.deleteRecipe(ref, actorOf(principal, context)))) throw recipeNotFound(ref);
  }

  async deleteRecipeRevision(principal: Principal | undefined, ref: RecipeRevisionRef, context?: CallContext): Promise<void> {
    await this.require(principal, 'delete', ref);
    if (!(await this.metadata.deleteRecipeRevision(ref, actorOf(principal, context)))) throw recipeNotFound(ref);
  }

  async deletePackages(principal: Principal | undefined, ref: RecipeRevisionRef, context?: CallContext): Promise<void> {
    await this.require(principal, 'delete', ref);
    if (!(await this.metadata.deletePackages(ref, actorOf(principal, context)))) throw recipeNotFound(ref);
  }

  async deletePackage(principal: Principal | undefined, ref: PackageRef, context?: CallContext): Promise<void> {
    await this.require(principal, 'delete', ref);
    if (!(await this.metadata.deletePackage(ref, actorOf(principal, context)))) throw await this.packageDeleteNotFound(ref);
  }

  async deletePackageRevision(principal: Principal | undefined, ref: PackageRevisionRef, context?: CallContext): Promise<void> {
    await this.require(principal, 'delete', ref);
    if (!(await this.metadata.deletePackageRevision(ref, actorOf(principal, context)))) throw await this.packageDeleteNotFound(ref);
  }

  private async packageDeleteNotFound(ref: PackageRef | PackageRevisionRef): Promise<ConanError> {
    const recipeExists = (await this.metadata.recipeRevision(ref)) !== undefined;
    return recipeExists ? packageNotFound(ref) : recipeNotFound(ref);
  }
}

async function someAsync<T>(items: T[], predicate: (item: T) => Promise<boolean>): Promise<boolean> {
  for (const item of items) if (await predicate(item)) return true;
  return false;
}

export { MANIFEST_FILE };
