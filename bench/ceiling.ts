import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { buildPayloadBody } from '../src/delivery/payload';
import { createHttpSender } from '../src/delivery/http-sender';
import { buildWebhookRequest, USER_AGENT } from '../src/delivery/request-builder';
import { generateSigningSecret } from '../src/delivery/signing';
import { HttpMethod, WebhookTrigger } from '../src/webhooks/triggers';
import { type Benchmark, loadLine, ms, once, rate, ratio, runPool, sized, summarize, type Summary, table } from './support';
import { startReceiver } from './support-http';

/**
 * The ceilings every delivery figure is compared with, measured with no database at all:
 * - the wire: a bare node:http keep-alive client loop POSTing a webhook-sized body, 16 in
 *   flight, to a loopback receiver in the same process;
 * - the sender: the project's own HTTP sender (got, the SSRF guard at connect time, the
 *   keep-alive agent) sending requests built and signed as the worker builds them, at 4 (the
 *   default per-webhook cap) and 16 in flight.
 * A delivery pipeline cannot beat the sender at the same concurrency; the gap is what the
 * queue (claim, lease, log row) costs on top of HTTP. Measured once per run and shared.
 */

export interface RawRun {
  label: string;
  requests: number;
  concurrency: number;
  perSec: number;
  latency: Summary;
  failures: number;
}

/** A real document_create body: UUIDs and an ISO timestamp, the same byte count as the worker sends. */
export function sampleBody(eventId: string = randomUUID(), projectId: string = randomUUID(), webhookId: string = randomUUID(), documentId: string = randomUUID()): string {
  const now = new Date();
  return buildPayloadBody(
    {
      id: eventId,
      projectId,
      trigger: WebhookTrigger.DOCUMENT_CREATE,
      metadata: { blueprint_id: randomUUID(), document_id: documentId, document_status_id: 0, triggered_user_id: randomUUID(), created_at: now.toISOString() },
    },
    webhookId,
  );
}

/** `requests` POSTs through the worker's own sender, each built and signed by buildWebhookRequest. */
export async function rawSender(requests: number, concurrency: number): Promise<RawRun> {
  let received = 0;
  const receiver = await startReceiver(() => received++);
  const sender = createHttpSender({ timeoutMs: 10_000, allowedCidrs: ['127.0.0.0/8'], userAgent: USER_AGENT });
  const webhook = { method: HttpMethod.POST, url: receiver.url, headers: [], signingSecret: generateSigningSecret(), previousSigningSecret: null, previousSecretExpiresAt: null };
  const projectId = randomUUID();
  const webhookId = randomUUID();
  const times: number[] = [];
  let failures = 0;
  try {
    const started = performance.now();
    await runPool(requests, concurrency, async () => {
      const eventId = randomUUID();
      const now = new Date();
      const { request } = buildWebhookRequest(webhook, { eventId, body: sampleBody(eventId, projectId, webhookId) }, Math.floor(now.getTime() / 1000), now);
      const t = performance.now();
      const result = await sender.send(request);
      times.push(performance.now() - t);
      if (!result.success) failures++;
    });
    const elapsed = (performance.now() - started) / 1000;
    // A success the receiver never saw (or the reverse) would make the baseline meaningless.
    if (received !== requests - failures) throw new Error(`raw sender: ${requests - failures} successes but ${received} received`);
    return { label: `project's sender, ${concurrency} in flight`, requests, concurrency, perSec: requests / elapsed, latency: summarize(times), failures };
  } finally {
    sender.close();
    await receiver.close();
  }
}

/** The wire: node:http with a keep-alive agent, no guard, no signing, no got. */
async function wire(requests: number, concurrency: number): Promise<RawRun> {
  let received = 0;
  const receiver = await startReceiver(() => received++);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const body = sampleBody();
  const target = new URL(receiver.url);
  const times: number[] = [];
  let failures = 0;
  const post = () =>
    new Promise<void>((resolve, reject) => {
      const t = performance.now();
      const req = http.request({ agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        if (res.statusCode !== 200) failures++;
        res.resume();
        res.on('end', () => {
          times.push(performance.now() - t);
          resolve();
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  try {
    const started = performance.now();
    await runPool(requests, concurrency, post);
    const elapsed = (performance.now() - started) / 1000;
    if (received !== requests) throw new Error(`wire: ${requests} sent but ${received} received`);
    return { label: `node http keep-alive loop, ${concurrency} in flight`, requests, concurrency, perSec: requests / elapsed, latency: summarize(times), failures };
  } finally {
    agent.destroy();
    await receiver.close();
  }
}

export interface Ceilings {
  wire: RawRun;
  /** The project's sender by concurrency (4 and 16, and the per-webhook cap if it is neither). */
  sender: Map<number, RawRun>;
  load: string;
}

/** A short unmeasured run first: the JIT and the sockets warm, so the first configuration is not penalised. */
async function measure(requests: number, concurrencies: number[]): Promise<Ceilings> {
  await wire(500, 16);
  await rawSender(500, 4);
  const result: Ceilings = { wire: await wire(requests * 2, 16), sender: new Map(), load: loadLine() };
  for (const c of concurrencies) result.sender.set(c, await rawSender(requests, c));
  return result;
}

const measured = once(() => measure(sized('ceiling-requests', 10_000, 2_000), [4, 16]));

/** The ceilings of this run (measured on first use); `concurrency` adds the sender at that concurrency. */
export async function ceilings(concurrency?: number): Promise<Ceilings> {
  const result = await measured();
  if (concurrency !== undefined && !result.sender.has(concurrency)) {
    result.sender.set(concurrency, await rawSender(sized('ceiling-requests', 10_000, 2_000), concurrency));
  }
  return result;
}

/** The sender at `concurrency`, or the nearest measured one below it. */
export function senderAt(c: Ceilings, concurrency: number): RawRun {
  const known = [...c.sender.keys()].sort((a, b) => a - b);
  const at = known.filter((k) => k <= concurrency).pop() ?? known[0];
  return c.sender.get(at)!;
}

export const ceiling: Benchmark = {
  name: 'ceiling',
  description: 'the wire (node http loop, 16 in flight) and the project\'s sender at 4 and 16 in flight, no database',
  async run(_server, log) {
    const c = await ceilings();
    const rows = [c.wire, ...c.sender.values()];
    log('');
    log(table(['ceiling (no database)', 'requests', 'req/s', 'p50 per request', 'p95', 'failures'], rows.map((r) =>
      [r.label, String(r.requests), rate(r.perSec), ms(r.latency.median), ms(r.latency.p95), String(r.failures)])));
    log('');
    log(table(['ratio (same run)', 'value'], [...c.sender.values()].map((s) => [`${s.label} ÷ the wire`, ratio(s.perSec / c.wire.perSec)])));
    log(`  measured at ${c.load}`);
  },
};
