import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Hourly rollups of the call log per webhook, for `webhookStats` (src/stats/): succeeded and
 * failed calls, the slowest call, and a histogram of durations over fixed log-spaced bounds
 * (src/stats/duration-histogram.ts holds the same list). Aggregating raw rows for 30 days of a
 * busy webhook reads 100,000 rows; the rollup reads at most 744.
 *
 * A statement-level AFTER INSERT trigger with a transition table keeps them: it runs once per
 * INSERT however many rows it wrote, aggregates them per (webhook, hour) and upserts, so it
 * does not depend on which code writes the log or how it batches. The upsert goes in
 * (webhook, hour) order, so two batches touching the same rows lock them in the same order.
 *
 * Rollups are not rewritten when retention deletes old log rows: they are a few hundred bytes
 * per webhook and hour, and the statistics of a period stay what they were. Deleting a webhook
 * deletes its rollups.
 */
const BOUNDS = '{1,2,3,4,6,8,11,16,23,32,45,64,91,128,181,256,362,512,724,1024,1448,2048,2896,4096,5793,8192,11585,16384,23170,32768,46341,65536}';

/** Aggregates `source` (the log, or the trigger's new rows) into rollup rows, ordered. */
function rollupSelect(source: string): string {
  return `WITH per_bucket AS (
  SELECT webhook_id, date_trunc('hour', created_at, 'UTC') AS hour,
         width_bucket(duration_ms, cms_webhook_call_duration_bounds()) AS k,
         count(*) FILTER (WHERE success) AS succeeded, count(*) FILTER (WHERE NOT success) AS failed,
         count(*) AS n, max(duration_ms) AS max_ms
    FROM ${source}
   GROUP BY 1, 2, 3
), per_hour AS (
  SELECT webhook_id, hour, sum(succeeded)::int AS succeeded, sum(failed)::int AS failed, max(max_ms) AS max_ms,
         array_agg(k) AS ks, array_agg(n::int) AS ns
    FROM per_bucket
   GROUP BY 1, 2
)
SELECT webhook_id, hour, succeeded, failed, max_ms,
       ARRAY(SELECT coalesce(ns[array_position(ks, i)], 0) FROM generate_series(0, cardinality(cms_webhook_call_duration_bounds())) AS i ORDER BY i)
  FROM per_hour
 ORDER BY webhook_id, hour`;
}

export class WebhookStats1764400000000 implements MigrationInterface {
    name = 'WebhookStats1764400000000';

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE FUNCTION cms_webhook_call_duration_bounds() RETURNS integer[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT '${BOUNDS}'::integer[] $$`);
        await queryRunner.query(`CREATE TABLE "webhook_call_hourly" (
  "webhook_id" uuid NOT NULL REFERENCES "webhook"("id") ON DELETE CASCADE,
  "hour" TIMESTAMP WITH TIME ZONE NOT NULL,
  "succeeded" integer NOT NULL,
  "failed" integer NOT NULL,
  "max_duration_ms" integer NOT NULL,
  "duration_histogram" integer[] NOT NULL,
  CONSTRAINT "webhook_call_hourly_pk" PRIMARY KEY ("webhook_id", "hour"))`);
        await queryRunner.query(`CREATE FUNCTION cms_webhook_call_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO webhook_call_hourly AS r (webhook_id, hour, succeeded, failed, max_duration_ms, duration_histogram)
  ${rollupSelect('new_rows')}
  ON CONFLICT (webhook_id, hour) DO UPDATE
     SET succeeded = r.succeeded + excluded.succeeded,
         failed = r.failed + excluded.failed,
         max_duration_ms = greatest(r.max_duration_ms, excluded.max_duration_ms),
         duration_histogram = ARRAY(SELECT a + b FROM unnest(r.duration_histogram, excluded.duration_histogram) WITH ORDINALITY AS u(a, b, i) ORDER BY i);
  RETURN NULL;
END $$`);
        await queryRunner.query(`CREATE TRIGGER webhook_call_rollup AFTER INSERT ON "webhook_call" REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION cms_webhook_call_rollup()`);
        // Calls logged before count too. CREATE TRIGGER locks out inserts until this transaction
        // commits, and this statement's snapshot is taken after that lock: no call is counted
        // twice or missed, even with an older process still logging.
        await queryRunner.query(`INSERT INTO webhook_call_hourly (webhook_id, hour, succeeded, failed, max_duration_ms, duration_histogram)
${rollupSelect('webhook_call')}`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TRIGGER IF EXISTS webhook_call_rollup ON "webhook_call"`);
        await queryRunner.query(`DROP FUNCTION IF EXISTS cms_webhook_call_rollup`);
        await queryRunner.query(`DROP TABLE IF EXISTS "webhook_call_hourly"`);
        await queryRunner.query(`DROP FUNCTION IF EXISTS cms_webhook_call_duration_bounds`);
    }
}
