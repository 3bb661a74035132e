import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The initial schema, plus three NOTIFY triggers that wake workers and live-log subscribers.
 * PostgreSQL delivers a NOTIFY only when the transaction that raised it commits, so a wake-up
 * never announces a row that could still roll back.
 */
export class Initial1764000000000 implements MigrationInterface {
    name = 'Initial1764000000000';

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);
        await queryRunner.query(`CREATE TABLE "app_user" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "email" text NOT NULL, "name" text, "is_super_admin" boolean NOT NULL DEFAULT false, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_22a5c4a3d9b2fb8e4e73fc4ada1" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "app_user_email_key" ON "app_user"  ("email") `);
        await queryRunner.query(`CREATE TABLE "api_token" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "name" text NOT NULL, "token_hash" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_d862311c568d175c26f41bc6f98" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "api_token_user_idx" ON "api_token"  ("user_id") `);
        await queryRunner.query(`CREATE UNIQUE INDEX "api_token_hash_key" ON "api_token"  ("token_hash") `);
        await queryRunner.query(`CREATE TABLE "project" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_4d68b1358bb5b766d3e78f32f57" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "blueprint" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "name" text NOT NULL, "api_name" text NOT NULL, "variant" text NOT NULL DEFAULT 'DOCUMENT', "fields" jsonb NOT NULL DEFAULT '[]', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_4eefae8b65b4866b9a1e5898586" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "blueprint_project_api_name_key" ON "blueprint"  ("project_id", "api_name") `);
        await queryRunner.query(`CREATE TABLE "document" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "blueprint_id" uuid NOT NULL, "status_id" smallint NOT NULL DEFAULT '0', "title" text, "fields" jsonb NOT NULL DEFAULT '{}', "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "published_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_e57d3357f83f3cdc0acffc3d777" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "document_blueprint_idx" ON "document"  ("blueprint_id") `);
        await queryRunner.query(`CREATE INDEX "document_project_created_idx" ON "document"  ("project_id", "created_at", "id") `);
        await queryRunner.query(`CREATE TABLE "project_member" ("project_id" uuid NOT NULL, "user_id" uuid NOT NULL, "role" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_0d739aa2794632a5a09276afb7a" PRIMARY KEY ("project_id", "user_id"))`);
        await queryRunner.query(`CREATE INDEX "project_member_user_idx" ON "project_member"  ("user_id") `);
        await queryRunner.query(`CREATE TABLE "webhook" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "name" text NOT NULL, "description" text, "method" text NOT NULL DEFAULT 'POST', "url" text NOT NULL, "triggers" text array NOT NULL, "headers" jsonb NOT NULL DEFAULT '[]', "blueprint_ids" uuid array, "enabled" boolean NOT NULL DEFAULT true, "disabled_reason" text, "signing_secret" text NOT NULL, "previous_signing_secret" text, "previous_secret_expires_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_e6765510c2d078db49632b59020" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "webhook_project_idx" ON "webhook"  ("project_id") `);
        await queryRunner.query(`CREATE TABLE "webhook_delivery" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "event_id" uuid NOT NULL, "webhook_id" uuid NOT NULL, "project_id" uuid NOT NULL, "kind" text NOT NULL, "trigger" text NOT NULL, "body" text NOT NULL, "status" text NOT NULL DEFAULT 'pending', "attempts" integer NOT NULL DEFAULT '0', "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "lease_expires_at" TIMESTAMP WITH TIME ZONE, "leased_by" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_b1ae290239a778f12399db91354" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "webhook_delivery_webhook_idx" ON "webhook_delivery"  ("webhook_id") `);
        await queryRunner.query(`CREATE UNIQUE INDEX "webhook_delivery_event_webhook_key" ON "webhook_delivery"  ("event_id", "webhook_id") WHERE kind = 'EVENT'`);
        await queryRunner.query(`CREATE INDEX "webhook_delivery_due_idx" ON "webhook_delivery"  ("next_attempt_at") WHERE status = 'pending'`);
        await queryRunner.query(`CREATE TABLE "webhook_call" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "delivery_id" uuid, "webhook_id" uuid NOT NULL, "project_id" uuid NOT NULL, "event_id" uuid NOT NULL, "trigger" text NOT NULL, "kind" text NOT NULL, "attempt" integer NOT NULL, "success" boolean NOT NULL, "error" text, "duration_ms" integer NOT NULL, "next_retry_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "request_method" text NOT NULL, "request_url" text NOT NULL, "request_headers" jsonb NOT NULL, "request_body" text NOT NULL, "response_status_code" integer, "response_headers" jsonb, "response_body" text, CONSTRAINT "PK_effda56660de1f813d17e51cb63" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "webhook_call_event_idx" ON "webhook_call"  ("event_id") `);
        await queryRunner.query(`CREATE INDEX "webhook_call_webhook_page_idx" ON "webhook_call"  ("webhook_id", "created_at", "id") `);
        await queryRunner.query(`CREATE INDEX "webhook_call_project_page_idx" ON "webhook_call"  ("project_id", "created_at", "id") `);
        await queryRunner.query(`CREATE TABLE "domain_event" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "trigger" text NOT NULL, "blueprint_id" uuid, "metadata" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "dispatched_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_f901502d0301da69fb8cebbb8f2" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "domain_event_undispatched_idx" ON "domain_event"  ("created_at") WHERE dispatched_at IS NULL`);
        await queryRunner.query(`ALTER TABLE "api_token" ADD CONSTRAINT "FK_1725c5ea908ff009f6ab3fa34fd" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "blueprint" ADD CONSTRAINT "FK_7eb06898591e99baf6f27face04" FOREIGN KEY ("project_id") REFERENCES "project"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "document" ADD CONSTRAINT "FK_4d4739c863ab05b56a8eabd15ea" FOREIGN KEY ("project_id") REFERENCES "project"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "document" ADD CONSTRAINT "FK_e93dfe7d5fc7e799747094499eb" FOREIGN KEY ("blueprint_id") REFERENCES "blueprint"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "project_member" ADD CONSTRAINT "FK_aaef76230abfcdf30adb15d0be8" FOREIGN KEY ("project_id") REFERENCES "project"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "project_member" ADD CONSTRAINT "FK_c5aa3e0aec43d3459e159d21dd3" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "webhook" ADD CONSTRAINT "FK_95bc3b4bf6b329b6c6dd2ed2174" FOREIGN KEY ("project_id") REFERENCES "project"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "webhook_delivery" ADD CONSTRAINT "FK_ef25cc28dcf88ea3dd81f39af2d" FOREIGN KEY ("webhook_id") REFERENCES "webhook"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "webhook_call" ADD CONSTRAINT "FK_0ac868571a790fc6545dc99007a" FOREIGN KEY ("webhook_id") REFERENCES "webhook"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`CREATE FUNCTION cms_notify_domain_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('cms_domain_event', ''); RETURN NULL; END $$`);
        await queryRunner.query(`CREATE TRIGGER domain_event_notify AFTER INSERT ON "domain_event" FOR EACH STATEMENT EXECUTE FUNCTION cms_notify_domain_event()`);
        await queryRunner.query(`CREATE FUNCTION cms_notify_delivery() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('cms_delivery', ''); RETURN NULL; END $$`);
        await queryRunner.query(`CREATE TRIGGER webhook_delivery_notify AFTER INSERT ON "webhook_delivery" FOR EACH STATEMENT EXECUTE FUNCTION cms_notify_delivery()`);
        await queryRunner.query(`CREATE FUNCTION cms_notify_webhook_call() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('cms_webhook_call', NEW.project_id || ':' || NEW.webhook_id || ':' || NEW.id); RETURN NULL; END $$`);
        await queryRunner.query(`CREATE TRIGGER webhook_call_notify AFTER INSERT ON "webhook_call" FOR EACH ROW EXECUTE FUNCTION cms_notify_webhook_call()`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        for (const table of ['webhook_call', 'webhook_delivery', 'domain_event', 'webhook', 'document', 'blueprint', 'project_member', 'project', 'api_token', 'app_user']) {
            await queryRunner.query(`DROP TABLE IF EXISTS "${table}" CASCADE`);
        }
        await queryRunner.query(`DROP FUNCTION IF EXISTS cms_notify_domain_event, cms_notify_delivery, cms_notify_webhook_call`);
    }
}
