import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Webhook } from '../webhooks/webhook.entity';
import { WebhookTrigger } from '../webhooks/triggers';
import { WebhookCallKind } from '../delivery/delivery.entity';

export interface HeaderPair {
  name: string;
  value: string;
}

/**
 * The log: one row per HTTP attempt, with the request as sent (secret header values
 * masked) and the response as received (body capped). Rows are only ever inserted.
 * The (project, created_at, id) indexes serve the newest-first keyset pagination.
 */
@Entity({ name: 'webhook_call' })
@Index('webhook_call_project_page_idx', ['projectId', 'createdAt', 'id'])
@Index('webhook_call_webhook_page_idx', ['webhookId', 'createdAt', 'id'])
// BRIN on created_at for retention (migrations/1764200000000-Retention.ts); TypeORM cannot declare BRIN.
@Index('webhook_call_created_brin', { synchronize: false })
export class WebhookCall {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'delivery_id', type: 'uuid', nullable: true })
  deliveryId: string | null;

  @Column({ name: 'webhook_id', type: 'uuid' })
  webhookId: string;

  @ManyToOne(() => Webhook, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'webhook_id' })
  webhook?: Webhook;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Index('webhook_call_event_idx')
  @Column({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @Column({ type: 'text' })
  trigger: WebhookTrigger;

  @Column({ type: 'text' })
  kind: WebhookCallKind;

  @Column({ type: 'int' })
  attempt: number;

  @Column({ type: 'boolean' })
  success: boolean;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ name: 'duration_ms', type: 'int' })
  durationMs: number;

  @Column({ name: 'next_retry_at', type: 'timestamptz', nullable: true })
  nextRetryAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @Column({ name: 'request_method', type: 'text' })
  requestMethod: string;

  @Column({ name: 'request_url', type: 'text' })
  requestUrl: string;

  @Column({ name: 'request_headers', type: 'jsonb' })
  requestHeaders: HeaderPair[];

  @Column({ name: 'request_body', type: 'text' })
  requestBody: string;

  @Column({ name: 'response_status_code', type: 'int', nullable: true })
  responseStatusCode: number | null;

  @Column({ name: 'response_headers', type: 'jsonb', nullable: true })
  responseHeaders: HeaderPair[] | null;

  @Column({ name: 'response_body', type: 'text', nullable: true })
  responseBody: string | null;
}
