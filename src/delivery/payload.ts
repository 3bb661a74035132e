import { randomUUID } from 'node:crypto';
import type { EventMetadata } from '../events/domain-event.entity';
import { isMemberTrigger, WebhookTrigger } from '../webhooks/triggers';

/**
 * The webhook request body (contract: sample-payload.json, webhook-payload.schema.json).
 *
 * Metadata is stored as jsonb, which does not keep key order, and receivers compare our
 * bodies with the documented sample; so the object is rebuilt here key by key in the
 * documented order rather than serialised as loaded. The result is stored on the delivery
 * once, so every retry sends (and signs) the very same bytes.
 */
export interface PayloadEvent {
  id: string;
  projectId: string;
  trigger: WebhookTrigger;
  metadata: EventMetadata;
}

/** Optional metadata keys, in the order they follow the three required ones. */
const OPTIONAL_METADATA_KEYS = ['changed_fields', 'user_id', 'role', 'triggered_user_id', 'created_at'] as const;

function orderedMetadata(metadata: EventMetadata): Record<string, unknown> {
  const ordered: Record<string, unknown> = {
    blueprint_id: metadata.blueprint_id ?? '',
    document_id: metadata.document_id ?? '',
    document_status_id: metadata.document_status_id ?? null,
  };
  for (const key of OPTIONAL_METADATA_KEYS) {
    const value = metadata[key];
    if (value !== undefined && value !== null) ordered[key] = value;
  }
  return ordered;
}

export interface Payload {
  event_id: string;
  metadata: Record<string, unknown>;
  scope: { project_id: string };
  webhook: { trigger: WebhookTrigger; webhook_id: string };
}

export function buildPayload(event: PayloadEvent, webhookId: string): Payload {
  return {
    event_id: event.id,
    metadata: orderedMetadata(event.metadata),
    scope: { project_id: event.projectId },
    webhook: { trigger: event.trigger, webhook_id: webhookId },
  };
}

export function buildPayloadBody(event: PayloadEvent, webhookId: string): string {
  return JSON.stringify(buildPayload(event, webhookId));
}

export interface SampleOptions {
  /** Defaults to a fresh uuid: a test send is its own event, never mistaken for a real one. */
  eventId?: string;
  /** The user who asked for the test send (`triggered_user_id`). */
  triggeredUserId?: string | null;
  now?: Date;
}

/**
 * A plausible event of `trigger` for test sends, so a receiver can exercise the exact code
 * path a real event of that kind takes. Ids are fresh uuids (valid, but of nothing that exists).
 */
export function sampleEvent(trigger: WebhookTrigger, projectId: string, options: SampleOptions = {}): PayloadEvent {
  const metadata: EventMetadata = { blueprint_id: '', document_id: '', document_status_id: null, created_at: '' };
  if (isMemberTrigger(trigger)) {
    metadata.user_id = randomUUID();
    metadata.role = 'editor';
  } else if (trigger.startsWith('blueprint_')) {
    metadata.blueprint_id = randomUUID();
  } else {
    metadata.blueprint_id = randomUUID();
    metadata.document_id = randomUUID();
    // A created document starts as a draft; the other document events are shown on a published one.
    metadata.document_status_id = trigger === WebhookTrigger.DOCUMENT_CREATE ? 0 : 2;
    if (trigger === WebhookTrigger.DOCUMENT_FIELD_UPDATE) {
      metadata.document_status_id = 1;
      metadata.changed_fields = ['title'];
    }
  }
  if (options.triggeredUserId) metadata.triggered_user_id = options.triggeredUserId;
  metadata.created_at = (options.now ?? new Date()).toISOString();
  return { id: options.eventId ?? randomUUID(), projectId, trigger, metadata };
}

export function samplePayloadBody(
  trigger: WebhookTrigger,
  webhookId: string,
  projectId: string,
  options: SampleOptions = {},
): string {
  return buildPayloadBody(sampleEvent(trigger, projectId, options), webhookId);
}
