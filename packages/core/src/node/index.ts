import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { FetchHandler } from '../http/create-handler.js';

/** A node:http request listener. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * Bridges a fetch handler to node:http through `@hono/node-server`, which
 * builds the `Request` lazily, applies backpressure to request bodies and
 * waits for `drain` on responses. Every Node host (standalone, Express,
 * Fastify) goes through here.
 */
export function toNodeListener(handler: FetchHandler): NodeListener {
  return getRequestListener((request) => handler(request), { overrideGlobalObjects: false });
}

/** A running standalone server. */
export interface NodeServer {
  server: Server;
  /** `http://host:port`, with the port actually bound (useful with port 0). */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts a node:http server. Pass a fetch handler, or a node listener made
 * with {@link toNodeListener} (and wrapped, e.g. for logging). Port 0 picks
 * a free port.
 */
export async function serveNode(
  handler: FetchHandler | { listener: NodeListener },
  options: { port?: number; host?: string } = {},
): Promise<NodeServer> {
  const listener = typeof handler === 'function' ? toNodeListener(handler) : handler.listener;
  const server = createServer((req, res) => void listener(req, res));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
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
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
