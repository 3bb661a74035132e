import type { DataSource } from 'typeorm';
import { DeliveryStatus } from './delivery.entity';

/**
 * The one read of the queue that is not the queue's own work (queue.ts): its depth, for the
 * metrics scrape. Kept apart so the queue's statements stay in one file of their own.
 */

export interface QueueDepthRow {
  due: number;
  inFlight: number;
  scheduled: number;
  paused: number;
  oldestDueSeconds: number;
}

/**
 * The pending deliveries by state, read when metrics are scraped. One pass over the pending
 * rows (the partial due index keeps finished ones out of it); under its own statement timeout,
 * so a slow database answers the scrape with an error rather than holding it.
 */
export async function queueDepth(dataSource: DataSource, timeoutMs: number): Promise<QueueDepthRow> {
  return dataSource.transaction(async (m) => {
    await m.query(`SELECT set_config('statement_timeout', $1, true)`, [String(timeoutMs)]);
    const [row] = await m.query(
      `SELECT count(*) FILTER (WHERE w.enabled AND d.next_attempt_at <= now() AND NOT leased)::int AS due,
              count(*) FILTER (WHERE w.enabled AND leased)::int AS in_flight,
              count(*) FILTER (WHERE w.enabled AND d.next_attempt_at > now() AND NOT leased)::int AS scheduled,
              count(*) FILTER (WHERE NOT w.enabled)::int AS paused,
              coalesce(extract(epoch FROM now() - min(d.next_attempt_at) FILTER (WHERE w.enabled AND d.next_attempt_at <= now() AND NOT leased)), 0)::float8 AS oldest
         FROM webhook_delivery d
         JOIN webhook w ON w.id = d.webhook_id
         CROSS JOIN LATERAL (SELECT coalesce(d.lease_expires_at >= now(), false) AS leased) l
        WHERE d.status = '${DeliveryStatus.PENDING}'`,
    );
    return { due: row.due, inFlight: row.in_flight, scheduled: row.scheduled, paused: row.paused, oldestDueSeconds: Math.max(0, row.oldest) };
  });
}
