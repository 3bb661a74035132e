import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Webhook } from '../webhooks/webhook.entity';
import { WebhookTrigger } from '../webhooks/triggers';

export enum WebhookCallKind {
  EVENT = 'EVENT',
  REPLAY = 'REPLAY',
  TEST = 'TEST',
}

export enum DeliveryStatus {
  PENDING = 'pending',
  SUCCEEDED = 'succeeded',
  FAILED = 'failed',
}

/**
 * One message to one webhook, with its retry state. The body is fixed when the delivery is
 * created so that every attempt sends the same bytes. A lease (`lease_expires_at`) marks a
 * delivery as being attempted by `leased_by`; a worker that dies leaves a lease that simply
 * expires, and another worker takes the delivery over.
 */
@Entity({ name: 'webhook_delivery' })
// The predicates must stay the literal the migrations created them with (TypeORM compares text).
@Index('webhook_delivery_due_idx', ['nextAttemptAt'], { where: `status = '${DeliveryStatus.PENDING}'` })
@Index('webhook_delivery_webhook_due_idx', ['webhookId', 'nextAttemptAt'], { where: `status = '${DeliveryStatus.PENDING}'` })
@Index('webhook_delivery_event_webhook_key', ['eventId', 'webhookId'], { unique: true, where: "kind = 'EVENT'" })
// BRIN on created_at for retention (migrations/1764200000000-Retention.ts); TypeORM cannot declare BRIN.
@Index('webhook_delivery_created_brin', { synchronize: false })
// A FIFO webhook's head, and its deliveries in flight (migrations/1764640000000-FifoWebhooks.ts).
@Index('webhook_delivery_fifo_head_idx', ['webhookId', 'eventTxId', 'eventSeq', 'id'], { where: `status = '${DeliveryStatus.PENDING}'` })
@Index('webhook_delivery_leased_idx', ['webhookId'], { where: 'lease_expires_at IS NOT NULL' })
export class Delivery {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** The id receivers see as `event_id` and `webhook-id`. */
  @Column({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @Index('webhook_delivery_webhook_idx')
  @Column({ name: 'webhook_id', type: 'uuid' })
  webhookId: string;

  @ManyToOne(() => Webhook, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'webhook_id' })
  webhook?: Webhook;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column({ type: 'text' })
  kind: WebhookCallKind;

  @Column({ type: 'text' })
  trigger: WebhookTrigger;

  @Column({ type: 'text' })
  body: string;

  /**
   * The event's position `(tx_id, seq)` (domain-event.entity.ts), copied at enqueue: a FIFO
   * webhook's deliveries go out in this order. bigint, read as strings.
   */
  @Column({ name: 'event_tx_id', type: 'bigint', default: 0 })
  eventTxId: string;

  @Column({ name: 'event_seq', type: 'bigint', default: 0 })
  eventSeq: string;
  /** The body's content type; null is application/json (every delivery before body templates). */
  @Column({ name: 'content_type', type: 'text', nullable: true })
  contentType: string | null;

  /** Why the webhook's template could not render this event: the attempt fails with it, nothing is sent. */
  @Column({ name: 'body_error', type: 'text', nullable: true })
  bodyError: string | null;

  @Column({ type: 'text', default: DeliveryStatus.PENDING })
  status: DeliveryStatus;

  /** Attempts completed (each has a log row). */
  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  @Column({ name: 'lease_expires_at', type: 'timestamptz', nullable: true })
  leaseExpiresAt: Date | null;

  @Column({ name: 'leased_by', type: 'text', nullable: true })
  leasedBy: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
