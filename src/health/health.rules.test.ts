import fc from 'fast-check';
import { DEFAULT_SETTLE_HEALTH, settleHealthOf, warnAfterMs } from './health.rules';

describe('warnAfterMs', () => {
  test('a day before the default five days: after four days of failures', () => {
    expect(warnAfterMs(DEFAULT_SETTLE_HEALTH)).toBe(4 * 24 * 3_600_000);
  });

  test('no warning when auto-disable is off', () => {
    expect(warnAfterMs({ ...DEFAULT_SETTLE_HEALTH, autoDisableAfterMs: null })).toBeNull();
  });

  test('never negative, and never later than auto-disable itself', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 10 ** 10 }), fc.integer({ min: 0, max: 10 ** 10 }), (window, lead) => {
        const at = warnAfterMs({ ...DEFAULT_SETTLE_HEALTH, autoDisableAfterMs: window, disableWarningBeforeMs: lead })!;
        expect(at).toBeGreaterThanOrEqual(0);
        expect(at).toBeLessThanOrEqual(window);
        expect(at).toBe(lead >= window ? 0 : window - lead);
      }),
    );
  });
});

test('settleHealthOf takes the thresholds and the auto-disable window from the configuration', () => {
  const health = { failingAfter: 2, failingRatePercent: 0, failingRateMinCalls: 3, disableWarningBeforeMs: 10 };
  expect(settleHealthOf({ health, autoDisableAfterMs: 99 })).toEqual({ ...health, autoDisableAfterMs: 99 });
});
