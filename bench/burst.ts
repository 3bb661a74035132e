import { loadConfig } from '../src/config/config';
import { isValidCidr } from '../src/delivery/ssrf';
import { WebhookTrigger } from '../src/webhooks/triggers';
import { rawSender, type RawRun } from './ceiling';
import {
  type BenchApp, type Benchmark, type DatabaseServer, loadLine, ms, option, rate, ratio,
  runPool, sized, startBenchApp, summarize, type Summary, table, waitFor,
} from './support';
import { BODY_FIELD } from './support-cms';
import { startReceiver } from './support-http';

/**
 * A burst of document saves to one webhook, end to end: save → outbox row (same
 * transaction) → NOTIFY → fan-out → claim → signed POST → receiver. Timing is all in one
 * process on one clock (performance.now), so "commit" (create() resolved) and "receipt"
 * (the receiver has the whole body) are directly comparable.
 *
 * Two baselines from the same run put the numbers in proportion: the same saves with no
 * webhook (the outbox and a fan-out matching nothing still run), and the bare HTTP sender
 * POSTing the same kind of request at the worker's per-endpoint concurrency, which for a
 * single webhook is the bound on throughput.
 */

interface SaveRun {
  label: string;
  saves: number;
  saveSeconds: number;
  /** Seconds from the last save until the worker had nothing left (fan-out, or deliveries logged). */
  settleSeconds: number;
  delivery?: {
    deliveredPerSec: number;
    /** From the first receipt to the last: the pipeline's own pace once it is busy. */
    steadyPerSec: number;
    /** Receipts after the last save, and their pace: the worker without savers competing for the CPU. */
    drain: { count: number; perSec: number } | null;
    latency: Summary;
    /** Saves one at a time, each awaited at the receiver: the latency with no backlog. */
    idleLatency: Summary | null;
    duplicates: number;
    missing: number;
    failedAttempts: number;
  };
}

interface BurstOptions {
  saves: number;
  saveConcurrency: number;
  /** Give up waiting once nothing has progressed for this long (the loops are bounded). */
  stallMs: number;
}

async function fixture(bench: BenchApp): Promise<{ projectId: string; blueprintId: string }> {
  const { services } = bench.app;
  const project = await services.projects.create(bench.actor, 'Bench');
  const blueprint = await services.blueprints.create(bench.actor, project.id, { name: 'Post', fields: [{ name: 'body', type: 'richtext' }] });
  return { projectId: project.id, blueprintId: blueprint.id };
}

async function count(bench: BenchApp, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await bench.app.dataSource.query(sql, params);
  return Number(row.n);
}

/** The saves themselves: `concurrency` savers, each awaiting its create() before the next. */
async function saveDocuments(bench: BenchApp, ids: { projectId: string; blueprintId: string }, saves: number, concurrency: number, onCommit: (id: string, at: number) => void) {
  const started = performance.now();
  await runPool(saves, concurrency, async (i) => {
    const document = await bench.app.services.documents.create(bench.actor, ids.projectId, {
      blueprintId: ids.blueprintId,
      title: `Post ${i}`,
      fields: { body: BODY_FIELD },
    });
    onCommit(document.id, performance.now());
  });
  return { started, ended: performance.now() };
}

/** Baseline (a): no webhook, so every event is fanned out to nothing. */
async function savesWithoutWebhook(server: DatabaseServer, opts: BurstOptions): Promise<SaveRun> {
  const { saves, saveConcurrency: concurrency, stallMs } = opts;
  const bench = await startBenchApp(await server.createDatabase('burst_nohook'));
  try {
    const ids = await fixture(bench);
    const { started, ended } = await saveDocuments(bench, ids, saves, concurrency, () => undefined);
    const undispatched = 'SELECT count(*) AS n FROM domain_event WHERE dispatched_at IS NULL';
    let left = Infinity;
    await waitFor(async () => (left = await count(bench, undispatched)) === 0, () => left, stallMs);
    return { label: 'no webhook', saves, saveSeconds: (ended - started) / 1000, settleSeconds: (performance.now() - ended) / 1000 };
  } finally {
    await bench.app.stop();
  }
}

async function savesWithWebhook(server: DatabaseServer, opts: BurstOptions, env: Record<string, string>, label: string, trickle: number): Promise<SaveRun> {
  const { saves, saveConcurrency, stallMs } = opts;
  const received = new Map<string, number>();
  let receipts = 0;
  let lastReceipt = 0;
  let awaited: { id: string; resolve: () => void } | null = null;
  const receiver = await startReceiver((body, at) => {
    receipts++;
    lastReceipt = Math.max(lastReceipt, at);
    const id = (JSON.parse(body) as { metadata: { document_id: string } }).metadata.document_id;
    if (!received.has(id)) received.set(id, at);
    if (awaited?.id === id) awaited.resolve();
  });
  const bench = await startBenchApp(await server.createDatabase('burst_hook'), env);
  try {
    const ids = await fixture(bench);
    const webhook = await bench.app.services.webhooks.create(bench.actor, ids.projectId, {
      name: 'Bench receiver',
      url: receiver.url,
      triggers: [WebhookTrigger.DOCUMENT_CREATE],
    });
    const committed = new Map<string, number>();
    const { started, ended } = await saveDocuments(bench, ids, saves, saveConcurrency, (id, at) => committed.set(id, at));

    await waitFor(() => received.size >= saves, () => receipts, stallMs);
    // Receipt is what the benchmark is about; the log rows come a moment later, in the same attempt.
    const settled = `SELECT count(*) AS n FROM webhook_delivery WHERE status <> 'pending' AND webhook_id = $1`;
    let done = 0;
    await waitFor(async () => (done = await count(bench, settled, [webhook.id])) >= received.size, () => done, stallMs);
    const settleSeconds = (performance.now() - ended) / 1000;

    const latencies: number[] = [];
    let missing = 0;
    let firstReceipt = Infinity;
    let afterSaves = 0;
    for (const [id, commitAt] of committed) {
      const receivedAt = received.get(id);
      if (receivedAt === undefined) missing++;
      else latencies.push(receivedAt - commitAt);
    }
    for (const at of received.values()) {
      firstReceipt = Math.min(firstReceipt, at);
      if (at > ended) afterSaves++;
    }
    const duplicates = receipts - received.size;
    const failedAttempts = await count(bench, 'SELECT count(*) AS n FROM webhook_call WHERE NOT success');

    // The floor under the burst's latencies: one save at a time, each awaited at the receiver.
    const idle: number[] = [];
    for (let i = 0; i < trickle; i++) {
      const reached = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`idle save ${i}: no receipt within ${stallMs} ms`)), stallMs);
        awaited = { id: '', resolve: () => (clearTimeout(timer), resolve()) };
      });
      const document = await bench.app.services.documents.create(bench.actor, ids.projectId, { blueprintId: ids.blueprintId, title: `Idle ${i}`, fields: { body: BODY_FIELD } });
      const commitAt = performance.now();
      awaited!.id = document.id;
      if (received.has(document.id)) awaited!.resolve();
      await reached;
      idle.push(received.get(document.id)! - commitAt);
    }
    return {
      label,
      saves,
      saveSeconds: (ended - started) / 1000,
      settleSeconds,
      delivery: {
        deliveredPerSec: received.size / ((lastReceipt - started) / 1000),
        steadyPerSec: received.size / ((lastReceipt - firstReceipt) / 1000),
        drain: afterSaves === 0 ? null : { count: afterSaves, perSec: afterSaves / ((lastReceipt - ended) / 1000) },
        latency: summarize(latencies),
        idleLatency: idle.length > 0 ? summarize(idle) : null,
        duplicates,
        missing,
        failedAttempts,
      },
    };
  } finally {
    await bench.app.stop();
    await receiver.close();
  }
}

function report(log: (line: string) => void, noHook: SaveRun, hooks: Array<[SaveRun, RawRun]>): void {
  const perSec = (r: SaveRun) => r.saves / r.saveSeconds;
  log('');
  log(table(
    ['configuration', 'saves/s', 'delivered/s (first save→last receipt)', 'delivered/s (first→last receipt)', 'delivered/s after the last save', 'settled after last save', 'dup/missing/failed'],
    [noHook, ...hooks.map(([h]) => h)].map((r) => {
      const d = r.delivery;
      return [r.label, rate(perSec(r)), d ? rate(d.deliveredPerSec) : '-', d ? rate(d.steadyPerSec) : '-',
        d?.drain ? `${rate(d.drain.perSec)} (${d.drain.count} events)` : '-', `${r.settleSeconds.toFixed(1)} s`, d ? `${d.duplicates}/${d.missing}/${d.failedAttempts}` : '-'];
    }),
  ));
  log('');
  log(table(['commit→receipt', 'p50', 'p95', 'p99', 'max'], hooks.flatMap(([h]) => {
    const d = h.delivery!;
    const row = (what: string, s: Summary) => [`${h.label}, ${what}`, ms(s.median), ms(s.p95), ms(s.p99), ms(s.max)];
    return [row(`burst of ${h.saves}`, d.latency), ...(d.idleLatency ? [row(`${d.idleLatency.n} saves one at a time`, d.idleLatency)] : [])];
  })));
  log('');
  log(table(['baseline: raw HTTP sender', 'req/s', 'p50 per request', 'p95', 'failures'], hooks.map(([, r]) =>
    [r.label, rate(r.perSec), ms(r.latency.median), ms(r.latency.p95), String(r.failures)])));
  log('');
  const ratios: string[][] = [];
  for (const [hook, raw] of hooks) {
    const d = hook.delivery!;
    const vsRaw = `÷ raw sender req/s at ${raw.concurrency} in flight`;
    ratios.push([`${hook.label}: saves/s ÷ saves/s without webhook`, ratio(perSec(hook) / perSec(noHook))]);
    ratios.push([`${hook.label}: delivered/s (first save→last receipt) ${vsRaw}`, ratio(d.deliveredPerSec / raw.perSec)]);
    if (d.drain) ratios.push([`${hook.label}: delivered/s after the last save ${vsRaw}`, ratio(d.drain.perSec / raw.perSec)]);
  }
  if (hooks.length === 2) {
    const [[low], [high]] = hooks;
    ratios.push([`delivered/s: ${high.label} ÷ ${low.label}`, ratio(high.delivery!.deliveredPerSec / low.delivery!.deliveredPerSec)]);
  }
  log(table(['ratio (same run)', 'value'], ratios));
  for (const [r] of hooks) {
    if (r.delivery!.missing > 0 || r.delivery!.duplicates > 0) log(`WARNING ${r.label}: ${r.delivery!.missing} missing, ${r.delivery!.duplicates} duplicate receipts`);
  }
}

async function run(server: DatabaseServer, log: (line: string) => void): Promise<void> {
  const opts: BurstOptions = { saves: sized('saves', 10_000, 400), saveConcurrency: option('save-concurrency', 16), stallMs: option('stall-ms', 60_000) };
  const raised = option('endpoint-concurrency', 16);
  const trickle = sized('idle-saves', 200, 20);
  // The default per-endpoint cap, read the way the app reads it (no override = the default).
  const defaultCap = loadConfig({}, isValidCidr).webhook.perWebhookConcurrency;
  // The worker-wide cap must not become the bound instead.
  const raisedEnv = { WEBHOOK_PER_ENDPOINT_CONCURRENCY: String(raised), WEBHOOK_CONCURRENCY: String(Math.max(raised, 32)) };
  log(`burst: ${opts.saves} saves, ${opts.saveConcurrency} concurrent savers; per-endpoint concurrency ${defaultCap} (default) and ${raised}`);

  const step = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    log(`  ${what}… (${loadLine()})`);
    return work();
  };
  // Each baseline runs right before what it is compared with, so a load change on the shared machine hits both.
  const noHook = await step('saves, no webhook', () => savesWithoutWebhook(server, opts));
  const rawDefault = await step(`raw sender at ${defaultCap}`, () => rawSender(opts.saves, defaultCap));
  const hookDefault = await step(`saves + webhook, per-endpoint ${defaultCap}, then ${trickle} saves one at a time`, () =>
    savesWithWebhook(server, opts, {}, `per-endpoint ${defaultCap} (default)`, trickle));
  const rawRaised = await step(`raw sender at ${raised}`, () => rawSender(opts.saves, raised));
  const hookRaised = await step(`saves + webhook, per-endpoint ${raised}`, () =>
    savesWithWebhook(server, opts, raisedEnv, `per-endpoint ${raised}`, 0));
  log(`  done (${loadLine()})`);
  report(log, noHook, [[hookDefault, rawDefault], [hookRaised, rawRaised]]);
}

export const burst: Benchmark = {
  name: 'burst',
  description: 'events per second delivered in a burst of document saves to one webhook; p50/p95 from save commit to receipt',
  run,
};
