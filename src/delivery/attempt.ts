import type { DataSource } from 'typeorm';
import type { Config } from '../config/config';
import type { WebhookTrigger } from '../webhooks/triggers';
import type { Webhook } from '../webhooks/webhook.entity';
import { nextRetryDelayMs } from './backoff';
import { DeliveryStatus, WebhookCallKind } from './delivery.entity';
import { type AttemptResult, type Header, type HttpSender, RESPONSE_BODY_LIMIT } from './http-sender';
import { maskEchoedSecrets, maskEchoedSecretsInHeaders } from './redact';
import { buildWebhookRequest } from './request-builder';
import type { ClaimedDelivery } from './claim';
import { type CallRow, type HandOver, type Recorded, recordAttempt } from './record';
import type { UnrecordedAttempts } from './unrecorded';
import { isDatabaseUnavailable } from '../db/errors';
import { serviceUnavailable } from '../common/app-error';
import type { WebhookCall } from './webhook-call.entity';

/**
 * One HTTP attempt and its bookkeeping, shared by the worker (EVENT deliveries, with retry
 * state) and by replays and test sends (one attempt, no delivery row). Keeping a single
 * path means a replay is signed, guarded and logged exactly like a real delivery.
 */

/** What an attempt needs of a webhook: a full entity, or the columns the worker's claim returns. */
export type DeliverableWebhook = Pick<
  Webhook,
  'id' | 'projectId' | 'method' | 'url' | 'headers' | 'signingSecret' | 'previousSigningSecret' | 'previousSecretExpiresAt'
>;

export interface AttemptTarget {
  webhook: DeliverableWebhook;
  kind: WebhookCallKind;
  eventId: string;
  trigger: WebhookTrigger;
  body: string;
}

/** The leased delivery an attempt belongs to; absent for replays and test sends. */
export interface LeasedDelivery {
  id: string;
  /** Attempts completed before this one. */
  attempts: number;
  /** The lease holder; the delivery is only updated while it still holds the lease. */
  workerId: string;
  /**
   * Asked once the response is in: whether to lease the same webhook's next due delivery in
   * the statement that records this attempt (null: no), and on what terms.
   */
  handOver?: () => HandOver | null;
}

export interface AttemptDeps {
  dataSource: DataSource;
  sender: HttpSender;
  retryScheduleMs: readonly number[];
  /** A webhook failing without a success for this long is disabled; null never disables. */
  autoDisableAfterMs?: number | null;
  random?: () => number;
  /** Where an outcome the database cannot take waits to be logged; without it the error is thrown. */
  unrecorded?: UnrecordedAttempts;
}

export interface AttemptOutcome {
  /** The log row; null when the database was unavailable and the outcome is kept to be logged later. */
  call: WebhookCall | null;
  result: AttemptResult;
  /** When the delivery is due again; null when it succeeded, gave up, or was not ours. */
  retryInMs: number | null;
  /** The delivery's final state after this attempt, or null when no delivery was updated. */
  status: DeliveryStatus | null;
  /** Our lease had been taken over: the attempt was logged but the delivery left alone. */
  leaseLost: boolean;
  /** The same webhook's next due delivery, leased to us by the hand-over; null when none. */
  next: ClaimedDelivery | null;
}

// PostgreSQL text and jsonb cannot hold U+0000; a receiver's answer may contain it.
const NUL = /\u0000/g;
const clean = (text: string | null): string | null => (text === null ? null : text.replace(NUL, '\uFFFD'));
const cleanHeaders = (headers: Header[]): Header[] => headers.map((h) => ({ name: clean(h.name)!, value: clean(h.value)! }));

async function send(sender: HttpSender, target: AttemptTarget): Promise<{ result: AttemptResult; loggedHeaders: Header[] }> {
  const now = new Date();
  // A fresh timestamp (and so a fresh signature) on every attempt: receivers reject
  // timestamps outside a few minutes, and retries come hours apart.
  const built = buildWebhookRequest(target.webhook, { eventId: target.eventId, body: target.body }, Math.floor(now.getTime() / 1000), now);
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

/**
 * Like Svix: an endpoint that has failed every call for `windowMs` (a failure that old with no
 * success after it) is disabled with a reason, instead of being retried for ever. Checked only
 * when a delivery fails for good, which is rare, so the query stays off the hot path.
 */
async function disableIfFailingFor(dataSource: DataSource, webhookId: string, windowMs: number): Promise<void> {
  const hours = Math.round(windowMs / 3_600_000);
  await dataSource.query(
    `WITH last_ok AS (SELECT max(created_at) AS at FROM webhook_call WHERE webhook_id = $1 AND success)
     UPDATE webhook SET enabled = false, updated_at = now(),
            disabled_reason = 'Disabled automatically: every call failed for ' || $3 || ' hours (since '
              || to_char(first_failure.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
              || '). Fix the endpoint, enable the webhook, then recoverWebhook re-sends what failed.'
       FROM (SELECT min(c.created_at) AS at FROM webhook_call c, last_ok
              WHERE c.webhook_id = $1 AND NOT c.success AND (last_ok.at IS NULL OR c.created_at > last_ok.at)) AS first_failure
      WHERE webhook.id = $1 AND webhook.enabled AND first_failure.at <= now() - $2 * interval '1 millisecond'`,
    [webhookId, windowMs, String(hours)],
  );
}

/**
 * Sends once, then records the log row and (for a delivery) its new state in one statement
 * (see record.ts). The auto-disable check, rare, follows as its own statement.
 */
export async function attemptAndLog(deps: AttemptDeps, target: AttemptTarget, delivery?: LeasedDelivery): Promise<AttemptOutcome> {
  const { result, loggedHeaders } = await send(deps.sender, target);
  // Masked before the row is written: a receiver echoing its request would otherwise put a
  // secret header value in the log. A body at the cap may end inside a cut-off secret.
  const secrets = (target.webhook.headers ?? []).filter((h) => h.secret).map((h) => h.value);
  const mask = (text: string | null, mayBeCut = false) => (text === null ? null : maskEchoedSecrets(text, secrets, mayBeCut));
  const bodyMayBeCut = result.responseBody !== null && Buffer.byteLength(result.responseBody) > RESPONSE_BODY_LIMIT - 4;
  const attempt = delivery ? delivery.attempts + 1 : 1;
  let status: DeliveryStatus | null = null;
  let retryInMs: number | null = null;
  if (delivery) {
    retryInMs = result.success ? null : nextRetryDelayMs(deps.retryScheduleMs, attempt, deps.random ?? Math.random, result.retryAfterMs);
    status = result.success ? DeliveryStatus.SUCCEEDED : retryInMs === null ? DeliveryStatus.FAILED : DeliveryStatus.PENDING;
  }

  const row: CallRow = {
    deliveryId: delivery?.id ?? null,
    webhookId: target.webhook.id,
    projectId: target.webhook.projectId,
    eventId: target.eventId,
    trigger: target.trigger,
    kind: target.kind,
    attempt,
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
  };
  const update = delivery && status ? { id: delivery.id, workerId: delivery.workerId, status, retryInMs } : undefined;
  let recorded: Recorded;
  try {
    recorded = await recordAttempt(deps.dataSource, row, update, delivery?.handOver?.() ?? undefined);
  } catch (error) {
    if (!deps.unrecorded || !isDatabaseUnavailable(error)) throw error;
    // The request went out: the log will say so once the database is back.
    deps.unrecorded.keep({ row: { ...row, createdAt: new Date(Date.now() - row.durationMs) }, delivery: update });
    return { call: null, result, retryInMs: null, status: null, leaseLost: false, next: null };
  }
  const { call, settled, next } = recorded;
  const leaseLost = delivery !== undefined && !settled;
  if (status === DeliveryStatus.FAILED && !leaseLost && deps.autoDisableAfterMs != null) {
    await disableIfFailingFor(deps.dataSource, target.webhook.id, deps.autoDisableAfterMs);
  }
  return {
    call,
    result,
    retryInMs: leaseLost ? null : retryInMs,
    status: leaseLost ? null : status,
    leaseLost,
    next,
  };
}

export interface SendNowInput {
  webhook: DeliverableWebhook;
  kind: WebhookCallKind.REPLAY | WebhookCallKind.TEST | 'REPLAY' | 'TEST';
  eventId: string;
  trigger: WebhookTrigger;
  body: string;
}

/**
 * One immediate attempt for a replay or a test send, logged like any other, without retry:
 * the person who asked sees the outcome at once and can ask again. Returns the log row.
 * `config` is taken for symmetry with the worker (and future per-send settings); the sender
 * passed in already carries the timeout and the SSRF allow-list.
 */
export async function sendNow(
  dataSource: DataSource,
  sender: HttpSender,
  config: Config['webhook'],
  input: SendNowInput,
  unrecorded?: UnrecordedAttempts,
): Promise<WebhookCall> {
  const kind = input.kind === 'REPLAY' ? WebhookCallKind.REPLAY : WebhookCallKind.TEST;
  const outcome = await attemptAndLog(
    { dataSource, sender, retryScheduleMs: config.retryScheduleMs, unrecorded },
    { webhook: input.webhook, kind, eventId: input.eventId, trigger: input.trigger, body: input.body },
  );
  if (!outcome.call) throw serviceUnavailable('The request was sent, but the database is unavailable: its log row is written when the database is back');
  return outcome.call;
}
