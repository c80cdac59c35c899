import { Readable } from 'node:stream';
import { BlobStoreUnavailableError } from '@cimmeria/core';

/** Restarts the deadline of a call: `ms` more from now (default: the call's own). */
export type Touch = (ms?: number) => void;

/**
 * Runs `call` with an AbortSignal that fires once `ms` pass without
 * progress (or when `outer` fires). `call` reports progress through
 * `touch`; a call that never touches has a plain deadline. A call cut off
 * by the timer throws {@link BlobStoreUnavailableError}: a silent network
 * makes the store unavailable, it must not make the caller wait for as long
 * as it lasts. The timer ends when `call` settles, so a response body the
 * call returned is not cut off by it.
 */
export async function withDeadline<T>(
  ms: number,
  what: string,
  outer: AbortSignal | undefined,
  call: (signal: AbortSignal, touch: Touch) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timedOut = false;
  let waited = ms;
  const expire = () => {
    timedOut = true;
    controller.abort();
  };
  let timer = setTimeout(expire, ms);
  const touch: Touch = (next = ms) => {
    if (timedOut) return;
    if (next === waited) {
      timer.refresh();
      return;
    }
    clearTimeout(timer);
    waited = next;
    timer = setTimeout(expire, next);
  };
  const forward = () => controller.abort(outer?.reason);
  if (outer?.aborted) forward();
  else outer?.addEventListener('abort', forward, { once: true });
  try {
    return await call(controller.signal, touch);
  } catch (error) {
    if (timedOut) {
      throw new BlobStoreUnavailableError(`S3 blob store unavailable (${what}: no progress for ${waited} ms)`, { cause: error });
    }
    throw error;
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', forward);
  }
}

const SLICE_BYTES = 64 * 1024;

/** The part of a smithy command this module touches: its own middleware stack. */
interface CommandWithStack {
  middlewareStack: { add(middleware: never, options: never): void };
}

/**
 * Makes `command`, whose request body is bytes in memory (a part upload),
 * hand its body to the socket in 64 KiB slices and call `touch` as each is
 * taken. A socket that stops taking bytes (a full window on a silent
 * network) stops the touches, and {@link withDeadline} cuts it off. A body
 * of one slice at most is a plain request once taken: `touch(answerMs)`.
 * (After the last slice of a larger body, megabytes may still sit in socket
 * buffers on their way: its answer keeps the call's own deadline.) Added at
 * the innermost step, after signing and checksums (which saw the bytes
 * whole), and anew for each retry, so a retry resends the whole body.
 */
export function reportBodyProgress(command: object, touch: Touch, answerMs: number): void {
  const middleware =
    (next: (args: { request: { body?: unknown } }) => Promise<unknown>) =>
    (args: { request: { body?: unknown } }) => {
      const body = args.request.body;
      if (!(body instanceof Uint8Array)) return next(args);
      const answered = body.byteLength <= SLICE_BYTES ? answerMs : undefined;
      return next({ ...args, request: { ...args.request, body: slicedBody(body, touch, answered) } });
    };
  (command as CommandWithStack).middlewareStack.add(
    middleware as never,
    { step: 'deserialize', priority: 'low', name: 'cimmeriaBodyProgress' } as never,
  );
}

function slicedBody(bytes: Uint8Array, touch: Touch, answerMs: number | undefined): Readable {
  let offset = 0;
  return new Readable({
    highWaterMark: SLICE_BYTES,
    read() {
      if (offset >= bytes.byteLength) {
        touch(answerMs);
        this.push(null);
        return;
      }
      touch();
      const end = Math.min(offset + SLICE_BYTES, bytes.byteLength);
      this.push(bytes.subarray(offset, end));
      offset = end;
    },
  });
}

/**
 * `body`, failing with {@link BlobStoreUnavailableError} (and cancelling
 * the source, which closes its socket) when a read waits more than `ms` for
 * the source's next chunk. Only time spent waiting for the source counts:
 * a slow reader (a client downloading on a slow link) is never cut off.
 */
export function guardIdleStream(body: ReadableStream<Uint8Array>, ms: number, what: string): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let timer: NodeJS.Timeout | undefined;
        const stalled = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new BlobStoreUnavailableError(`S3 blob store unavailable (${what}: no data for ${ms} ms)`)),
            ms,
          );
        });
        try {
          const { done, value } = await Promise.race([reader.read(), stalled]);
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          controller.error(error);
          await reader.cancel(error).catch(() => {});
        } finally {
          clearTimeout(timer);
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    // Read only when asked: no chunk is fetched (and timed) ahead of the reader.
    { highWaterMark: 0 },
  );
}
