import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tracing across the outbox: the W3C traceparent of the save that wrote an event (null when
 * nothing was traced), so its delivery attempts continue that trace; and a webhook's choice
 * to send a `traceparent` header to its receiver.
 */
export class TraceContext1764600000000 implements MigrationInterface {
  name = 'TraceContext1764600000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "domain_event" ADD "trace_context" text`);
    await queryRunner.query(`ALTER TABLE "webhook" ADD "send_trace_context" boolean NOT NULL DEFAULT false`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "webhook" DROP COLUMN "send_trace_context"`);
    await queryRunner.query(`ALTER TABLE "domain_event" DROP COLUMN "trace_context"`);
  }
}
