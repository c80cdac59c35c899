/**
 * The contract between the fetch handler and the Node bridge for what a
 * package server answers most: small bodies, file bodies from disk, and
 * uploads. The handler stays a WHATWG fetch handler; when the Node bridge
 * calls it, the bridge can hand over the raw request body, and the handler
 * can tag a `Response` with a body the bridge writes straight to the socket
 * (no web-stream hops). Any other host ignores both and uses the `Request`
 * and `Response` as they are, so every entry point behaves the same.
 */

/** Symbol under which the Node bridge puts the raw request body in the handler's context. */
export const NODE_REQUEST_BODY = Symbol.for('cimmeria.nodeRequestBody');

/** Symbol under which the handler tags a `Response` with a body the Node bridge may write directly. */
export const DIRECT_BODY = Symbol.for('cimmeria.directBody');

/**
 * A body the Node bridge may write instead of reading `Response.body`:
 * - `bytes`: a small body already in memory;
 * - `file`: bytes `start`..`end` (inclusive) of a file on local disk; the
 *   bridge calls `onBytes` with the size of each part it writes (metrics),
 *   and cancels `Response.body` once done, so that a body that counts
 *   downloads in flight sees the end.
 * The `Response` still carries an equivalent body for hosts that ignore the
 * tag; a `file` response's body opens the file only when first read, so that
 * no file stays open when the bridge writes it itself.
 */
export type DirectBody =
  | { kind: 'bytes'; data: string | Uint8Array }
  | { kind: 'file'; path: string; start: number; end: number; onBytes?: (bytes: number) => void };

/** Tags `response` so that the Node bridge may write `body` instead of `response.body`. */
export function withDirectBody(response: Response, body: DirectBody): Response {
  (response as Response & { [DIRECT_BODY]?: DirectBody })[DIRECT_BODY] = body;
  return response;
}

/** The direct body a response was tagged with, if any. */
export function directBodyOf(response: Response): DirectBody | undefined {
  return (response as Response & { [DIRECT_BODY]?: DirectBody })[DIRECT_BODY];
}

/** Context of the fetch handler as the Node bridge fills it. */
export interface NodeRequestBodyContext {
  /** The raw request body (the `IncomingMessage`): read it instead of `Request.body` when present. */
  [NODE_REQUEST_BODY]?: AsyncIterable<Uint8Array>;
}
