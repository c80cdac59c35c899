import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { SECURITY_HEADERS, contentTypeOf, isCompressible } from './headers.js';

/** Options of {@link createWebUi}. */
export interface WebUiOptions {
  /** Directory of the built UI. Default: the one shipped in this package (`dist/ui`). */
  root?: string;
}

/** What `createConanHandler({ ui })` and the adapters' `ui` option take. */
export interface WebUiServer {
  /** Answers a GET or HEAD for `path`, what follows `{mount}/ui/` (`''` for the index page). */
  serve(request: Request, path: string): Response;
}

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  gzipped?: Uint8Array<ArrayBuffer>;
  etag: string;
  contentType: string;
  cacheControl: string;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Page routes are at most this deep (recipes/name/version/user/channel/revision). */
const MAX_PAGE_DEPTH = 8;
const INDEX = 'index.html';

function makeAsset(body: Uint8Array<ArrayBuffer>, contentType: string, cacheControl: string): Asset {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  const gzipped = isCompressible(contentType) && body.byteLength > 512 ? gzipSync(body, { level: 9 }) : undefined;
  return { body, etag, contentType, cacheControl, ...(gzipped && gzipped.byteLength < body.byteLength ? { gzipped } : {}) };
}

function listFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((name) => statSync(join(root, name)).isFile())
    .map((name) => relative(root, join(root, name)).split(sep).join('/'));
}

function defaultRoot(): string {
  return fileURLToPath(new URL('./ui/', import.meta.url));
}

/**
 * The built web UI, read once into memory (it is small): hashed assets are
 * cached for a year, `index.html` is revalidated on every load and answers
 * every page route (the UI routes in the browser), every answer carries a
 * Content-Security-Policy without inline scripts.
 *
 * Asset URLs in the page are relative, so the UI works under any mount
 * path; the index page is rewritten per route depth so that they resolve
 * from `{mount}/ui/recipes/zlib` as from `{mount}/ui/`.
 */
export function createWebUi(options: WebUiOptions = {}): WebUiServer {
  const root = options.root ?? defaultRoot();
  const files = new Map<string, Asset>();
  let indexHtml: string | undefined;
  for (const path of listFiles(root)) {
    if (path.endsWith('.map')) continue;
    const body = readFileSync(join(root, path));
    if (path === INDEX) {
      indexHtml = body.toString('utf8');
      continue;
    }
    const cacheControl = path.startsWith('assets/') ? IMMUTABLE : 'no-cache';
    files.set(path, makeAsset(body, contentTypeOf(path), cacheControl));
  }
  if (indexHtml === undefined) throw new Error(`No ${INDEX} in ${root}: build @cimmeria/web first`);
  const html = indexHtml;
  const indexByDepth = Array.from({ length: MAX_PAGE_DEPTH + 1 }, (_, depth) => {
    const up = depth === 0 ? './' : '../'.repeat(depth);
    const page = html.replace(/(\s(?:src|href))="\.\//g, `$1="${up}`);
    return makeAsset(new TextEncoder().encode(page), 'text/html; charset=utf-8', 'no-cache');
  });

  function respond(request: Request, asset: Asset): Response {
    const headers: Record<string, string> = {
      ...SECURITY_HEADERS,
      'content-type': asset.contentType,
      'cache-control': asset.cacheControl,
      etag: asset.etag,
    };
    if (asset.gzipped) headers.vary = 'accept-encoding';
    const inm = request.headers.get('if-none-match');
    if (inm && inm.split(',').some((tag) => tag.trim() === asset.etag || tag.trim() === '*')) {
      return new Response(null, { status: 304, headers });
    }
    const gzip = asset.gzipped && /\bgzip\b/.test(request.headers.get('accept-encoding') ?? '');
    const body = gzip ? asset.gzipped! : asset.body;
    if (gzip) headers['content-encoding'] = 'gzip';
    headers['content-length'] = String(body.byteLength);
    return new Response(request.method === 'HEAD' ? null : body, { status: 200, headers });
  }

  function notFound(): Response {
    return new Response('Not found', {
      status: 404,
      headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' },
    });
  }

  return {
    serve(request, path) {
      const file = files.get(path);
      if (file) return respond(request, file);
      if (path === INDEX) return respond(request, indexByDepth[0]!);
      // A missing asset is a 404, not a page: a stale page asking for an old chunk must see it fail.
      if (path.startsWith('assets/')) return notFound();
      const depth = path.split('/').length - 1;
      if (depth > MAX_PAGE_DEPTH) return notFound();
      return respond(request, indexByDepth[depth]!);
    },
  };
}
