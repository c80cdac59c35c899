import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { DirectBody } from '../http/node-fast-path.js';

/**
 * The response's headers as node:http takes them, as `@hono/node-server`
 * builds them for the responses it writes itself (same default content type),
 * so a direct body and a web body answer alike.
 */
export function nodeHeaders(headers: Headers): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of headers) {
    // Set-Cookie is the one header that must not be folded into one line.
    if (name !== 'set-cookie') out[name] = value;
  }
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out['set-cookie'] = cookies;
  out['content-type'] ??= 'text/plain; charset=UTF-8';
  return out;
}

/**
 * Writes `response` (status and headers) with `body` in place of its web
 * body, straight to `res`. Returns false when this kind of body is not
 * written directly (yet): the caller then writes the response's web body.
 * The one place a kind of direct body is written, for every Node host.
 */
export function writeDirectBody(res: ServerResponse, response: Response, body: DirectBody): boolean {
  switch (body.kind) {
    case 'bytes': {
      const headers = nodeHeaders(response.headers);
      const { data } = body;
      headers['content-length'] ??= typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
      // Headers and a small body leave in one write; node:http drops the body of a HEAD answer itself.
      res.writeHead(response.status, headers);
      res.end(data);
      return true;
    }
    case 'file':
      // Not written directly yet: the response's web body is.
      return false;
  }
}
