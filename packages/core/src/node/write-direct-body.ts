import { open } from 'node:fs/promises';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { DirectBody } from '../http/node-fast-path.js';

/**
 * The response's headers as node:http takes them, as `@hono/node-server`
 * builds them for the responses it writes itself (same default content type),
 * so a direct body and a web body answer alike.
 */
export function nodeHeaders(headers: Headers): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of headers) {
    // Set-Cookie is the one header that must not be folded into one line.
    if (name !== 'set-cookie') out[name] = value;
  }
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out['set-cookie'] = cookies;
  out['content-type'] ??= 'text/plain; charset=UTF-8';
  return out;
}

/**
 * Size of each read of a file body: large, so that a download costs few
 * reads and few socket writes (server CPU per MiB measured on loopback:
 * ~0.7 ms with 512 KiB, ~0.5 ms with 2 MiB). A download holds two such
 * buffers, reused from the first read to the last (no memory allocated per
 * read, none left for the garbage collector): 2 MiB per download in flight.
 */
export const FILE_READ_BYTES = 1024 * 1024;

/**
 * Writes `response` (status and headers) with `body` in place of its web
 * body, straight to `res`: the one place a kind of direct body is written,
 * for every Node host. A small body leaves with the headers in one write
 * (synchronously: nothing to wait for). A file body resolves once written or
 * once the exchange failed, and never rejects: a file that cannot be read
 * (gone between the handler's look and this open, a disk error, shorter
 * than announced) destroys the response, so the client sees a cut body,
 * never a short one that looks whole. A client that goes away stops the
 * reads; the file is closed however it ends.
 */
export function writeDirectBody(res: ServerResponse, response: Response, body: DirectBody): void | Promise<void> {
  const headers = nodeHeaders(response.headers);
  if (body.kind === 'bytes') {
    const { data } = body;
    headers['content-length'] ??= typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    // node:http drops the body of a HEAD answer itself.
    res.writeHead(response.status, headers);
    res.end(data);
    return;
  }
  res.writeHead(response.status, headers);
  return writeFile(res, response, body);
}

async function writeFile(res: ServerResponse, response: Response, body: Extract<DirectBody, { kind: 'file' }>): Promise<void> {
  try {
    await writeFileRange(res, body.path, body.start, body.end, body.onBytes);
    await end(res);
  } catch (error) {
    // The client went away (nothing more to tell it), or the file failed mid-way: cut the body.
    res.destroy(error as Error);
  } finally {
    // The web body was never read (it opens lazily); cancelling it tells whatever wraps it that the body ended.
    void response.body?.cancel().catch(() => undefined);
  }
}

/**
 * Bytes `start`..`end` of the file at `path` to `res`: one read ahead of the
 * socket, each buffer reused once the socket has taken what was written
 * from it.
 */
async function writeFileRange(
  res: ServerResponse,
  path: string,
  start: number,
  end: number,
  onBytes: ((bytes: number) => void) | undefined,
): Promise<void> {
  const handle = await open(path, 'r');
  // Rejects once the response closes: a client that left stops the loop at its next step.
  let gone: Error | undefined;
  const onClose = () => {
    if (!res.writableFinished) gone ??= new Error('Client closed the connection during the download');
  };
  res.once('close', onClose);
  let written: Promise<void> = Promise.resolve();
  try {
    const buffers = [Buffer.allocUnsafeSlow(FILE_READ_BYTES), Buffer.allocUnsafeSlow(FILE_READ_BYTES)];
    let position = start;
    for (let turn = 0; position <= end; turn++) {
      // This buffer's last write (two turns ago) is done: the previous turn awaited it.
      const buffer = buffers[turn % 2]!;
      const { bytesRead } = await handle.read(buffer, 0, Math.min(FILE_READ_BYTES, end - position + 1), position);
      if (bytesRead === 0) throw new Error(`${path} ended before byte ${end}`);
      position += bytesRead;
      await written;
      if (gone) throw gone;
      written = write(res, buffer.subarray(0, bytesRead));
      // Seen when awaited; until then a failure must not count as unhandled.
      written.catch(() => undefined);
      onBytes?.(bytesRead);
    }
    await written;
    if (gone) throw gone;
  } finally {
    // A write still pending when the loop failed: let it settle before its buffer could go.
    await written.catch(() => undefined);
    res.off('close', onClose);
    await handle.close();
  }
}

/** Ends `res` and resolves once it finished or closed. */
function end(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('finish', done);
      res.off('close', done);
      resolve();
    };
    res.once('finish', done);
    res.once('close', done);
    res.end();
  });
}

/** Writes `chunk` and resolves once the socket has taken it (its buffer may then be reused). */
function write(res: ServerResponse, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const onClose = () => reject(new Error('Client closed the connection during the download'));
    res.once('close', onClose);
    res.write(chunk, (error) => {
      res.off('close', onClose);
      if (error) reject(error);
      else resolve();
    });
  });
}
