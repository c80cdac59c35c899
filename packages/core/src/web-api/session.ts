import { ConanError } from '../service/errors.js';

/** Name of the web UI's session cookie. */
export const SESSION_COOKIE = 'cimmeria_session';

/** The header a state-changing request authenticated by the cookie must carry (cross-site forms cannot send it). */
export const REQUEST_HEADER = 'x-cimmeria-request';

/** Longest Cookie header read: a session token is well under 1 KiB. */
const MAX_COOKIE_HEADER = 8192;

/** The session cookie's value, if the request carries one. */
export function sessionCookie(headers: Headers): string | undefined {
  const header = headers.get('cookie');
  if (!header || header.length > MAX_COOKIE_HEADER) return undefined;
  for (const part of header.split(';')) {
    const equals = part.indexOf('=');
    if (equals === -1 || part.slice(0, equals).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(equals + 1).trim();
    return value === '' ? undefined : value;
  }
  return undefined;
}

/** Where the request came from as the browser sees it: the proxy's scheme and host when proxies are trusted. */
export function requestOrigin(request: Request, url: URL, trustProxy: number): string {
  if (trustProxy > 0) {
    const proto = request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
    const host = request.headers.get('x-forwarded-host')?.split(',')[0]?.trim() ?? request.headers.get('host') ?? url.host;
    if (proto === 'http' || proto === 'https') return `${proto}://${host}`.toLowerCase();
  }
  return url.origin.toLowerCase();
}

/** A foreign `Origin` (a page of another site) is refused; no `Origin` (same-origin GET, scripts) is fine. */
export function checkOrigin(request: Request, url: URL, trustProxy: number): void {
  const origin = request.headers.get('origin');
  if (origin !== null && origin.toLowerCase() !== requestOrigin(request, url, trustProxy)) {
    throw new ConanError('CSRF', 'Cross-origin request refused');
  }
}

/**
 * The cross-site request checks of a state-changing request authenticated
 * by the cookie: the custom header, and a matching `Origin` when sent.
 */
export function checkCsrf(request: Request, url: URL, trustProxy: number): void {
  if (request.headers.get(REQUEST_HEADER) !== '1') {
    throw new ConanError('CSRF', `Requests authenticated by the session cookie must send '${REQUEST_HEADER}: 1'`);
  }
  checkOrigin(request, url, trustProxy);
}

/** Options of {@link setCookie}. */
export interface CookieOptions {
  /** The mount path of the API (`''` at the root). */
  mountPath: string;
  /** Seconds; 0 clears the cookie. */
  maxAge: number;
  secure: boolean;
}

/** The `Set-Cookie` value: HttpOnly, SameSite=Strict, scoped to the JSON API. */
export function setCookie(value: string, options: CookieOptions): string {
  const parts = [
    `${SESSION_COOKIE}=${value}`,
    'HttpOnly',
    'SameSite=Strict',
    `Path=${options.mountPath}/api/`,
    `Max-Age=${Math.max(0, Math.floor(options.maxAge))}`,
  ];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}
