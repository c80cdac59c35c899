import { createHash, timingSafeEqual } from 'node:crypto';
import type { FetchHandler } from '@cimmeria/core';
import type { CimmeriaMetrics } from '@cimmeria/core/metrics';

/** Options of {@link withMetricsEndpoint}. */
export interface MetricsEndpointOptions {
  metrics: CimmeriaMetrics;
  /** Path answered with the metrics, e.g. `/metrics`. */
  path: string;
  /** When set, required as a Bearer token or as the HTTP Basic password (any user). */
  token?: string;
  /** The Prometheus text to answer. Default: `metrics.registry`'s. */
  text?: () => Promise<string>;
}

// Hashing both sides first makes the comparison constant-time whatever the lengths.
const digest = (value: string) => createHash('sha256').update(value).digest();

/** The secret a scraper offers: a Bearer token, or the password of HTTP Basic. */
function offeredSecret(headers: Headers): string | undefined {
  const header = headers.get('authorization') ?? '';
  const space = header.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') return value;
  if (scheme !== 'basic') return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

function authorized(headers: Headers, token: string): boolean {
  const offered = offeredSecret(headers);
  return offered !== undefined && timingSafeEqual(digest(offered), digest(token));
}

/**
 * Answers GET/HEAD on `path` with the Prometheus text exposition of
 * `metrics.registry`, and passes every other request to `next`. Scrapes are
 * not counted as Conan requests.
 */
export function withMetricsEndpoint(next: FetchHandler, options: MetricsEndpointOptions): FetchHandler {
  const { metrics, path, token } = options;
  const text = options.text ?? (() => metrics.registry.metrics());
  return async (request, context) => {
    if (new URL(request.url).pathname !== path) return next(request, context);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return new Response('Method not allowed; use GET\n', { status: 405, headers: { allow: 'GET, HEAD' } });
    }
    if (token !== undefined && !authorized(request.headers, token)) {
      return new Response('Unauthorized\n', {
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="cimmeria metrics"' },
      });
    }
    const body = await text();
    const headers = { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' };
    return new Response(request.method === 'HEAD' ? null : body, { status: 200, headers });
  };
}
