import crypto from 'node:crypto';
import WebSocket from 'ws';
import { type Benchmark, type DatabaseServer, loadLine, ratio, sized, table } from './support';
import { rssOf, spawnBuiltServer } from './support-process';

/**
 * Unauthenticated WebSocket clients each sending one huge message (the first one, which would
 * be connection_init): how much does the server's memory grow? The server runs as its own
 * process (dist/src/main.js, ROLE=api) so that its RSS is only its own; the clients stream
 * one message in 1 MiB fragments, a few in flight, so they hold a few MiB themselves.
 *
 * Baseline in the same run: the same flood against WS_MAX_PAYLOAD_BYTES=104857600, ws's own
 * default and what the server had before, with the init timeout lifted: before, graphql-ws's
 * 3 s cut a slow upload short, but a client with the bandwidth got all 90 MB in.
 */

const CHUNK = Buffer.alloc(1024 * 1024, 0x20);
/** Fragments a client may have handed to its socket and not yet seen written. */
const IN_FLIGHT = 4;
const MiB = 1024 * 1024;

/** One client: opens a socket and streams a `bytes`-long text message until it is sent or the server closes. */
export async function floodOnce(url: string, bytes: number, timeoutMs: number): Promise<{ code: number; sent: number }> {
  // A zero mask is legal and lets ws skip masking (a copy and an XOR of every byte): the
  // clients stay cheap next to the server they measure.
  const ws = new WebSocket(url, 'graphql-transport-ws', { generateMask: (mask) => void mask.fill(0) });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.on('error', () => undefined);
  const closed = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`the server neither refused nor answered a ${bytes}-byte message within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  let sent = 0;
  const writing = new Set<Promise<void>>();
  while (sent < bytes && ws.readyState === WebSocket.OPEN) {
    const size = Math.min(CHUNK.length, bytes - sent);
    const fin = sent + size >= bytes;
    const written: Promise<void> = new Promise<void>((resolve) => ws.send(size === CHUNK.length ? CHUNK : CHUNK.subarray(0, size), { fin, binary: false }, () => resolve())).then(() => void writing.delete(written));
    writing.add(written);
    sent += size;
    // A few fragments in flight: fast enough to matter, and the client holds a few MiB at most.
    if (writing.size >= IN_FLIGHT) await Promise.race(writing);
  }
  return { code: await closed, sent };
}

/**
 * What a server has done once it has served anyone: a GraphQL request, /healthz, and a
 * WebSocket that initialises (and is refused: no token) and closes. Without it, the first
 * flood also pays for code and buffers any first client would have paid for.
 */
export async function warmUp(port: number): Promise<void> {
  await (await fetch(`http://127.0.0.1:${port}/healthz`)).arrayBuffer();
  await (await fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' })).arrayBuffer();
  const ws = new WebSocket(`ws://127.0.0.1:${port}/graphql`, 'graphql-transport-ws');
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: {} })));
    ws.once('close', () => resolve());
    ws.once('error', reject);
  });
}

export interface FloodMeasurement {
  codes: number[];
  /** Bytes the clients got onto the wire before the server closed them. */
  sent: number[];
  baselineRss: number;
  peakRss: number;
  seconds: number;
}

/** `clients` floods at once against the server process `pid`, sampling its RSS every 10 ms. */
export async function measureFlood(pid: number, url: string, clients: number, bytes: number, timeoutMs: number): Promise<FloodMeasurement> {
  const baselineRss = rssOf(pid);
  let peakRss = baselineRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssOf(pid))), 10);
  const started = performance.now();
  try {
    const results = await Promise.all(Array.from({ length: clients }, () => floodOnce(url, bytes, timeoutMs)));
    peakRss = Math.max(peakRss, rssOf(pid));
    return { codes: results.map((r) => r.code), sent: results.map((r) => r.sent), baselineRss, peakRss, seconds: (performance.now() - started) / 1000 };
  } finally {
    clearInterval(sampler);
  }
}

export const wsFlood: Benchmark = {
  name: 'ws-flood',
  description: 'server RSS growth while unauthenticated WebSocket clients each send one huge message',
  async run(server: DatabaseServer, log) {
    const clients = sized('flood-clients', 8, 2);
    const megabytes = sized('flood-mb', 90, 10);
    const configurations: Array<[string, string]> = [
      ['before: ws default maxPayload (100 MiB), no init timeout', String(100 * MiB)],
      ['after: the defaults (256 KiB, 5 s)', ''],
    ];
    const rows: string[][] = [];
    const growth: number[] = [];
    log(`${clients} clients × ${megabytes} MB, each one message streamed in 1 MiB fragments`);
    for (const [name, maxPayload] of configurations) {
      const url = await server.createDatabase('flood');
      const app = await spawnBuiltServer({
        DATABASE_URL: url,
        PORT: '0',
        ROLE: 'api',
        BOOTSTRAP_ADMIN_TOKEN: `bench-${crypto.randomBytes(12).toString('hex')}`,
        ...(maxPayload ? { WS_MAX_PAYLOAD_BYTES: maxPayload, WS_INIT_TIMEOUT_MS: '600000' } : {}),
      });
      try {
        await warmUp(app.port);
        const result = await measureFlood(app.child.pid!, `ws://127.0.0.1:${app.port}/graphql`, clients, megabytes * 1_000_000, 600_000);
        const health = (await fetch(`http://127.0.0.1:${app.port}/healthz`)).status;
        const grew = result.peakRss - result.baselineRss;
        growth.push(grew);
        const codes = [...new Set(result.codes)].join(', ');
        const sent = result.sent.reduce((a, b) => a + b, 0) / result.sent.length / MiB;
        rows.push([name, `${(result.baselineRss / MiB).toFixed(0)} MiB`, `${(result.peakRss / MiB).toFixed(0)} MiB`, `${(grew / MiB).toFixed(1)} MiB`, codes, `${sent.toFixed(2)} MiB`, `${result.seconds.toFixed(1)} s`, String(health)]);
        log(`  ${name}: +${(grew / MiB).toFixed(1)} MiB, close codes ${codes} (${loadLine()})`);
      } finally {
        await app.stop();
      }
    }
    log('');
    log(table(['configuration', 'RSS before', 'RSS peak', 'growth', 'close codes', 'sent per client', 'time', '/healthz after'], rows));
    log('');
    log(`growth before ÷ after: ${ratio(growth[0] / Math.max(growth[1], 1))}`);
  },
};
