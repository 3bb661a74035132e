import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a real server (here PostgreSQL), so a test can take the
 * database away from the app and give it back as an outage does: `cut()` resets every open
 * connection and refuses new ones until `restore()`. The server itself keeps running, so the
 * test's own connections (not through the proxy) still see the truth.
 */
export interface TcpProxy {
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  proxied(url: string): string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let up = true;
  const server = net.createServer((client) => {
    if (!up) return void client.resetAndDestroy();
    const upstream = net.connect(targetPort, targetHost);
    const pair = [client, upstream];
    for (const socket of pair) {
      open.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        open.delete(socket);
        for (const other of pair) if (other !== socket) other.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    proxied: (url) => {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut: () => {
      up = false;
      for (const socket of [...open]) socket.resetAndDestroy();
    },
    restore: () => {
      up = true;
    },
    close: async () => {
      up = false;
      for (const socket of [...open]) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
