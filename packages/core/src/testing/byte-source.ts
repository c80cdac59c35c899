import { createHash } from 'node:crypto';

/**
 * A deterministic stream of `size` bytes made lazily in 1 MiB chunks, so a
 * contract can push 100 MiB through a store without holding it in memory.
 * Returns the stream and the sha256 the bytes will have.
 */
export function deterministicBytes(size: number, seed = 1): { body: AsyncIterable<Uint8Array>; sha256: string } {
  const chunkSize = 1024 * 1024;
  const chunkAt = (index: number, length: number) => {
    const chunk = new Uint8Array(length);
    let x = (seed * 2654435761 + index * 40503) >>> 0;
    for (let i = 0; i < length; i += 4) {
      // xorshift32: cheap, reproducible, not compressible to nothing.
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      chunk[i] = x & 0xff;
      if (i + 1 < length) chunk[i + 1] = (x >>> 8) & 0xff;
      if (i + 2 < length) chunk[i + 2] = (x >>> 16) & 0xff;
      if (i + 3 < length) chunk[i + 3] = (x >>> 24) & 0xff;
    }
    return chunk;
  };
  const hash = createHash('sha256');
  for (let offset = 0, index = 0; offset < size; offset += chunkSize, index++) {
    hash.update(chunkAt(index, Math.min(chunkSize, size - offset)));
  }
  const sha256 = hash.digest('hex');
  async function* body() {
    for (let offset = 0, index = 0; offset < size; offset += chunkSize, index++) {
      yield chunkAt(index, Math.min(chunkSize, size - offset));
    }
  }
  return { body: body(), sha256 };
}

/** A one-chunk body. */
export async function* bytesOf(data: string | Uint8Array): AsyncIterable<Uint8Array> {
  yield typeof data === 'string' ? new TextEncoder().encode(data) : data;
}

/** Reads a web stream to the end, returning its sha256 and length without keeping the bytes. */
export async function digestStream(stream: ReadableStream<Uint8Array>): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Reads a web stream to the end as text. */
export function streamText(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}
