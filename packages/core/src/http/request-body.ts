import { ConanError } from '../service/errors.js';
import { chunksOwned, markReleasable } from '../storage/chunk-release.js';

/** Options of {@link requestBody}. */
export interface RequestBodyOptions {
  /** `Content-Length` as the client declared it: fewer bytes than that is a cut body, not a whole one. */
  declaredLength?: number;
  /** Called with the size of each part as it is read (metrics). */
  onBytes?: (bytes: number) => void;
}

/**
 * A request body as the service reads it: the raw body the Node bridge
 * handed over (the `IncomingMessage`, no web-stream hops), else
 * `Request.body`. A failure to read it, or an end before the declared
 * length, means the connection closed (or the client sent a broken body)
 * before the body was whole: a normal event, not a server fault, so it
 * becomes `CLIENT_CLOSED`, which the handler answers without reporting it
 * to `onError`.
 */
export function requestBody(
  body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | null,
  options: RequestBodyOptions = {},
): AsyncIterable<Uint8Array> {
  // Node's web streams are async iterable; the DOM typings do not say so.
  const source = (body ?? []) as AsyncIterable<Uint8Array>;
  const { declaredLength, onBytes } = options;
  // Chunks only the upload path sees may be freed by the blob store once written.
  const owned = chunksOwned(source);
  return (async function* () {
    let received = 0;
    try {
      for await (const chunk of source) {
        received += chunk.byteLength;
        onBytes?.(chunk.byteLength);
        if (owned) markReleasable(chunk);
        yield chunk;
      }
    } catch (error) {
      // `yield` only throws if the reader calls throw(), which for-await never does.
      if (error instanceof ConanError) throw error;
      throw closed(received);
    }
    if (declaredLength !== undefined && received < declaredLength) throw closed(received);
  })();
}

const closed = (received: number) =>
  new ConanError('CLIENT_CLOSED', `Connection closed after ${received} bytes of the request body`);
