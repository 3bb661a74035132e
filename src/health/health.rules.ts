import type { Config, HealthRules } from '../config/config';

/**
 * What the statement that logs attempts needs to keep each webhook's health state
 * (src/delivery/queue.ts, `settleOutcomes`): the configured thresholds and when auto-disable
 * strikes. Pure values, so the queue does not depend on the whole configuration.
 */
export interface SettleHealth extends HealthRules {
  /** WEBHOOK_AUTO_DISABLE_AFTER; null = never, and then no warning either. */
  autoDisableAfterMs: number | null;
}

const DAY_MS = 24 * 3_600_000;

/** The defaults of src/config/config.ts, for writers built without a configuration (tools, unit tests). */
export const DEFAULT_SETTLE_HEALTH: SettleHealth = {
  failingAfter: 5,
  failingRatePercent: 50,
  failingRateMinCalls: 20,
  disableWarningBeforeMs: DAY_MS,
  autoDisableAfterMs: 5 * DAY_MS,
};

export function settleHealthOf(config: Pick<Config['webhook'], 'health' | 'autoDisableAfterMs'>): SettleHealth {
  return { ...config.health, autoDisableAfterMs: config.autoDisableAfterMs };
}

/**
 * How long every call must have failed before the warning goes out: the auto-disable window
 * less the lead time, never below zero (a lead at least as long as the window warns at the
 * first failed call after the webhook became FAILING). Null when auto-disable is off.
 */
export function warnAfterMs(health: SettleHealth): number | null {
  if (health.autoDisableAfterMs === null) return null;
  return Math.max(0, health.autoDisableAfterMs - health.disableWarningBeforeMs);
}
