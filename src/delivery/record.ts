import type { DataSource } from 'typeorm';
import { type ClaimedDelivery, type ClaimedRow, toClaimedDelivery } from './claim';
import type { DeliveryStatus } from './delivery.entity';
import { WebhookCall } from './webhook-call.entity';

/**
 * Writes an attempt's outcome in one statement: the delivery's new state and the log row.
 *
 * A data-modifying CTE runs as one statement, so it is atomic without BEGIN/COMMIT, and the
 * log row can carry the retry time the UPDATE computed. One round trip instead of four
 * (BEGIN, UPDATE, INSERT, COMMIT) matters because a webhook's slot stays taken until the
 * outcome is recorded: at a per-webhook cap of 4, every round trip saved is throughput.
 *
 * The UPDATE is fenced by `leased_by`: a worker whose lease expired and was taken over
 * must not overwrite the new holder's state. The log row is written either way: the
 * request went out, and the log says what happened.
 *
 * Optionally the same statement hands the freed slot over: it leases the same webhook's
 * oldest due delivery to this worker, under the claim's conditions (see claim.ts), and
 * returns it with fresh webhook columns. A webhook with a backlog then costs one statement
 * per delivery instead of two (record, then claim).
 */

export interface CallRow {
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
  /** The lease holder. */
  workerId: string;
  status: DeliveryStatus;
  /** Due again in this many milliseconds (by the database clock); null leaves it. */
  retryInMs: number | null;
}

export interface HandOver {
  leaseMs: number;
  /** Deliveries this worker is attempting (never handed over, even if their lease ran out). */
  inFlightIds: readonly string[];
}

export interface Recorded {
  call: WebhookCall;
  /** False when the delivery was not ours any more (its lease was taken over). */
  settled: boolean;
  /** The same webhook's next due delivery, now leased to this worker; only when asked for and settled. */
  next: ClaimedDelivery | null;
}

const SQL = `
WITH settled AS (
  UPDATE webhook_delivery
     SET attempts = attempts + 1,
         status = $18,
         next_attempt_at = CASE WHEN $20::double precision IS NULL THEN next_attempt_at
                                ELSE clock_timestamp() + $20::double precision * interval '1 millisecond' END,
         lease_expires_at = NULL,
         leased_by = NULL,
         updated_at = now()
   WHERE id = $1 AND leased_by = $19
  RETURNING CASE WHEN $20::double precision IS NULL THEN NULL ELSE next_attempt_at END AS next_retry_at
), inserted AS (
  INSERT INTO webhook_call (delivery_id, webhook_id, project_id, event_id, trigger, kind, attempt, success, error,
                            duration_ms, request_method, request_url, request_headers, request_body,
                            response_status_code, response_headers, response_body, next_retry_at, created_at)
  SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15, $16::jsonb, $17,
         (SELECT next_retry_at FROM settled), COALESCE($24::timestamptz, now())
  RETURNING *
), next_due AS (
  SELECT d.id
    FROM webhook_delivery d
    JOIN webhook w ON w.id = d.webhook_id
   WHERE $21::boolean
     AND EXISTS (SELECT 1 FROM settled)
     AND d.webhook_id = $2
     AND d.status = 'pending'
     AND d.next_attempt_at <= now()
     AND (d.lease_expires_at IS NULL OR d.lease_expires_at < now())
     AND w.enabled
     AND d.id <> $1
     AND NOT (d.id = ANY($22::uuid[]))
   ORDER BY d.next_attempt_at
   LIMIT 1
     FOR UPDATE OF d SKIP LOCKED
), handed AS (
  UPDATE webhook_delivery d
     SET lease_expires_at = now() + $23::double precision * interval '1 millisecond', leased_by = $19, updated_at = now()
    FROM next_due, webhook w
   WHERE d.id = next_due.id AND w.id = d.webhook_id
  RETURNING d.id, d.event_id, d.webhook_id, d.kind, d.trigger, d.body, d.attempts,
            w.project_id, w.method, w.url, w.headers, w.signing_secret, w.previous_signing_secret, w.previous_secret_expires_at
)
SELECT inserted.*, EXISTS (SELECT 1 FROM settled) AS __settled, (SELECT to_jsonb(handed) FROM handed) AS __next
  FROM inserted`;

export async function recordAttempt(dataSource: DataSource, row: CallRow, delivery?: DeliveryUpdate, handOver?: HandOver): Promise<Recorded> {
  const rows = (await dataSource.query(SQL, [
    row.deliveryId,
    row.webhookId,
    row.projectId,
    row.eventId,
    row.trigger,
    row.kind,
    row.attempt,
    row.success,
    row.error,
    row.durationMs,
    row.requestMethod,
    row.requestUrl,
    JSON.stringify(row.requestHeaders),
    row.requestBody,
    row.responseStatusCode,
    row.responseHeaders === null ? null : JSON.stringify(row.responseHeaders),
    row.responseBody,
    delivery?.status ?? null,
    delivery?.workerId ?? null,
    delivery?.retryInMs ?? null,
    handOver !== undefined && delivery !== undefined,
    handOver?.inFlightIds ?? [],
    handOver?.leaseMs ?? 0,
    row.createdAt ?? null,
  ])) as Array<Record<string, unknown>>;
  const raw = rows[0];
  const next = raw.__next ? toClaimedDelivery(jsonRow(raw.__next as Record<string, unknown>)) : null;
  return { call: toEntity(dataSource, raw), settled: raw.__settled === true, next };
}

/** to_jsonb turns a timestamptz into an ISO string; the claim's row type has a Date. */
function jsonRow(row: Record<string, unknown>): ClaimedRow {
  const expires = row.previous_secret_expires_at;
  return { ...(row as unknown as ClaimedRow), previous_secret_expires_at: typeof expires === 'string' ? new Date(expires) : null };
}

/** Maps the returned columns onto the entity through its metadata, so a new column needs no edit here. */
function toEntity(dataSource: DataSource, raw: Record<string, unknown>): WebhookCall {
  const call = new WebhookCall();
  const target = call as unknown as Record<string, unknown>;
  for (const column of dataSource.getMetadata(WebhookCall).columns) {
    if (column.databaseName in raw) target[column.propertyName] = raw[column.databaseName];
  }
  return call;
}
