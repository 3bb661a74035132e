import { nextRetryDelayMs, parseRetryAfter } from './backoff';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
// The product's default schedule: 5s,5m,30m,2h,5h,10h,10h.
const schedule = [5 * s, 5 * m, 30 * m, 2 * h, 5 * h, 10 * h, 10 * h];
const middle = () => 0.5;
const lowest = () => 0;
const highest = () => 0.999999999;

describe('nextRetryDelayMs', () => {
  it('follows the schedule, attempt numbers starting at 1', () => {
    expect(schedule.map((_, i) => nextRetryDelayMs(schedule, i + 1, middle))).toEqual(schedule);
  });

  it('stops after schedule length + 1 attempts', () => {
    expect(nextRetryDelayMs(schedule, 7, middle)).toBe(10 * h);
    expect(nextRetryDelayMs(schedule, 8, middle)).toBeNull();
    expect(nextRetryDelayMs(schedule, 9, middle)).toBeNull();
    expect(nextRetryDelayMs([], 1, middle)).toBeNull();
  });

  it('jitters by up to ±20%, uniformly', () => {
    expect(nextRetryDelayMs(schedule, 1, lowest)).toBe(4 * s);
    expect(nextRetryDelayMs(schedule, 1, highest)).toBe(6 * s);
    expect(nextRetryDelayMs(schedule, 1, () => 0.25)).toBe(4.5 * s);
    expect(nextRetryDelayMs(schedule, 2, () => 0.75)).toBe(5.5 * m);
  });

  it('stays within bounds over many draws', () => {
    for (let i = 0; i < 1000; i++) {
      const delay = nextRetryDelayMs(schedule, 3, Math.random)!;
      expect(delay).toBeGreaterThanOrEqual(24 * m);
      expect(delay).toBeLessThanOrEqual(36 * m);
    }
  });

  it('lets Retry-After push a retry later, never sooner', () => {
    expect(nextRetryDelayMs(schedule, 1, middle, 60 * s)).toBe(60 * s);
    expect(nextRetryDelayMs(schedule, 1, middle, 1 * s)).toBe(5 * s);
    expect(nextRetryDelayMs(schedule, 1, middle, 0)).toBe(5 * s);
    expect(nextRetryDelayMs(schedule, 2, lowest, 4.5 * m)).toBe(4.5 * m);
  });

  it('caps Retry-After at the largest scheduled delay', () => {
    expect(nextRetryDelayMs(schedule, 1, middle, 7 * 24 * h)).toBe(10 * h);
    expect(nextRetryDelayMs([1 * s, 2 * s], 1, middle, 1 * h)).toBe(2 * s);
  });

  it('caps Retry-After at 24 hours even for a longer schedule', () => {
    expect(nextRetryDelayMs([1 * s, 48 * h], 1, middle, 30 * h)).toBe(24 * h);
  });

  it('ignores a meaningless Retry-After and negative schedule entries', () => {
    expect(nextRetryDelayMs(schedule, 1, middle, -5)).toBe(5 * s);
    expect(nextRetryDelayMs(schedule, 1, middle, Number.NaN)).toBe(5 * s);
    expect(nextRetryDelayMs([-10], 1, middle)).toBe(0);
  });

  it('refuses attempt numbers below 1', () => {
    expect(() => nextRetryDelayMs(schedule, 0, middle)).toThrow(RangeError);
    expect(() => nextRetryDelayMs(schedule, 1.5, middle)).toThrow(RangeError);
  });
});

describe('parseRetryAfter', () => {
  const now = new Date('2015-10-21T07:28:00.000Z');

  it.each([
    ['0', 0],
    ['120', 120 * s],
    [' 30 ', 30 * s],
    ['Wed, 21 Oct 2015 07:30:00 GMT', 2 * m],
    ['Wednesday, 21-Oct-15 07:29:00 GMT', 1 * m],
    ['Wed Oct 21 08:28:00 2015', 1 * h],
    ['Wed Oct  1 07:28:00 2015', 0],
    ['Thu, 22 Oct 2015 07:28:00 GMT', 24 * h],
    ['Tue, 20 Oct 2015 07:28:00 GMT', 0],
    ['wed, 21 oct 2015 07:28:30 gmt', 30 * s],
  ])('reads %p', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it.each([
    undefined,
    '',
    'soon',
    '-1',
    '1.5',
    '5s',
    '2015-10-21T07:30:00Z',
    'Wed, 31 Feb 2015 07:30:00 GMT',
    'Wed, 21 Oct 2015 25:30:00 GMT',
    'Wed, 21 Oct 2015 07:30:00 PST',
    'Wed, 21 Oct 2015 07:30:00',
    '9'.repeat(400),
  ])('ignores %p', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});
