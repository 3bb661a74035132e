import { emptyHistogram, DURATION_BOUNDS_MS } from './duration-histogram';
import { bucketStart, Rollup, StatsBucket, summarize } from './stats-buckets';

function rollup(iso: string, succeeded: number, failed: number, durationMs: number): Rollup {
  const histogram = emptyHistogram();
  histogram[DURATION_BOUNDS_MS.filter((b) => b <= durationMs).length] = succeeded + failed;
  return { start: new Date(iso), succeeded, failed, maxDurationMs: durationMs, histogram };
}

test('buckets start on UTC hours and UTC days', () => {
  expect(bucketStart(new Date('2026-11-30T13:45:12.345Z'), StatsBucket.HOUR).toISOString()).toBe('2026-11-30T13:00:00.000Z');
  expect(bucketStart(new Date('2026-11-30T23:59:59.999Z'), StatsBucket.DAY).toISOString()).toBe('2026-11-30T00:00:00.000Z');
});

test('hourly: every hour of the range, empty ones with zero calls and no percentiles', () => {
  const stats = summarize([rollup('2026-11-30T11:00:00Z', 3, 1, 100)], new Date('2026-11-30T10:30:00Z'), new Date('2026-11-30T13:00:00Z'), StatsBucket.HOUR);
  expect(stats.from.toISOString()).toBe('2026-11-30T10:00:00.000Z');
  expect(stats.buckets.map((b) => [b.start.toISOString().slice(11, 16), b.succeeded, b.failed, b.p50DurationMs])).toEqual([
    ['10:00', 0, 0, null],
    ['11:00', 3, 1, 100],
    ['12:00', 0, 0, null],
  ]);
  expect([stats.succeeded, stats.failed]).toEqual([3, 1]);
});

test('a range ending inside an hour includes that hour', () => {
  const stats = summarize([], new Date('2026-11-30T10:00:00Z'), new Date('2026-11-30T10:00:00.001Z'), StatsBucket.HOUR);
  expect(stats.buckets).toHaveLength(1);
});

test('daily: hours fold into their UTC day, percentiles over the whole day', () => {
  const rows = [rollup('2026-11-29T23:00:00Z', 10, 0, 20), rollup('2026-11-30T00:00:00Z', 9, 0, 20), rollup('2026-11-30T23:00:00Z', 0, 1, 5000)];
  const stats = summarize(rows, new Date('2026-11-29T12:00:00Z'), new Date('2026-12-01T00:00:00Z'), StatsBucket.DAY);
  expect(stats.buckets.map((b) => [b.start.toISOString().slice(0, 10), b.succeeded, b.failed, b.p50DurationMs, b.p95DurationMs])).toEqual([
    ['2026-11-29', 10, 0, 20, 20],
    // 10 calls: 9 took 20 ms, one 5 s. p50 is among the 20 ms ones (bucket [16, 23) → 23, capped at
    // the slowest call of the day, which is 5 s, so 23); p95 is rank 10: the 5 s call's bucket
    // [4096, 5793), capped at 5000.
    ['2026-11-30', 9, 1, 23, 5000],
  ]);
  expect([stats.succeeded, stats.failed, stats.p95DurationMs]).toEqual([19, 1, 23]);
});

test('rows outside the range are ignored', () => {
  const stats = summarize([rollup('2026-11-30T09:00:00Z', 5, 0, 10)], new Date('2026-11-30T10:00:00Z'), new Date('2026-11-30T11:00:00Z'), StatsBucket.HOUR);
  expect(stats.succeeded).toBe(0);
});
