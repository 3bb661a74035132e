import type { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from '../db/errors';
import type { SettleHealth } from '../health/health.rules';
import { type SettleEntry, type Settled, settleOutcomes } from './queue';
import type { UnrecordedAttempts } from './unrecorded';

/**
 * Writes attempt outcomes in batches, as a database writes its log: group commit. The first
 * outcome starts a write at the next turn of the event loop; outcomes that arrive while a
 * write is in progress wait for it and go together in the next. Idle, an outcome costs one
 * round trip, as before; busy, one statement carries many, so the database work per attempt
 * falls as the load rises instead of capping it.
 *
 * A batch that fails as a whole is split, so one row the database refuses (its webhook was
 * deleted during the attempt) does not take the others with it. When the database is
 * unavailable, the outcomes go to the UnrecordedAttempts store, which writes them when it is
 * back; their callers get null.
 */

export interface OutcomeWriterOptions {
  /** Rows per statement at most. */
  maxBatch?: number;
  /** Request and response bodies per statement at most (a response body may be 64 KiB). */
  maxBytes?: number;
  unrecorded?: UnrecordedAttempts;
  /** The health thresholds the statement applies; the configuration's defaults when absent. */
  health?: SettleHealth;
}

interface Waiting {
  entry: SettleEntry;
  bytes: number;
  resolve(settled: Settled | null): void;
  reject(error: unknown): void;
}

export class OutcomeWriter {
  private waiting: Waiting[] = [];
  private writing: Promise<void> | null = null;
  private readonly maxBatch: number;
  private readonly maxBytes: number;
  private batchCount = 0;
  private rowCount = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: OutcomeWriterOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 500;
    this.maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
  }

  /** Outcomes waiting to be written, or being written. */
  get pending(): number {
    return this.waiting.length;
  }

  /** Statements and rows written so far (rows per statement shows how well writes batch). */
  stats(): { batches: number; rows: number } {
    return { batches: this.batchCount, rows: this.rowCount };
  }

  /** Resolves once the outcome is in the database, or null when it was kept for later. */
  write(entry: SettleEntry): Promise<Settled | null> {
    return new Promise((resolve, reject) => {
      const bytes = entry.call.requestBody.length + (entry.call.responseBody?.length ?? 0) + 512;
      this.waiting.push({ entry, bytes, resolve, reject });
      this.writing ??= this.run();
    });
  }

  /** Resolves when everything handed to write() so far has been written (or kept). */
  async flushed(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async run(): Promise<void> {
    // One turn of the event loop, so outcomes finishing together share the first statement.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.waiting.length > 0) await this.writeBatch(this.takeBatch());
    } finally {
      this.writing = null;
    }
  }

  private takeBatch(): Waiting[] {
    let bytes = 0;
    let n = 0;
    while (n < this.waiting.length && n < this.maxBatch && (n === 0 || bytes + this.waiting[n].bytes <= this.maxBytes)) {
      bytes += this.waiting[n].bytes;
      n++;
    }
    return this.waiting.splice(0, n);
  }

  private async writeBatch(batch: Waiting[]): Promise<void> {
    try {
      const results = await settleOutcomes(this.dataSource, batch.map((w) => w.entry), this.options.health);
      this.batchCount++;
      this.rowCount += batch.length;
      batch.forEach((w, i) => w.resolve(results[i]));
    } catch (error) {
      if (isDatabaseUnavailable(error) && this.options.unrecorded) {
        for (const w of batch) {
          this.options.unrecorded.keep(w.entry);
          w.resolve(null);
        }
      } else if (batch.length > 1) {
        // Find the row the database refuses: each alone, so the others are still written.
        for (const w of batch) await this.writeBatch([w]);
      } else {
        batch[0].reject(error);
      }
    }
  }
}
