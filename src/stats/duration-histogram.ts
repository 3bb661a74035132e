/**
 * Call durations are kept per webhook and hour as counts over fixed, log-spaced buckets (the
 * rollup table of migrations/1764400000000-WebhookStats.ts), so percentiles over any range are
 * computed from a few hundred small arrays instead of up to a million log rows.
 *
 * Bucket k (0-based) holds durations in [BOUNDS[k - 1] ?? 0, BOUNDS[k] ?? ∞) ms: exactly what
 * PostgreSQL's `width_bucket(duration_ms, bounds)` returns. The bounds grow by about √2
 * (round(2^(i/2))), so a percentile read from them is within a factor √2 of the true value.
 * The migration stores the same list; a test checks the two agree.
 */
export const DURATION_BOUNDS_MS: readonly number[] = [
  1, 2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128, 181, 256, 362, 512, 724, 1024, 1448, 2048, 2896, 4096, 5793, 8192, 11585,
  16384, 23170, 32768, 46341, 65536,
];

/** Counts per bucket: one more than there are bounds (the last bucket is open-ended). */
export const HISTOGRAM_LENGTH = DURATION_BOUNDS_MS.length + 1;

export function emptyHistogram(): number[] {
  return new Array<number>(HISTOGRAM_LENGTH).fill(0);
}

/** Adds `from` into `into`, element by element. */
export function addHistogram(into: number[], from: readonly number[]): number[] {
  if (from.length !== HISTOGRAM_LENGTH) throw new Error(`a duration histogram has ${HISTOGRAM_LENGTH} counts, got ${from.length}`);
  for (let i = 0; i < HISTOGRAM_LENGTH; i++) into[i] += from[i];
  return into;
}

/**
 * The `p`-th percentile (0 < p ≤ 1) as an upper estimate: the upper bound of the bucket that
 * holds the call of rank ⌈p·n⌉, but never more than the slowest call (which also answers for
 * the open-ended last bucket). Null when there were no calls.
 */
export function percentileMs(histogram: readonly number[], p: number, maxDurationMs: number): number | null {
  const total = histogram.reduce((sum, n) => sum + n, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (let k = 0; k < histogram.length; k++) {
    seen += histogram[k];
    if (seen >= rank) return Math.min(DURATION_BOUNDS_MS[k] ?? maxDurationMs, maxDurationMs);
  }
  return maxDurationMs;
}
