import type { DataSource, EntityManager } from 'typeorm';
import { CHANNELS } from '../db/names';
import { DEFAULT_SETTLE_HEALTH, type SettleHealth, warnAfterMs } from '../health/health.rules';
import { HEALTH } from '../health/settle-health.sql';
import { DeliveryStatus, WebhookCallKind } from './delivery.entity';
import { type ClaimedDelivery, type ClaimedRow, toClaimedDelivery } from './delivery-row';
import { isTracingOn } from '../observability/tracing';

/**
 * The delivery queue: every statement on `webhook_delivery` lives here, so its concurrency
 * can be reasoned about in one place.
 *
 * - enqueue: fan-out inserts one row per (event, webhook), idempotently.
 * - claim: a worker leases due rows (FOR UPDATE SKIP LOCKED, so workers never wait on each
 *   other) within its free slots and each webhook's cap.
 * - settle: a batch of attempt outcomes is written in one statement: the log rows, and the
 *   deliveries' new state, fenced by the lease (`leased_by`): a worker whose lease expired and
 *   was taken over must not overwrite the new holder's state, but its log row is written
 *   either way, since the request went out.
 * - release: a stopping worker hands its leases back at once.
 * - requeue: recovery puts deliveries that failed for good back in the queue.
 * - FIFO webhooks are claimed apart, one head at a time (queue-fifo.ts); claimDue leaves them alone.
 *
 * A delivery is claimable when it is pending, due, not leased (or its lease ran out) and its
 * webhook is enabled: deliveries of a disabled webhook stay pending, paused, until it is
 * enabled again. That definition is written once, below.
 */

const PENDING = `'${DeliveryStatus.PENDING}'`;

/** Claimable rows `d` of webhook `w`: the one definition. */
export const CLAIMABLE = `d.status = ${PENDING}
          AND d.next_attempt_at <= now()
          AND (d.lease_expires_at IS NULL OR d.lease_expires_at < now())
          AND w.enabled`;

/**
 * What a claim returns of each delivery. The save's trace context is one more lookup per row,
 * made only while this thread traces: untraced, no attempt span would use it.
 */
export function returnedDelivery(): string {
  const traceContext = isTracingOn() ? '(SELECT e.trace_context FROM domain_event e WHERE e.id = d.event_id)' : 'NULL::text';
  return `d.id, d.event_id, d.webhook_id, d.kind, d.trigger, d.body, d.content_type, d.body_error, d.attempts, w.fifo,
            w.project_id, w.method, w.url, w.headers, w.signing_secret, w.previous_signing_secret, w.previous_secret_expires_at,
            w.send_trace_context, ${traceContext} AS trace_context`;
}

// ---------------------------------------------------------------------------------------------
// enqueue

export interface NewDeliveries {
  eventId: string[];
  webhookId: string[];
  projectId: string[];
  trigger: string[];
  body: string[];
  /** Null entries: application/json. */
  contentType: Array<string | null>;
  /** Non-null entries: the template could not be rendered (see Delivery.bodyError). */
  bodyError: Array<string | null>;
}

/** Deliveries a worker takes as it queues them (claim at enqueue), with the lease's terms. */
export interface LeaseAtEnqueue {
  workerId: string;
  leaseMs: number;
  /** Per row of NewDeliveries: lease it to this worker. */
  take: boolean[];
}

/**
 * Queues EVENT deliveries and marks their events dispatched, in one statement. Column arrays
 * through unnest: one statement whatever the number of rows, and no bind-parameter limit. The
 * unique (event_id, webhook_id) index makes a second fan-out of the same event a no-op. The
 * statement-level trigger NOTIFYs workers at commit.
 *
 * A worker with free slots may lease rows as it inserts them: they are born claimed, which
 * saves the claim's round trip on the way from a save to its receiver. Returns the ids of the
 * rows leased that way (a row already queued by an earlier fan-out is neither inserted nor
 * leased). A FIFO webhook's rows are never leased here: the next in its line is for the FIFO
 * claim to pick (queue-fifo.ts), and a new row is rarely it.
 *
 * Each row takes its event's position `(tx_id, seq)`, a FIFO webhook's order.
 */
export async function enqueueDeliveries(
  manager: EntityManager,
  rows: NewDeliveries,
  dispatchedEventIds: string[],
  lease?: LeaseAtEnqueue,
): Promise<{ leased: Array<{ id: string; index: number }>; dispatched: Array<{ trigger: string; lagSeconds: number }> }> {
  const take = lease ? lease.take : rows.eventId.map(() => false);
  const rowsOut: Array<{ id: string | null; index: number | string | null; trigger: string | null; lag: number | null }> = await manager.query(
    `WITH queued AS (
       INSERT INTO webhook_delivery (event_id, webhook_id, project_id, trigger, body, content_type, body_error, kind, leased_by, lease_expires_at, event_tx_id, event_seq)
       SELECT x.e, x.w, x.p, x.t, x.b, x.ct, x.be, $6,
              CASE WHEN x.l AND NOT wh.fifo THEN $8 END,
              CASE WHEN x.l AND NOT wh.fifo THEN now() + $9::double precision * interval '1 millisecond' END,
              ev.tx_id, ev.seq
         FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $10::boolean[], $11::text[], $12::text[]) WITH ORDINALITY AS x(e, w, p, t, b, l, ct, be, n)
         JOIN domain_event ev ON ev.id = x.e
         JOIN webhook wh ON wh.id = x.w
       ON CONFLICT (event_id, webhook_id) WHERE kind = '${WebhookCallKind.EVENT}' DO NOTHING
       RETURNING id, event_id, webhook_id, leased_by
     ), dispatched AS (
       UPDATE domain_event SET dispatched_at = now(), fanout_lease_until = NULL WHERE id = ANY($7::uuid[]) AND dispatched_at IS NULL
       RETURNING domain_event.trigger, extract(epoch FROM now() - domain_event.created_at)::float8 AS lag
     )
     SELECT q.id, x.n - 1 AS index, NULL::text AS trigger, NULL::float8 AS lag
       FROM queued q JOIN unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY AS x(e, w, n) ON x.e = q.event_id AND x.w = q.webhook_id
      WHERE q.leased_by IS NOT NULL
     UNION ALL
     SELECT NULL, NULL, d.trigger, d.lag FROM dispatched d`,
    [rows.eventId, rows.webhookId, rows.projectId, rows.trigger, rows.body, WebhookCallKind.EVENT, dispatchedEventIds, lease?.workerId ?? null, lease?.leaseMs ?? 0, take, rows.contentType, rows.bodyError],
  );
  return {
    leased: rowsOut.filter((r) => r.id !== null).map((r) => ({ id: r.id!, index: Number(r.index) })),
    // Only the events this statement dispatched: a repeat fan-out after a lost lease finds them
    // dispatched already, so each committed event is reported exactly once.
    dispatched: rowsOut.filter((r) => r.id === null).map((r) => ({ trigger: r.trigger!, lagSeconds: Number(r.lag) })),
  };
}

// ---------------------------------------------------------------------------------------------
// claim

export interface ClaimRequest {
  /** How many due rows to look at (over-selected: some may be over a webhook's limit). */
  limit: number;
  /** How many to claim at most. */
  free: number;
  /** Leases a worker may hold per webhook. */
  perWebhookLimit: number;
  /** Leases this worker already holds, per webhook id. */
  busy: ReadonlyMap<string, number>;
  /** Deliveries this worker holds (never re-claimed, even if their lease ran out). */
  heldIds: readonly string[];
  leaseMs: number;
  workerId: string;
}

/**
 * One claim, one statement: lock claimable rows, keep what fits the free slots and each
 * webhook's remaining limit, lease those, and return them with the webhook columns.
 *
 * Webhooks already at their limit are excluded before the LIMIT, so one slow endpoint with a
 * deep backlog cannot fill the LIMIT and starve the others; the window function keeps each
 * webhook within what it has left. Rows looked at but not kept are only locked until the
 * statement ends. `selected` (rows looked at) tells the caller whether more may be due.
 * FIFO webhooks are not this statement's: their turn is claimFifoHeads (queue-fifo.ts).
 */
export async function claimDue(dataSource: DataSource, request: ClaimRequest): Promise<{ selected: number; claimed: ClaimedDelivery[] }> {
  const busy = [...request.busy];
  const full = busy.filter(([, n]) => n >= request.perWebhookLimit).map(([id]) => id);
  const [rows] = (await dataSource.query(
    `WITH candidates AS (
       SELECT d.id, d.webhook_id, d.next_attempt_at
         FROM webhook_delivery d
         JOIN webhook w ON w.id = d.webhook_id
        WHERE ${CLAIMABLE}
          AND NOT w.fifo
          AND NOT (d.webhook_id = ANY($2::uuid[]))
          AND NOT (d.id = ANY($3::uuid[]))
        ORDER BY d.next_attempt_at
        LIMIT $1
          FOR UPDATE OF d SKIP LOCKED
     ), ranked AS (
       SELECT c.id, c.next_attempt_at,
              coalesce(b.used, 0) + row_number() OVER (PARTITION BY c.webhook_id ORDER BY c.next_attempt_at, c.id) AS slot
         FROM candidates c
         LEFT JOIN unnest($4::uuid[], $5::int[]) AS b(webhook_id, used) ON b.webhook_id = c.webhook_id
     ), kept AS (
       SELECT id FROM ranked WHERE slot <= $6 ORDER BY next_attempt_at, id LIMIT $7
     ), counted AS (
       SELECT count(*)::int AS selected FROM candidates
     )
     UPDATE webhook_delivery d
        SET lease_expires_at = now() + $8::double precision * interval '1 millisecond', leased_by = $9, updated_at = now()
       FROM kept, counted, webhook w
      WHERE d.id = kept.id AND w.id = d.webhook_id
  RETURNING ${returnedDelivery()}, counted.selected`,
    [
      request.limit,
      full,
      request.heldIds,
      busy.map(([id]) => id),
      busy.map(([, n]) => n),
      request.perWebhookLimit,
      request.free,
      request.leaseMs,
      request.workerId,
    ],
  )) as [Array<ClaimedRow & { selected: number }>, number];
  // When nothing was kept the count is unknown, and unneeded: the caller stops either way.
  return { selected: rows.length > 0 ? rows[0].selected : 0, claimed: rows.map(toClaimedDelivery) };
}

/**
 * Milliseconds until the earliest pending delivery that is not due yet, by the database's
 * clock (so a skewed worker clock does not fire early or late), or null if there is none.
 */
export async function msUntilNextDue(dataSource: DataSource): Promise<number | null> {
  const [row]: Array<{ ms: number | string | null }> = await dataSource.query(
    `SELECT EXTRACT(EPOCH FROM (d.next_attempt_at - now())) * 1000 AS ms
       FROM webhook_delivery d
       JOIN webhook w ON w.id = d.webhook_id AND w.enabled
      WHERE d.status = ${PENDING} AND d.next_attempt_at > now()
      ORDER BY d.next_attempt_at
      LIMIT 1`,
  );
  return row && row.ms !== null ? Number(row.ms) : null;
}

/** Hands a worker's leases back at once (all, or the ids given), so another worker can take them without waiting. */
export async function releaseLeases(dataSource: DataSource, workerId: string, ids?: readonly string[]): Promise<number> {
  const [, released] = (await dataSource.query(
    `UPDATE webhook_delivery SET lease_expires_at = NULL, leased_by = NULL, updated_at = now()
      WHERE leased_by = $1 AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[]))`,
    [workerId, ids ?? null],
  )) as [unknown, number];
  return released;
}

/**
 * Puts the webhook's EVENT deliveries that failed for good since `since` back in the queue,
 * due now, and wakes the workers of every process at commit. Returns how many.
 */
export async function requeueFailed(manager: EntityManager, webhookId: string, since: Date): Promise<number> {
  const [rows] = (await manager.query(
    `UPDATE webhook_delivery
        SET status = ${PENDING}, next_attempt_at = now(), lease_expires_at = NULL, leased_by = NULL, updated_at = now()
      WHERE webhook_id = $1 AND kind = '${WebhookCallKind.EVENT}' AND status = '${DeliveryStatus.FAILED}' AND created_at >= $2
    RETURNING id`,
    [webhookId, since],
  )) as [Array<{ id: string }>, number];
  if (rows.length > 0) await manager.query(`SELECT pg_notify($1, '')`, [CHANNELS.deliveries]);
  return rows.length;
}

// ---------------------------------------------------------------------------------------------
// settle

/** A log row to write: one HTTP attempt, as sent and as answered. */
export interface CallRow {
  /** Chosen by the writer, so a batch's results are matched to its entries without relying on order. */
  id: string;
  deliveryId: string | null;
  webhookId: string;
  projectId: string;
  eventId: string;
  trigger: string;
  kind: string;
  attempt: number;
  success: boolean;
  error: string | null;
  durationMs: number;
  requestMethod: string;
  requestUrl: string;
  requestHeaders: unknown;
  requestBody: string;
  responseStatusCode: number | null;
  responseHeaders: unknown;
  responseBody: string | null;
  /** When the attempt was made; the database's now() when absent (set for attempts logged late). */
  createdAt?: Date;
}

export interface DeliveryUpdate {
  id: string;
  /** The lease holder: the update applies only while it still holds the lease. */
  workerId: string;
  status: DeliveryStatus;
  /** Due again in this many milliseconds (by the database clock); null leaves it. */
  retryInMs: number | null;
}

export interface SettleEntry {
  call: CallRow;
  /** Absent for replays and test sends, which have no delivery row. */
  delivery?: DeliveryUpdate;
}

export interface Settled {
  id: string;
  createdAt: Date;
  nextRetryAt: Date | null;
  /** False when the delivery was not ours any more (its lease was taken over); true for sends without one. */
  settled: boolean;
}

const SETTLE = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::text[], $8::int[], $9::boolean[],
                       $10::text[], $11::int[], $12::text[], $13::text[], $14::text[], $15::text[], $16::int[], $17::text[], $18::text[],
                       $19::timestamptz[], $20::text[], $21::text[], $22::double precision[]) WITH ORDINALITY
    AS i(call_id, delivery_id, webhook_id, project_id, event_id, trigger, kind, attempt, success,
         error, duration_ms, request_method, request_url, request_headers, request_body, response_status_code, response_headers, response_body,
         created_at, status, worker_id, retry_ms, n)
), ${HEALTH /* each webhook's health: src/health/settle-health.sql.ts */}
), settled AS (
  UPDATE webhook_delivery d
     SET attempts = d.attempts + 1,
         status = i.status,
         next_attempt_at = CASE WHEN i.retry_ms IS NULL THEN d.next_attempt_at
                                ELSE clock_timestamp() + i.retry_ms * interval '1 millisecond' END,
         lease_expires_at = NULL,
         leased_by = NULL,
         updated_at = now()
    FROM input i
   WHERE d.id = i.delivery_id AND i.status IS NOT NULL AND d.leased_by = i.worker_id
  RETURNING d.id, CASE WHEN i.retry_ms IS NULL THEN NULL ELSE d.next_attempt_at END AS next_retry_at
), inserted AS (
  INSERT INTO webhook_call (id, delivery_id, webhook_id, project_id, event_id, trigger, kind, attempt, success, error,
                            duration_ms, request_method, request_url, request_headers, request_body,
                            response_status_code, response_headers, response_body, next_retry_at, created_at)
  SELECT i.call_id, i.delivery_id, i.webhook_id, i.project_id, i.event_id, i.trigger, i.kind, i.attempt, i.success, i.error,
         i.duration_ms, i.request_method, i.request_url, i.request_headers::jsonb, i.request_body,
         i.response_status_code, i.response_headers::jsonb, i.response_body, s.next_retry_at, coalesce(i.created_at, now())
    FROM input i LEFT JOIN settled s ON s.id = i.delivery_id
  RETURNING id, delivery_id, created_at, next_retry_at
)
SELECT inserted.id, inserted.created_at, inserted.next_retry_at,
       (inserted.delivery_id IS NULL OR EXISTS (SELECT 1 FROM settled s WHERE s.id = inserted.delivery_id)) AS settled
  FROM inserted`;

/**
 * Writes a batch of outcomes in one statement: every log row, and each delivery's new state.
 * A data-modifying CTE is atomic without BEGIN/COMMIT, and each log row carries the retry time
 * its UPDATE computed. One statement for many rows is what lets a worker keep up: the slot of
 * an attempt is free as soon as its HTTP exchange ends, and its outcome joins the next batch
 * (see outcome-writer.ts). Results come back in the order of `entries`.
 */
export async function settleOutcomes(dataSource: DataSource, entries: readonly SettleEntry[], health: SettleHealth = DEFAULT_SETTLE_HEALTH): Promise<Settled[]> {
  if (entries.length === 0) return [];
  const column = <T>(pick: (e: SettleEntry) => T): T[] => entries.map(pick);
  const json = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));
  const rows: Array<{ id: string; created_at: Date; next_retry_at: Date | null; settled: boolean }> = await dataSource.query(SETTLE, [
    column((e) => e.call.id),
    column((e) => e.call.deliveryId),
    column((e) => e.call.webhookId),
    column((e) => e.call.projectId),
    column((e) => e.call.eventId),
    column((e) => e.call.trigger),
    column((e) => e.call.kind),
    column((e) => e.call.attempt),
    column((e) => e.call.success),
    column((e) => e.call.error),
    column((e) => e.call.durationMs),
    column((e) => e.call.requestMethod),
    column((e) => e.call.requestUrl),
    column((e) => json(e.call.requestHeaders)),
    column((e) => e.call.requestBody),
    column((e) => e.call.responseStatusCode),
    column((e) => json(e.call.responseHeaders)),
    column((e) => e.call.responseBody),
    column((e) => e.call.createdAt ?? null),
    column((e) => e.delivery?.status ?? null),
    column((e) => e.delivery?.workerId ?? null),
    column((e) => e.delivery?.retryInMs ?? null),
    health.failingAfter,
    warnAfterMs(health),
    health.failingRatePercent,
    health.failingRateMinCalls,
    health.autoDisableAfterMs,
  ]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return entries.map((e) => {
    const row = byId.get(e.call.id);
    if (!row) throw new Error(`settle: no row returned for call ${e.call.id}`);
    return { id: row.id, createdAt: row.created_at, nextRetryAt: row.next_retry_at, settled: row.settled };
  });
}

