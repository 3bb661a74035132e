/**
 * PostgreSQL's timestamptz runs from 4714-11-24 BC to 294276 AD; JavaScript's Date from
 * 271822 BC to 275760 AD. A Date outside PostgreSQL's range fails in the query. The lower
 * bound keeps a year of margin: the driver writes dates in the process's local time zone,
 * whose offset that far back is not a whole number of minutes everywhere.
 */
export const MIN_STORABLE_TIMESTAMP_MS = Date.UTC(-4712, 0, 1); // 4713-01-01 BC

export const STORABLE_TIMESTAMP_RANGE = '4713 BC and 275760 AD';

export function isStorableTimestamp(date: Date): boolean {
  const time = date instanceof Date ? date.getTime() : NaN;
  return Number.isFinite(time) && time >= MIN_STORABLE_TIMESTAMP_MS;
}
