import type { Socket } from 'node:net';
import type { NodeListener } from '@cimmeria/core/node';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/schema.js';

export type { Logger } from 'pino';

/**
 * A JSON-lines logger (pino) on stdout, or on `destination`. Nothing that
 * could carry a secret is ever passed to it: no headers, no bodies. `fields`
 * go on every line (with `--workers`: which process wrote it).
 */
export function createLogger(level: LogLevel, destination?: DestinationStream, fields: Record<string, unknown> = {}): Logger {
  return pino({ name: 'cimmeria', level, base: { pid: process.pid, ...fields } }, destination);
}

/** The request path without its query string. */
function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const query = raw.indexOf('?');
  return query === -1 ? raw : raw.slice(0, query);
}

/** Bytes the socket had read when its previous request ended: what the next request starts from. */
const readAtLastRequestEnd = new WeakMap<Socket, number>();

/**
 * Wraps a node listener to log one line per request (method, path, status,
 * ms) when the response is done. `close` fires both after a complete
 * response and when the connection goes away mid-way, so every request is
 * logged exactly once. A connection closed mid-way (a client cutting an
 * upload or a download short) is a normal event: logged at info too, marked
 * `aborted`, with the bytes received on the connection for this request
 * (headers included) and no status unless one was sent. Only the path is
 * logged: headers (Authorization) and query strings stay out of the logs.
 */
export function withRequestLog(listener: NodeListener, logger: Logger): NodeListener {
  return (req, res) => {
    const start = process.hrtime.bigint();
    const socket = req.socket;
    const readBefore = readAtLastRequestEnd.get(socket) ?? 0;
    res.once('close', () => {
      const ms = Math.round(Number(process.hrtime.bigint() - start) / 1e4) / 100;
      const bytesRead = socket.bytesRead;
      readAtLastRequestEnd.set(socket, bytesRead);
      const method = req.method;
      const path = pathOf(req.url);
      if (res.writableFinished) {
        logger.info({ method, path, status: res.statusCode, ms }, `${method} ${path} ${res.statusCode} ${ms}ms`);
        return;
      }
      const status = res.headersSent ? res.statusCode : undefined;
      const bytesReceived = bytesRead - readBefore;
      logger.info(
        { method, path, status, ms, aborted: true, bytesReceived },
        `${method} ${path} ${status ?? '-'} ${ms}ms (connection closed early, ${bytesReceived} bytes received)`,
      );
    });
    return listener(req, res);
  };
}
