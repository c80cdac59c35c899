/**
 * Passes a byte stream through, reporting each chunk's size, and calls
 * `onEnd` once when the stream ends, fails or is cancelled (the client
 * went away).
 */
export function countingStream(
  source: ReadableStream<Uint8Array>,
  onBytes: (bytes: number) => void,
  onEnd: () => void,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    onEnd();
  };
  // A zero high-water mark: nothing is read before the consumer asks (a lazily opened source stays closed).
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            end();
            controller.close();
            return;
          }
          onBytes(value.byteLength);
          controller.enqueue(value);
        } catch (error) {
          end();
          controller.error(error);
        }
      },
      async cancel(reason) {
        end();
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** The same for an async iterable (an upload body as the service reads it). */
export async function* countingIterable(
  source: AsyncIterable<Uint8Array>,
  onBytes: (bytes: number) => void,
): AsyncIterable<Uint8Array> {
  for await (const chunk of source) {
    onBytes(chunk.byteLength);
    yield chunk;
  }
}
