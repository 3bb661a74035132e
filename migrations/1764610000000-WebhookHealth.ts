import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A webhook's health state, and notification endpoints.
 *
 * 1. `webhook` gets its health: the state (HEALTHY, FAILING, DISABLE_WARNING, DISABLED), why and
 *    since when, and the current run of failed calls (`consecutive_failures`, `failing_since`),
 *    which the statement that logs attempts keeps (src/delivery/queue.ts).
 *
 * 2. `webhook.purpose`: EVENTS (the CMS's webhooks) or NOTIFICATIONS (a notification endpoint,
 *    which receives health changes instead of CMS events, through the same queue, signing,
 *    retries and log). `notification_types` says which health events an endpoint wants.
 *
 * 3. A row trigger on a change of `health_state` records the change (`webhook_health_event`),
 *    queues one delivery of the signed envelope per notification endpoint of the project that
 *    wants it, and raises `NOTIFY cms_webhook_health` for the live subscription. It runs in the
 *    transaction of the update that changed the state, and the row lock of that update
 *    serialises workers settling the same webhook, so each change is announced exactly once:
 *    by whichever statement actually changed it, never by one that lost the race. Only EVENTS
 *    webhooks announce anything, so an endpoint's own failures can never notify (no loops).
 */
export class WebhookHealth1764610000000 implements MigrationInterface {
    name = 'WebhookHealth1764610000000';

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "webhook"
  ADD "purpose" text NOT NULL DEFAULT 'EVENTS',
  ADD "notification_types" text array,
  ADD "health_state" text NOT NULL DEFAULT 'HEALTHY',
  ADD "health_reason" text,
  ADD "health_changed_at" TIMESTAMP WITH TIME ZONE,
  ADD "health_failure_rate" real,
  ADD "health_will_disable_at" TIMESTAMP WITH TIME ZONE,
  ADD "consecutive_failures" integer NOT NULL DEFAULT 0,
  ADD "failing_since" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`CREATE TABLE "webhook_health_event" (
  "id" uuid NOT NULL DEFAULT gen_random_uuid(),
  "project_id" uuid NOT NULL,
  "webhook_id" uuid NOT NULL REFERENCES "webhook"("id") ON DELETE CASCADE,
  "webhook_name" text NOT NULL,
  "type" text,
  "previous_state" text NOT NULL,
  "state" text NOT NULL,
  "reason" text,
  "consecutive_failures" integer NOT NULL,
  "failure_rate" real,
  "failing_since" TIMESTAMP WITH TIME ZONE,
  "will_disable_at" TIMESTAMP WITH TIME ZONE,
  "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
  CONSTRAINT "PK_webhook_health_event" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "webhook_health_event_webhook_idx" ON "webhook_health_event" ("webhook_id", "created_at")`);
        await queryRunner.query(`CREATE INDEX "webhook_health_event_project_idx" ON "webhook_health_event" ("project_id", "created_at")`);
        await queryRunner.query(`CREATE FUNCTION cms_webhook_health_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  event_id uuid := gen_random_uuid();
  event_type text;
  body text;
  iso text := 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"';
BEGIN
  IF NEW.purpose <> 'EVENTS' THEN RETURN NULL; END IF;
  event_type := CASE
    WHEN NEW.health_state = 'FAILING' AND OLD.health_state = 'HEALTHY' THEN 'webhook.failing'
    WHEN NEW.health_state = 'DISABLE_WARNING' THEN 'webhook.disable_warning'
    WHEN NEW.health_state = 'DISABLED' THEN 'webhook.disabled'
    WHEN NEW.health_state = 'HEALTHY' THEN 'webhook.recovered'
  END;
  INSERT INTO webhook_health_event (id, project_id, webhook_id, webhook_name, type, previous_state, state, reason,
                                    consecutive_failures, failure_rate, failing_since, will_disable_at, created_at)
  VALUES (event_id, NEW.project_id, NEW.id, NEW.name, event_type, OLD.health_state, NEW.health_state, NEW.health_reason,
          NEW.consecutive_failures, NEW.health_failure_rate, NEW.failing_since, NEW.health_will_disable_at, now());
  IF event_type IS NOT NULL THEN
    body := json_build_object(
      'type', event_type,
      'version', 1,
      'event_id', event_id,
      'created_at', to_char(now() AT TIME ZONE 'UTC', iso),
      'data', json_build_object(
        'project_id', NEW.project_id,
        'webhook_id', NEW.id,
        'name', NEW.name,
        'url', NEW.url,
        'state', lower(NEW.health_state),
        'previous_state', lower(OLD.health_state),
        'reason', NEW.health_reason,
        'consecutive_failures', NEW.consecutive_failures,
        'failure_rate', NEW.health_failure_rate,
        'failing_since', to_char(NEW.failing_since AT TIME ZONE 'UTC', iso),
        'will_disable_at', to_char(NEW.health_will_disable_at AT TIME ZONE 'UTC', iso),
        'disabled_at', CASE WHEN NEW.health_state = 'DISABLED' THEN to_char(now() AT TIME ZONE 'UTC', iso) END))::text;
    INSERT INTO webhook_delivery (event_id, webhook_id, project_id, kind, trigger, body)
    SELECT event_id, e.id, e.project_id, 'NOTIFICATION', event_type, body
      FROM webhook e
     WHERE e.project_id = NEW.project_id AND e.purpose = 'NOTIFICATIONS' AND e.enabled AND event_type = ANY(e.notification_types);
  END IF;
  PERFORM pg_notify('cms_webhook_health', NEW.project_id || ':' || NEW.id || ':' || event_id);
  RETURN NULL;
END $$`);
        await queryRunner.query(`CREATE TRIGGER webhook_health_changed AFTER UPDATE OF health_state ON "webhook"
  FOR EACH ROW WHEN (OLD.health_state IS DISTINCT FROM NEW.health_state) EXECUTE FUNCTION cms_webhook_health_changed()`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TRIGGER webhook_health_changed ON "webhook"`);
        await queryRunner.query(`DROP FUNCTION cms_webhook_health_changed()`);
        await queryRunner.query(`DROP TABLE "webhook_health_event"`);
        await queryRunner.query(`DELETE FROM "webhook" WHERE "purpose" <> 'EVENTS'`);
        await queryRunner.query(`ALTER TABLE "webhook" DROP COLUMN "purpose", DROP COLUMN "notification_types", DROP COLUMN "health_state",
  DROP COLUMN "health_reason", DROP COLUMN "health_changed_at", DROP COLUMN "health_failure_rate", DROP COLUMN "health_will_disable_at",
  DROP COLUMN "consecutive_failures", DROP COLUMN "failing_since"`);
    }
}
