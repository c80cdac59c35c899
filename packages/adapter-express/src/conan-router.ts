import { Router, type Request as ExpressRequest, type Response as ExpressResponse } from 'express';
import { createConanHandler, type HasService } from '@cimmeria/core';
import { toNodeListener } from '@cimmeria/core/node';

/** Options of {@link conanRouter}. */
export interface ConanRouterOptions {
  /** Called with unexpected errors (answered 500) and backend outages (503). */
  onError?: (error: unknown, request: Request) => void;
}

type ParsedRequest = ExpressRequest & { _body?: boolean; rawBody?: Buffer };

/**
 * The Conan 2 API as an Express router. Mount it anywhere:
 * `app.use('/conan', conanRouter(registry))`; the remote URL is then
 * `http://host/conan`.
 *
 * Requests reach the core through the one Node bridge (`toNodeListener`).
 * Host body parsers need not be configured for it: uploads are read as raw
 * streams, and when a host parser has already read an upload into a Buffer
 * (e.g. `express.raw()`), those bytes are handed over instead.
 */
export function conanRouter(registry: HasService, options: ConanRouterOptions = {}): Router {
  // Inside a router Express strips the mount path from req.url, so the API starts at the root.
  const listener = toNodeListener(createConanHandler(registry, { basePath: '', onError: options.onError }));
  const router = Router();
  router.use((req: ParsedRequest, res: ExpressResponse) => {
    if (req._body || req.readableEnded) {
      if (Buffer.isBuffer(req.body)) {
        // The bridge reads `rawBody` when the stream was already consumed.
        req.rawBody = req.body;
      } else if (req.method !== 'GET' && req.method !== 'HEAD') {
        // A parser turned the bytes into something else (JSON, text): they cannot be trusted as a file.
        res
          .status(415)
          .type('text/plain')
          .send('Upload body was consumed by a host body parser; send it as application/octet-stream');
        return;
      }
    }
    void listener(req, res);
  });
  return router;
}
