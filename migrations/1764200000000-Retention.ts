import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * BRIN indexes on created_at, for the retention job (src/delivery/retention.ts): it deletes
 * rows older than WEBHOOK_LOG_RETENTION in batches, and without an index each batch, and
 * each hourly check that finds nothing, would scan the whole table. These tables are
 * append-mostly, so created_at follows the physical order and a BRIN index of a few pages
 * serves; unlike a B-tree it costs next to nothing on the insert path.
 */
export class Retention1764200000000 implements MigrationInterface {
    name = 'Retention1764200000000';

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE INDEX "webhook_call_created_brin" ON "webhook_call" USING brin ("created_at")`);
        await queryRunner.query(`CREATE INDEX "webhook_delivery_created_brin" ON "webhook_delivery" USING brin ("created_at")`);
        await queryRunner.query(`CREATE INDEX "domain_event_created_brin" ON "domain_event" USING brin ("created_at")`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "domain_event_created_brin"`);
        await queryRunner.query(`DROP INDEX "webhook_delivery_created_brin"`);
        await queryRunner.query(`DROP INDEX "webhook_call_created_brin"`);
    }
}
