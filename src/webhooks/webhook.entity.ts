import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Project } from '../cms/project.entity';
import { BodyFormat } from '../delivery/body-template';
import { WebhookHealthState, WebhookPurpose } from '../health/health.constants';
import { HttpMethod, WebhookTrigger } from './triggers';

/** Include (only these) or exclude (all but these) changes made by the listed users or API tokens. */
export interface StoredActorFilter {
  mode: 'INCLUDE' | 'EXCLUDE';
  userIds: string[];
  tokenIds: string[];
}

export interface StoredHeader {
  name: string;
  value: string;
  secret: boolean;
}

/**
 * Storage only. The GraphQL type is a separate class (webhook.type.ts) so that the signing
 * secret and secret header values can never leak into the schema by a stray decorator.
 */
@Entity({ name: 'webhook' })
@Index('webhook_fifo_idx', ['id'], { where: 'fifo' })
export class Webhook {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('webhook_project_idx')
  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project?: Project;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ type: 'text', default: HttpMethod.POST })
  method: HttpMethod;

  @Column({ type: 'text' })
  url: string;

  @Column({ type: 'text', array: true })
  triggers: WebhookTrigger[];

  @Column({ type: 'jsonb', default: () => "'[]'" })
  headers: StoredHeader[];

  @Column({ name: 'blueprint_ids', type: 'uuid', array: true, nullable: true })
  blueprintIds: string[] | null;

  /** Document events only: the status ids (DocumentStatus) the event's document must have; null = any. */
  @Column({ name: 'document_statuses', type: 'smallint', array: true, nullable: true })
  documentStatuses: number[] | null;

  /** document_field_update only: at least one of these must have changed; null = any. */
  @Column({ name: 'changed_fields', type: 'text', array: true, nullable: true })
  changedFields: string[] | null;

  @Column({ name: 'actor_filter', type: 'jsonb', nullable: true })
  actorFilter: StoredActorFilter | null;
  /** Null: the contract payload. Checked on save (src/delivery/body-template.ts). */
  @Column({ name: 'body_template', type: 'text', nullable: true })
  bodyTemplate: string | null;

  @Column({ name: 'body_format', type: 'text', default: BodyFormat.JSON })
  bodyFormat: BodyFormat;

  /** Null: the format's default (application/json, text/plain; charset=utf-8). */
  @Column({ name: 'body_content_type', type: 'text', nullable: true })
  bodyContentType: string | null;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  /** Deliveries one at a time, in event order (src/delivery/fifo.ts). */
  @Column({ type: 'boolean', default: false })
  fifo: boolean;

  @Column({ name: 'disabled_reason', type: 'text', nullable: true })
  disabledReason: string | null;

  /** Send a W3C `traceparent` header, so the receiver's trace continues the save's (when tracing is on). */
  @Column({ name: 'send_trace_context', type: 'boolean', default: false })
  sendTraceContext: boolean;

  @Column({ name: 'signing_secret', type: 'text' })
  signingSecret: string;

  /** Still signs requests until `previousSecretExpiresAt`, so receivers can roll over. */
  @Column({ name: 'previous_signing_secret', type: 'text', nullable: true })
  previousSigningSecret: string | null;

  @Column({ name: 'previous_secret_expires_at', type: 'timestamptz', nullable: true })
  previousSecretExpiresAt: Date | null;

  /** EVENTS, or NOTIFICATIONS for a notification endpoint (src/health/notification-endpoint.service.ts). */
  @Column({ type: 'text', default: WebhookPurpose.EVENTS })
  purpose: WebhookPurpose;

  /** A notification endpoint's health event types (webhook.failing, …); null on EVENTS webhooks. */
  @Column({ name: 'notification_types', type: 'text', array: true, nullable: true })
  notificationTypes: string[] | null;

  // Health: kept by the statement that logs attempts (src/delivery/queue.ts) and by auto-disable.
  @Column({ name: 'health_state', type: 'text', default: WebhookHealthState.HEALTHY })
  healthState: WebhookHealthState;

  @Column({ name: 'health_reason', type: 'text', nullable: true })
  healthReason: string | null;

  @Column({ name: 'health_changed_at', type: 'timestamptz', nullable: true })
  healthChangedAt: Date | null;

  /** The failure rate (0 to 1) that made it FAILING, when that rule did. */
  @Column({ name: 'health_failure_rate', type: 'real', nullable: true })
  healthFailureRate: number | null;

  @Column({ name: 'health_will_disable_at', type: 'timestamptz', nullable: true })
  healthWillDisableAt: Date | null;

  @Column({ name: 'consecutive_failures', type: 'int', default: 0 })
  consecutiveFailures: number;

  /** When the current run of failed calls began; null after a success. */
  @Column({ name: 'failing_since', type: 'timestamptz', nullable: true })
  failingSince: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
