import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * HTTP on both sides of the server under test, all on 127.0.0.1: receivers that stand in for
 * webhook endpoints (one that answers at once, one that never answers), a keep-alive GraphQL
 * client, and an open-loop schedule for steady load.
 */

export interface BenchReceiver {
  /** `${base}/hook`; any path under `base` reaches the same receiver (one path per webhook). */
  url: string;
  base: string;
  close(): Promise<void>;
}

function listen(server: http.Server, sockets?: Set<Socket>): Promise<string> {
  if (sockets) {
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
  }
  return new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

/**
 * A loopback receiver that answers 200 as soon as the body is in, and hands each body to
 * `onBody` with its arrival time and path. No test helper: it keeps no request list, so
 * 100,000 requests cost no memory beyond what the caller keeps.
 */
export async function startReceiver(onBody: (body: string, receivedAt: number, path: string) => void): Promise<BenchReceiver> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const receivedAt = performance.now();
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      onBody(Buffer.concat(chunks).toString('utf8'), receivedAt, req.url ?? '/');
    });
  });
  // Longer than any pause in a run, so the senders' keep-alive connections are not cut under them.
  server.keepAliveTimeout = 30_000;
  const base = await listen(server);
  return {
    url: `${base}/hook`,
    base,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An endpoint that accepts every request and never answers: each attempt to it lasts until the sender's timeout. */
export async function startHangingReceiver(): Promise<BenchReceiver & { arrived(): number; cut(): Promise<void> }> {
  let arrived = 0;
  const sockets = new Set<Socket>();
  const server = http.createServer((req) => {
    arrived++;
    req.resume();
  });
  server.requestTimeout = 0;
  const base = await listen(server, sockets);
  return {
    url: `${base}/hook`,
    base,
    arrived: () => arrived,
    // Cut the held requests (and keep listening): the attempts fail at once instead of holding a worker's stop.
    cut: async () => {
      for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const DOCUMENT_ID = /"document_id":"([0-9a-f-]+)"/;

/** The document a webhook body is about (metadata.document_id), without parsing the whole body. */
export function documentIdOf(body: string): string {
  const match = DOCUMENT_ID.exec(body);
  if (!match) throw new Error(`a body without metadata.document_id: ${body.slice(0, 200)}`);
  return match[1];
}

/**
 * What the receivers got, keyed by path and document: the first arrival of each, duplicates,
 * and the first and last arrival times. `reset()` starts a new measurement on the same receivers.
 */
export class Receipts {
  private first = new Map<string, number>();
  private waiting = new Map<string, () => void>();
  total = 0;
  firstAt = Infinity;
  lastAt = 0;
  /** Called once, at the first receipt after a reset (to start CPU meters when work starts). */
  onFirst: (() => void) | null = null;

  /** Hand this to startReceiver. */
  readonly record = (body: string, at: number, path: string): void => {
    const key = `${path} ${documentIdOf(body)}`;
    this.total++;
    if (this.total === 1) this.onFirst?.();
    this.firstAt = Math.min(this.firstAt, at);
    this.lastAt = Math.max(this.lastAt, at);
    if (this.first.has(key)) return;
    this.first.set(key, at);
    this.waiting.get(key)?.();
  };

  get unique(): number {
    return this.first.size;
  }

  get duplicates(): number {
    return this.total - this.first.size;
  }

  /** When `documentId` first reached `path`, or undefined. */
  at(path: string, documentId: string): number | undefined {
    return this.first.get(`${path} ${documentId}`);
  }

  /** Resolves with the arrival time of `documentId` at `path`; rejects after `timeoutMs`. */
  arrival(path: string, documentId: string, timeoutMs: number): Promise<number> {
    const key = `${path} ${documentId}`;
    const known = this.first.get(key);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        reject(new Error(`${documentId} did not reach ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(key, () => {
        clearTimeout(timer);
        this.waiting.delete(key);
        resolve(this.first.get(key)!);
      });
    });
  }

  reset(): void {
    this.first.clear();
    this.total = 0;
    this.firstAt = Infinity;
    this.lastAt = 0;
  }
}

export interface GraphqlClient {
  /** `data` of the answer; throws on HTTP errors and GraphQL errors. */
  request<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<T>;
  close(): void;
}

/** A GraphQL client over node:http with keep-alive connections, as a busy API client would hold them. */
export function graphqlClient(url: string, token: string, maxSockets = 64): GraphqlClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const target = new URL(url);
  return {
    request: <T>(query: string, variables: Record<string, unknown> = {}) =>
      new Promise<T>((resolve, reject) => {
        const payload = JSON.stringify({ query, variables });
        const req = http.request(
          { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: `Bearer ${token}` } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', reject);
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              try {
                const body = JSON.parse(text) as { data?: T; errors?: unknown[] };
                if (body.errors || res.statusCode !== 200) reject(new Error(`GraphQL ${res.statusCode}: ${JSON.stringify(body.errors ?? body).slice(0, 500)}`));
                else resolve(body.data as T);
              } catch {
                reject(new Error(`GraphQL ${res.statusCode}: not JSON: ${text.slice(0, 200)}`));
              }
            });
          },
        );
        req.on('error', reject);
        req.end(payload);
      }),
    close: () => agent.destroy(),
  };
}

export interface OpenLoopResult {
  count: number;
  seconds: number;
  /** The latest any request left after its scheduled time: a large one means the load itself fell behind. */
  maxLateMs: number;
}

/**
 * `perSecond` calls of `fire` for `seconds`, each at its scheduled time whether or not earlier
 * ones have answered (open loop): a slow server gets the same arrivals, as it would from many
 * independent clients, instead of being waited on. Resolves when every call has settled.
 */
export async function openLoop(perSecond: number, seconds: number, fire: (i: number) => Promise<void>): Promise<OpenLoopResult> {
  const count = Math.round(perSecond * seconds);
  const interval = 1000 / perSecond;
  const started = performance.now();
  const calls: Array<Promise<void>> = [];
  let maxLateMs = 0;
  let failure: unknown = null;
  for (let i = 0; i < count && failure === null; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
    maxLateMs = Math.max(maxLateMs, performance.now() - due);
    // Caught at once: a rejection left unobserved until the end would end the process.
    calls.push(fire(i).catch((error) => void (failure ??= error)));
  }
  const sent = performance.now();
  await Promise.all(calls);
  if (failure !== null) throw failure;
  return { count, seconds: (sent - started) / 1000, maxLateMs };
}
