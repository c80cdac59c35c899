import type { Principal } from '../auth/principal.js';
import type { FileOwner } from '../metadata/metadata-store.js';
import { checkFilePath } from '../reference/file-path.js';
import {
  checkPackageId,
  checkRevision,
  recipeRefFromSegments,
  type PackageRef,
  type PackageRevisionRef,
  type RecipeRef,
  type RecipeRevisionRef,
} from '../reference/references.js';
import { allowedMethods, matchRoute, operationFor } from '../routes/match-route.js';
import type { Operation } from '../routes/conan-routes.js';
import { SIGNED_URL_OPERATIONS, conan1Operations, type V1Context } from '../conan1/conan1-operations.js';
import type { ConanService, FileDownload } from '../service/conan-service.js';
import { ConanError } from '../service/errors.js';
import { countingStream } from '../metrics/counting-stream.js';
import type { RegistryMetrics } from '../metrics/registry-metrics.js';
import { forwardedClientAddress, type ClientAddressResolver, type FetchHandlerContext } from './client-address.js';
import { errorResponse } from './error-status.js';
import { handleUi, isUiPath, type WebUi } from './web-ui.js';
import { createHealthHandler, type HealthOptions, type ReadinessCheckError } from './health.js';
import { NODE_REQUEST_BODY, withDirectBody } from './node-fast-path.js';
import { parseRange } from './range.js';
import { requestBody } from './request-body.js';
import { apiSegments, credentials, searchParams, uploadHeaders } from './request-parsing.js';
import { empty, json, revisionJson, text, withoutBody } from './responses.js';
import { handleWebApi, isWebApiPath } from '../web-api/router.js';

/** Operation label of requests no route matches. */
const UNKNOWN_OPERATION = 'unknown';
const MANIFEST = 'conanmanifest.txt';

/**
 * A WHATWG fetch handler: the shape every host (node:http, Express, Fastify,
 * Bun, Deno...) can call. `context.clientAddress` is the connection's peer
 * (filled by the Node bridge; pass it from other hosts, e.g. Bun's
 * `server.requestIP(request)`), used to throttle failed logins per client.
 */
export type FetchHandler = (request: Request, context?: FetchHandlerContext) => Promise<Response>;

/** Options of {@link createConanHandler}. */
export interface ConanHandlerOptions {
  /**
   * Path prefix the API is mounted under (e.g. `/conan`). When omitted, the
   * API starts at the first `/v1/` or `/v2/` segment of the path.
   */
  basePath?: string;
  /**
   * Called with unexpected errors (those answered with 500), backend
   * outages (503) and failed readiness checks ({@link ReadinessCheckError},
   * whose details the probe's answer leaves out).
   */
  onError?: (error: unknown, request: Request) => void;
  /**
   * Also answer liveness and readiness probes (`/healthz`, `/readyz` under
   * `basePath` by default; see {@link HealthOptions}). Off by default, so a
   * host app keeps its own.
   */
  health?: boolean | HealthOptions;
  /**
   * Number of reverse proxies in front of this handler that append the
   * address they saw to `X-Forwarded-For` (e.g. `1` behind one nginx with
   * `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`). The
   * client address used to throttle failed logins is then read that many
   * hops back. Default 0: the connection's peer. Behind a proxy without it,
   * every client shares the proxy's address and its failed-login limit.
   * Set it only when clients cannot reach the node except through those
   * proxies: a client connecting directly could write any address there.
   */
  trustProxy?: number;
  /**
   * Finds the client address yourself (it wins over `trustProxy`), e.g.
   * `(request) => request.headers.get('cf-connecting-ip') ?? undefined`.
   * Only read headers your own proxy sets: clients can send any header.
   */
  clientAddress?: ClientAddressResolver;
  /**
   * Where to report requests and transfers. Default: the registry's
   * (`createRegistry({ metrics })`), else nothing is measured.
   */
  metrics?: RegistryMetrics;
  /**
   * Serves a web UI under `{basePath}/ui/` (and redirects `{basePath}/ui`
   * there): pass `createWebUi()` from `@cimmeria/web`. Off by default.
   * Needs `basePath` when the host does not strip its mount path.
   */
  ui?: WebUi;
}

/** Anything that carries a service: a registry, or the service itself. */
export interface HasService {
  readonly service: ConanService;
  readonly metrics?: RegistryMetrics;
}

/** What an operation gets: what a Conan 1 operation gets, and the raw body for the v2 uploads. */
interface Context extends V1Context {
  /** The raw request body the Node bridge handed over, read instead of `request.body`. */
  rawBody: AsyncIterable<Uint8Array> | undefined;
}

/** A byte stream that calls `open` only when first read (a zero high-water mark: nothing is pulled ahead). */
function lazyStream(open: () => Promise<ReadableStream<Uint8Array>>): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        reader ??= (await open()).getReader();
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => reader?.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

/**
 * Creates the Conan 2 HTTP API as a fetch handler:
 * `(request: Request) => Promise<Response>`.
 */
export function createConanHandler(registry: HasService, options: ConanHandlerOptions = {}): FetchHandler {
  const service = registry.service;
  const health = options.health
    ? createHealthHandler(service, options.health === true ? {} : options.health, options.onError)
    : undefined;
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  const resolveClientAddress = options.clientAddress ?? forwardedClientAddress(options.trustProxy ?? 0);
  const metrics = options.metrics ?? registry.metrics;

  async function principalOf(request: Request, clientAddress: string | undefined): Promise<Principal | undefined> {
    const creds = credentials(request.headers);
    if (creds.kind === 'bearer') return service.verifyToken(creds.token, { clientAddress });
    // Throttled and bounded like logins: Basic on any route costs a password check.
    if (creds.kind === 'basic') return service.authenticatePassword(creds.user, creds.password, { clientAddress });
    return undefined;
  }

  const recipe = (p: Record<string, string>): RecipeRef =>
    recipeRefFromSegments(p.name!, p.version!, p.user!, p.channel!);
  const recipeRevision = (p: Record<string, string>): RecipeRevisionRef => ({
    ...recipe(p),
    revision: checkRevision(p.revision!),
  });
  const pkg = (p: Record<string, string>): PackageRef => ({
    ...recipeRevision(p),
    packageId: checkPackageId(p.packageId!),
  });
  const packageRevision = (p: Record<string, string>): PackageRevisionRef => ({
    ...pkg(p),
    packageRevision: checkRevision(p.packageRevision!),
  });

  async function serveFile(ctx: Context, owner: FileOwner): Promise<Response> {
    const path = checkFilePath(ctx.params.path!);
    return sendFile(ctx, await service.download(ctx.principal, owner, path, { countDownload: ctx.request.method !== 'HEAD' }));
  }

  async function sendFile(ctx: { request: Request }, download: FileDownload): Promise<Response> {
    const { file } = download;
    if (download.redirectUrl) {
      metrics?.downloadRedirected();
      return empty(302, { location: download.redirectUrl, 'cache-control': 'no-store' });
    }
    const etag = `"${file.sha1}"`;
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      etag,
      'x-checksum-sha1': file.sha1,
    };
    if (ctx.request.headers.get('if-none-match') === etag) return empty(304, headers);
    const range = parseRange(ctx.request.headers.get('range'), file.size);
    const length = range ? range.end - range.start + 1 : file.size;
    headers['content-length'] = String(length);
    if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${file.size}`;
    const status = range ? 206 : 200;
    if (ctx.request.method === 'HEAD') return new Response(null, { status, headers });
    const local = length > 0 && download.localFile ? await download.localFile() : undefined;
    // A local file's web body opens it only when first read: the Node bridge writes the file
    // itself and never reads that body. Other stores open now, so a missing blob is still a 404.
    const source = local ? lazyStream(async () => (await download.open(range)).body) : (await download.open(range)).body;
    const body = metrics ? countingStream(source, metrics.downloadedBytes, metrics.downloadStarted()) : source;
    const response = new Response(body, { status, headers });
    if (!local) return response;
    return withDirectBody(response, {
      kind: 'file',
      path: local.path,
      start: range?.start ?? 0,
      end: range?.end ?? file.size - 1,
      ...(metrics ? { onBytes: metrics.downloadedBytes } : {}),
    });
  }

  async function receiveFile(ctx: Context, owner: FileOwner): Promise<Response> {
    const path = checkFilePath(ctx.params.path!);
    const info = uploadHeaders(ctx.request.headers);
    const raw = ctx.rawBody;
    if (info.checksumDeploy) {
      // The client sends no body here: it asks whether it may skip sending one.
      // (A raw body the bridge handed over is drained by the bridge.)
      if (!raw) void ctx.request.body?.cancel();
      if (info.sha1 === undefined) throw new ConanError('BAD_REQUEST', 'X-Checksum-Deploy needs X-Checksum-Sha1');
      await service.deployByChecksum(ctx.principal, owner, path, info.sha1, { clientAddress: ctx.clientAddress });
      if (path === MANIFEST) metrics?.published(owner.kind);
      return empty(201);
    }
    const body = (onBytes?: (bytes: number) => void) =>
      requestBody(raw ?? ctx.request.body, { declaredLength: info.contentLength, ...(onBytes ? { onBytes } : {}) });
    if (!metrics) {
      await service.upload(ctx.principal, owner, path, body(), info, { clientAddress: ctx.clientAddress });
      return empty(200);
    }
    const finished = metrics.uploadStarted();
    try {
      await service.upload(ctx.principal, owner, path, body(metrics.uploadedBytes), info, { clientAddress: ctx.clientAddress });
    } finally {
      finished();
    }
    // Recording the manifest is what makes a revision visible (DESIGN.md).
    if (path === MANIFEST) metrics.published(owner.kind);
    return empty(200);
  }

  const operations: Record<Operation, (ctx: Context) => Promise<Response>> = {
    ping: async () => empty(200, { 'x-conan-server-capabilities': service.capabilities.join(',') }),
    authenticate: async ({ request, clientAddress }) => {
      const creds = credentials(request.headers);
      if (creds.kind !== 'basic') throw new ConanError('UNAUTHORIZED', 'Wrong user or password');
      return text(await service.authenticate(creds.user, creds.password, { clientAddress }));
    },
    checkCredentials: async ({ principal }) => text(service.checkCredentials(principal)),
    search: async ({ url, principal }) => {
      const { q, ignorecase } = searchParams(url);
      return json({ results: await service.search(principal, q, ignorecase) });
    },
    recipeLatest: async ({ params, principal }) =>
      json(revisionJson(await service.latestRecipeRevision(principal, recipe(params)))),
    recipeRevisions: async ({ params, principal }) =>
      json({ revisions: (await service.recipeRevisions(principal, recipe(params))).map(revisionJson) }),
    recipeBinariesLatest: async ({ params, principal }) => json(await service.binaries(principal, recipe(params))),
    recipeBinaries: async ({ params, principal }) => json(await service.binaries(principal, recipeRevision(params))),
    recipeFiles: async ({ params, principal }) => {
      const paths = await service.listFiles(principal, { kind: 'recipe', ref: recipeRevision(params) });
      return json({ files: Object.fromEntries(paths.map((p) => [p, {}])) });
    },
    recipeFile: (ctx) => serveFile(ctx, { kind: 'recipe', ref: recipeRevision(ctx.params) }),
    uploadRecipeFile: (ctx) => receiveFile(ctx, { kind: 'recipe', ref: recipeRevision(ctx.params) }),
    packageLatest: async ({ params, principal }) =>
      json(revisionJson(await service.latestPackageRevision(principal, pkg(params)))),
    packageRevisions: async ({ params, principal }) =>
      json({ revisions: (await service.packageRevisions(principal, pkg(params))).map(revisionJson) }),
    packageFiles: async ({ params, principal }) => {
      const paths = await service.listFiles(principal, { kind: 'package', ref: packageRevision(params) });
      return json({ files: Object.fromEntries(paths.map((p) => [p, {}])) });
    },
    packageFile: (ctx) => serveFile(ctx, { kind: 'package', ref: packageRevision(ctx.params) }),
    uploadPackageFile: (ctx) => receiveFile(ctx, { kind: 'package', ref: packageRevision(ctx.params) }),
    deleteRecipe: async ({ params, principal, clientAddress }) => {
      await service.deleteRecipe(principal, recipe(params), { clientAddress });
      return empty(200);
    },
    deleteRecipeRevision: async ({ params, principal, clientAddress }) => {
      await service.deleteRecipeRevision(principal, recipeRevision(params), { clientAddress });
      return empty(200);
    },
    deletePackages: async ({ params, principal, clientAddress }) => {
      await service.deletePackages(principal, recipeRevision(params), { clientAddress });
      return empty(200);
    },
    deletePackage: async ({ params, principal, clientAddress }) => {
      await service.deletePackage(principal, pkg(params), { clientAddress });
      return empty(200);
    },
    deletePackageRevision: async ({ params, principal, clientAddress }) => {
      await service.deletePackageRevision(principal, packageRevision(params), { clientAddress });
      return empty(200);
    },
    ...conan1Operations(service),
  };

  /**
   * The API root as the client reached it: the configured public URL, else
   * the request's origin and the path before the API (the mount path a
   * host stripped, plus what is left before `/v1/`).
   */
  function publicBase(url: URL, context: FetchHandlerContext): string {
    const configured = service.conan1PublicUrl;
    if (configured) return configured.replace(/\/+$/, '');
    const below = url.pathname.indexOf('/v1/');
    const prefix = below === -1 ? '' : url.pathname.slice(0, below);
    return `${url.origin}${(context.mountPath ?? '').replace(/\/+$/, '')}${prefix}`;
  }

  async function answer(request: Request, context: FetchHandlerContext, route: { operation: string }): Promise<Response> {
    try {
      const url = new URL(request.url);
      if (health && url.pathname.startsWith(basePath)) {
        const probe = await health(request, url.pathname.slice(basePath.length));
        if (probe) {
          route.operation = 'health';
          return request.method === 'HEAD' ? withoutBody(probe) : probe;
        }
      }
      const below = basePath === '' ? url.pathname : url.pathname.startsWith(`${basePath}/`) ? url.pathname.slice(basePath.length) : '';
      if (options.ui && isUiPath(below)) {
        route.operation = 'webUi';
        const response = await handleUi(options.ui, request, url, below);
        return request.method === 'HEAD' && response.body ? withoutBody(response) : response;
      }
      if (isWebApiPath(below)) {
        // One label for the JSON API, whatever its path: label values stay bounded.
        route.operation = 'webApi';
        const clientAddress = resolveClientAddress(request, context);
        return await handleWebApi(
          service,
          {
            request,
            url,
            path: below,
            mountPath: `${(context.mountPath ?? '').replace(/\/+$/, '')}${basePath}`,
            clientAddress,
            trustProxy: options.trustProxy ?? 0,
            principalOf: () => principalOf(request, clientAddress),
          },
          options.onError && ((e) => options.onError!(e, request)),
        );
      }
      const segments = apiSegments(url.pathname, options.basePath);
      const match = segments && matchRoute(segments);
      if (!match) throw new ConanError('NOT_FOUND', `Not found: ${request.method} ${url.pathname}`);
      const operation = operationFor(match, request.method);
      if (!operation) {
        const allow = allowedMethods(match).join(', ');
        throw new ConanError('METHOD_NOT_ALLOWED', `Method ${request.method} not allowed here; use ${allow}`, {
          allow,
        });
      }
      route.operation = operation;
      const clientAddress = resolveClientAddress(request, context);
      // Signed Conan 1 file URLs carry their permission; their clients send no credentials.
      const anonymous = operation === 'authenticate' || operation === 'ping' || SIGNED_URL_OPERATIONS.has(operation);
      const principal = anonymous ? undefined : await principalOf(request, clientAddress);
      const response = await operations[operation]({
        request,
        url,
        params: match.params,
        principal,
        clientAddress,
        publicBase: () => publicBase(url, context),
        sendFile: (download) => sendFile({ request }, download),
        rawBody: context[NODE_REQUEST_BODY],
      });
      return request.method === 'HEAD' && response.body ? withoutBody(response) : response;
    } catch (error) {
      return errorResponse(error, options.onError && ((e) => options.onError!(e, request)));
    }
  }

  if (!metrics) return (request, context = {}) => answer(request, context, { operation: UNKNOWN_OPERATION });
  return async function conanHandler(request: Request, context: FetchHandlerContext = {}): Promise<Response> {
    const start = performance.now();
    // Route names only: a raw path as a label would grow the series without bound.
    const route = { operation: UNKNOWN_OPERATION };
    const response = await answer(request, context, route);
    const { operation } = route;
    const status = response.status;
    metrics.requestAnswered(operation, status, (performance.now() - start) / 1000);
    if (operation === 'authenticate' && status === 401) metrics.loginFailed();
    if (operation.startsWith('delete') && status < 300) metrics.deleted(operation);
    return response;
  };
}
