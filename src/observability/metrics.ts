import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, type MetricObjectWithValues, type MetricValue, Registry } from 'prom-client';
import { errorClass, type ClassifiableResult } from './classify';

/**
 * Every metric the product exposes, defined once (README "Metrics" documents each). The seams
 * call the small functions below, one call per event; each returns at once unless metrics are
 * on (METRICS_PORT set), so a process without a metrics listener pays one boolean test.
 *
 * Labels come from fixed sets only (trigger, kind, outcome, error class, state, a bounded
 * operation name): never a webhook, project, delivery or event id. Which webhook is failing is
 * for the log and `webhookStats`, not for a label whose values grow with the data.
 *
 * Each thread has its own copy of this module. The delivery thread (ROLE=all) records here
 * too, and the main thread merges the thread's values into its /metrics (delivery.thread.ts).
 */

let enabled = false;

export const registry = new Registry();

/** Turns recording on for this thread; with `defaults`, Node's process metrics too (main thread only: one process). */
export function enableMetrics(options: { defaults: boolean }): void {
  if (enabled) return;
  enabled = true;
  if (options.defaults) collectDefaultMetrics({ register: registry });
}

export function metricsEnabled(): boolean {
  return enabled;
}

const SECONDS_FAST = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SECONDS_SLOW = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

const eventsCaptured = new Counter({
  name: 'cms_webhooks_events_captured_total',
  help: 'Domain events fanned out (each committed event counts once, when a worker marks it dispatched; a rolled-back change never counts)',
  labelNames: ['trigger'],
  registers: [registry],
});

const fanoutLag = new Histogram({
  name: 'cms_webhooks_fanout_lag_seconds',
  help: 'From an event being written (its transaction start) to its deliveries being queued',
  buckets: SECONDS_SLOW,
  registers: [registry],
});

const attempts = new Counter({
  name: 'cms_webhooks_attempts_total',
  help: 'HTTP attempts of webhook calls, by kind (EVENT, REPLAY, TEST), outcome and error class',
  labelNames: ['kind', 'outcome', 'error_class'],
  registers: [registry],
});

const attemptDuration = new Histogram({
  name: 'cms_webhooks_attempt_duration_seconds',
  help: 'Duration of one HTTP attempt, connect to last byte (or to the failure)',
  labelNames: ['outcome'],
  buckets: SECONDS_FAST.concat([30, 60]),
  registers: [registry],
});

const givenUp = new Counter({
  name: 'cms_webhooks_deliveries_given_up_total',
  help: 'Deliveries that failed their last attempt of WEBHOOK_RETRY_SCHEDULE and will not be retried',
  registers: [registry],
});

const webhooksDisabled = new Counter({
  name: 'cms_webhooks_webhooks_disabled_total',
  help: 'Webhooks disabled: auto (every call failed for WEBHOOK_AUTO_DISABLE_AFTER) or manual (updateWebhook)',
  labelNames: ['reason'],
  registers: [registry],
});

const listenReconnects = new Counter({
  name: 'cms_webhooks_listen_reconnects_total',
  help: 'LISTEN connections re-established after losing the database',
  labelNames: ['connection'],
  registers: [registry],
});

const graphqlOperations = new Counter({
  name: 'cms_webhooks_graphql_operations_total',
  help: 'GraphQL operations over HTTP, by bounded operation name, type and outcome (success, error, rejected)',
  labelNames: ['operation', 'type', 'outcome'],
  registers: [registry],
});

const graphqlDuration = new Histogram({
  name: 'cms_webhooks_graphql_operation_duration_seconds',
  help: 'GraphQL operations over HTTP: from the request to the response, by bounded operation name and type',
  labelNames: ['operation', 'type'],
  buckets: SECONDS_FAST,
  registers: [registry],
});

// ---------------------------------------------------------------------------------------------
// Recording: one call per event at the seams.

export function eventsFannedOut(events: ReadonlyArray<{ trigger: string; lagSeconds: number }>): void {
  if (!enabled) return;
  for (const event of events) {
    eventsCaptured.inc({ trigger: event.trigger });
    fanoutLag.observe(Math.max(0, event.lagSeconds));
  }
}

export function attemptMade(kind: string, result: ClassifiableResult & { durationMs: number }): void {
  if (!enabled) return;
  const outcome = result.success ? 'success' : 'failure';
  attempts.inc({ kind, outcome, error_class: errorClass(result) });
  attemptDuration.observe({ outcome }, Math.max(0, result.durationMs) / 1000);
}

export function deliveryGivenUp(): void {
  if (enabled) givenUp.inc();
}

export function webhookDisabled(reason: 'auto' | 'manual'): void {
  if (enabled) webhooksDisabled.inc({ reason });
}

export function listenReconnected(connection: string): void {
  if (enabled) listenReconnects.inc({ connection });
}

export function graphqlOperationDone(operation: string, type: string, outcome: 'success' | 'error' | 'rejected', seconds: number): void {
  if (!enabled) return;
  graphqlOperations.inc({ operation, type, outcome });
  graphqlDuration.observe({ operation, type }, seconds);
}

// ---------------------------------------------------------------------------------------------
// Read at scrape time: nothing is recorded per event for these.

export interface PoolStats {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

const pools = new Map<string, () => PoolStats | undefined>();

/** A connection pool to report as `pool`; the returned function stops reporting it. */
export function watchPool(name: string, stats: () => PoolStats | undefined): () => void {
  pools.set(name, stats);
  return () => {
    if (pools.get(name) === stats) pools.delete(name);
  };
}

new Gauge({
  name: 'cms_webhooks_db_pool_connections',
  help: 'Pooled PostgreSQL connections by pool (api: the main one; delivery: the delivery thread\'s) and state (in_use, idle)',
  labelNames: ['pool', 'state'],
  registers: [registry],
  collect() {
    this.reset();
    for (const [pool, read] of pools) {
      const stats = read();
      if (!stats) continue;
      this.set({ pool, state: 'in_use' }, stats.totalCount - stats.idleCount);
      this.set({ pool, state: 'idle' }, stats.idleCount);
    }
  },
});

new Gauge({
  name: 'cms_webhooks_db_pool_waiting_requests',
  help: 'Queries waiting for a pooled connection, by pool',
  labelNames: ['pool'],
  registers: [registry],
  collect() {
    this.reset();
    for (const [pool, read] of pools) {
      const stats = read();
      if (stats) this.set({ pool }, stats.waitingCount);
    }
  },
});

let openSubscriptions: (() => { subscriptions: number; connections: number }) | null = null;

/** The API's WebSocket server reports what it holds open (server.ts). */
export function watchSubscriptions(read: typeof openSubscriptions): void {
  openSubscriptions = read;
}

new Gauge({
  name: 'cms_webhooks_graphql_subscriptions_open',
  help: 'GraphQL subscriptions open over WebSocket (webhookCallLogged, webhookEvents, ...)',
  registers: [registry],
  collect() {
    this.set(openSubscriptions?.().subscriptions ?? 0);
  },
});

new Gauge({
  name: 'cms_webhooks_websocket_connections_open',
  help: 'GraphQL WebSocket connections open',
  registers: [registry],
  collect() {
    this.set(openSubscriptions?.().connections ?? 0);
  },
});

export interface QueueDepth {
  due: number;
  inFlight: number;
  scheduled: number;
  paused: number;
  oldestDueSeconds: number;
}

let queueDepth: (() => Promise<QueueDepth>) | null = null;

/** Processes that deliver report the queue (queue-depth.ts reads it); every such process reports the same numbers. */
export function watchQueue(read: typeof queueDepth): void {
  queueDepth = read;
}

let queueOk = 0;
let refreshing: Promise<void> | null = null;

/** One read per scrape, shared by the three gauges below (a scrape collects them together). */
function refreshQueue(): Promise<void> {
  refreshing ??= (async () => {
    if (!queueDepth) return;
    try {
      const depth = await queueDepth();
      queueGauge.set({ state: 'due' }, depth.due);
      queueGauge.set({ state: 'in_flight' }, depth.inFlight);
      queueGauge.set({ state: 'scheduled' }, depth.scheduled);
      queueGauge.set({ state: 'paused' }, depth.paused);
      oldestDue.set(depth.oldestDueSeconds);
      queueOk = 1;
    } catch {
      // No number is better than a stale one; queue_query_ok says why they are missing.
      queueGauge.reset();
      oldestDue.reset();
      queueOk = 0;
    }
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

const queueGauge: Gauge = new Gauge({
  name: 'cms_webhooks_deliveries_pending',
  help: 'Pending deliveries of the whole database, by state: due (waiting for a slot), in_flight (leased), scheduled (retry later), paused (webhook disabled). The same in every worker process: aggregate with max',
  labelNames: ['state'],
  aggregator: 'max',
  registers: [registry],
  collect: () => refreshQueue(),
});

const oldestDue: Gauge = new Gauge({
  name: 'cms_webhooks_oldest_due_delivery_age_seconds',
  help: 'How long the oldest due, unleased delivery of an enabled webhook has waited past its due time (0 when none)',
  aggregator: 'max',
  registers: [registry],
  collect: () => refreshQueue(),
});

new Gauge({
  name: 'cms_webhooks_queue_query_ok',
  help: '1 when the queue gauges were read at this scrape; 0 when the database did not answer in time (they are then absent)',
  aggregator: 'max',
  registers: [registry],
  async collect() {
    if (!queueDepth) return;
    await refreshQueue();
    this.set(queueOk);
  },
});

// ---------------------------------------------------------------------------------------------
// Exposition

export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/** This thread's values, for a parent thread to merge. */
export async function snapshot(): Promise<MetricsSnapshot> {
  return (await registry.getMetricsAsJSON()) as MetricsSnapshot;
}

/**
 * The exposition text: this thread's metrics plus other threads' snapshots, summed by labels
 * (counters and histograms add up; the queue gauges take the max).
 */
export async function render(others: readonly MetricsSnapshot[] = []): Promise<{ contentType: string; text: string }> {
  if (others.length === 0) return { contentType: registry.contentType, text: await registry.metrics() };
  const merged = AggregatorRegistry.aggregate([await snapshot(), ...others]);
  return { contentType: registry.contentType, text: await merged.metrics() };
}
