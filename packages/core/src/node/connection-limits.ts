import type { IncomingMessage, Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';

/** Limits on the connections of a server made by `serveNode`; every time is in ms. */
export interface ConnectionLimits {
  /**
   * A connection must deliver the complete headers of a request within this
   * long: of its first request from the moment it connects, of each later
   * one from its first byte. Default 10000. Protects against connections
   * opened and left silent (Node itself never times those out) or dribbling
   * their headers (slowloris), which would otherwise hold sockets forever.
   */
  headersTimeoutMs?: number;
  /**
   * A connection that moves no byte in either direction for this long is
   * closed. Default 60000; 0 turns it off. Protects against clients that
   * stall mid-request (an upload that stops sending, a download nobody
   * reads). A slow but steady transfer is never cut off: there is no limit
   * on a request's total time (Node's `requestTimeout`, 5 minutes by
   * default, is turned off, since it would cut off a large upload on a slow
   * link).
   */
  connectionIdleTimeoutMs?: number;
  /**
   * How long a kept-alive connection waits for its next request. Default
   * 5000. Behind a load balancer that reuses connections, make it longer
   * than the balancer's own idle timeout, or the balancer may send a request
   * on a connection the node is closing.
   */
  keepAliveTimeoutMs?: number;
  /**
   * Most connections open at once; 0 for no cap. Default 1000. At the cap, a
   * new connection makes room by closing the oldest connection that has not
   * delivered a request yet (a flood of silent connections cannot lock
   * clients out), or is refused when every connection is busy. Keep it
   * below the process's open-files limit (`ulimit -n`) minus what the
   * stores need, so that files and database connections can still be opened.
   */
  maxConnections?: number;
}

/** Defaults of {@link ConnectionLimits}. */
export const DEFAULT_CONNECTION_LIMITS: Required<ConnectionLimits> = {
  headersTimeoutMs: 10_000,
  connectionIdleTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1000,
};

function resolve(limits: ConnectionLimits): Required<ConnectionLimits> {
  const resolved = { ...DEFAULT_CONNECTION_LIMITS };
  for (const [name, value] of Object.entries(limits) as Array<[keyof ConnectionLimits, number | undefined]>) {
    if (value === undefined) continue;
    const least = name === 'headersTimeoutMs' || name === 'keepAliveTimeoutMs' ? 1 : 0;
    if (!Number.isInteger(value) || value < least) {
      throw new RangeError(`serveNode: ${name} must be an integer of at least ${least}`);
    }
    resolved[name] = value;
  }
  return resolved;
}

/** Options for `createServer` that apply `limits` (some can only be set there). */
export function serverOptions(limits: ConnectionLimits): ServerOptions {
  const { headersTimeoutMs, keepAliveTimeoutMs } = resolve(limits);
  return {
    headersTimeout: headersTimeoutMs,
    // No deadline on a whole request: a long upload is fine as long as bytes keep coming.
    requestTimeout: 0,
    keepAliveTimeout: keepAliveTimeoutMs,
    // Node checks headers timeouts on this interval (30 s by default, far coarser than the timeout).
    connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor(headersTimeoutMs / 4))),
  };
}

/**
 * Enforces what `createServer` options cannot: the idle timeout, the
 * deadline for a new connection's first request, and the connection cap.
 */
export function limitConnections(server: Server, limits: ConnectionLimits): void {
  const { headersTimeoutMs, connectionIdleTimeoutMs, maxConnections } = resolve(limits);
  server.setTimeout(connectionIdleTimeoutMs);
  // Connections that have not delivered a request yet, oldest first, with their deadline.
  const waiting = new Map<Socket, NodeJS.Timeout>();
  const served = (socket: Socket) => {
    clearTimeout(waiting.get(socket));
    waiting.delete(socket);
  };
  let open = 0;
  server.on('connection', (socket: Socket) => {
    if (maxConnections > 0 && open >= maxConnections) {
      const oldest = waiting.keys().next();
      if (oldest.done) {
        socket.destroy();
        return;
      }
      served(oldest.value);
      oldest.value.destroy();
    }
    open += 1;
    const deadline = setTimeout(() => socket.destroy(), headersTimeoutMs);
    deadline.unref();
    waiting.set(socket, deadline);
    socket.once('close', () => {
      open -= 1;
      served(socket);
    });
  });
  server.on('request', (request: IncomingMessage) => served(request.socket));
}
