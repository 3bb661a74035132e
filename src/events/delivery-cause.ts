import { isUuid } from '../common/app-error';

/**
 * Loop protection, the request side. A receiver handling a delivery that calls back into the
 * API passes the delivery's `webhook-id` header (the event id) on, and optionally
 * `webhook-origin` (the `webhook.webhook_id` of the body it got). Events of changes made in such
 * a request record that cause, so fan-out can keep a webhook from being sent what its own
 * delivery caused, and stop chains across webhooks at WEBHOOK_MAX_CAUSAL_DEPTH.
 */
export const CAUSE_HEADER = 'webhook-id';
export const ORIGIN_HEADER = 'webhook-origin';

export interface DeliveryCause {
  eventId: string;
  /** The webhook whose delivery it was; null = every webhook the event was delivered to. */
  webhookId: string | null;
}

export interface ParsedCause {
  cause: DeliveryCause | null;
  /** Why a header present was ignored; headers are not fields, so this is logged, never an error. */
  ignored: string | null;
}

type Headers = Record<string, string | string[] | undefined>;

function single(headers: Headers, name: string): string | undefined | null {
  const value = headers[name];
  if (Array.isArray(value)) return value.length === 1 ? value[0].trim() : null;
  return value === undefined ? undefined : value.trim();
}

/** `headers` as Node gives them (lower-case names). */
export function parseDeliveryCause(headers: Headers): ParsedCause {
  const eventId = single(headers, CAUSE_HEADER);
  const webhookId = single(headers, ORIGIN_HEADER);
  if (eventId === undefined) {
    return { cause: null, ignored: webhookId === undefined ? null : `${ORIGIN_HEADER} without ${CAUSE_HEADER}` };
  }
  if (eventId === null || !isUuid(eventId)) return { cause: null, ignored: `${CAUSE_HEADER} is not one event id (a UUID)` };
  const cause = { eventId: eventId.toLowerCase(), webhookId: null };
  if (webhookId === undefined) return { cause, ignored: null };
  if (webhookId === null || !isUuid(webhookId)) return { cause, ignored: `${ORIGIN_HEADER} is not one webhook id (a UUID)` };
  return { cause: { ...cause, webhookId: webhookId.toLowerCase() }, ignored: null };
}
