import type { DataSource } from 'typeorm';
import { webhookDisabled } from '../observability/metrics';

/**
 * Like Svix: an endpoint that has failed every call for `windowMs` (a failure that old with no
 * success after it) is disabled with a reason, instead of being retried for ever. Checked only
 * when a delivery fails for good, which is rare, so the query stays off the hot path.
 * True when this call disabled the webhook.
 */
export async function disableIfFailingFor(dataSource: DataSource, webhookId: string, windowMs: number): Promise<boolean> {
  const window = describeWindow(windowMs);
  // The health columns change with it: its trigger announces the change (webhook.disabled).
  const [rows] = (await dataSource.query(
    `WITH last_ok AS (SELECT max(created_at) AS at FROM webhook_call WHERE webhook_id = $1 AND success)
     UPDATE webhook SET enabled = false, updated_at = now(), disabled_reason = r.reason,
            health_state = 'DISABLED', health_reason = r.reason, health_changed_at = now(), health_will_disable_at = NULL
       FROM (SELECT first_failure.at, 'Disabled automatically: every call failed for ' || $3 || ' (since '
                      || to_char(first_failure.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                      || '). Fix the endpoint, enable the webhook, then recoverWebhook re-sends what failed.' AS reason
               FROM (SELECT min(c.created_at) AS at FROM webhook_call c, last_ok
                      WHERE c.webhook_id = $1 AND NOT c.success AND (last_ok.at IS NULL OR c.created_at > last_ok.at)) AS first_failure) AS r
      WHERE webhook.id = $1 AND webhook.enabled AND r.at <= now() - $2 * interval '1 millisecond'
     RETURNING webhook.id`,
    [webhookId, windowMs, window],
  )) as [unknown[], number];
  if (rows.length > 0) webhookDisabled('auto');
  return rows.length > 0;
}

/** "120 hours", or minutes or seconds for the short windows tests and trials use (not "0 hours"). */
export function describeWindow(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} hours`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} minutes`;
  return `${Math.round(ms / 100) / 10} seconds`;
}
