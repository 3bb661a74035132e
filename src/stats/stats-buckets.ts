import { addHistogram, emptyHistogram, percentileMs } from './duration-histogram';

/** Bucket sizes of webhookStats: UTC hours or UTC days. */
export enum StatsBucket {
  HOUR = 'HOUR',
  DAY = 'DAY',
}

export const BUCKET_MS: Record<StatsBucket, number> = { [StatsBucket.HOUR]: 3_600_000, [StatsBucket.DAY]: 86_400_000 };

/** Calls of one webhook in one bucket (or part of one), summed from the hourly rollups. */
export interface Rollup {
  start: Date;
  succeeded: number;
  failed: number;
  maxDurationMs: number;
  histogram: number[];
}

export interface StatsTotals {
  succeeded: number;
  failed: number;
  p50DurationMs: number | null;
  p95DurationMs: number | null;
}

export interface StatsBucketData extends StatsTotals {
  start: Date;
}

export interface StatsData extends StatsTotals {
  /** `from` rounded down to its bucket. */
  from: Date;
  to: Date;
  buckets: StatsBucketData[];
}

/** UTC hours and UTC days both start at a multiple of their length since the epoch. */
export function bucketStart(at: Date, bucket: StatsBucket): Date {
  const size = BUCKET_MS[bucket];
  return new Date(Math.floor(at.getTime() / size) * size);
}

class Accumulator {
  succeeded = 0;
  failed = 0;
  maxDurationMs = 0;
  histogram = emptyHistogram();

  add(row: Rollup): void {
    this.succeeded += row.succeeded;
    this.failed += row.failed;
    this.maxDurationMs = Math.max(this.maxDurationMs, row.maxDurationMs);
    addHistogram(this.histogram, row.histogram);
  }

  totals(): StatsTotals {
    return {
      succeeded: this.succeeded,
      failed: this.failed,
      p50DurationMs: percentileMs(this.histogram, 0.5, this.maxDurationMs),
      p95DurationMs: percentileMs(this.histogram, 0.95, this.maxDurationMs),
    };
  }
}

/**
 * Every bucket from `from` (rounded down) up to `to` (exclusive), empty ones included, so a
 * chart's x axis needs no gap filling. `rows` fall in that range, several per bucket or one.
 */
export function summarize(rows: Rollup[], from: Date, to: Date, bucket: StatsBucket): StatsData {
  const size = BUCKET_MS[bucket];
  const first = bucketStart(from, bucket).getTime();
  const count = Math.max(0, Math.ceil((to.getTime() - first) / size));
  const perBucket = Array.from({ length: count }, () => new Accumulator());
  const total = new Accumulator();
  for (const row of rows) {
    const index = Math.floor((row.start.getTime() - first) / size);
    if (index < 0 || index >= count) continue;
    perBucket[index].add(row);
    total.add(row);
  }
  return {
    from: new Date(first),
    to,
    buckets: perBucket.map((acc, i) => ({ start: new Date(first + i * size), ...acc.totals() })),
    ...total.totals(),
  };
}
