import { createHash } from 'node:crypto';
import { ConanError } from '../service/errors.js';

/** Digests and size of a stream that went through {@link hashingStream}. */
export interface StreamDigest {
  size: number;
  sha1: string;
  sha256: string;
}

/**
 * Passes chunks through while computing sha1, sha256 and size, and stops the
 * stream with `PAYLOAD_TOO_LARGE` once `maxBytes` is exceeded. `digest()` is
 * valid once the stream has been fully consumed.
 */
export function hashingStream(
  source: AsyncIterable<Uint8Array>,
  maxBytes: number,
): { stream: AsyncIterable<Uint8Array>; digest: () => StreamDigest } {
  const sha1 = createHash('sha1');
  const sha256 = createHash('sha256');
  let size = 0;
  let result: StreamDigest | undefined;
  async function* stream() {
    for await (const chunk of source) {
      size += chunk.byteLength;
      if (size > maxBytes) {
        throw new ConanError('PAYLOAD_TOO_LARGE', `Upload larger than the maximum of ${maxBytes} bytes`);
      }
      sha1.update(chunk);
      sha256.update(chunk);
      yield chunk;
    }
    result = { size, sha1: sha1.digest('hex'), sha256: sha256.digest('hex') };
  }
  return {
    stream: stream(),
    digest: () => {
      if (!result) throw new Error('digest() called before the stream was consumed');
      return result;
    },
  };
}
