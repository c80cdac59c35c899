import { z } from 'zod';
import { requestBody } from './request-body.js';
import { ConanError } from '../service/errors.js';

/** Largest JSON body the web API reads (Conan 1 routes pass their own bound). */
export const MAX_API_BODY_BYTES = 16 * 1024;

/**
 * Reads a small JSON body that `schema` must accept (`BAD_REQUEST`
 * otherwise), refusing more than `maxBytes` (`PAYLOAD_TOO_LARGE`).
 */
export async function readJson<T>(request: Request, schema: z.ZodType<T>, maxBytes = MAX_API_BODY_BYTES): Promise<T> {
  const parsed = schema.safeParse(await parseJson(request, maxBytes));
  if (!parsed.success) throw new ConanError('BAD_REQUEST', `Invalid body: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

async function parseJson(request: Request, maxBytes: number): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw new ConanError('PAYLOAD_TOO_LARGE', `Body larger than ${maxBytes} bytes`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of requestBody(request.body)) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new ConanError('PAYLOAD_TOO_LARGE', `Body larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  try {
    // Bounded above: a few KiB at most.
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ConanError('BAD_REQUEST', 'Body is not JSON');
  }
}
