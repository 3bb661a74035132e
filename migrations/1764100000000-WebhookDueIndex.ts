import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A webhook's next due delivery, found without sorting its backlog: when an attempt ends,
 * the worker hands the freed slot to the same webhook's oldest due delivery in the statement
 * that records the attempt (src/delivery/record.ts).
 */
export class WebhookDueIndex1764100000000 implements MigrationInterface {
    name = 'WebhookDueIndex1764100000000';

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE INDEX "webhook_delivery_webhook_due_idx" ON "webhook_delivery" ("webhook_id", "next_attempt_at") WHERE status = 'pending'`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "webhook_delivery_webhook_due_idx"`);
    }
}
