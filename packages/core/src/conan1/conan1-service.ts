import type { Principal } from '../auth/principal.js';
import {
  MANIFEST_FILE,
  ManifestMismatchError,
  type FileOwner,
  type NewBlob,
} from '../metadata/metadata-store.js';
import { keepsMd5, keepsText } from '../metadata/revision-content.js';
import { checkFilePath } from '../reference/file-path.js';
import {
  formatRecipe,
  type RecipeRef,
  type RecipeRevisionRef,
} from '../reference/references.js';
import type { CallContext, ConanService, FileDownload } from '../service/conan-service.js';
import { ConanError } from '../service/errors.js';
import { newBlobKey } from '../storage/blob-keys.js';
import { BlobNotFoundError, type BlobStore } from '../storage/blob-store.js';
import { hashingStream, type StreamDigest } from '../storage/hashing.js';
import { FileUrlSigner, type BatchFile, type FileGrant } from './file-url-signer.js';
import { parseResourcePath, resourcePath } from './resource-path.js';

/** The one revision Conan 1 clients in v1 mode know, for recipes and packages alike (as conan_server keeps it). */
export const V1_REVISION = '0';

/** Files one `upload_urls` may announce: a recipe or package has a handful. */
const MAX_BATCH_FILES = 64;

/** Where upload digests wait for their batch's manifest: next to the bytes, removed with them by GC if never used. */
const digestKey = (blobKey: string) => `${blobKey}-digest`;

/** Options of {@link Conan1Service}. */
export interface Conan1ServiceOptions {
  /** Serve the v1 protocol (Conan 1's default mode); off: ping advertises `only_v2`. */
  v1Mode: boolean;
  /** Key signing the file URLs. */
  urlKey: Uint8Array;
  /** Lifetime of a file URL (conan_server: 30 minutes). */
  urlExpiresInSeconds: number;
  maxUploadBytes: number;
  maxTextFileBytes: number;
}

/** `upload_urls` answer and what it decided. */
export type FileUrls = Record<string, string>;

/** A presigned PUT, when the blob store lets clients upload to it directly. */
type PresignPut = NonNullable<BlobStore['presignPut']>;

/**
 * Conan 1's v1 protocol over the same service and stores as Conan 2:
 * recipe and package revision `0`, file URLs the server signs, and uploads
 * that become visible only when their batch is whole (see DESIGN.md,
 * "Conan 1 clients").
 */
export class Conan1Service {
  private readonly signer: FileUrlSigner;

  constructor(
    private readonly service: ConanService,
    private readonly options: Conan1ServiceOptions,
  ) {
    this.signer = new FileUrlSigner(options.urlKey, options.urlExpiresInSeconds);
  }

  private get blobs(): BlobStore {
    return this.service.blobs;
  }

  private requireV1(): void {
    if (!this.options.v1Mode) {
      throw new ConanError('NOT_FOUND', 'This server only serves Conan 1 clients with revisions: set CONAN_REVISIONS_ENABLED=1');
    }
  }

  // --- reads: the latest revision, as conan_server serves v1 reads --------

  private async latestRecipe(principal: Principal | undefined, ref: RecipeRef): Promise<RecipeRevisionRef> {
    this.requireV1();
    return { ...ref, revision: (await this.service.latestRecipeRevision(principal, ref)).revision };
  }

  private async owner(principal: Principal | undefined, ref: RecipeRef, packageId?: string): Promise<FileOwner> {
    const recipe = await this.latestRecipe(principal, ref);
    if (packageId === undefined) return { kind: 'recipe', ref: recipe };
    const pkg = { ...recipe, packageId };
    return { kind: 'package', ref: { ...pkg, packageRevision: (await this.service.latestPackageRevision(principal, pkg)).revision } };
  }

  /** `{file: md5}` of the latest revision (recipe, or binary when `packageId`). */
  async snapshot(principal: Principal | undefined, ref: RecipeRef, packageId?: string): Promise<Record<string, string>> {
    const owner = await this.owner(principal, ref, packageId);
    const files = (await this.service.metadata.fileDigests(owner)) ?? [];
    return Object.fromEntries(files.map((f) => [f.path, f.md5 ?? '']));
  }

  /** Signed download URLs of the latest revision's files (only the manifest for `digest`). */
  async downloadUrls(
    principal: Principal | undefined,
    ref: RecipeRef,
    packageId: string | undefined,
    base: string,
    only?: string,
  ): Promise<FileUrls> {
    const owner = await this.owner(principal, ref, packageId);
    const files = (await this.service.metadata.files(owner)) ?? [];
    const urls: FileUrls = {};
    for (const file of files) {
      if (only !== undefined && file.path !== only) continue;
      const path = resourcePath(owner, file.path);
      const token = await this.signer.sign({ op: 'get', resourcePath: path, ...(principal ? { user: principal.name } : {}) });
      urls[file.path] = fileUrl(base, path, token);
    }
    if (only !== undefined && !(only in urls)) throw new ConanError('FILE_NOT_FOUND', `No ${only}`);
    return urls;
  }

  /** Package search over every recipe revision (conan_server's), the latest revision's binaries first. */
  async binaries(principal: Principal | undefined, ref: RecipeRef): Promise<Record<string, { content: string }>> {
    this.requireV1();
    const revisions = await this.service.recipeRevisions(principal, ref);
    const all: Record<string, { content: string }> = {};
    for (const revision of revisions) {
      for (const [id, info] of Object.entries(await this.service.binaries(principal, { ...ref, revision: revision.revision }))) {
        all[id] ??= info;
      }
    }
    return all;
  }

  /** The file a signed download URL names, without another permission check: the URL is the permission. */
  async signedDownload(token: string, segments: readonly string[], countDownload: boolean): Promise<FileDownload> {
    const path = segments.join('/');
    const grant = await this.signer.verify(token, path);
    if (grant.op !== 'get') throw new ConanError('FILE_NOT_FOUND', 'File not found');
    const { owner, file } = parseResourcePath(segments);
    return this.service.openFile(owner, file, { countDownload });
  }

  // --- writes -------------------------------------------------------------

  /**
   * URLs to PUT each announced file to, in revision `0`. Each file gets a
   * fresh blob key; the manifest's URL names the whole batch, so its upload
   * (the client sends it last) publishes the batch. Files the server need
   * not read go straight to the blob store when it can presign uploads.
   */
  async uploadUrls(
    principal: Principal | undefined,
    ref: RecipeRef,
    packageId: string | undefined,
    sizes: Record<string, number>,
    base: string,
  ): Promise<FileUrls> {
    this.requireV1();
    const recipe: RecipeRevisionRef = { ...ref, revision: V1_REVISION };
    await this.service.authorize(principal, 'write', ref);
    if (!principal) throw new ConanError('UNAUTHORIZED', `Login required to write '${formatRecipe(ref)}'`);
    const entries = Object.entries(sizes);
    if (entries.length === 0 || entries.length > MAX_BATCH_FILES) {
      throw new ConanError('BAD_REQUEST', `upload_urls takes 1 to ${MAX_BATCH_FILES} files`);
    }
    if (!(MANIFEST_FILE in sizes)) throw new ConanError('BAD_REQUEST', `upload_urls must include ${MANIFEST_FILE}`);
    if (packageId !== undefined && !(await this.service.metadata.recipeRevision(recipe))) {
      throw new ConanError('RECIPE_NOT_FOUND', `Recipe not found: '${formatRecipe(ref)}'`);
    }
    const owner: FileOwner =
      packageId === undefined
        ? { kind: 'recipe', ref: recipe }
        : { kind: 'package', ref: { ...recipe, packageId, packageRevision: V1_REVISION } };
    const batch: (BatchFile & { direct: boolean })[] = entries.map(([path, size]) => {
      checkFilePath(path);
      const limit = keepsText(path) ? Math.min(this.options.maxTextFileBytes, this.options.maxUploadBytes) : this.options.maxUploadBytes;
      if (size > limit) throw new ConanError('PAYLOAD_TOO_LARGE', `'${path}' of ${size} bytes exceeds the maximum of ${limit} bytes`);
      return { path, key: newBlobKey(), size, direct: !keepsMd5(path) && this.blobs.presignPut !== undefined };
    });
    const urls: FileUrls = {};
    for (const file of batch) {
      const path = resourcePath(owner, file.path);
      if (file.direct) {
        urls[file.path] = await (this.blobs.presignPut as PresignPut)(file.key, {
          expiresInSeconds: this.options.urlExpiresInSeconds,
          contentLength: file.size,
        });
        continue;
      }
      const grant: FileGrant = {
        op: 'put',
        resourcePath: path,
        user: principal.name,
        size: file.size,
        key: file.key,
        ...(file.path === MANIFEST_FILE
          ? { batch: batch.filter((f) => f.path !== MANIFEST_FILE).map(({ path: p, key, size }) => ({ path: p, key, size })) }
          : {}),
      };
      urls[file.path] = fileUrl(base, path, await this.signer.sign(grant));
    }
    return urls;
  }

  /**
   * Receives a file PUT to a signed URL: exactly the announced size, the
   * `X-Checksum-Sha1` if sent. Bytes go to the key chosen at `upload_urls`,
   * nothing is visible yet; the manifest's upload publishes the batch.
   */
  async receive(
    token: string,
    segments: readonly string[],
    body: AsyncIterable<Uint8Array>,
    info: { contentLength?: number; sha1?: string },
    context: CallContext = {},
  ): Promise<void> {
    const grant = await this.signer.verify(token, segments.join('/'));
    if (grant.op !== 'put') throw new ConanError('FILE_NOT_FOUND', 'File not found');
    const { owner, file } = parseResourcePath(segments);
    // conan_server's check; a body without Content-Length is measured instead.
    if (info.contentLength !== undefined && info.contentLength !== grant.size) throw new ConanError('BAD_REQUEST', 'Bad file size');
    // A URL stays valid for its lifetime: once its batch is published (the
    // key holds bytes and no pending digest), it must not change them.
    if (file !== MANIFEST_FILE && (await this.blobs.stat(grant.key)) && !(await this.blobs.stat(digestKey(grant.key)))) {
      throw new ConanError('CONFLICT', `'${file}' of this upload is published already: ask for new upload URLs`);
    }
    const hashing = hashingStream(body, grant.size, { md5: true, text: keepsText(file) });
    let digest: StreamDigest;
    try {
      await this.blobs.put(grant.key, hashing.stream);
      digest = hashing.digest();
      if (digest.size !== grant.size) throw new ConanError('BAD_REQUEST', 'Bad file size');
      if (info.sha1 !== undefined && info.sha1.toLowerCase() !== digest.sha1) {
        throw new ConanError('CHECKSUM_MISMATCH', `Checksum mismatch for '${file}': X-Checksum-Sha1 says ${info.sha1}, received bytes have ${digest.sha1}`);
      }
      if (file !== MANIFEST_FILE) {
        await this.blobs.put(digestKey(grant.key), oneChunk(new TextEncoder().encode(JSON.stringify(digest))));
        return;
      }
    } catch (error) {
      await this.blobs.delete(grant.key).catch(() => undefined);
      throw error;
    }
    await this.publish(owner, grant, digest, { user: grant.user, ...context });
  }

  /**
   * The manifest arrived: every other file of its batch must be stored
   * whole (the announced size); then the batch replaces those files of
   * revision `0` in one transaction, checked against the manifest.
   */
  private async publish(
    owner: FileOwner,
    grant: Extract<FileGrant, { op: 'put' }>,
    manifest: StreamDigest,
    actor: { user: string; clientAddress?: string },
  ): Promise<void> {
    const write: { path: string; blob: NewBlob }[] = [];
    for (const file of grant.batch ?? []) write.push({ path: file.path, blob: await this.received(file) });
    write.push({ path: MANIFEST_FILE, blob: { key: grant.key, ...manifest } });
    try {
      await this.service.metadata.replaceFiles(
        owner,
        { write },
        { reuploadMakesLatest: true, actor: { user: actor.user, ...(actor.clientAddress ? { address: actor.clientAddress } : {}) } },
      );
    } catch (error) {
      if (error instanceof ManifestMismatchError) {
        throw new ConanError('BAD_REQUEST', `Content mismatch: ${MANIFEST_FILE} lists md5 ${error.listedMd5} for ${error.path}, which has md5 ${error.actualMd5}`);
      }
      throw error;
    }
    for (const file of grant.batch ?? []) await this.blobs.delete(digestKey(file.key)).catch(() => undefined);
  }

  /** What is known of a file of the batch, which must be stored whole. */
  private async received(file: BatchFile): Promise<NewBlob> {
    const incomplete = () =>
      new ConanError('BAD_REQUEST', `Upload incomplete: '${file.path}' was not received whole before ${MANIFEST_FILE}; upload again`);
    const digest = await this.readDigest(file.key);
    if (digest) {
      if (digest.size !== file.size) throw incomplete();
      return { key: file.key, ...digest };
    }
    // Sent straight to the object store: the node never saw the bytes, so
    // only their size (which the presigned URL also fixed) is checked.
    const stat = await this.blobs.stat(file.key);
    if (!stat || stat.size !== file.size) throw incomplete();
    return { key: file.key, size: stat.size, sha1: '', sha256: '', ...(stat.md5 ? { md5: stat.md5 } : {}) };
  }

  private async readDigest(key: string): Promise<StreamDigest | undefined> {
    let body: ReadableStream<Uint8Array>;
    try {
      ({ body } = await this.blobs.get(digestKey(key)));
    } catch (error) {
      // No digest: the bytes went straight to the object store (or never arrived).
      if (error instanceof BlobNotFoundError) return undefined;
      throw error;
    }
    const reading = hashingStream(body as unknown as AsyncIterable<Uint8Array>, this.options.maxTextFileBytes * 4 + 4096, { text: true });
    for await (const _ of reading.stream) {
      // Only the text is wanted.
    }
    return JSON.parse(reading.digest().text ?? '{}') as StreamDigest;
  }

  /** `remove_files`: drops files (not the manifest or what it is checked against) from revision `0`. */
  async removeFiles(principal: Principal | undefined, ref: RecipeRef, files: string[], context: CallContext = {}): Promise<void> {
    this.requireV1();
    await this.service.authorize(principal, 'write', ref);
    for (const file of files) {
      checkFilePath(file);
      if (keepsMd5(file)) throw new ConanError('BAD_REQUEST', `'${file}' cannot be removed on its own`);
    }
    const owner: FileOwner = { kind: 'recipe', ref: { ...ref, revision: V1_REVISION } };
    const actor = { ...(principal ? { user: principal.name } : {}), ...(context.clientAddress ? { address: context.clientAddress } : {}) };
    if (!(await this.service.metadata.replaceFiles(owner, { write: [], remove: files }, { actor }))) {
      throw new ConanError('RECIPE_NOT_FOUND', `Recipe not found: '${formatRecipe(ref)}'`);
    }
  }

  /** `packages/delete`: the given binaries of the latest recipe revision (all when empty); 404 before deleting any if one is missing. */
  async deletePackages(principal: Principal | undefined, ref: RecipeRef, packageIds: string[], context: CallContext = {}): Promise<void> {
    const recipe = await this.latestRecipe(principal, ref);
    if (packageIds.length === 0) {
      await this.service.deletePackages(principal, recipe, context);
      return;
    }
    await this.service.authorize(principal, 'delete', ref);
    const present = await this.service.binaries(principal, recipe);
    const missing = packageIds.find((id) => !(id in present));
    if (missing !== undefined) throw new ConanError('PACKAGE_NOT_FOUND', `Binary package not found: '${formatRecipe(ref)}:${missing}'`);
    for (const packageId of packageIds) await this.service.deletePackage(principal, { ...recipe, packageId }, context);
  }

  /** `DELETE /v1/conans/{ref}`: the recipe, every revision and binary. */
  async deleteRecipe(principal: Principal | undefined, ref: RecipeRef, context: CallContext = {}): Promise<void> {
    this.requireV1();
    await this.service.deleteRecipe(principal, ref, context);
  }
}

/** A file URL of this server: `{base}/v1/files/{resource path}?signature={token}`. */
function fileUrl(base: string, path: string, token: string): string {
  return `${base}/v1/files/${path.split('/').map(encodeURIComponent).join('/')}?signature=${token}`;
}

async function* oneChunk(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
