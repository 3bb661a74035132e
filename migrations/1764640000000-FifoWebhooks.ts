import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * FIFO webhooks (src/delivery/fifo.ts): a webhook may ask for its deliveries one at a time, in
 * event order.
 *
 * - `webhook.fifo`, off by default, and a partial index of the FIFO webhooks: workers ask on
 *   every pass whether there are any, and where there are none the answer costs nothing.
 * - `webhook_delivery.event_tx_id, event_seq`: the event's position `(tx_id, seq)`, copied at
 *   enqueue, so a delivery keeps its place in line even after retention deleted its event.
 *   A constant default adds the columns without rewriting the table; only pending rows (the
 *   only ones a queue is made of) take their event's real position.
 * - the head index: a webhook's oldest pending delivery by position, found without sorting its
 *   backlog, however deep a failing head has let it grow.
 * - the in-flight index: a webhook's leased deliveries. Leases are cleared when an outcome is
 *   written, so it holds only what is being attempted and stays tiny.
 */
export class FifoWebhooks1764640000000 implements MigrationInterface {
    name = 'FifoWebhooks1764640000000';

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "webhook" ADD "fifo" boolean NOT NULL DEFAULT false`);
        await queryRunner.query(`CREATE INDEX "webhook_fifo_idx" ON "webhook" ("id") WHERE fifo`);
        await queryRunner.query(`ALTER TABLE "webhook_delivery" ADD "event_tx_id" bigint NOT NULL DEFAULT 0`);
        await queryRunner.query(`ALTER TABLE "webhook_delivery" ADD "event_seq" bigint NOT NULL DEFAULT 0`);
        await queryRunner.query(`UPDATE "webhook_delivery" d SET event_tx_id = e.tx_id, event_seq = e.seq FROM "domain_event" e WHERE e.id = d.event_id AND d.status = 'pending'`);
        await queryRunner.query(`CREATE INDEX "webhook_delivery_fifo_head_idx" ON "webhook_delivery" ("webhook_id", "event_tx_id", "event_seq", "id") WHERE status = 'pending'`);
        await queryRunner.query(`CREATE INDEX "webhook_delivery_leased_idx" ON "webhook_delivery" ("webhook_id") WHERE lease_expires_at IS NOT NULL`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "webhook_delivery_leased_idx"`);
        await queryRunner.query(`DROP INDEX "webhook_delivery_fifo_head_idx"`);
        await queryRunner.query(`ALTER TABLE "webhook_delivery" DROP COLUMN "event_seq"`);
        await queryRunner.query(`ALTER TABLE "webhook_delivery" DROP COLUMN "event_tx_id"`);
        await queryRunner.query(`DROP INDEX "webhook_fifo_idx"`);
        await queryRunner.query(`ALTER TABLE "webhook" DROP COLUMN "fifo"`);
    }
}
