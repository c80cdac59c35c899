import { ConanError } from '../service/errors.js';

/**
 * A request body as the service reads it. A failure to read it means the
 * connection closed (or the client sent a broken body) before the body was
 * whole: a normal event, not a server fault, so it becomes
 * `CLIENT_CLOSED`, which the handler answers without reporting it to
 * `onError`.
 */
export function requestBody(body: ReadableStream<Uint8Array> | null): AsyncIterable<Uint8Array> {
  // Node's web streams are async iterable; the DOM typings do not say so.
  const source = (body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() })) as unknown as AsyncIterable<Uint8Array>;
  return (async function* () {
    let received = 0;
    try {
      for await (const chunk of source) {
        received += chunk.byteLength;
        yield chunk;
      }
    } catch (error) {
      // `yield` only throws if the reader calls throw(), which for-await never does.
      if (error instanceof ConanError) throw error;
      throw new ConanError('CLIENT_CLOSED', `Connection closed after ${received} bytes of the request body`);
    }
  })();
}
