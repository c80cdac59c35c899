import { createHash, type Hash } from 'node:crypto';
import { ConanError } from '../service/errors.js';

/** Digests and size of a stream that went through {@link hashingStream}. */
export interface StreamDigest {
  size: number;
  sha1: string;
  sha256: string;
  /** Only when asked for with {@link HashingOptions.md5}. */
  md5?: string;
  /** Only when asked for with {@link HashingOptions.text}: the bytes decoded as UTF-8 (invalid sequences replaced). */
  text?: string;
}

/** What {@link hashingStream} computes besides sha1, sha256 and size. */
export interface HashingOptions {
  /** Also compute md5 (for the few files a manifest is checked against; not for every upload). */
  md5?: boolean;
  /** Also keep the bytes as text. Only for small files: `maxBytes` bounds what is kept. */
  text?: boolean;
}

/**
 * Passes chunks through while computing sha1, sha256 and size, and stops the
 * stream with `PAYLOAD_TOO_LARGE` once `maxBytes` is exceeded. `digest()` is
 * valid once the stream has been fully consumed.
 */
export function hashingStream(
  source: AsyncIterable<Uint8Array>,
  maxBytes: number,
  options: HashingOptions = {},
): { stream: AsyncIterable<Uint8Array>; digest: () => StreamDigest } {
  const sha1 = createHash('sha1');
  const sha256 = createHash('sha256');
  const md5: Hash | undefined = options.md5 ? createHash('md5') : undefined;
  // Decoded as it arrives, so no chunk is kept: a multi-byte character split
  // across chunks is carried over by the decoder.
  const decoder = options.text ? new TextDecoder('utf-8') : undefined;
  let text = '';
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
      md5?.update(chunk);
      if (decoder) text += decoder.decode(chunk, { stream: true });
      yield chunk;
    }
    result = { size, sha1: sha1.digest('hex'), sha256: sha256.digest('hex') };
    if (md5) result.md5 = md5.digest('hex');
    if (decoder) result.text = text + decoder.decode();
  }
  return {
    stream: stream(),
    digest: () => {
      if (!result) throw new Error('digest() called before the stream was consumed');
      return result;
    },
  };
}
