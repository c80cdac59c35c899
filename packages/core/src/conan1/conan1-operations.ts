import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import { readJson } from '../http/json-body.js';
import { requestBody } from '../http/request-body.js';
import { uploadHeaders } from '../http/request-parsing.js';
import { empty, json } from '../http/responses.js';
import { checkPackageId, recipeRefFromSegments, type RecipeRef } from '../reference/references.js';
import type { Operation } from '../routes/conan-routes.js';
import type { ConanService, FileDownload } from '../service/conan-service.js';
import { ConanError } from '../service/errors.js';

/** What a v1 operation gets from the handler. */
export interface V1Context {
  request: Request;
  url: URL;
  params: Record<string, string>;
  principal: Principal | undefined;
  clientAddress: string | undefined;
  /** Absolute URL of the API root as the client reaches it, for the file URLs handed out. */
  publicBase: () => string;
  /** Answers with a file (or a redirect to it), as the v2 file routes do. */
  sendFile: (download: FileDownload) => Promise<Response>;
}

export type V1Operation = Extract<Operation, `v1${string}`>;

/** Operations that need no caller: the signed URL is the permission. */
export const SIGNED_URL_OPERATIONS: ReadonlySet<Operation> = new Set<Operation>(['v1DownloadFile', 'v1UploadFile']);

/** Largest JSON body of `upload_urls`, `remove_files` and `packages/delete`. */
const MAX_V1_BODY_BYTES = 64 * 1024;

const uploadUrlsBody = z.record(z.string().min(1).max(255), z.number().int().nonnegative());
const removeFilesBody = z.object({ files: z.array(z.string().min(1).max(255)).max(1000) });
const deletePackagesBody = z.object({ package_ids: z.array(z.string().max(64)).max(10_000) });

const body = <T>(request: Request, schema: z.ZodType<T>): Promise<T> => readJson(request, schema, MAX_V1_BODY_BYTES);

/** The URL's `signature` parameter, without which a file route names nothing. */
function signature(url: URL): string {
  const token = url.searchParams.get('signature');
  if (!token) throw new ConanError('FILE_NOT_FOUND', 'File not found');
  return token;
}

const recipe = (p: Record<string, string>): RecipeRef => recipeRefFromSegments(p.name!, p.version!, p.user!, p.channel!);
const packageId = (p: Record<string, string>) => checkPackageId(p.packageId!);

/** The v1 routes of Conan 1 clients (PROTOCOL.md of the Conan 1 recordings), over {@link ConanService.conan1}. */
export function conan1Operations(service: ConanService): Record<V1Operation, (ctx: V1Context) => Promise<Response>> {
  const v1 = service.conan1;
  return {
    v1RecipeSnapshot: async ({ params, principal }) => json(await v1.snapshot(principal, recipe(params))),
    v1PackageSnapshot: async ({ params, principal }) => json(await v1.snapshot(principal, recipe(params), packageId(params))),
    v1RecipeBinaries: async ({ params, principal }) => json(await v1.binaries(principal, recipe(params))),
    v1RecipeDigest: async ({ params, principal, publicBase }) =>
      json(await v1.downloadUrls(principal, recipe(params), undefined, publicBase(), 'conanmanifest.txt')),
    v1PackageDigest: async ({ params, principal, publicBase }) =>
      json(await v1.downloadUrls(principal, recipe(params), packageId(params), publicBase(), 'conanmanifest.txt')),
    v1RecipeDownloadUrls: async ({ params, principal, publicBase }) =>
      json(await v1.downloadUrls(principal, recipe(params), undefined, publicBase())),
    v1PackageDownloadUrls: async ({ params, principal, publicBase }) =>
      json(await v1.downloadUrls(principal, recipe(params), packageId(params), publicBase())),
    v1RecipeUploadUrls: async ({ request, params, principal, publicBase }) => {
      const ref = recipe(params);
      return json(await v1.uploadUrls(principal, ref, undefined, await body(request, uploadUrlsBody), publicBase()));
    },
    v1PackageUploadUrls: async ({ request, params, principal, publicBase }) => {
      const ref = recipe(params);
      const id = packageId(params);
      return json(await v1.uploadUrls(principal, ref, id, await body(request, uploadUrlsBody), publicBase()));
    },
    v1RemoveFiles: async ({ request, params, principal, clientAddress }) => {
      const ref = recipe(params);
      await v1.removeFiles(principal, ref, (await body(request, removeFilesBody)).files, { clientAddress });
      return empty(200);
    },
    v1DeletePackages: async ({ request, params, principal, clientAddress }) => {
      const ref = recipe(params);
      const ids = (await body(request, deletePackagesBody)).package_ids.map(checkPackageId);
      await v1.deletePackages(principal, ref, ids, { clientAddress });
      return empty(200);
    },
    v1DeleteRecipe: async ({ params, principal, clientAddress }) => {
      await v1.deleteRecipe(principal, recipe(params), { clientAddress });
      return empty(200);
    },
    v1DownloadFile: async ({ request, url, params, sendFile }) => {
      const download = await v1.signedDownload(signature(url), params.path!.split('/'), request.method !== 'HEAD');
      return sendFile(download);
    },
    v1UploadFile: async ({ request, url, params, clientAddress }) => {
      const token = signature(url);
      const info = uploadHeaders(request.headers);
      await v1.receive(token, params.path!.split('/'), requestBody(request.body), info, { clientAddress });
      return empty(200);
    },
  };
}
