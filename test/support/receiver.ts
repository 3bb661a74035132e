import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as it reached the receiver. */
export interface ReceivedRequest {
  method: string;
  /** The request target: path and query string. */
  path: string;
  /** Lower-case names; repeated headers joined by Node's rules. */
  headers: Record<string, string>;
  /** As on the wire: [name, value, name, value, …]. */
  rawHeaders: string[];
  body: string;
  /** Date.now() when the body had been read. */
  at: number;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * Decides the answer to each request; `index` counts arrivals from 0. Returning a Promise holds
 * the response until it resolves: a slow or stuck endpoint whose pace the test controls.
 */
export type ReplyFunction = (request: ReceivedRequest, index: number) => Reply | Promise<Reply>;

export interface ReceiverOptions {
  /** Listen here rather than on a free port: brings a receiver back where an earlier one was. */
  port?: number;
}

/** A real HTTP receiver on 127.0.0.1 that records every request. Answers 204 unless told otherwise. */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  url = '';
  /** Called on every arrival, so a wait ends as soon as its request is in, without polling. */
  private readonly arrivals = new Set<() => void>();
  private readonly server: http.Server;

  constructor(readonly reply: ReplyFunction = () => ({ status: 204 })) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const received: ReceivedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')])),
          rawHeaders: req.rawHeaders,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        };
        const index = this.requests.push(received) - 1;
        // Asked before the waiters look, so a wait on "request in and reply held" sees both.
        const answering = this.reply(received, index);
        this.arrivals.forEach((arrived) => arrived());
        const answer = await answering;
        if (res.destroyed) return; // the sender gave up, or the test closed the receiver
        res.writeHead(answer.status ?? 204, answer.headers ?? {});
        res.end(answer.body ?? '');
      });
    });
  }

  async start(options: ReceiverOptions = {}): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(options.port ?? 0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  /** Resolves once `holds` is true of the requests so far (checked now and on every arrival). */
  waitUntil(what: string, holds: (requests: ReceivedRequest[]) => boolean, timeoutMs = 20_000): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (holds(this.requests)) return resolve();
      const check = () => {
        if (!holds(this.requests)) return;
        this.arrivals.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.arrivals.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for: ${what}; the receiver got ${this.requests.length} request(s)`));
      }, timeoutMs);
      this.arrivals.add(check);
    });
  }

  /** Resolves with the first `count` requests once that many have arrived. */
  async waitForCount(count: number, timeoutMs = 10_000): Promise<ReceivedRequest[]> {
    await this.waitUntil(`${count} request(s)`, (requests) => requests.length >= count, timeoutMs);
    return this.requests.slice(0, count);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export async function startReceiver(reply?: ReplyFunction, options: ReceiverOptions = {}): Promise<Receiver> {
  return new Receiver(reply).start(options);
}
