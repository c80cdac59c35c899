import { requestBody } from '../http/request-body.js';
import { ConanError } from '../service/errors.js';

/** Largest JSON body the web API reads. */
export const MAX_API_BODY_BYTES = 16 * 1024;

/** Reads a small JSON body, refusing more than {@link MAX_API_BODY_BYTES}. */
export async function readJson(request: Request): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_API_BODY_BYTES) throw new ConanError('PAYLOAD_TOO_LARGE', `Body larger than ${MAX_API_BODY_BYTES} bytes`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of requestBody(request.body)) {
    size += chunk.byteLength;
    if (size > MAX_API_BODY_BYTES) throw new ConanError('PAYLOAD_TOO_LARGE', `Body larger than ${MAX_API_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    // Bounded above: a few KiB at most.
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ConanError('BAD_REQUEST', 'Body is not JSON');
  }
}
