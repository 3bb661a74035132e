import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The call log at delivery rates of thousands of rows a second.
 *
 * 1. The live-log NOTIFY becomes one per statement instead of one per row. Workers now write
 *    outcomes in batches; a NOTIFY per row made every batch queue that many notifications
 *    (and PostgreSQL serialises committing transactions that notify). The payload lists the
 *    statement's rows as `project:webhook:id` entries joined by commas, 60 to a notification
 *    (about 6.6 kB, under the 8,000-byte cap).
 *
 * 2. `webhook_call_count`: how many log rows exist per webhook, hour, trigger, kind and
 *    outcome, kept by statement-level triggers in the transaction that inserts or deletes
 *    them (retention, a deleted webhook's cascade). `totalCount` sums these instead of
 *    scanning the project's log, and counts raw rows only for the partial hours at the edges
 *    of a `since`/`until` window, so it stays exact and its cost no longer grows with the log.
 *    Hours are UTC hours (date_bin from a UTC origin), whatever the session's TimeZone.
 *
 * 3. `domain_event.fanout_lease_until`: fan-out leases a batch of events in one statement and
 *    queues their deliveries in a second, instead of holding row locks across a five-statement
 *    transaction. A worker that dies in between leaves a lease that expires; the unique
 *    (event, webhook) index makes the second fan-out of an event a no-op.
 */
export class CallLogAtScale1764500000000 implements MigrationInterface {
    name = 'CallLogAtScale1764500000000';

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "domain_event" ADD "fanout_lease_until" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`DROP TRIGGER webhook_call_notify ON "webhook_call"`);
        await queryRunner.query(`DROP FUNCTION cms_notify_webhook_call()`);
        await queryRunner.query(`CREATE FUNCTION cms_notify_webhook_calls() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  chunk text;
BEGIN
  FOR chunk IN
    SELECT string_agg(r.project_id || ':' || r.webhook_id || ':' || r.id, ',' ORDER BY r.n)
      FROM (SELECT project_id, webhook_id, id, row_number() OVER () AS n FROM new_rows) r
     GROUP BY (r.n - 1) / 60
     ORDER BY min(r.n)
  LOOP
    PERFORM pg_notify('cms_webhook_call', chunk);
  END LOOP;
  RETURN NULL;
END $$`);
        await queryRunner.query(`CREATE TRIGGER webhook_call_notify AFTER INSERT ON "webhook_call"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cms_notify_webhook_calls()`);

        await queryRunner.query(`CREATE TABLE "webhook_call_count" (
  "webhook_id" uuid NOT NULL REFERENCES "webhook"("id") ON DELETE CASCADE,
  "project_id" uuid NOT NULL,
  "hour" TIMESTAMP WITH TIME ZONE NOT NULL,
  "trigger" text NOT NULL,
  "kind" text NOT NULL,
  "success" boolean NOT NULL,
  "n" bigint NOT NULL,
  PRIMARY KEY ("webhook_id", "hour", "trigger", "kind", "success"))`);
        await queryRunner.query(`CREATE INDEX "webhook_call_count_project_idx" ON "webhook_call_count" ("project_id", "hour")`);
        await queryRunner.query(`INSERT INTO "webhook_call_count" (webhook_id, project_id, hour, trigger, kind, success, n)
  SELECT webhook_id, project_id, date_bin('1 hour', created_at, timestamptz '2000-01-01 00:00:00+00'), trigger, kind, success, count(*)
    FROM "webhook_call" GROUP BY 1, 2, 3, 4, 5, 6`);
        // Sorted by key, so two statements adding to the same counters lock them in the same order.
        await queryRunner.query(`CREATE FUNCTION cms_count_webhook_calls() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO webhook_call_count AS c (webhook_id, project_id, hour, trigger, kind, success, n)
    SELECT webhook_id, project_id, date_bin('1 hour', created_at, timestamptz '2000-01-01 00:00:00+00'), trigger, kind, success, count(*)
      FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 3, 4, 5, 6
    ON CONFLICT (webhook_id, hour, trigger, kind, success) DO UPDATE SET n = c.n + excluded.n;
  ELSE
    UPDATE webhook_call_count c SET n = c.n - o.n
      FROM (SELECT webhook_id, date_bin('1 hour', created_at, timestamptz '2000-01-01 00:00:00+00') AS hour, trigger, kind, success, count(*) AS n
              FROM old_rows GROUP BY 1, 2, 3, 4, 5) o
     WHERE c.webhook_id = o.webhook_id AND c.hour = o.hour AND c.trigger = o.trigger AND c.kind = o.kind AND c.success = o.success;
  END IF;
  RETURN NULL;
END $$`);
        await queryRunner.query(`CREATE TRIGGER webhook_call_count_insert AFTER INSERT ON "webhook_call"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cms_count_webhook_calls()`);
        await queryRunner.query(`CREATE TRIGGER webhook_call_count_delete AFTER DELETE ON "webhook_call"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION cms_count_webhook_calls()`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "domain_event" DROP COLUMN "fanout_lease_until"`);
        await queryRunner.query(`DROP TRIGGER webhook_call_count_delete ON "webhook_call"`);
        await queryRunner.query(`DROP TRIGGER webhook_call_count_insert ON "webhook_call"`);
        await queryRunner.query(`DROP FUNCTION cms_count_webhook_calls()`);
        await queryRunner.query(`DROP TABLE "webhook_call_count"`);
        await queryRunner.query(`DROP TRIGGER webhook_call_notify ON "webhook_call"`);
        await queryRunner.query(`DROP FUNCTION cms_notify_webhook_calls()`);
        await queryRunner.query(`CREATE FUNCTION cms_notify_webhook_call() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('cms_webhook_call', NEW.project_id || ':' || NEW.webhook_id || ':' || NEW.id); RETURN NULL; END $$`);
        await queryRunner.query(`CREATE TRIGGER webhook_call_notify AFTER INSERT ON "webhook_call" FOR EACH ROW EXECUTE FUNCTION cms_notify_webhook_call()`);
    }
}
