import type { DataSource } from 'typeorm';
import type { EventMetadata } from '../events/domain-event.entity';
import { isMemberTrigger, WebhookTrigger } from '../webhooks/triggers';
import { buildPayloadBody } from './payload';
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

interface WebhookRow {
  id: string;
  project_id: string;
  triggers: WebhookTrigger[];
  blueprint_ids: string[] | null;
}

/**
 * Fans out up to `batchSize` undispatched events in one transaction and returns how many
 * it took; the caller loops until that is 0.
 *
 * SKIP LOCKED lets several workers fan out side by side without waiting on each other or
 * taking the same event twice. Should an event be fanned out twice anyway (it cannot
 * while the row lock holds, but a manual reset of `dispatched_at` could), the unique
 * (event_id, webhook_id) index plus ON CONFLICT DO NOTHING makes the second run a no-op.
 * Whether a webhook is enabled is decided here, at fan-out: a webhook disabled at the time
 * of an event never gets it.
 */
export async function dispatchPendingEvents(dataSource: DataSource, batchSize = 500): Promise<number> {
  return dataSource.transaction(async (manager) => {
    const events: EventRow[] = await manager.query(
      `SELECT id, project_id, trigger, blueprint_id, metadata
         FROM domain_event
        WHERE dispatched_at IS NULL
        ORDER BY created_at
        LIMIT $1
          FOR UPDATE SKIP LOCKED`,
      [batchSize],
    );
    if (events.length === 0) return 0;

    const projectIds = [...new Set(events.map((e) => e.project_id))];
    const webhooks: WebhookRow[] = await manager.query(
      `SELECT id, project_id, triggers, blueprint_ids FROM webhook WHERE enabled AND project_id = ANY($1::uuid[])`,
      [projectIds],
    );
    const byProject = new Map<string, WebhookRow[]>();
    for (const webhook of webhooks) {
      const list = byProject.get(webhook.project_id) ?? [];
      list.push(webhook);
      byProject.set(webhook.project_id, list);
    }

    const columns: NewDeliveries = { eventId: [], webhookId: [], projectId: [], trigger: [], body: [] };
    for (const event of events) {
      const matchable = { trigger: event.trigger, blueprintId: event.blueprint_id };
      for (const webhook of byProject.get(event.project_id) ?? []) {
        if (!webhookMatchesEvent({ triggers: webhook.triggers, blueprintIds: webhook.blueprint_ids }, matchable)) continue;
        columns.eventId.push(event.id);
        columns.webhookId.push(webhook.id);
        columns.projectId.push(event.project_id);
        columns.trigger.push(event.trigger);
        columns.body.push(
          buildPayloadBody({ id: event.id, projectId: event.project_id, trigger: event.trigger, metadata: event.metadata }, webhook.id),
        );
      }
    }
    await enqueueDeliveries(manager, columns, events.map((e) => e.id));
    return events.length;
  });
}
