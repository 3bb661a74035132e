import { randomUUID } from 'node:crypto';
import type { WebhookTrigger } from '../webhooks/triggers';
import { nextRetryDelayMs } from './backoff';
import { DeliveryStatus, WebhookCallKind } from './delivery.entity';
import type { DeliverableWebhook } from './delivery-row';
import { type AttemptResult, type Header, type HttpSender, RESPONSE_BODY_LIMIT } from './http-sender';
import type { SettleEntry, Settled } from './queue';
import { maskEchoedSecrets, maskEchoedSecretsInHeaders } from './redact';
import { buildWebhookRequest } from './request-builder';
import { serviceUnavailable } from '../common/app-error';
import type { OutcomeWriter } from './outcome-writer';
import { WebhookCall } from '../webhook-calls/webhook-call.entity';
import { attemptMade } from '../observability/metrics';
import { inAttemptSpan, markSpanFailed, traceparentOf } from '../observability/tracing';

/**
 * One HTTP attempt, and the log row and delivery state it leads to. Shared by the worker
 * (EVENT deliveries, with retry state) and by replays and test sends (one attempt, no
 * delivery row), so a replay is signed, guarded and logged exactly like a real delivery.
 * Nothing here touches the database: the outcome is written by an OutcomeWriter, so the
 * worker's slot is free the moment the exchange ends.
 */

export type { DeliverableWebhook } from './delivery-row';

export interface AttemptTarget {
  webhook: DeliverableWebhook;
  kind: WebhookCallKind;
  eventId: string;
  trigger: WebhookTrigger;
  body: string;
  /** The save's W3C traceparent, when it was traced: the attempt's span continues it. */
  traceContext?: string | null;
  /** Default application/json. */
  contentType?: string | null;
  /** The body template could not be rendered: the attempt fails with this, and nothing is sent. */
  bodyError?: string | null;
}

/** The leased delivery an attempt belongs to; absent for replays and test sends. */
export interface LeasedDelivery {
  id: string;
  /** Attempts completed before this one. */
  attempts: number;
  /** The lease holder; the delivery is only updated while it still holds the lease. */
  workerId: string;
}

export interface RetryPolicy {
  retryScheduleMs: readonly number[];
  random?: () => number;
}

export interface Attempted {
  /** What to write: the log row and, for a delivery, its new state. */
  entry: SettleEntry;
  result: AttemptResult;
  /** The delivery's state after this attempt; null for replays and test sends. */
  status: DeliveryStatus | null;
  /** When the delivery is due again; null when it succeeded, gave up, or has no delivery. */
  retryInMs: number | null;
}

// PostgreSQL text and jsonb cannot hold U+0000; a receiver's answer may contain it.
const NUL = /\u0000/g;
const clean = (text: string | null): string | null => (text === null ? null : text.replace(NUL, '\uFFFD'));
const cleanHeaders = (headers: Header[]): Header[] => headers.map((h) => ({ name: clean(h.name)!, value: clean(h.value)! }));

/**
 * A body that could not be rendered is a failed attempt like a refused connection: logged
 * with its reason, counted in the webhook's health, never sent. Retrying cannot help (the body
 * was rendered once, at fan-out), so the delivery fails for good; recoverWebhook may queue it
 * again once the cause is gone.
 */
function unrenderable(target: AttemptTarget): AttemptResult {
  return {
    success: false,
    statusCode: null,
    requestHeaders: [],
    responseHeaders: [],
    responseBody: null,
    error: target.bodyError!,
    errorCode: 'other',
    durationMs: 0,
  };
}

async function send(sender: HttpSender, target: AttemptTarget, traceparent: string | undefined): Promise<{ result: AttemptResult; loggedHeaders: Header[] }> {
  if (target.bodyError) return { result: unrenderable(target), loggedHeaders: [] };
  const now = new Date();
  // A fresh timestamp (and so a fresh signature) on every attempt: receivers reject
  // timestamps outside a few minutes, and retries come hours apart.
  const built = buildWebhookRequest(target.webhook, { eventId: target.eventId, body: target.body, contentType: target.contentType, traceparent }, Math.floor(now.getTime() / 1000), now);
  try {
    return { result: await sender.send(built.request), loggedHeaders: built.loggedHeaders };
  } catch (error) {
    // The sender reports failures as results; this is a bug guard, so the attempt is still logged.
    const message = error instanceof Error ? error.message : String(error);
    const result: AttemptResult = {
      success: false,
      statusCode: null,
      requestHeaders: built.request.headers,
      responseHeaders: [],
      responseBody: null,
      error: `internal error while sending: ${message}`,
      errorCode: 'other',
      durationMs: Date.now() - now.getTime(),
    };
    return { result, loggedHeaders: built.loggedHeaders };
  }
}

/** Sends once and describes the outcome; the caller writes it. */
export async function attempt(sender: HttpSender, target: AttemptTarget, policy: RetryPolicy, delivery?: LeasedDelivery): Promise<Attempted> {
  const { webhook } = target;
  const span = { webhookId: webhook.id, eventId: target.eventId, deliveryId: delivery?.id, attempt: delivery ? delivery.attempts + 1 : 1, trigger: target.trigger, kind: target.kind, method: webhook.method, host: hostOf(webhook.url) };
  const { result, loggedHeaders } = await inAttemptSpan(target.traceContext, span, async (traced) => {
    const sent = await send(sender, target, webhook.sendTraceContext ? traceparentOf(traced) : undefined);
    traced.setAttribute('webhook.success', sent.result.success);
    if (sent.result.statusCode !== null) traced.setAttribute('http.response.status_code', sent.result.statusCode);
    if (!sent.result.success) {
      traced.setAttribute('error.type', sent.result.errorCode ?? 'error');
      markSpanFailed(traced, sent.result.errorCode ?? 'error');
    }
    return sent;
  });
  attemptMade(target.kind, result);
  // Masked before the row is written: a receiver echoing its request would otherwise put a
  // secret header value in the log. A body at the cap may end inside a cut-off secret.
  const secrets = (target.webhook.headers ?? []).filter((h) => h.secret).map((h) => h.value);
  const mask = (text: string | null, mayBeCut = false) => (text === null ? null : maskEchoedSecrets(text, secrets, mayBeCut));
  const bodyMayBeCut = result.responseBody !== null && Buffer.byteLength(result.responseBody) > RESPONSE_BODY_LIMIT - 4;
  const number = delivery ? delivery.attempts + 1 : 1;
  let status: DeliveryStatus | null = null;
  let retryInMs: number | null = null;
  if (delivery) {
    retryInMs = result.success || target.bodyError ? null : nextRetryDelayMs(policy.retryScheduleMs, number, policy.random ?? Math.random, result.retryAfterMs);
    status = result.success ? DeliveryStatus.SUCCEEDED : retryInMs === null ? DeliveryStatus.FAILED : DeliveryStatus.PENDING;
  }
  const entry: SettleEntry = {
    call: {
      id: randomUUID(),
      deliveryId: delivery?.id ?? null,
      webhookId: target.webhook.id,
      projectId: target.webhook.projectId,
      eventId: target.eventId,
      trigger: target.trigger,
      kind: target.kind,
      attempt: number,
      success: result.success,
      error: clean(mask(result.error)),
      durationMs: Math.max(0, Math.round(result.durationMs)),
      requestMethod: target.webhook.method,
      requestUrl: target.webhook.url,
      requestHeaders: loggedHeaders,
      requestBody: target.body,
      responseStatusCode: result.statusCode,
      responseHeaders: result.statusCode === null ? null : cleanHeaders(maskEchoedSecretsInHeaders(result.responseHeaders, secrets)),
      responseBody: clean(mask(result.responseBody, bodyMayBeCut)),
    },
    delivery: delivery && status ? { id: delivery.id, workerId: delivery.workerId, status, retryInMs } : undefined,
  };
  return { entry, result, status, retryInMs };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

/** The log row as the API returns it, from what was written and what the database added. */
export function toWebhookCall(entry: SettleEntry, settled: Settled): WebhookCall {
  const { createdAt: _sent, ...row } = entry.call;
  return Object.assign(new WebhookCall(), row, {
    trigger: row.trigger as WebhookTrigger,
    kind: row.kind as WebhookCallKind,
    requestHeaders: row.requestHeaders as WebhookCall['requestHeaders'],
    responseHeaders: row.responseHeaders as WebhookCall['responseHeaders'],
    createdAt: settled.createdAt,
    nextRetryAt: settled.nextRetryAt,
  });
}

/**
 * One immediate attempt for a replay or a test send, logged like any other, without retry:
 * the person who asked sees the outcome at once and can ask again. Returns the log row once
 * it is written.
 */
export async function sendNow(writer: OutcomeWriter, sender: HttpSender, policy: RetryPolicy, target: AttemptTarget): Promise<WebhookCall> {
  const attempted = await attempt(sender, target, policy);
  const settled = await writer.write(attempted.entry);
  if (!settled) throw serviceUnavailable('The request was sent, but the database is unavailable: its log row is written when the database is back');
  return toWebhookCall(attempted.entry, settled);
}
