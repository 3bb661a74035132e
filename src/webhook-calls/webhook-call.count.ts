import type { DataSource } from 'typeorm';
import { NOTIFICATION_KIND } from '../health/health.constants';
import type { WebhookCallFilterData } from './webhook-call.service';

/**
 * How many log rows match a filter, without scanning the project's log.
 *
 * `webhook_call_count` holds a count per webhook, UTC hour, trigger, kind and outcome, kept in
 * the inserting (and deleting) transaction by triggers (migrations/1764500000000). Whole hours
 * inside the window are summed from it; only the partial hours at the edges of `since`/`until`
 * are counted row by row, so the cost is bounded by two hours of the log, however long the log
 * grows. The result is exact, and one statement reads it all from one snapshot.
 *
 * A filter on `eventId` counts rows through the event index: one event has few attempts.
 */

const HOUR_MS = 3_600_000;
const floorHour = (d: Date) => new Date(Math.floor(d.getTime() / HOUR_MS) * HOUR_MS);
const ceilHour = (d: Date) => new Date(Math.ceil(d.getTime() / HOUR_MS) * HOUR_MS);

export async function countCalls(dataSource: DataSource, projectId: string, filter: WebhookCallFilterData): Promise<number> {
  const params: unknown[] = [projectId];
  const param = (value: unknown) => `$${params.push(value)}`;
  // Columns both tables have, under the same names.
  // Calls to notification endpoints are not part of this log (notificationCalls lists them).
  const shared = ['project_id = $1', `kind <> '${NOTIFICATION_KIND}'`];
  if (filter.webhookId) shared.push(`webhook_id = ${param(filter.webhookId)}`);
  if (filter.success != null) shared.push(`success = ${param(filter.success)}`);
  if (filter.trigger) shared.push(`trigger = ${param(filter.trigger)}`);
  if (filter.kind) shared.push(`kind = ${param(filter.kind)}`);

  const rows = (from: Date | null | undefined, to: Date | null | undefined, extra: string[] = []) => {
    const where = [...shared, ...extra];
    if (from) where.push(`created_at >= ${param(from)}`);
    if (to) where.push(`created_at < ${param(to)}`);
    return `(SELECT count(*) FROM webhook_call WHERE ${where.join(' AND ')})`;
  };
  const hours = (from: Date | null, to: Date | null) => {
    const where = [...shared];
    if (from) where.push(`hour >= ${param(from)}`);
    if (to) where.push(`hour < ${param(to)}`);
    return `(SELECT coalesce(sum(n), 0) FROM webhook_call_count WHERE ${where.join(' AND ')})`;
  };

  const { since, until } = filter;
  let sum: string[];
  if (filter.eventId) {
    sum = [rows(since, until, [`event_id = ${param(filter.eventId)}`])];
  } else {
    const fullFrom = since ? ceilHour(since) : null;
    const fullTo = until ? floorHour(until) : null;
    if (fullFrom && fullTo && fullFrom.getTime() >= fullTo.getTime()) {
      // No whole hour inside: the window is at most two partial hours.
      sum = [rows(since, until)];
    } else {
      sum = [hours(fullFrom, fullTo)];
      if (since && fullFrom && since.getTime() < fullFrom.getTime()) sum.push(rows(since, fullFrom));
      if (until && fullTo && fullTo.getTime() < until.getTime()) sum.push(rows(fullTo, until));
    }
  }
  const [{ n }] = await dataSource.query(`SELECT (${sum.join(' + ')})::bigint AS n`, params);
  return Number(n);
}
