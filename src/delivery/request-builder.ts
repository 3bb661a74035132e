import { maskSecret } from '../common/mask';
import type { Webhook } from '../webhooks/webhook.entity';
import { isSendableHeader, RESERVED_HEADERS, TRACE_HEADERS } from '../webhooks/webhook.validation';
import type { Header, HttpMethod, OutgoingRequest } from './http-sender';
import { signatureHeader } from './signing';

/**
 * Turns a stored webhook and a message into the exact HTTP request, plus the copy of its
 * headers that may be written to the log. Pure (the clock comes in), so the header order,
 * the secret rotation window and the masking are unit-tested without a network.
 */

export const USER_AGENT = 'cms-webhooks/1 (+https://www.standardwebhooks.com)';

/**
 * A webhook's own header named like one we set or one that frames the message is rejected by
 * the API (the one list is in webhook.validation.ts); it is dropped here too, so that a row
 * written some other way can neither forge a signature header nor corrupt the framing.
 */
export function isReservedHeaderName(name: string): boolean {
  return RESERVED_HEADERS.has(name.trim().toLowerCase());
}

/** Masking lives in one place for the log, the curl command and the API. */
export { maskSecret };

export type SigningWebhook = Pick<Webhook, 'signingSecret' | 'previousSigningSecret' | 'previousSecretExpiresAt'>;

/** The current secret, plus the previous one while its rotation grace period lasts. */
export function activeSigningSecrets(webhook: SigningWebhook, now: Date): string[] {
  const secrets = [webhook.signingSecret];
  const expires = webhook.previousSecretExpiresAt;
  if (webhook.previousSigningSecret && expires && expires.getTime() > now.getTime()) secrets.push(webhook.previousSigningSecret);
  return secrets;
}

export type RequestWebhook = SigningWebhook & Pick<Webhook, 'method' | 'url' | 'headers'>;

export interface WebhookMessage {
  /** Sent as `webhook-id`: the event id, the same for every retry and replay. */
  eventId: string;
  body: string;
  /** W3C traceparent of this attempt, for a webhook that sends trace context. */
  traceparent?: string;
  /** Default application/json: the contract payload, and every body before templates. */
  contentType?: string | null;
}

export interface BuiltRequest {
  request: OutgoingRequest;
  /** The same headers in the same order, secret values masked. */
  loggedHeaders: Header[];
}

/**
 * Header order (contract): the webhook's own headers as stored, then user-agent,
 * content-type, and the Standard Webhooks trio. The timestamp is the time of this attempt,
 * so a retry hours later is not rejected by a receiver's replay-window check.
 */
export function buildWebhookRequest(
  webhook: RequestWebhook,
  message: WebhookMessage,
  timestampSeconds: number,
  now: Date,
  userAgent: string = USER_AGENT,
): BuiltRequest {
  const headers: Header[] = [];
  const loggedHeaders: Header[] = [];
  for (const header of webhook.headers ?? []) {
    if (isReservedHeaderName(header.name)) continue;
    // Ours wins; a row stored before the option was turned on may still have its own.
    if (message.traceparent && TRACE_HEADERS.has(header.name.trim().toLowerCase())) continue;
    // Stored before the API checked what HTTP can carry: Node would refuse the whole request,
    // failing every delivery. Left out of the request and of the log alike, so the log stays true.
    if (!isSendableHeader(header.name, header.value)) continue;
    headers.push({ name: header.name, value: header.value });
    loggedHeaders.push({ name: header.name, value: header.secret ? maskSecret(header.value) : header.value });
  }
  const signature = signatureHeader(activeSigningSecrets(webhook, now), message.eventId, timestampSeconds, message.body);
  // The signature is an HMAC, useless without the secret and bound to this id, timestamp
  // and body, so the log keeps it: a receiver's owner can compare it with what they got.
  const ours: Header[] = [
    { name: 'user-agent', value: userAgent },
    { name: 'content-type', value: message.contentType ?? 'application/json' },
    { name: 'webhook-id', value: message.eventId },
    { name: 'webhook-timestamp', value: String(timestampSeconds) },
    { name: 'webhook-signature', value: signature },
  ];
  // Outside the signature (id.timestamp.body): a receiver verifies the same way with or without it.
  if (message.traceparent) ours.push({ name: 'traceparent', value: message.traceparent });
  headers.push(...ours);
  loggedHeaders.push(...ours);
  return {
    request: { method: webhook.method as HttpMethod, url: webhook.url, headers, body: message.body },
    loggedHeaders,
  };
}
