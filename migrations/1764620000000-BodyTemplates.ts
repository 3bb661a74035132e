import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Body templates (src/delivery/body-template.ts).
 *
 * - webhook: the template (null: the contract payload), its format and content type.
 * - domain_event.context: what a template may show beyond the payload (a document's title, a
 *   blueprint's names), written with the event so a later delete cannot take it away. Null
 *   for older events: their placeholders resolve to null.
 * - webhook_delivery: the content type the stored body goes out with (null: application/json,
 *   as for every delivery queued before), and why the body could not be rendered, if so.
 *
 * All nullable or with a default, so adding them rewrites no table.
 */
export class BodyTemplates1764620000000 implements MigrationInterface {
    name = 'BodyTemplates1764620000000';

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "webhook" ADD "body_template" text`);
        await queryRunner.query(`ALTER TABLE "webhook" ADD "body_format" text NOT NULL DEFAULT 'JSON'`);
        await queryRunner.query(`ALTER TABLE "webhook" ADD "body_content_type" text`);
        await queryRunner.query(`ALTER TABLE "domain_event" ADD "context" jsonb`);
        await queryRunner.query(`ALTER TABLE "webhook_delivery" ADD "content_type" text`);
        await queryRunner.query(`ALTER TABLE "webhook_delivery" ADD "body_error" text`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "webhook_delivery" DROP COLUMN "body_error"`);
        await queryRunner.query(`ALTER TABLE "webhook_delivery" DROP COLUMN "content_type"`);
        await queryRunner.query(`ALTER TABLE "domain_event" DROP COLUMN "context"`);
        await queryRunner.query(`ALTER TABLE "webhook" DROP COLUMN "body_content_type"`);
        await queryRunner.query(`ALTER TABLE "webhook" DROP COLUMN "body_format"`);
        await queryRunner.query(`ALTER TABLE "webhook" DROP COLUMN "body_template"`);
    }
}
