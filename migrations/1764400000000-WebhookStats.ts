import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Hourly rollups of the call log per webhook, for `webhookStats` (src/stats/): succeeded and
 * failed calls, the slowest call, and a histogram of durations over fixed log-spaced bounds
 * (src/stats/duration-histogram.ts holds the same list). Aggregating raw rows for 30 days of a
 * busy webhook reads 100,000 rows; the rollups are a few hundred.
 *
 * A statement-level AFTER INSERT trigger with a transition table keeps them: it runs once per
 * INSERT however many rows it wrote, aggregates them per (webhook, hour) and adds them in, so
 * it does not depend on which code writes the log or how it batches.
 *
 * An hour may have several rows ("slots"), summed when read. A rollup row stays locked until
 * the inserting transaction commits, and the delivery worker logs each attempt in its own
 * short transaction, several at once per webhook: with one row per hour they would commit
 * one after the other, each waiting for the previous one's WAL flush. So the trigger adds to
 * the first slot no one holds (FOR UPDATE SKIP LOCKED) and opens the next slot when all are
 * held: an hour has as many rows as there were concurrent writers, usually one or two. (Two
 * writers that both open the same new slot do wait for each other, once per slot and hour.)
 *
 * Rollups are not rewritten when retention deletes old log rows: they are a few hundred bytes
 * per webhook and hour, and the statistics of a period stay what they were. Deleting a webhook
 * deletes its rollups.
 */
const BOUNDS = '{1,2,3,4,6,8,11,16,23,32,45,64,91,128,181,256,362,512,724,1024,1448,2048,2896,4096,5793,8192,11585,16384,23170,32768,46341,65536}';

/** Aggregates `source` (the log, or the trigger's new rows) per (webhook, hour), in that order. */
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
       ARRAY(SELECT coalesce(ns[array_position(ks, i)], 0) FROM generate_series(0, cardinality(cms_webhook_call_duration_bounds())) AS i ORDER BY i) AS histogram
  FROM per_hour
 ORDER BY webhook_id, hour`;
}

export class WebhookStats1764400000000 implements MigrationInterface {
    name = 'WebhookStats1764400000000';

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE FUNCTION cms_webhook_call_duration_bounds() RETURNS integer[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT '${BOUNDS}'::integer[] $$`);
        // Element-wise sum of histograms, so a reader gets one row per day (or hour), not one per hour and slot.
        await queryRunner.query(`CREATE FUNCTION cms_histogram_add(total integer[], histogram integer[]) RETURNS integer[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF total IS NULL THEN RETURN histogram; END IF;
  FOR i IN 1 .. cardinality(histogram) LOOP total[i] := total[i] + histogram[i]; END LOOP;
  RETURN total;
END $$`);
        await queryRunner.query(`CREATE AGGREGATE cms_histogram_sum(integer[]) (SFUNC = cms_histogram_add, STYPE = integer[])`);
        await queryRunner.query(`CREATE TABLE "webhook_call_hourly" (
  "webhook_id" uuid NOT NULL REFERENCES "webhook"("id") ON DELETE CASCADE,
  "hour" TIMESTAMP WITH TIME ZONE NOT NULL,
  "slot" smallint NOT NULL DEFAULT 0,
  "succeeded" integer NOT NULL,
  "failed" integer NOT NULL,
  "max_duration_ms" integer NOT NULL,
  "duration_histogram" integer[] NOT NULL,
  CONSTRAINT "webhook_call_hourly_pk" PRIMARY KEY ("webhook_id", "hour", "slot"))`);
        await queryRunner.query(`CREATE FUNCTION cms_webhook_call_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  g record;
  s smallint;
  held tid;
BEGIN
  FOR g IN ${rollupSelect('new_rows')} LOOP
    s := 0;
    LOOP
      SELECT ctid INTO held FROM webhook_call_hourly
       WHERE webhook_id = g.webhook_id AND hour = g.hour AND slot = s FOR UPDATE SKIP LOCKED;
      IF FOUND THEN
        UPDATE webhook_call_hourly
           SET succeeded = succeeded + g.succeeded,
               failed = failed + g.failed,
               max_duration_ms = greatest(max_duration_ms, g.max_ms),
               duration_histogram = cms_histogram_add(duration_histogram, g.histogram)
         WHERE ctid = held;
        EXIT;
      END IF;
      -- Held by another transaction: try the next slot. (An INSERT would wait for the holder
      -- to commit, to know whether the row it updates still exists.) No such slot yet: take it.
      IF NOT EXISTS (SELECT 1 FROM webhook_call_hourly WHERE webhook_id = g.webhook_id AND hour = g.hour AND slot = s) THEN
        INSERT INTO webhook_call_hourly (webhook_id, hour, slot, succeeded, failed, max_duration_ms, duration_histogram)
        VALUES (g.webhook_id, g.hour, s, g.succeeded, g.failed, g.max_ms, g.histogram)
        ON CONFLICT DO NOTHING;
        EXIT WHEN FOUND;
      END IF;
      s := s + 1;
    END LOOP;
  END LOOP;
  RETURN NULL;
END $$`);
        await queryRunner.query(`CREATE TRIGGER webhook_call_rollup AFTER INSERT ON "webhook_call" REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION cms_webhook_call_rollup()`);
        // Calls logged before count too. CREATE TRIGGER locks out inserts until this transaction
        // commits, and this statement's snapshot is taken after that lock: no call is counted
        // twice or missed, even with an older process still logging.
        await queryRunner.query(`INSERT INTO webhook_call_hourly (webhook_id, hour, succeeded, failed, max_duration_ms, duration_histogram)
SELECT webhook_id, hour, succeeded, failed, max_ms, histogram FROM (${rollupSelect('webhook_call')}) AS r`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TRIGGER IF EXISTS webhook_call_rollup ON "webhook_call"`);
        await queryRunner.query(`DROP FUNCTION IF EXISTS cms_webhook_call_rollup`);
        await queryRunner.query(`DROP TABLE IF EXISTS "webhook_call_hourly"`);
        await queryRunner.query(`DROP AGGREGATE IF EXISTS cms_histogram_sum(integer[])`);
        await queryRunner.query(`DROP FUNCTION IF EXISTS cms_histogram_add`);
        await queryRunner.query(`DROP FUNCTION IF EXISTS cms_webhook_call_duration_bounds`);
    }
}
