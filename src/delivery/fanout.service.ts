import type { DataSource } from 'typeorm';
import type { EventMetadata } from '../events/domain-event.entity';
import { isMemberTrigger, WebhookTrigger } from '../webhooks/triggers';
import { WebhookCallKind } from './delivery.entity';
import { buildPayloadBody } from './payload';
import { type ClaimedDelivery, type ClaimedRow, toClaimedDelivery } from './delivery-row';
import { enqueueDeliveries, type NewDeliveries } from './queue';

/**
 * Stage one of delivery: turn committed domain events into one `webhook_delivery` per
 * matching webhook. No HTTP here, so a batch is a few milliseconds of SQL and the event
 * rows stay locked only that long.
 */

export interface MatchableWebhook {
  triggers: readonly WebhookTrigger[];
  /** null = every blueprint. */
  blueprintIds: readonly string[] | null;
}

export interface MatchableEvent {
  trigger: WebhookTrigger;
  /** The document's blueprint, or the blueprint itself; null for member events. */
  blueprintId: string | null;
}

/**
 * Contract: a webhook with `blueprintIds` gets only the events of documents of those
 * blueprints and of those blueprints themselves; member events always pass.
 * An empty list is taken literally (no blueprint passes), unlike null.
 */
export function webhookMatchesEvent(webhook: MatchableWebhook, event: MatchableEvent): boolean {
  if (!webhook.triggers.includes(event.trigger)) return false;
  if (webhook.blueprintIds === null || isMemberTrigger(event.trigger)) return true;
  return event.blueprintId !== null && webhook.blueprintIds.includes(event.blueprintId);
}

interface EventRow {
  id: string;
  project_id: string;
  trigger: WebhookTrigger;
  blueprint_id: string | null;
  metadata: EventMetadata;
}

/** What fan-out reads of a webhook: to match events, and to send at once what it leases. */
interface WebhookRow extends Omit<ClaimedRow, 'event_id' | 'webhook_id' | 'kind' | 'trigger' | 'body' | 'attempts' | 'previous_secret_expires_at'> {
  triggers: WebhookTrigger[];
  blueprint_ids: string[] | null;
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
export async function dispatchPendingEvents(dataSource: DataSource, batchSize = 500, leaseMs = 30_000): Promise<number> {
  return (await fanOut(dataSource, batchSize, leaseMs)).events;
}

/** dispatchPendingEvents, leasing to the worker what `take` has room for; returns those deliveries too. */
export async function fanOut(dataSource: DataSource, batchSize: number, leaseMs: number, take?: TakeAtFanOut): Promise<{ events: number; taken: ClaimedDelivery[] }> {
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
       RETURNING e.id, e.project_id, e.trigger, e.blueprint_id, e.metadata, e.created_at
     ), hooks AS (
       SELECT w.project_id, json_agg(json_build_object(
                'id', w.id, 'project_id', w.project_id, 'triggers', w.triggers, 'blueprint_ids', w.blueprint_ids, 'method', w.method, 'url', w.url,
                'headers', w.headers, 'signing_secret', w.signing_secret, 'previous_signing_secret', w.previous_signing_secret,
                'previous_secret_expires_at', w.previous_secret_expires_at)) AS webhooks
         FROM webhook w
        WHERE w.enabled AND w.purpose = 'EVENTS' AND w.project_id IN (SELECT project_id FROM leased)
        GROUP BY w.project_id
     )
     SELECT l.id, l.project_id, l.trigger, l.blueprint_id, l.metadata, hooks.webhooks
       FROM leased l LEFT JOIN hooks ON hooks.project_id = l.project_id
      ORDER BY l.created_at`,
    [batchSize, leaseMs],
  );
  if (events.length === 0) return { events: 0, taken: [] };

  const columns: NewDeliveries = { eventId: [], webhookId: [], projectId: [], trigger: [], body: [] };
  const hooks: WebhookRow[] = [];
  for (const event of events) {
    const matchable = { trigger: event.trigger, blueprintId: event.blueprint_id };
    for (const webhook of event.webhooks ?? []) {
      if (!webhookMatchesEvent({ triggers: webhook.triggers, blueprintIds: webhook.blueprint_ids }, matchable)) continue;
      columns.eventId.push(event.id);
      columns.webhookId.push(webhook.id);
      columns.projectId.push(event.project_id);
      columns.trigger.push(event.trigger);
      columns.body.push(buildPayloadBody({ id: event.id, projectId: event.project_id, trigger: event.trigger, metadata: event.metadata }, webhook.id));
      hooks.push(webhook);
    }
  }
  const lease = take && columns.webhookId.length > 0 ? { workerId: take.workerId, leaseMs: take.leaseMs, take: take.plan(columns.webhookId) } : undefined;
  const leased = await enqueueDeliveries(dataSource.manager, columns, events.map((e) => e.id), lease);
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
      attempts: 0,
      previous_secret_expires_at: webhook.previous_secret_expires_at === null ? null : new Date(webhook.previous_secret_expires_at),
    });
  });
  return { events: events.length, taken };
}
