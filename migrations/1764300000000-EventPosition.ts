import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The order the live event stream (webhookEvents) reads the outbox in: the inserting
 * transaction's id and a sequence. A reader takes only events of transactions older than
 * every transaction still running (pg_snapshot_xmin), so nothing can later appear before a
 * position it has passed: a resumed stream misses nothing, whatever order commits came in.
 * `created_at` cannot give that, as it is taken before commit. The index serves both the
 * replay of one project after a given event and the process-wide tail (src/events/event-feed.ts).
 *
 * Rows already there (at most WEBHOOK_LOG_RETENTION of them) get this migration's transaction id
 * and a sequence in table order; adding the columns rewrites the table once.
 */
export class EventPosition1764300000000 implements MigrationInterface {
    name = 'EventPosition1764300000000';

    public async up(queryRunner: QueryRunner): Promise<void> {
        // A function of our own, so the default reads back as written (TypeORM compares it as text).
        await queryRunner.query(`CREATE FUNCTION cms_current_tx_id() RETURNS bigint LANGUAGE sql VOLATILE AS 'SELECT pg_current_xact_id()::text::bigint'`);
        await queryRunner.query(`ALTER TABLE "domain_event" ADD "tx_id" bigint NOT NULL DEFAULT cms_current_tx_id()`);
        await queryRunner.query(`ALTER TABLE "domain_event" ADD "seq" BIGSERIAL NOT NULL`);
        await queryRunner.query(`CREATE INDEX "domain_event_project_position_idx" ON "domain_event"  ("project_id", "tx_id", "seq") `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."domain_event_project_position_idx"`);
        await queryRunner.query(`ALTER TABLE "domain_event" DROP COLUMN "seq"`);
        await queryRunner.query(`ALTER TABLE "domain_event" DROP COLUMN "tx_id"`);
        await queryRunner.query(`DROP FUNCTION cms_current_tx_id()`);
    }
}
