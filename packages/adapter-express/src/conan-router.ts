import { Router, type Request as ExpressRequest, type Response as ExpressResponse } from 'express';
import { createConanHandler, type HasService, type HealthOptions, type WebUi } from '@cimmeria/core';
import { toNodeListener } from '@cimmeria/core/node';

/** Options of {@link conanRouter}. */
export interface ConanRouterOptions {
  /** Called with unexpected errors (answered 500) and backend outages (503). */
  onError?: (error: unknown, request: Request) => void;
  /**
   * Also answer `/healthz` and `/readyz` (or the paths given) under the
   * router's mount path, for load balancer probes. Off by default.
   */
  health?: boolean | HealthOptions;
  /**
   * Serve the web UI under `ui/` of the router's mount path: pass
   * `createWebUi()` from `@cimmeria/web`. Off by default.
   */
  ui?: WebUi;
}

/** What Express body parsers leave on a request; `rawBody` is what the Node bridge reads instead of the stream. */
type ParsedRequest = ExpressRequest & { _body?: boolean; rawBody?: Buffer };

/**
 * The Conan 2 API as an Express router. Mount it anywhere:
 * `app.use('/conan', conanRouter(registry))`; the remote URL is then
 * `http://host/conan`.
 *
 * Requests reach the core through the one Node bridge (`toNodeListener`).
 * Host body parsers need not be configured for it: uploads are read as raw
 * streams, and when a host parser has already read an upload into a Buffer
 * (e.g. `express.raw()`), those bytes are handed over instead. An upload a
 * parser turned into something else (JSON, text, form fields) is refused
 * with 415 rather than stored wrong.
 *
 * Conan clients send uploads without a content type, which the usual
 * parsers (`express.json()`, `express.urlencoded()`, `express.raw()` with
 * its default type) skip, so uploads stream. A parser that reads every body
 * buffers each upload whole and applies its own `limit`; mounting the router
 * before such parsers keeps uploads streaming.
 *
 * Failed logins are throttled per client address, taken from `req.ip`:
 * behind a reverse proxy, set the app's `trust proxy` setting so that it is
 * the client's address rather than the proxy's.
 */
export function conanRouter(registry: HasService, options: ConanRouterOptions = {}): Router {
  // Inside a router Express strips the mount path from req.url, so the API starts at the root.
  const listener = toNodeListener(createConanHandler(registry, { basePath: '', onError: options.onError, health: options.health, ui: options.ui }), {
    // Express's req.ip follows the app's 'trust proxy' setting.
    clientAddress: (req) => (req as ExpressRequest).ip ?? req.socket?.remoteAddress,
    // Where the app mounted the router: URLs handed to Conan 1 clients include it, and the web API scopes its session cookie to it.
    mountPath: (req) => (req as ExpressRequest).baseUrl,
  });
  const router = Router();
  router.use((req: ParsedRequest, res: ExpressResponse) => {
    if (!handOverParsedBody(req)) {
      res
        .status(415)
        .type('text/plain')
        .send('Upload body was consumed by a host body parser; send it as application/octet-stream');
      return;
    }
    void listener(req, res);
  });
  return router;
}

/**
 * Makes the bytes a host parser already read available to the bridge.
 * Returns false when they are lost: the stream was read and what is left
 * is not the original bytes.
 */
function handOverParsedBody(req: ParsedRequest): boolean {
  // body-parser 1 marks `_body`; body-parser 2 (Express 5) only leaves the stream ended.
  const consumed = req._body === true || req.readableEnded;
  if (!consumed) return true;
  if (Buffer.isBuffer(req.body)) {
    req.rawBody = req.body;
    return true;
  }
  // A JSON body parsed by `express.json()` (Conan 1's `upload_urls`, `remove_files`, `packages/delete`;
  // the web API's login and tokens) loses nothing the API reads: hand it back serialised.
  if (/^application\/json\b/i.test(req.headers['content-type'] ?? '') && req.body !== null && typeof req.body === 'object') {
    req.rawBody = Buffer.from(JSON.stringify(req.body));
    return true;
  }
  // An empty body parsed to `{}` loses nothing (e.g. a DELETE sent with a JSON content type).
  if (req.headers['content-length'] === '0') {
    req.rawBody = Buffer.alloc(0);
    return true;
  }
  return req.method === 'GET' || req.method === 'HEAD';
}
