import type { DataSource } from 'typeorm';
import type { WebhookTrigger } from '../webhooks/triggers';
import type { Webhook } from '../webhooks/webhook.entity';
import type { DeliverableWebhook } from './attempt';
import type { WebhookCallKind } from './delivery.entity';

/**
 * The worker's queue operations on `webhook_delivery`. Kept apart from the worker's event
 * loop so the SQL can be read (and reasoned about for concurrency) in one place.
 */

export interface ClaimedDelivery {
  id: string;
  eventId: string;
  webhookId: string;
  kind: WebhookCallKind;
  trigger: WebhookTrigger;
  body: string;
  /** Attempts completed before this claim. */
  attempts: number;
  webhook: DeliverableWebhook;
}

export interface ClaimRequest {
  /** How many due rows to look at (over-selected: some may be over a webhook's limit). */
  limit: number;
  /** How many to claim at most: the worker's free slots. */
  free: number;
  perWebhookConcurrency: number;
  /** Attempts this worker has in flight, per webhook id. */
  busy: ReadonlyMap<string, number>;
  /** Deliveries this worker is attempting (never re-claimed, even if their lease ran out). */
  inFlightIds: readonly string[];
  leaseMs: number;
  workerId: string;
}

export interface ClaimedRow {
  id: string;
  event_id: string;
  webhook_id: string;
  kind: WebhookCallKind;
  trigger: WebhookTrigger;
  body: string;
  attempts: number;
  project_id: string;
  method: Webhook['method'];
  url: string;
  headers: Webhook['headers'];
  signing_secret: string;
  previous_signing_secret: string | null;
  previous_secret_expires_at: Date | null;
}

/**
 * One claim, one statement: lock due rows (SKIP LOCKED, so workers never wait on each
 * other), keep what fits the free slots, lease those, and return them together with the
 * webhook columns an attempt needs (no second query per claim).
 *
 * Webhooks whose slots are all busy are excluded before the LIMIT, so one slow endpoint
 * with a deep backlog cannot fill the LIMIT and starve the others; the window function
 * then keeps each webhook within its remaining slots. Rows looked at but not kept are only
 * locked until the statement ends. Deliveries of disabled webhooks are not claimed: they
 * stay pending, paused, until the webhook is enabled again.
 *
 * `selected` (rows looked at) tells the caller whether more may be due.
 */
export async function claimDueDeliveries(
  dataSource: DataSource,
  request: ClaimRequest,
): Promise<{ selected: number; claimed: ClaimedDelivery[] }> {
  const busy = [...request.busy];
  const full = busy.filter(([, n]) => n >= request.perWebhookConcurrency).map(([id]) => id);
  const [rows] = (await dataSource.query(
    `WITH candidates AS (
       SELECT d.id, d.webhook_id, d.next_attempt_at
         FROM webhook_delivery d
         JOIN webhook w ON w.id = d.webhook_id
        WHERE d.status = 'pending'
          AND d.next_attempt_at <= now()
          AND (d.lease_expires_at IS NULL OR d.lease_expires_at < now())
          AND w.enabled
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
  RETURNING d.id, d.event_id, d.webhook_id, d.kind, d.trigger, d.body, d.attempts, counted.selected,
            w.project_id, w.method, w.url, w.headers, w.signing_secret, w.previous_signing_secret, w.previous_secret_expires_at`,
    [
      request.limit,
      full,
      request.inFlightIds,
      busy.map(([id]) => id),
      busy.map(([, n]) => n),
      request.perWebhookConcurrency,
      request.free,
      request.leaseMs,
      request.workerId,
    ],
  )) as [Array<ClaimedRow & { selected: number }>, number];
  // When nothing was kept the count is unknown, and unneeded: the caller stops either way.
  return { selected: rows.length > 0 ? rows[0].selected : 0, claimed: rows.map(toClaimedDelivery) };
}

/** A leased delivery row joined with its webhook's columns, as claims and hand-overs return it. */
export function toClaimedDelivery(row: ClaimedRow): ClaimedDelivery {
  return {
    id: row.id,
    eventId: row.event_id,
    webhookId: row.webhook_id,
    kind: row.kind,
    trigger: row.trigger,
    body: row.body,
    attempts: row.attempts,
    webhook: {
      id: row.webhook_id,
      projectId: row.project_id,
      method: row.method,
      url: row.url,
      headers: row.headers,
      signingSecret: row.signing_secret,
      previousSigningSecret: row.previous_signing_secret,
      previousSecretExpiresAt: row.previous_secret_expires_at,
    },
  };
}

/**
 * Milliseconds until the earliest pending delivery that is not due yet, by the database's
 * clock (so a skewed worker clock does not fire early or late), or null if there is none.
 */
export async function msUntilEarliestRetry(dataSource: DataSource): Promise<number | null> {
  const [row]: Array<{ ms: number | string | null }> = await dataSource.query(
    `SELECT EXTRACT(EPOCH FROM (d.next_attempt_at - now())) * 1000 AS ms
       FROM webhook_delivery d
       JOIN webhook w ON w.id = d.webhook_id AND w.enabled
      WHERE d.status = 'pending' AND d.next_attempt_at > now()
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
