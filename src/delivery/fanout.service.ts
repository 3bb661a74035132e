import { type Logger, silentLogger } from '../observability/logger';
import type { DataSource } from 'typeorm';
import type { EventMetadata } from '../events/domain-event.entity';
import { isDocumentTrigger, isMemberTrigger, WebhookTrigger } from '../webhooks/triggers';
import { buildBody, loadTemplateFacts, type TemplateFacts } from './body';
import type { BodyFormat } from './body-template';
import { WebhookCallKind } from './delivery.entity';
import { type ClaimedDelivery, type ClaimedRow, toClaimedDelivery } from './delivery-row';
import { enqueueDeliveries, type NewDeliveries } from './queue';
import { eventsFannedOut } from '../observability/metrics';

/**
 * Stage one of delivery: turn committed domain events into one `webhook_delivery` per
 * matching webhook. No HTTP here, so a batch is a few milliseconds of SQL and the event
 * rows stay locked only that long.
 */

export interface MatchableWebhook {
  /** Needed only for loop protection (`event.loopOrigins`). */
  id?: string;
  triggers: readonly WebhookTrigger[];
  /** null = every blueprint. */
  blueprintIds: readonly string[] | null;
  /** Document events only: the document's status id must be one of these. null/absent = any. */
  documentStatuses?: readonly number[] | null;
  /** document_field_update only: one of these must have changed. null/absent = any. */
  changedFields?: readonly string[] | null;
  /** null/absent = every actor. */
  actorFilter?: MatchableActorFilter | null;
}

export interface MatchableActorFilter {
  mode: 'INCLUDE' | 'EXCLUDE';
  userIds: readonly string[];
  tokenIds: readonly string[];
}

export interface MatchableEvent {
  trigger: WebhookTrigger;
  /** The document's blueprint, or the blueprint itself; null for member events. */
  blueprintId: string | null;
  /** metadata.document_status_id, metadata.changed_fields and metadata.triggered_user_id. */
  metadata?: Pick<EventMetadata, 'document_status_id' | 'changed_fields' | 'triggered_user_id'>;
  /** The API token the change was made with. */
  actorTokenId?: string | null;
  /** Webhooks whose own delivery caused this event: they never get it. */
  loopOrigins?: readonly string[] | null;
}

/**
 * Contract: a webhook with `blueprintIds` gets only the events of documents of those
 * blueprints and of those blueprints themselves; member events always pass.
 * An empty list is taken literally (no blueprint passes), unlike null.
 *
 * Content filters (each null = no filter, so a webhook without them matches as before):
 * - `documentStatuses`: document events pass when their document_status_id is listed; other
 *   events (blueprints, members) carry no document and pass.
 * - `changedFields`: a document_field_update passes when one of the listed names changed
 *   (`title` included); every other trigger passes.
 * - `actorFilter`: INCLUDE passes only changes by a listed user or made with a listed token;
 *   EXCLUDE drops exactly those. An event with no known actor is not "listed".
 * - `loopOrigins`: a webhook never gets an event its own delivery caused.
 */
export function webhookMatchesEvent(webhook: MatchableWebhook, event: MatchableEvent): boolean {
  if (!webhook.triggers.includes(event.trigger)) return false;
  if (webhook.id !== undefined && event.loopOrigins?.includes(webhook.id)) return false;
  if (!passesContentFilters(webhook, event)) return false;
  if (webhook.blueprintIds === null || isMemberTrigger(event.trigger)) return true;
  return event.blueprintId !== null && webhook.blueprintIds.includes(event.blueprintId);
}

function passesContentFilters(webhook: MatchableWebhook, event: MatchableEvent): boolean {
  const metadata = event.metadata;
  if (webhook.documentStatuses != null && isDocumentTrigger(event.trigger)) {
    const status = metadata?.document_status_id ?? null;
    if (status === null || !webhook.documentStatuses.includes(status)) return false;
  }
  if (webhook.changedFields != null && event.trigger === WebhookTrigger.DOCUMENT_FIELD_UPDATE) {
    const changed = metadata?.changed_fields ?? [];
    if (!changed.some((name) => webhook.changedFields!.includes(name))) return false;
  }
  const filter = webhook.actorFilter;
  if (filter != null) {
    const user = metadata?.triggered_user_id;
    const token = event.actorTokenId ?? null;
    const listed = (user !== undefined && filter.userIds.includes(user)) || (token !== null && filter.tokenIds.includes(token));
    if (listed !== (filter.mode === 'INCLUDE')) return false;
  }
  return true;
}

/**
 * Loop protection's second rule: an event more than `maxDepth` deliveries deep in a chain is
 * delivered to no webhook at all (a chain across webhooks, which the origin rule cannot see).
 */
export function exceedsCausalDepth(causalDepth: number, maxDepth: number): boolean {
  return causalDepth > maxDepth;
}

interface EventRow {
  id: string;
  project_id: string;
  trigger: WebhookTrigger;
  blueprint_id: string | null;
  metadata: EventMetadata;
  trace_context: string | null;
  actor_token_id: string | null;
  cause_event_id: string | null;
  causal_depth: number;
  /** The webhook(s) whose delivery caused the event: see the fan-out statement. */
  loop_origins: string[] | null;
}

/** What fan-out reads of a webhook: to match events, and to send at once what it leases. */
interface WebhookRow extends Omit<ClaimedRow, 'event_id' | 'webhook_id' | 'kind' | 'trigger' | 'body' | 'content_type' | 'body_error' | 'attempts' | 'previous_secret_expires_at'> {
  triggers: WebhookTrigger[];
  body_template: string | null;
  body_format: BodyFormat;
  body_content_type: string | null;
  blueprint_ids: string[] | null;
  document_statuses: number[] | null;
  changed_fields: string[] | null;
  actor_filter: MatchableActorFilter | null;
  /** An ISO string: read through json. */
  previous_secret_expires_at: string | null;
}

/** A worker's offer to take new deliveries as they are queued (see enqueueDeliveries). */
export interface TakeAtFanOut {
  workerId: string;
  leaseMs: number;
  /** Per new delivery, by webhook id in order: whether the worker has room for it. */
  plan(webhookIds: readonly string[]): boolean[];
}

/** Loop protection settings; the defaults are the documented ones (WEBHOOK_MAX_CAUSAL_DEPTH). */
export interface FanOutOptions {
  maxCausalDepth: number;
  log: Logger;
}

export const DEFAULT_MAX_CAUSAL_DEPTH = 3;

const DEFAULT_FANOUT_OPTIONS: FanOutOptions = { maxCausalDepth: DEFAULT_MAX_CAUSAL_DEPTH, log: silentLogger };

/**
 * Fans out up to `batchSize` undispatched events and returns how many it took; the caller
 * loops until that is 0. Two statements, no explicit transaction:
 *
 * 1. Lease a batch of events (FOR UPDATE SKIP LOCKED only for that statement, so workers fan
 *    out side by side without waiting on each other) and read the enabled webhooks of their
 *    projects, from one snapshot.
 * 2. Queue one delivery per matching webhook and mark the events dispatched (queue.ts).
 *
 * A worker that dies between the two leaves leased events behind; once the lease runs out,
 * another worker fans them out, and the unique (event_id, webhook_id) index plus ON CONFLICT
 * DO NOTHING makes any repeat a no-op. Whether a webhook is enabled is decided here, at
 * fan-out: a webhook disabled by then never gets the event. Notification endpoints (purpose
 * NOTIFICATIONS) never get CMS events: they receive health changes only.
 */
export async function dispatchPendingEvents(dataSource: DataSource, batchSize = 500, leaseMs = 30_000, options = DEFAULT_FANOUT_OPTIONS): Promise<number> {
  return (await fanOut(dataSource, batchSize, leaseMs, undefined, options)).events;
}

/** dispatchPendingEvents, leasing to the worker what `take` has room for; returns those deliveries too. */
export async function fanOut(
  dataSource: DataSource,
  batchSize: number,
  leaseMs: number,
  take?: TakeAtFanOut,
  options: FanOutOptions = DEFAULT_FANOUT_OPTIONS,
): Promise<{ events: number; taken: ClaimedDelivery[] }> {
  const events: Array<EventRow & { webhooks: WebhookRow[] | null }> = await dataSource.query(
    `WITH picked AS (
       SELECT id FROM domain_event
        WHERE dispatched_at IS NULL AND (fanout_lease_until IS NULL OR fanout_lease_until < now())
        ORDER BY created_at
        LIMIT $1
          FOR UPDATE SKIP LOCKED
     ), leased AS (
       UPDATE domain_event e SET fanout_lease_until = now() + $2::double precision * interval '1 millisecond'
         FROM picked WHERE e.id = picked.id
       RETURNING e.id, e.project_id, e.trigger, e.blueprint_id, e.metadata, e.created_at, e.trace_context,
                 e.actor_token_id, e.cause_event_id, e.cause_webhook_id, e.causal_depth
     ), hooks AS (
       SELECT w.project_id, json_agg(json_build_object(
                'id', w.id, 'project_id', w.project_id, 'triggers', w.triggers, 'blueprint_ids', w.blueprint_ids, 'method', w.method, 'url', w.url,
                'headers', w.headers, 'signing_secret', w.signing_secret, 'previous_signing_secret', w.previous_signing_secret,
                'previous_secret_expires_at', w.previous_secret_expires_at, 'send_trace_context', w.send_trace_context,
                'document_statuses', w.document_statuses, 'changed_fields', w.changed_fields, 'actor_filter', w.actor_filter,
                'body_template', w.body_template, 'body_format', w.body_format, 'body_content_type', w.body_content_type)) AS webhooks
         FROM webhook w
        WHERE w.enabled AND w.purpose = 'EVENTS' AND w.project_id IN (SELECT project_id FROM leased)
        GROUP BY w.project_id
     )
     -- A change made while handling a delivery: the webhook that said it was its delivery
     -- (webhook-origin), or else, conservatively, every webhook the cause was delivered to.
     SELECT l.id, l.project_id, l.trigger, l.blueprint_id, l.metadata, l.trace_context, l.actor_token_id, l.cause_event_id, l.causal_depth,
            CASE WHEN l.cause_webhook_id IS NOT NULL THEN ARRAY[l.cause_webhook_id]
                 WHEN l.cause_event_id IS NOT NULL THEN
                   ARRAY(SELECT d.webhook_id FROM webhook_delivery d WHERE d.event_id = l.cause_event_id AND d.kind = 'EVENT')
            END AS loop_origins,
            hooks.webhooks
       FROM leased l LEFT JOIN hooks ON hooks.project_id = l.project_id
      ORDER BY l.created_at`,
    [batchSize, leaseMs],
  );
  if (events.length === 0) return { events: 0, taken: [] };

  // Names and titles are read only for the events a template will render.
  const templated = events.filter((e) => e.webhooks?.some((w) => w.body_template !== null)).map((e) => e.id);
  const facts: Map<string, TemplateFacts> = templated.length > 0 ? await loadTemplateFacts(dataSource.manager, templated) : new Map();
  const columns: NewDeliveries = { eventId: [], webhookId: [], projectId: [], trigger: [], body: [], contentType: [], bodyError: [] };
  const hooks: WebhookRow[] = [];
  const traceContexts: Array<string | null> = [];
  for (const event of events) {
    if (event.webhooks && exceedsCausalDepth(event.causal_depth, options.maxCausalDepth)) {
      options.log.warn(
        { eventId: event.id, trigger: event.trigger, causeEventId: event.cause_event_id, causalDepth: event.causal_depth },
        `fan-out: event ${event.id} (${event.trigger}) caused by event ${event.cause_event_id} is ${event.causal_depth} deliveries deep, ` +
          `beyond WEBHOOK_MAX_CAUSAL_DEPTH=${options.maxCausalDepth}: delivered to no webhook (a webhook chain loop?)`,
      );
      continue;
    }
    const matchable: MatchableEvent = {
      trigger: event.trigger,
      blueprintId: event.blueprint_id,
      metadata: event.metadata,
      actorTokenId: event.actor_token_id,
      loopOrigins: event.loop_origins,
    };
    for (const webhook of event.webhooks ?? []) {
      const filters: MatchableWebhook = {
        id: webhook.id,
        triggers: webhook.triggers,
        blueprintIds: webhook.blueprint_ids,
        documentStatuses: webhook.document_statuses,
        changedFields: webhook.changed_fields,
        actorFilter: webhook.actor_filter,
      };
      if (!webhookMatchesEvent(filters, matchable)) continue;
      columns.eventId.push(event.id);
      columns.webhookId.push(webhook.id);
      columns.projectId.push(event.project_id);
      columns.trigger.push(event.trigger);
      const spec = { bodyTemplate: webhook.body_template, bodyFormat: webhook.body_format, bodyContentType: webhook.body_content_type };
      const built = buildBody(spec, { id: event.id, projectId: event.project_id, trigger: event.trigger, metadata: event.metadata }, webhook.id, facts.get(event.id) ?? null);
      columns.body.push(built.body);
      // Null for the contract payload, as before templates: most rows stay as they were.
      columns.contentType.push(spec.bodyTemplate === null ? null : built.contentType);
      columns.bodyError.push(built.error);
      hooks.push(webhook);
      traceContexts.push(event.trace_context);
    }
  }
  const lease = take && columns.webhookId.length > 0 ? { workerId: take.workerId, leaseMs: take.leaseMs, take: take.plan(columns.webhookId) } : undefined;
  const { leased, dispatched } = await enqueueDeliveries(dataSource.manager, columns, events.map((e) => e.id), lease);
  eventsFannedOut(dispatched);
  const taken = leased.map(({ id, index }) => {
    const webhook = hooks[index];
    return toClaimedDelivery({
      ...webhook,
      id,
      event_id: columns.eventId[index],
      webhook_id: webhook.id,
      kind: WebhookCallKind.EVENT,
      trigger: columns.trigger[index] as WebhookTrigger,
      body: columns.body[index],
      content_type: columns.contentType[index],
      body_error: columns.bodyError[index],
      attempts: 0,
      previous_secret_expires_at: webhook.previous_secret_expires_at === null ? null : new Date(webhook.previous_secret_expires_at),
      trace_context: traceContexts[index],
    });
  });
  return { events: events.length, taken };
}
