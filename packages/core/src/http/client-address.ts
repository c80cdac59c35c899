import { isIP } from 'node:net';

/** What the host knows about a request beyond the `Request` itself. */
export interface FetchHandlerContext {
  /** Address of the peer that opened the connection (the Node bridge fills it from the socket). */
  clientAddress?: string;
  /**
   * The path the host mounted the handler under when it strips it from the
   * request's URL (Express routers do): the web API scopes its session
   * cookie to it.
   */
  mountPath?: string;
}

/** Finds the client address of a request, e.g. from a header your proxy sets. */
export type ClientAddressResolver = (request: Request, context: FetchHandlerContext) => string | undefined;

/** Only the end of `X-Forwarded-For` is read: trusted entries are appended last, and are short. */
const FORWARDED_TAIL = 4096;

/**
 * The client address when `trustProxy` reverse proxies stand in front
 * (each appending the address it saw to `X-Forwarded-For`, as nginx's
 * `$proxy_add_x_forwarded_for` does): the entry `trustProxy` hops back from
 * the connection's peer. Entries further left were written by the client
 * and are never trusted. `0` (or no header) means the peer itself.
 */
export function forwardedClientAddress(trustProxy: number): ClientAddressResolver {
  return (request, context) => {
    const peer = context.clientAddress;
    if (trustProxy <= 0) return peer;
    const header = request.headers.get('x-forwarded-for');
    if (header === null) return peer;
    // A long header is the client's own padding: its end still holds what the proxies appended.
    const entries = header.slice(-FORWARDED_TAIL).split(',').map((e) => e.trim());
    // [client..., proxy 1, ..., proxy n-1] + peer: the client is n hops back from the peer.
    const chain = [...entries, peer ?? ''];
    const candidate = chain[Math.max(0, chain.length - 1 - trustProxy)]!;
    return isIP(candidate) ? candidate : peer;
  };
}
