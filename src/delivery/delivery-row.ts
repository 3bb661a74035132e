import type { WebhookTrigger } from '../webhooks/triggers';
import type { Webhook } from '../webhooks/webhook.entity';
import type { WebhookCallKind } from './delivery.entity';

/**
 * A queued delivery as a worker holds it once leased: the row and the webhook columns an
 * attempt needs, so no second query per attempt. Claims return it (queue.ts), and the attempt
 * (attempt.ts) consumes it; having it here keeps those two from importing each other.
 */

/** What an attempt needs of a webhook: a full entity, or the columns a claim returns. */
export type DeliverableWebhook = Pick<
  Webhook,
  'id' | 'projectId' | 'method' | 'url' | 'headers' | 'signingSecret' | 'previousSigningSecret' | 'previousSecretExpiresAt'
> &
  Partial<Pick<Webhook, 'sendTraceContext'>>;

export interface ClaimedDelivery {
  id: string;
  eventId: string;
  webhookId: string;
  kind: WebhookCallKind;
  trigger: WebhookTrigger;
  body: string;
  /** Null: application/json. */
  contentType: string | null;
  /** Set when the body template could not be rendered at fan-out: nothing is sent. */
  bodyError: string | null;
  /** Attempts completed before this claim. */
  attempts: number;
  /** Its webhook delivers one at a time: the next in line is claimable once this one's outcome is written. */
  fifo: boolean;
  webhook: DeliverableWebhook;
  /** The save's W3C traceparent, when it was traced. */
  traceContext?: string | null;
}

/** The columns a claim's RETURNING gives, as pg hands them over. */
export interface ClaimedRow {
  id: string;
  event_id: string;
  webhook_id: string;
  kind: WebhookCallKind;
  trigger: WebhookTrigger;
  body: string;
  content_type: string | null;
  body_error: string | null;
  attempts: number;
  /** Absent from what fan-out leases at enqueue, which is never a FIFO webhook's. */
  fifo?: boolean;
  project_id: string;
  method: Webhook['method'];
  url: string;
  headers: Webhook['headers'];
  signing_secret: string;
  previous_signing_secret: string | null;
  previous_secret_expires_at: Date | null;
  send_trace_context?: boolean;
  trace_context?: string | null;
}

export function toClaimedDelivery(row: ClaimedRow): ClaimedDelivery {
  return {
    id: row.id,
    eventId: row.event_id,
    webhookId: row.webhook_id,
    kind: row.kind,
    trigger: row.trigger,
    body: row.body,
    contentType: row.content_type,
    bodyError: row.body_error,
    attempts: row.attempts,
    traceContext: row.trace_context ?? null,
    fifo: row.fifo ?? false,
    webhook: {
      id: row.webhook_id,
      projectId: row.project_id,
      method: row.method,
      url: row.url,
      headers: row.headers,
      signingSecret: row.signing_secret,
      previousSigningSecret: row.previous_signing_secret,
      previousSecretExpiresAt: row.previous_secret_expires_at,
      sendTraceContext: row.send_trace_context ?? false,
    },
  };
}
