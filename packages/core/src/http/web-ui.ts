import { ConanError } from '../service/errors.js';
import { empty } from './responses.js';

/**
 * A web UI the handler serves under `{basePath}/ui/`: what `createWebUi()`
 * of `@cimmeria/web` returns. Typed here so that core does not depend on
 * the UI package; any object with this shape will do.
 */
export interface WebUi {
  /**
   * Answers a GET or HEAD below `{basePath}/ui/`. `path` is what follows
   * `/ui/` (`''` for the index page), still percent-encoded.
   */
  serve(request: Request, path: string): Response | Promise<Response>;
}

const UI_ROOT = '/ui';

/** True when `path` (below the base path) belongs to the web UI. */
export function isUiPath(path: string): boolean {
  return path === UI_ROOT || path.startsWith(`${UI_ROOT}/`);
}

/** Serves `path` (below the base path, see {@link isUiPath}) from `ui`. */
export function handleUi(ui: WebUi, request: Request, url: URL, path: string): Response | Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    throw new ConanError('METHOD_NOT_ALLOWED', `Method ${request.method} not allowed here; use GET, HEAD`, {
      allow: 'GET, HEAD',
    });
  }
  // Relative, so that it holds under any mount, also one the host strips
  // before the handler sees the path (Express): `/conan/ui` + `ui/` = `/conan/ui/`.
  if (path === UI_ROOT) return empty(301, { location: `ui/${url.search}`, 'cache-control': 'no-cache' });
  return ui.serve(request, path.slice(UI_ROOT.length + 1));
}
