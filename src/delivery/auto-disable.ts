import type { DataSource } from 'typeorm';

/**
 * Like Svix: an endpoint that has failed every call for `windowMs` (a failure that old with no
 * success after it) is disabled with a reason, instead of being retried for ever. Checked only
 * when a delivery fails for good, which is rare, so the query stays off the hot path.
 */
/** True when this call disabled the webhook. */
export async function disableIfFailingFor(dataSource: DataSource, webhookId: string, windowMs: number): Promise<boolean> {
  const hours = Math.round(windowMs / 3_600_000);
  const [, disabled]: [unknown, number] = await dataSource.query(
    `WITH last_ok AS (SELECT max(created_at) AS at FROM webhook_call WHERE webhook_id = $1 AND success)
     UPDATE webhook SET enabled = false, updated_at = now(),
            disabled_reason = 'Disabled automatically: every call failed for ' || $3 || ' hours (since '
              || to_char(first_failure.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
              || '). Fix the endpoint, enable the webhook, then recoverWebhook re-sends what failed.'
       FROM (SELECT min(c.created_at) AS at FROM webhook_call c, last_ok
              WHERE c.webhook_id = $1 AND NOT c.success AND (last_ok.at IS NULL OR c.created_at > last_ok.at)) AS first_failure
      WHERE webhook.id = $1 AND webhook.enabled AND first_failure.at <= now() - $2 * interval '1 millisecond'`,
    [webhookId, windowMs, String(hours)],
  );
  return disabled > 0;
}
