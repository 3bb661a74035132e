import { addHistogram, DURATION_BOUNDS_MS, emptyHistogram, HISTOGRAM_LENGTH, percentileMs } from './duration-histogram';

/** The bucket of a duration, as PostgreSQL's width_bucket(duration, bounds) numbers it (0-based here). */
function bucketOf(ms: number): number {
  return DURATION_BOUNDS_MS.filter((bound) => bound <= ms).length;
}

function histogramOf(durations: number[]): number[] {
  const histogram = emptyHistogram();
  for (const d of durations) histogram[bucketOf(d)]++;
  return histogram;
}

test('bounds rise strictly, by at most a factor of 2 and about √2 from 4 ms on', () => {
  for (let i = 1; i < DURATION_BOUNDS_MS.length; i++) {
    const ratio = DURATION_BOUNDS_MS[i] / DURATION_BOUNDS_MS[i - 1];
    expect(ratio).toBeGreaterThan(1);
    expect(ratio).toBeLessThanOrEqual(i < 4 ? 2 : 1.5);
  }
  expect(HISTOGRAM_LENGTH).toBe(DURATION_BOUNDS_MS.length + 1);
});

test('no calls: no percentile', () => {
  expect(percentileMs(emptyHistogram(), 0.5, 0)).toBeNull();
});

test('a percentile is the upper bound of the bucket holding its rank, within √2 above the true value', () => {
  const durations = Array.from({ length: 1000 }, (_, i) => 5 + ((i * 37) % 400));
  const sorted = [...durations].sort((a, b) => a - b);
  const histogram = histogramOf(durations);
  for (const p of [0.5, 0.95, 0.99]) {
    const truth = sorted[Math.ceil(p * sorted.length) - 1];
    const estimate = percentileMs(histogram, p, sorted[sorted.length - 1])!;
    expect(estimate).toBeGreaterThanOrEqual(truth);
    expect(estimate / truth).toBeLessThanOrEqual(Math.SQRT2 + 0.01);
  }
});

test('never above the slowest call, which also answers for the open-ended last bucket', () => {
  expect(percentileMs(histogramOf([70, 70, 70]), 0.5, 70)).toBe(70);
  expect(percentileMs(histogramOf([100_000]), 0.95, 100_000)).toBe(100_000);
  expect(percentileMs(histogramOf([0]), 0.5, 0)).toBe(0);
});

test('one call: every percentile is that call', () => {
  const histogram = histogramOf([300]);
  expect(percentileMs(histogram, 0.5, 300)).toBe(300);
  expect(percentileMs(histogram, 0.95, 300)).toBe(300);
});

test('histograms add element by element and refuse another length', () => {
  const sum = addHistogram(histogramOf([1, 10]), histogramOf([10, 1000]));
  expect(sum[bucketOf(10)]).toBe(2);
  expect(sum.reduce((a, b) => a + b, 0)).toBe(4);
  expect(() => addHistogram(emptyHistogram(), [1, 2, 3])).toThrow(/33 counts, got 3/);
});
