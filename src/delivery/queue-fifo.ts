import type { DataSource, EntityManager } from 'typeorm';
import { ADVISORY_LOCKS, CHANNELS } from '../db/names';
import { DeliveryStatus } from './delivery.entity';
import { type ClaimedDelivery, type ClaimedRow, toClaimedDelivery } from './delivery-row';
import { CLAIMABLE, returnedDelivery } from './queue';

/**
 * The FIFO claim: part of the queue (queue.ts), apart because it answers a different question.
 * A FIFO webhook's deliveries go out one at a time in event order. Its line is ordered by the
 * event's position `(tx_id, seq)`, the order events were written in per project (created_at is
 * not: it is taken before commit). Its head is its oldest pending delivery, due or not; the
 * head alone may be claimed, and only while nothing of the webhook is leased.
 *
 * - A failing head keeps its place: it is retried on the backoff schedule and the rest wait.
 *   Given up (failed), it leaves the line and the next becomes head.
 * - A disabled webhook is not claimed; enabled again, its line goes on where it stopped.
 * - Ordering gap: a transaction that got its id earlier may commit later, so an event can
 *   appear behind a position already queued. A head is therefore claimed only once it is
 *   settled: every transaction older than its event's has ended (`tx_id < xmin` of the
 *   claim's snapshot), and no event of the project up to its position waits to be fanned out.
 *   Then nothing can ever be queued before it. An open write transaction holds FIFO heads
 *   back (never loses them) until it ends, as it does the live event stream.
 * - Race-free across processes: claims of FIFO heads run one at a time under a transaction
 *   advisory lock, taken before the claim statement's snapshot, so each sees what the one
 *   before it leased. Without it, two claims with different snapshots could each see a
 *   different head unleased (a head that moved back, as recoverWebhook does) and lease both.
 *   The lock is held for one statement of a few milliseconds; claimDue, for every other
 *   webhook, never takes it.
 */

const PENDING = `'${DeliveryStatus.PENDING}'`;

export interface FifoClaimRequest {
  /** How many heads to claim at most (one per webhook). */
  free: number;
  /** Deliveries this worker holds: their webhooks count as in flight, leases run out or not. */
  heldIds: readonly string[];
  leaseMs: number;
  workerId: string;
}

export interface FifoClaim {
  claimed: ClaimedDelivery[];
  /** Due heads left unclaimed because an older transaction may still add an event before them. */
  unsettled: number;
}

const CLAIM_HEADS = `
WITH fifo AS (
  SELECT w.id, w.project_id
    FROM webhook w
   WHERE w.fifo AND w.enabled
     AND NOT EXISTS (SELECT 1 FROM webhook_delivery f
                      WHERE f.webhook_id = w.id AND f.lease_expires_at IS NOT NULL
                        AND (f.lease_expires_at >= now() OR f.id = ANY($2::uuid[])))
), heads AS (
  SELECT h.id, h.event_tx_id, h.event_seq, h.next_attempt_at, fifo.project_id
    FROM fifo
   CROSS JOIN LATERAL (
     SELECT d.id, d.event_tx_id, d.event_seq, d.next_attempt_at
       FROM webhook_delivery d
      WHERE d.webhook_id = fifo.id AND d.status = ${PENDING}
      ORDER BY d.event_tx_id, d.event_seq, d.id
      LIMIT 1) h
   WHERE h.next_attempt_at <= now()
), waiting AS MATERIALIZED (
  -- The oldest transaction per project with an event not fanned out yet (few rows: the partial index).
  SELECT project_id, min(tx_id) AS tx_id FROM domain_event WHERE dispatched_at IS NULL GROUP BY project_id
), judged AS (
  SELECT h.id, h.next_attempt_at,
         h.event_tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
           AND NOT EXISTS (SELECT 1 FROM waiting u WHERE u.project_id = h.project_id AND u.tx_id <= h.event_tx_id) AS settled
    FROM heads h
), picked AS (
  SELECT id FROM judged WHERE settled ORDER BY next_attempt_at, id LIMIT $1
), claimed AS (
  UPDATE webhook_delivery d
     SET lease_expires_at = now() + $3::double precision * interval '1 millisecond', leased_by = $4, updated_at = now()
    FROM picked, webhook w
   WHERE d.id = picked.id AND w.id = d.webhook_id AND ${CLAIMABLE}
  RETURNING ${returnedDelivery()}
)
SELECT (SELECT count(*)::int FROM judged WHERE NOT settled) AS unsettled,
       (SELECT coalesce(json_agg(claimed), '[]'::json) FROM claimed) AS claimed`;

/** True when some enabled webhook is FIFO: an indexed look, so workers without any skip the claim's transaction. */
export async function anyFifoWebhook(dataSource: DataSource): Promise<boolean> {
  const [row]: Array<{ any: boolean }> = await dataSource.query(`SELECT EXISTS (SELECT 1 FROM webhook WHERE fifo AND enabled) AS any`);
  return row.any;
}

/** Leases the due, settled heads of FIFO webhooks with nothing in flight, oldest due first. */
export async function claimFifoHeads(dataSource: DataSource, request: FifoClaimRequest): Promise<FifoClaim> {
  return dataSource.transaction(async (m) => {
    await m.query(`SELECT pg_advisory_xact_lock($1)`, [ADVISORY_LOCKS.fifoClaim]);
    const [row]: Array<{ unsettled: number; claimed: Array<Omit<ClaimedRow, 'previous_secret_expires_at'> & { previous_secret_expires_at: string | null }> }> =
      await m.query(CLAIM_HEADS, [request.free, request.heldIds, request.leaseMs, request.workerId]);
    return {
      unsettled: row.unsettled,
      // json_agg hands timestamps over as strings.
      claimed: row.claimed.map((r) =>
        toClaimedDelivery({ ...r, previous_secret_expires_at: r.previous_secret_expires_at === null ? null : new Date(r.previous_secret_expires_at) }),
      ),
    };
  });
}

/**
 * A FIFO webhook's line waits for its failing head, up to hours at the end of the schedule.
 * Once the receiver works again (recoverWebhook says so), the head's next attempt is due now,
 * so the line moves at once. Returns how many; wakes the workers of every process at commit.
 */
export async function retryWaitingNow(manager: EntityManager, webhookId: string): Promise<number> {
  const [rows] = (await manager.query(
    `UPDATE webhook_delivery SET next_attempt_at = now(), updated_at = now()
      WHERE webhook_id = $1 AND status = ${PENDING} AND attempts > 0 AND next_attempt_at > now()
        AND (lease_expires_at IS NULL OR lease_expires_at < now())
    RETURNING id`,
    [webhookId],
  )) as [Array<{ id: string }>, number];
  if (rows.length > 0) await manager.query(`SELECT pg_notify($1, '')`, [CHANNELS.deliveries]);
  return rows.length;
}
