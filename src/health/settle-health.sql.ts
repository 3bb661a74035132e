/**
 * Each webhook's health, kept by the statement that logs attempts (src/delivery/queue.ts,
 * `settleOutcomes`; README "Failure notifications"): CTEs spliced in after its `input` CTE,
 * which they read (webhook_id, success, and n, the row's position in the batch).
 *
 * Per webhook of the batch: its outcomes in batch order give the new run of failed calls (a
 * success ends the run; failures after the batch's last success start a new one). A webhook
 * whose batch succeeded and that was HEALTHY with no run of failures is not touched: the
 * common case writes nothing more than before. The rows that may change are locked in id
 * order (two batches never deadlock), and under that lock the new state is decided from the
 * row's latest version, so of two workers settling outcomes of one webhook at once the second
 * sees what the first wrote. A change of health_state fires the trigger of migration
 * 1764610000000, which announces it exactly once.
 *
 * The failure-rate rule reads the hourly rollups (webhook_call_count) as a sliding window: the
 * current hour's calls plus the previous hour's weighted by how much of it is within the last
 * 60 minutes, plus this batch. It is read only for a batch with a failure, or for a webhook
 * that is not HEALTHY.
 *
 * The CTEs are MATERIALIZED: planned one by one instead of inlined into one join tree, the
 * statement plans in about 1.1 ms instead of 1.7 (it is planned on every call).
 *
 * $23 failingAfter, $24 warn after (ms, null = no warning), $25 failure rate percent (0 = off),
 * $26 minimum calls for the rate, $27 auto-disable window (ms).
 */
const ISO = `'YYYY-MM-DD"T"HH24:MI:SS"Z"'`;
export const HEALTH = `outcome_rows AS MATERIALIZED (
  SELECT i.webhook_id, i.success, i.n, max(i.n) FILTER (WHERE i.success) OVER (PARTITION BY i.webhook_id) AS last_ok FROM input i
), outcomes AS MATERIALIZED (
  SELECT webhook_id, count(*)::int AS calls, (count(*) FILTER (WHERE NOT success))::int AS failures, bool_or(success) AS any_ok,
         (count(*) FILTER (WHERE NOT success AND (last_ok IS NULL OR n > last_ok)))::int AS trailing
    FROM outcome_rows GROUP BY webhook_id
), health_current AS (
  SELECT w.id, w.health_state AS old_state, w.health_failure_rate AS old_rate, w.health_reason AS old_reason,
         w.health_changed_at AS old_changed_at, w.health_will_disable_at AS old_will_disable_at,
         o.calls, o.failures, o.any_ok, o.trailing,
         CASE WHEN o.any_ok THEN o.trailing ELSE w.consecutive_failures + o.failures END AS consecutive,
         CASE WHEN o.any_ok THEN CASE WHEN o.trailing > 0 THEN now() END ELSE coalesce(w.failing_since, now()) END AS since
    FROM webhook w JOIN outcomes o ON o.webhook_id = w.id
   WHERE w.purpose = 'EVENTS' AND (o.failures > 0 OR w.consecutive_failures > 0 OR w.health_state <> 'HEALTHY')
   ORDER BY w.id
     FOR NO KEY UPDATE OF w
), health_rates AS MATERIALIZED (
  SELECT h.id,
         h.calls + coalesce(sum(c.n * CASE WHEN c.hour = cur.hour THEN 1 ELSE cur.previous_weight END), 0) AS calls,
         h.failures + coalesce(sum(c.n * CASE WHEN c.hour = cur.hour THEN 1 ELSE cur.previous_weight END) FILTER (WHERE NOT c.success), 0) AS failures
    FROM health_current h
   CROSS JOIN (SELECT b.hour, 1 - extract(epoch FROM now() - b.hour) / 3600 AS previous_weight
                 FROM (SELECT date_bin('1 hour', now(), timestamptz '2000-01-01 00:00:00+00') AS hour) b) cur
    LEFT JOIN webhook_call_count c ON c.webhook_id = h.id AND c.hour >= cur.hour - interval '1 hour' AND c.kind <> 'NOTIFICATION'
   WHERE $25::int > 0 AND (h.failures > 0 OR h.old_state <> 'HEALTHY')
   GROUP BY h.id, h.calls, h.failures
), health_checked AS MATERIALIZED (
  SELECT h.*, r.calls AS rate_calls, r.failures AS rate_failures,
         coalesce(r.calls >= $26::int AND r.failures * 100 >= $25::int * r.calls, false) AS rate_hit,
         coalesce(h.failures > 0 AND h.since <= now() - $24::double precision * interval '1 millisecond', false) AS warn_due
    FROM health_current h LEFT JOIN health_rates r ON r.id = h.id
), health_decided AS MATERIALIZED (
  SELECT c.*, CASE
           WHEN c.old_state = 'DISABLED' THEN 'DISABLED'
           WHEN c.old_state = 'HEALTHY' THEN CASE WHEN c.consecutive >= $23::int OR (c.failures > 0 AND c.rate_hit) THEN 'FAILING' ELSE 'HEALTHY' END
           WHEN c.any_ok AND c.trailing = 0 AND (c.old_rate IS NULL OR NOT c.rate_hit) THEN 'HEALTHY'
           WHEN c.old_state = 'FAILING' AND c.warn_due THEN 'DISABLE_WARNING'
           ELSE c.old_state END AS state
    FROM health_checked c
), health AS (
  UPDATE webhook w
     SET consecutive_failures = d.consecutive,
         failing_since = d.since,
         health_state = d.state,
         health_changed_at = CASE WHEN d.state = d.old_state THEN d.old_changed_at ELSE now() END,
         health_failure_rate = CASE WHEN d.state = d.old_state THEN d.old_rate
                                    WHEN d.state = 'FAILING' AND d.consecutive < $23::int THEN (d.rate_failures / d.rate_calls)::real END,
         health_will_disable_at = CASE WHEN d.state = d.old_state THEN d.old_will_disable_at
                                       WHEN d.state = 'DISABLE_WARNING' THEN d.since + $27::double precision * interval '1 millisecond' END,
         health_reason = CASE
           WHEN d.state = d.old_state THEN d.old_reason
           WHEN d.state = 'FAILING' AND d.consecutive >= $23::int THEN d.consecutive || ' consecutive calls failed'
           WHEN d.state = 'FAILING' THEN round(100 * d.rate_failures / d.rate_calls) || '% of the calls of the last hour failed ('
                                         || round(d.rate_failures) || ' of ' || round(d.rate_calls) || ')'
           WHEN d.state = 'DISABLE_WARNING' THEN 'Every call has failed since ' || to_char(d.since AT TIME ZONE 'UTC', ${ISO})
                                         || '; the webhook will be disabled when a delivery fails for good after '
                                         || to_char((d.since + $27::double precision * interval '1 millisecond') AT TIME ZONE 'UTC', ${ISO})
           ELSE 'A call succeeded' END
    FROM health_decided d
   WHERE w.id = d.id
`;

