import type { DataSource } from 'typeorm';
import type { AccessService } from '../auth/access.service';
import type { Actor } from '../auth/actor';
import { badInput, notFound, requireUuid } from '../common/app-error';
import { ProjectRole } from '../cms/roles';
import { bucketStart, StatsBucket, StatsData, summarize } from './stats-buckets';

const DAY_MS = 86_400_000;

/** The longest range per bucket size: a month of hours (745 points at most), a quarter of days (93). */
export const MAX_RANGE_DAYS: Record<StatsBucket, number> = { [StatsBucket.HOUR]: 31, [StatsBucket.DAY]: 92 };

function isDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

/**
 * Health of one webhook over time, read from the hourly rollups the database keeps
 * (migrations/1764400000000-WebhookStats.ts), never from the raw log. Like the log itself,
 * it needs ADMIN; a webhook outside the caller's projects is NOT_FOUND.
 */
export class WebhookStatsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: AccessService,
  ) {}

  async stats(actor: Actor | null, webhookId: string, from: Date, to: Date, bucket: StatsBucket): Promise<StatsData & { webhookId: string; bucket: StatsBucket }> {
    const id = requireUuid('webhookId', webhookId);
    checkRange(from, to, bucket);
    const [webhook]: Array<{ project_id: string }> = await this.dataSource.query('SELECT project_id FROM webhook WHERE id = $1', [id]);
    if (!webhook) throw notFound('Webhook');
    await this.access.requireRole(actor, webhook.project_id, ProjectRole.ADMIN, 'read the webhook log', 'Webhook');
    // One row per bucket: the database folds hours and slots (date_bin from a UTC midnight), so
    // only 24 or 30 histograms cross the wire for the console's charts, not 720 hours of them.
    const rows: Array<{ start: Date; succeeded: number; failed: number; max_duration_ms: number; duration_histogram: number[] }> = await this.dataSource.query(
      `SELECT date_bin($4::interval, hour, '2000-01-01T00:00:00Z') AS start, sum(succeeded)::int AS succeeded, sum(failed)::int AS failed,
              max(max_duration_ms) AS max_duration_ms, cms_histogram_sum(duration_histogram) AS duration_histogram
         FROM webhook_call_hourly
        WHERE webhook_id = $1 AND hour >= $2 AND hour < $3
        GROUP BY 1`,
      [id, bucketStart(from, bucket), to, bucket === StatsBucket.HOUR ? '1 hour' : '1 day'],
    );
    const rollups = rows.map((r) => ({ start: r.start, succeeded: r.succeeded, failed: r.failed, maxDurationMs: r.max_duration_ms, histogram: r.duration_histogram }));
    return { webhookId: id, bucket, ...summarize(rollups, from, to, bucket) };
  }
}

/** `to` after `from`, and not so far apart that the answer would be thousands of points. */
export function checkRange(from: Date, to: Date, bucket: StatsBucket): void {
  if (!isDate(from)) throw badInput('from', 'must be an ISO-8601 date-time');
  if (!isDate(to)) throw badInput('to', 'must be an ISO-8601 date-time');
  if (to.getTime() <= from.getTime()) throw badInput('to', 'must be after from');
  // Measured from `from` as given, so "the last 31 days" from any instant is accepted (one bucket more once rounded down).
  const maxDays = MAX_RANGE_DAYS[bucket];
  if (to.getTime() - from.getTime() > maxDays * DAY_MS) {
    const hint = bucket === StatsBucket.HOUR ? '; use bucket DAY for longer ranges' : '';
    throw badInput('to', `must be at most ${maxDays} days after from with bucket ${bucket}${hint}`);
  }
}
