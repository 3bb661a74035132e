import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Content filters on webhooks, and what caused an event (loop protection).
 *
 * webhook: `document_statuses` (status ids a document event must carry), `changed_fields`
 * (names a document_field_update must touch) and `actor_filter` (`{mode, userIds, tokenIds}`,
 * include or exclude who made the change). NULL everywhere means "no filter", so existing
 * webhooks match exactly as before.
 *
 * domain_event: the API token the change was made with (`actor_token_id`), and when it was made
 * while handling a delivery, that delivery's event (`cause_event_id`), the webhook whose delivery
 * it was when the caller said so (`cause_webhook_id`), and how many deliveries deep the chain is
 * (`causal_depth`, 0 for a change nobody's delivery caused). Columns, not metadata: metadata is
 * the payload the contract fixes. No foreign keys: events outlive tokens and webhooks, and
 * retention deletes old events in any order.
 */
export class FiltersAndCauses1764630000000 implements MigrationInterface {
    name = 'FiltersAndCauses1764630000000';

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "webhook" ADD "document_statuses" smallint array`);
        await queryRunner.query(`ALTER TABLE "webhook" ADD "changed_fields" text array`);
        await queryRunner.query(`ALTER TABLE "webhook" ADD "actor_filter" jsonb`);
        await queryRunner.query(`ALTER TABLE "domain_event" ADD "actor_token_id" uuid`);
        await queryRunner.query(`ALTER TABLE "domain_event" ADD "cause_event_id" uuid`);
        await queryRunner.query(`ALTER TABLE "domain_event" ADD "cause_webhook_id" uuid`);
        await queryRunner.query(`ALTER TABLE "domain_event" ADD "causal_depth" smallint NOT NULL DEFAULT 0`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "domain_event" DROP COLUMN "causal_depth"`);
        await queryRunner.query(`ALTER TABLE "domain_event" DROP COLUMN "cause_webhook_id"`);
        await queryRunner.query(`ALTER TABLE "domain_event" DROP COLUMN "cause_event_id"`);
        await queryRunner.query(`ALTER TABLE "domain_event" DROP COLUMN "actor_token_id"`);
        await queryRunner.query(`ALTER TABLE "webhook" DROP COLUMN "actor_filter"`);
        await queryRunner.query(`ALTER TABLE "webhook" DROP COLUMN "changed_fields"`);
        await queryRunner.query(`ALTER TABLE "webhook" DROP COLUMN "document_statuses"`);
    }
}
