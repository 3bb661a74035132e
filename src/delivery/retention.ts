import type { DataSource } from 'typeorm';

/**
 * Retention: the call log, finished deliveries and dispatched events older than
 * `WEBHOOK_LOG_RETENTION` are deleted, as Svix and Stripe keep theirs for a bounded time.
 * Without it the log, which holds a full request and response per attempt, grows for ever.
 *
 * What is never deleted: pending deliveries (a paused webhook's queue is kept however old)
 * and events not yet fanned out. Deletes go in small batches, each its own statement, so no
 * long transaction holds locks or bloats the WAL, and a worker stopping mid-way just stops.
 * One worker at a time prunes (a session advisory lock); the others skip their turn.
 * BRIN indexes on `created_at` (tiny, and cheap to keep up on append-mostly tables) let each
 * batch find old rows without scanning the table.
 */

export interface PruneOptions {
  retentionMs: number;
  /** Rows per DELETE statement. */
  batchSize?: number;
  /** Checked between batches: true ends the run early. */
  shouldStop?: () => boolean;
}

export interface PruneResult {
  calls: number;
  deliveries: number;
  events: number;
}

/** Any fixed number unique to this job among the product's advisory locks. */
const PRUNE_LOCK_KEY = 0x636d7372; // "cmsr"

const TARGETS: Array<{ key: keyof PruneResult; table: string; condition: string }> = [
  { key: 'calls', table: 'webhook_call', condition: 'TRUE' },
  { key: 'deliveries', table: 'webhook_delivery', condition: `status <> 'pending'` },
  { key: 'events', table: 'domain_event', condition: 'dispatched_at IS NOT NULL' },
];

/** Deletes what is past retention; null when another process holds the job. */
export async function pruneExpired(dataSource: DataSource, options: PruneOptions): Promise<PruneResult | null> {
  const batchSize = options.batchSize ?? 1000;
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    const [{ locked }] = await runner.query(`SELECT pg_try_advisory_lock($1) AS locked`, [PRUNE_LOCK_KEY]);
    if (!locked) return null;
    try {
      const result: PruneResult = { calls: 0, deliveries: 0, events: 0 };
      for (const { key, table, condition } of TARGETS) {
        for (;;) {
          if (options.shouldStop?.()) return result;
          const [, deleted] = (await runner.query(
            `DELETE FROM ${table} WHERE id IN (
               SELECT id FROM ${table}
                WHERE created_at < now() - $1::double precision * interval '1 millisecond' AND ${condition}
                LIMIT $2)`,
            [options.retentionMs, batchSize],
          )) as [unknown, number];
          result[key] += deleted;
          if (deleted < batchSize) break;
        }
      }
      return result;
    } finally {
      await runner.query(`SELECT pg_advisory_unlock($1)`, [PRUNE_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}
