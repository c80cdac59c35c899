import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { FetchHandler } from '../http/create-handler.js';
import { errorResponse } from '../http/error-status.js';
import { ConanError } from '../service/errors.js';
import { limitConnections, serverOptions, type ConnectionLimits } from './connection-limits.js';

export { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './connection-limits.js';

/** A node:http request listener. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Options of {@link toNodeListener}. */
export interface NodeListenerOptions {
  /**
   * The client address handed to the fetch handler as
   * `context.clientAddress`. Default: the socket's peer address. Framework
   * adapters pass what their framework computed (Express's `req.ip`,
   * Fastify's `request.ip`), so its proxy settings apply.
   */
  clientAddress?: (req: IncomingMessage) => string | undefined;
  /** The path the host stripped from `req.url` (Express's `req.baseUrl`), handed over as `context.mountPath`. */
  mountPath?: (req: IncomingMessage) => string | undefined;
}

const socketAddress = (req: IncomingMessage) => req.socket?.remoteAddress;

/**
 * Bridges a fetch handler to node:http through `@hono/node-server`, which
 * builds the `Request` lazily, applies backpressure to request bodies and
 * waits for `drain` on responses. Every Node host (standalone, Express,
 * Fastify) goes through here.
 */
export function toNodeListener(handler: FetchHandler, options: NodeListenerOptions = {}): NodeListener {
  const clientAddress = options.clientAddress ?? socketAddress;
  const listener = getRequestListener(
    (request, env) => {
      const req = env.incoming as IncomingMessage;
      const mountPath = options.mountPath?.(req);
      return handler(request, { clientAddress: clientAddress(req), ...(mountPath ? { mountPath } : {}) });
    },
    { overrideGlobalObjects: false },
  );
  const reject = getRequestListener(
    (request) =>
      errorResponse(new ConanError('INVALID_PATH', `Invalid path '${new URL(request.url).pathname}': '.' and '..' segments are not allowed`)),
    { overrideGlobalObjects: false },
  );
  // URL parsing resolves `.` and `..` segments before the handler sees them,
  // silently turning a request into one for another path: refuse them here.
  return (req, res) => (hasDotSegments(req.url ?? '/') ? reject(req, res) : listener(req, res));
}

const DOT_SEGMENT = /(^|\/)(\.|%2e){1,2}(\/|$)/i;

function hasDotSegments(url: string): boolean {
  const query = url.indexOf('?');
  return DOT_SEGMENT.test(query === -1 ? url : url.slice(0, query));
}

/** Options of {@link NodeServer.close}. */
export interface NodeCloseOptions {
  /**
   * Keep connections without a request in progress open this long (ms)
   * after the listener closes, before closing them. Default 0. Node's own
   * `close()` drops such connections at once, including ones accepted a
   * moment ago whose first request is still on its way: a load balancer
   * that already sent that request (and part of an upload) sees a reset and
   * cannot retry it. A short grace lets those requests arrive and be served.
   */
  idleGraceMs?: number;
}

/** A running standalone server. */
export interface NodeServer {
  server: Server;
  /** `http://host:port`, with the port actually bound (useful with port 0). */
  url: string;
  port: number;
  /** Stops accepting connections and resolves once every connection has ended. */
  close(options?: NodeCloseOptions): Promise<void>;
}

/** Options of {@link serveNode}. */
export interface ServeNodeOptions extends ConnectionLimits {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Address to listen on. Default `127.0.0.1`. */
  host?: string;
}

/**
 * Starts a node:http server. Pass a fetch handler, or a node listener made
 * with {@link toNodeListener} (and wrapped, e.g. for logging). Port 0 picks
 * a free port. The server's connections are limited (headers timeout, idle
 * timeout, keep-alive timeout, connection cap: see {@link ConnectionLimits})
 * so that silent or stalled clients cannot hold its sockets.
 */
export async function serveNode(
  handler: FetchHandler | { listener: NodeListener },
  options: ServeNodeOptions = {},
): Promise<NodeServer> {
  const listener = typeof handler === 'function' ? toNodeListener(handler) : handler.listener;
  const { port: listenPort = 0, host = '127.0.0.1', ...limits } = options;
  const server = createServer(serverOptions(limits), (req, res) => void listener(req, res));
  limitConnections(server, limits);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    server,
    port,
    url: `http://${shownHost}:${port}`,
    close: ({ idleGraceMs = 0 } = {}) =>
      new Promise<void>((resolve, reject) => {
        let sweep: NodeJS.Timeout | undefined;
        // close() drops only the connections idle right now; keep dropping those that
        // turn idle as their last request finishes, rather than waiting out keep-alive.
        const startSweeping = () => {
          server.closeIdleConnections();
          sweep = setInterval(() => server.closeIdleConnections(), 100);
        };
        const grace = idleGraceMs > 0 ? setTimeout(startSweeping, idleGraceMs) : undefined;
        if (grace) {
          // Node's close() calls closeIdleConnections() itself: skip that one call.
          const closeIdle = server.closeIdleConnections;
          server.closeIdleConnections = () => {};
          try {
            server.close(done);
          } finally {
            server.closeIdleConnections = closeIdle;
          }
        } else {
          server.close(done);
          startSweeping();
        }
        function done(error?: Error) {
          clearTimeout(grace);
          clearInterval(sweep);
          if (error) reject(error);
          else resolve();
        }
      }),
  };
}
