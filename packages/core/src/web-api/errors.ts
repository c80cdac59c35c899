import { ERROR_STATUS, errorResponse } from '../http/error-status.js';
import { ConanError } from '../service/errors.js';

/**
 * The web API's errors: `{ "error": { "code", "message" } }` with the
 * status the one table gives. Others go through the core's map (500, 503).
 */
export async function jsonErrorResponse(error: unknown, onError?: (error: unknown) => void): Promise<Response> {
  if (!(error instanceof ConanError)) {
    const plain = errorResponse(error, onError);
    const message = await plain.text();
    const code = plain.status === 503 ? 'UNAVAILABLE' : 'INTERNAL';
    const headers = new Headers(plain.headers);
    headers.set('content-type', 'application/json');
    return new Response(JSON.stringify({ error: { code, message } }), { status: plain.status, headers });
  }
  const status = ERROR_STATUS[error.code];
  const headers: Record<string, string> = { 'content-type': 'application/json', ...error.headers };
  // No WWW-Authenticate on the web API: a browser would pop up its own login dialog.
  return new Response(JSON.stringify({ error: { code: error.code, message: error.message } }), { status, headers });
}
