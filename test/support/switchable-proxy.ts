import { connect, createServer, type Socket } from 'node:net';

/** How a {@link SwitchableProxy} treats connections. */
export type ProxyMode = 'forward' | 'refuse' | 'hang';

/** A loopback TCP proxy to a port that can be switched to refuse or to swallow connections: a directory outage on demand. */
export interface SwitchableProxy {
  url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  set(mode: ProxyMode): void;
  stop(): Promise<void>;
}

/** Starts a proxy on a random loopback port forwarding to `127.0.0.1:targetPort`; `scheme` names the URL (`ldap`). */
export async function startSwitchableProxy(targetPort: number, scheme = 'ldap'): Promise<SwitchableProxy> {
  let mode: ProxyMode = 'forward';
  let connections = 0;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  };
  const server = createServer((client) => {
    track(client);
    connections++;
    if (mode === 'refuse') return void client.destroy();
    if (mode === 'hang') return;
    const upstream = connect(targetPort, '127.0.0.1');
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    set(next) {
      mode = next;
      // Connections made before the outage go down with it.
      if (next !== 'forward') for (const socket of sockets) socket.destroy();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
