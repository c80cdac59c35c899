import net from 'node:net';

/** Bytes held per direction of a connection before the relay stops reading it (as a full TCP window would). */
const HELD_BYTES_LIMIT = 1024 * 1024;

/** One direction of a relayed connection: what `from` sends, delivered to `to` unless held. */
interface Direction {
  from: net.Socket;
  to: net.Socket | undefined;
  held: Buffer[];
  heldBytes: number;
  /** `from` ended (or closed) while the relay was holding: pass that on once it delivers again. */
  ended: boolean;
}

/**
 * A TCP relay on 127.0.0.1 in front of a backend (PostgreSQL, an S3
 * server), which a test can switch into a silent network partition.
 *
 * `blackhole()`: every connection stays open and new ones are accepted, but
 * nothing passes in either direction and nothing is ever reset or closed —
 * bytes are held (up to 1 MiB per direction, then the relay stops reading,
 * so senders see a full window), as TCP would keep retransmitting them.
 * `heal()`: held bytes and closes are delivered in order, new connections
 * reach the backend, and relaying goes on. Connections either side closes
 * during the partition are closed on the other side only at `heal()`.
 *
 * Written with erasable TypeScript only, so `node` can run it directly
 * (bench scripts import it).
 */
export class BlackholeRelay {
  readonly target: { host: string; port: number };
  port = 0;
  #server: net.Server | undefined;
  #blackholed = false;
  #directions = new Set<Direction>();
  /** Clients accepted during a partition, waiting for their upstream connection. */
  #waiting: Array<() => void> = [];
  #sockets = new Set<net.Socket>();
  #clients = new Set<net.Socket>();

  constructor(target: { host: string; port: number }) {
    this.target = target;
  }

  /** A relay in front of `host:port`, listening on a free loopback port. */
  static async start(target: { host: string; port: number }): Promise<BlackholeRelay> {
    const relay = new BlackholeRelay(target);
    const server = net.createServer((client) => relay.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    relay.port = (server.address() as net.AddressInfo).port;
    relay.#server = server;
    return relay;
  }

  /** A relay in front of the host and port of `url` (e.g. `postgres://...` or `http://...`). */
  static forUrl(url: string, defaultPort: number): Promise<BlackholeRelay> {
    const parsed = new URL(url);
    return BlackholeRelay.start({ host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || defaultPort) });
  }

  /** `url` with its host and port replaced by the relay's. */
  urlFor(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  /** Connections the relay has accepted that are still open on its side. */
  get clientConnections(): number {
    return this.#clients.size;
  }

  get blackholed(): boolean {
    return this.#blackholed;
  }

  /** Starts a silent partition: nothing passes, nothing is reset. */
  blackhole(): void {
    this.#blackholed = true;
  }

  /** Ends the partition: what was held is delivered, and relaying goes on. */
  heal(): void {
    this.#blackholed = false;
    for (const direction of this.#directions) this.#flush(direction);
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const connect of waiting) connect();
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    this.#directions.clear();
    this.#waiting = [];
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #track(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
  }

  #accept(client: net.Socket): void {
    this.#track(client);
    this.#clients.add(client);
    client.on('close', () => this.#clients.delete(client));
    const up: Direction = { from: client, to: undefined, held: [], heldBytes: 0, ended: false };
    this.#directions.add(up);
    this.#listen(up);
    const connect = () => {
      if (client.destroyed) {
        this.#directions.delete(up);
        return;
      }
      const upstream = net.connect(this.target.port, this.target.host);
      this.#track(upstream);
      up.to = upstream;
      const down: Direction = { from: upstream, to: client, held: [], heldBytes: 0, ended: false };
      this.#directions.add(down);
      this.#listen(down);
      this.#flush(up);
    };
    // During a partition the backend is unreachable: connect once it heals.
    if (this.#blackholed) this.#waiting.push(connect);
    else connect();
  }

  #listen(direction: Direction): void {
    const { from } = direction;
    from.on('data', (chunk: Buffer) => {
      if (this.#blackholed || direction.to === undefined) {
        direction.held.push(chunk);
        direction.heldBytes += chunk.length;
        if (direction.heldBytes >= HELD_BYTES_LIMIT) from.pause();
        return;
      }
      if (!direction.to.write(chunk)) {
        from.pause();
        direction.to.once('drain', () => from.resume());
      }
    });
    const ended = () => {
      if (direction.ended) return;
      direction.ended = true;
      if (!this.#blackholed && direction.to !== undefined) this.#flush(direction);
    };
    from.on('end', ended);
    from.on('close', ended);
  }

  /** Delivers what a direction holds, and its end; resumes reading it. */
  #flush(direction: Direction): void {
    const to = direction.to;
    if (to === undefined) return;
    for (const chunk of direction.held) to.write(chunk);
    direction.held = [];
    direction.heldBytes = 0;
    if (direction.ended) {
      this.#directions.delete(direction);
      // A socket that closed abruptly is passed on as a reset; a clean end as an end.
      if (direction.from.readableEnded) to.end();
      else to.destroy();
      return;
    }
    direction.from.resume();
  }
}
