import type { StatsBucket } from '../generated/graphql';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface StatsRange {
  bucket: StatsBucket;
  from: string;
  to: string;
}

/**
 * The last 24 hours (24 UTC hours, the current one included) or 30 days. `to` is the start of
 * the next minute, so ranges computed a few seconds apart are the same variables (one cached
 * query) and the current bucket still counts calls of the last seconds.
 */
export function lastHours(hours = 24, now = Date.now()): StatsRange {
  const to = Math.ceil((now + 1) / 60_000) * 60_000;
  return { bucket: 'HOUR', from: new Date(Math.floor(now / HOUR) * HOUR - (hours - 1) * HOUR).toISOString(), to: new Date(to).toISOString() };
}

export function lastDays(days = 30, now = Date.now()): StatsRange {
  const to = Math.ceil((now + 1) / 60_000) * 60_000;
  return { bucket: 'DAY', from: new Date(Math.floor(now / DAY) * DAY - (days - 1) * DAY).toISOString(), to: new Date(to).toISOString() };
}
