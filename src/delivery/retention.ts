import type { DataSource } from 'typeorm';
import { ADVISORY_LOCKS } from '../db/names';
import { DeliveryStatus } from './delivery.entity';
import type { Logger } from '../observability/logger';

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

const PRUNE_LOCK_KEY = ADVISORY_LOCKS.retention;

const TARGETS: Array<{ key: keyof PruneResult; table: string; condition: string }> = [
  { key: 'calls', table: 'webhook_call', condition: 'TRUE' },
  { key: 'deliveries', table: 'webhook_delivery', condition: `status <> '${DeliveryStatus.PENDING}'` },
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

/** How often a worker runs the retention job (and once at start). */
const RETENTION_EVERY_MS = 3_600_000;

/** The worker's retention timer: one run at a time, hourly, stopped between batches. */
export class RetentionJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopping = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly retentionMs: number | null,
    private readonly log: Logger,
  ) {}

  /** Runs now, then every hour; does nothing when retention is off. */
  start(): void {
    if (this.retentionMs === null) return;
    this.run();
    this.timer = setInterval(() => this.run(), RETENTION_EVERY_MS);
  }

  /** Ends after the current batch. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private run(): void {
    const retentionMs = this.retentionMs;
    if (this.stopping || this.running || retentionMs === null) return;
    this.running = (async () => {
      try {
        const result = await pruneExpired(this.dataSource, { retentionMs, shouldStop: () => this.stopping });
        if (result && result.calls + result.deliveries + result.events > 0) {
          this.log.info({ deletedCalls: result.calls, deletedDeliveries: result.deliveries, deletedEvents: result.events }, `retention: deleted ${result.calls} log row(s), ${result.deliveries} finished deliveries, ${result.events} dispatched event(s) past ${Math.round(retentionMs / 3_600_000)} h`);
        }
      } catch (error) {
        this.log.error({ err: error }, 'retention: failed, next try in an hour');
      } finally {
        this.running = null;
      }
    })();
  }
}
