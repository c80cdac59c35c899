import type { NodeListener } from '@cimmeria/core/node';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/schema.js';

export type { Logger } from 'pino';

/**
 * A JSON-lines logger (pino) on stdout, or on `destination`. Nothing that
 * could carry a secret is ever passed to it: no headers, no bodies.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino({ name: 'cimmeria', level, base: { pid: process.pid } }, destination);
}

/** The request path without its query string. */
function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const query = raw.indexOf('?');
  return query === -1 ? raw : raw.slice(0, query);
}

/**
 * Wraps a node listener to log one line per request (method, path, status,
 * ms) when the response is done. `close` fires both after a complete
 * response and when the client goes away mid-way, so every request is
 * logged exactly once; the latter is marked `aborted`. Only the path is
 * logged: headers (Authorization) and query strings stay out of the logs.
 */
export function withRequestLog(listener: NodeListener, logger: Logger): NodeListener {
  return (req, res) => {
    const start = process.hrtime.bigint();
    res.once('close', () => {
      const ms = Math.round(Number(process.hrtime.bigint() - start) / 1e4) / 100;
      const entry = { method: req.method, path: pathOf(req.url), status: res.statusCode, ms };
      const aborted = !res.writableFinished;
      const line = `${entry.method} ${entry.path} ${entry.status} ${ms}ms`;
      if (aborted) logger.warn({ ...entry, aborted }, `${line} (aborted)`);
      else logger.info(entry, line);
    });
    return listener(req, res);
  };
}
