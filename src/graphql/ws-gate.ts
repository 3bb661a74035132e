import { IncomingMessage, Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';

export interface UpgradeGateOptions {
  path: string;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  isDraining(): boolean;
}

/** How long a client that sent an oversized message has to finish the close handshake. */
const OVERSIZE_GRACE_MS = 2000;

export interface UpgradeGate {
  /** Sockets admitted and not yet closed, handshakes in progress included. */
  open(): number;
}

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * Admits WebSocket upgrades before the handshake, so a refused client never holds a socket:
 * over WS_MAX_CONNECTIONS it gets 503, over WS_MAX_CONNECTIONS_PER_ADDRESS 429. A socket counts
 * from its upgrade request until its TCP connection closes. The address is the peer's as this
 * process sees it (behind a proxy, the proxy's).
 */
export function gateUpgrades(server: Server, wss: WebSocketServer, options: UpgradeGateOptions): UpgradeGate {
  let total = 0;
  const perAddress = new Map<string, number>();

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // The HTTP server has let go of this socket: a reset before ws takes it must not crash us.
    socket.on('error', () => socket.destroy());
    const address = req.socket.remoteAddress ?? 'unknown';
    const fromAddress = perAddress.get(address) ?? 0;
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== options.path) {
      return refuse(socket, 404, 'NOT_FOUND', `WebSocket connections are served on ${options.path} only`);
    }
    if (options.isDraining()) return refuse(socket, 503, 'SERVICE_UNAVAILABLE', 'The server is shutting down');
    if (total >= options.maxConnections) {
      return refuse(socket, 503, 'TOO_MANY_CONNECTIONS', `Too many WebSocket connections (limit ${options.maxConnections}); try again later`);
    }
    if (fromAddress >= options.maxConnectionsPerAddress) {
      return refuse(socket, 429, 'TOO_MANY_CONNECTIONS', `Too many WebSocket connections from your address (limit ${options.maxConnectionsPerAddress})`);
    }
    total += 1;
    perAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      total -= 1;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
    wss.handleUpgrade(req, socket, head, (ws) => {
      wss.emit('connection', ws, req);
      // ws emits 'error' for a client's protocol error after closing with the code that names
      // it (1009 too big, 1007 bad UTF-8…). graphql-ws prints each one to stderr as an internal
      // error with its stack: a line per attempt, for the client's mistake. Handled here instead.
      ws.removeAllListeners('error');
      ws.on('error', (error: Error & { code?: string }) => {
        if (error.code !== 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return;
        // After 1009 ws resumes the socket and drops what still arrives until the close
        // handshake times out (30 s): reading at line rate for nothing. Stop reading (this tick
        // runs after ws's resume), so TCP makes the client wait, and cut it off after a grace.
        process.nextTick(() => socket.pause());
        const timer = setTimeout(() => socket.destroy(), OVERSIZE_GRACE_MS);
        socket.once('close', () => clearTimeout(timer));
      });
    });
  });

  return { open: () => total };
}
