import { Column, CreateDateColumn, Entity, Generated, Index, PrimaryGeneratedColumn } from 'typeorm';
import { WebhookTrigger } from '../webhooks/triggers';

export interface EventMetadata {
  blueprint_id: string;
  document_id: string;
  document_status_id: number | null;
  changed_fields?: string[];
  user_id?: string;
  role?: string;
  triggered_user_id?: string;
  created_at: string;
}

/**
 * What a body template may show of an event beyond its metadata, as it was when the event was
 * written: a deleted document's title or a deleted blueprint's name cannot be read later.
 * Kept apart from `metadata`, which is exactly the contract payload's.
 */
export interface EventContext {
  document?: { title: string | null };
  blueprint?: { name: string; api_name: string };
}

/**
 * The transactional outbox: one row per domain event, inserted by the entity subscribers in
 * the transaction of the change. `dispatched_at` is set once the event was fanned out to
 * deliveries; the partial index keeps finding undispatched events cheap however long the
 * table grows.
 */
@Entity({ name: 'domain_event' })
@Index('domain_event_undispatched_idx', ['createdAt'], { where: 'dispatched_at IS NULL' })
// BRIN on created_at for retention (migrations/1764200000000-Retention.ts); TypeORM cannot declare BRIN.
@Index('domain_event_created_brin', { synchronize: false })
// (project_id, tx_id, seq), for the live event stream; TypeORM reads index columns back in no fixed order.
@Index('domain_event_project_position_idx', { synchronize: false })
export class DomainEvent {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column({ type: 'text' })
  trigger: WebhookTrigger;

  /** The blueprint the event concerns (a document's blueprint, or the blueprint itself). */
  @Column({ name: 'blueprint_id', type: 'uuid', nullable: true })
  blueprintId: string | null;

  @Column({ type: 'jsonb' })
  metadata: EventMetadata;

  /** The API token the change was made with (the user is metadata.triggered_user_id). */
  @Column({ name: 'actor_token_id', type: 'uuid', nullable: true })
  actorTokenId: string | null;

  /** The event whose delivery was being handled when the change was made (the request's webhook-id). */
  @Column({ name: 'cause_event_id', type: 'uuid', nullable: true })
  causeEventId: string | null;

  /** The webhook whose delivery that was, when the request said so (webhook-origin). */
  @Column({ name: 'cause_webhook_id', type: 'uuid', nullable: true })
  causeWebhookId: string | null;

  /** 0 for a change no delivery caused; the cause's depth + 1 otherwise. */
  @Column({ name: 'causal_depth', type: 'smallint', default: 0 })
  causalDepth: number;
  /** Null for events written before body templates existed, and for member events. */
  @Column({ type: 'jsonb', nullable: true })
  context: EventContext | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'dispatched_at', type: 'timestamptz', nullable: true })
  dispatchedAt: Date | null;

  /** A worker fanning the event out holds it until then; after a crash, another takes it. */
  @Column({ name: 'fanout_lease_until', type: 'timestamptz', nullable: true })
  fanoutLeaseUntil: Date | null;

  /** The W3C traceparent of the save, when it was traced: its delivery attempts continue that trace. */
  @Column({ name: 'trace_context', type: 'text', nullable: true })
  traceContext: string | null;

  /**
   * The inserting transaction's id and a sequence: together, the order the live stream
   * (webhookEvents) reads events in. `created_at` cannot serve: it is taken before commit, so
   * a transaction that commits later may carry an earlier time, and a reader that had moved
   * past that time would skip it. See src/events/event-feed.ts. Both are bigint, read as strings.
   */
  @Column({ name: 'tx_id', type: 'bigint', default: () => 'cms_current_tx_id()', insert: false, update: false })
  txId: string;

  @Column({ type: 'bigint', insert: false, update: false })
  @Generated('increment')
  seq: string;
}
