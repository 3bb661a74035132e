import { isDeepStrictEqual } from 'node:util';
import { WebhookTrigger } from '../webhooks/triggers';
import type { EventContext, EventMetadata } from './domain-event.entity';

/**
 * Pure translation of an entity change into the contract's domain events
 * ("Events and their triggers"). Kept free of TypeORM so every rule is unit-testable.
 */
export type ChangeKind = 'insert' | 'update' | 'remove';

export interface DocumentSnapshot {
  id: string;
  projectId: string;
  blueprintId: string;
  statusId: number;
  title: string | null;
  fields: Record<string, unknown>;
}

export interface BlueprintSnapshot {
  id: string;
  projectId: string;
  name: string;
  apiName: string;
  variant: string;
  fields: unknown;
}

export interface MemberSnapshot {
  projectId: string;
  userId: string;
  role: string;
}

export interface EventDraft {
  projectId: string;
  trigger: WebhookTrigger;
  blueprintId: string | null;
  metadata: EventMetadata;
  /** For body templates; never part of the payload. */
  context: EventContext | null;
}

interface Context {
  actorId: string | null;
  now: Date;
}

function base(ctx: Context, partial: Omit<EventMetadata, 'created_at' | 'triggered_user_id'>): EventMetadata {
  const metadata: EventMetadata = { ...partial, created_at: ctx.now.toISOString() };
  if (ctx.actorId) metadata.triggered_user_id = ctx.actorId;
  return metadata;
}

/** Names of the fields (and `title`) whose value differs; order: title first, then keys sorted. */
export function changedDocumentFields(before: DocumentSnapshot, after: DocumentSnapshot): string[] {
  const changed: string[] = [];
  if ((before.title ?? null) !== (after.title ?? null)) changed.push('title');
  const keys = new Set([...Object.keys(before.fields ?? {}), ...Object.keys(after.fields ?? {})]);
  for (const key of [...keys].sort()) {
    if (!isDeepStrictEqual(before.fields?.[key], after.fields?.[key])) changed.push(key);
  }
  return changed;
}

export function documentEvents(
  kind: ChangeKind,
  before: DocumentSnapshot | undefined,
  after: DocumentSnapshot | undefined,
  ctx: Context,
): EventDraft[] {
  const doc = (after ?? before)!;
  const draft = (trigger: WebhookTrigger, statusId: number, extra: Partial<EventMetadata> = {}): EventDraft => ({
    projectId: doc.projectId,
    trigger,
    blueprintId: doc.blueprintId,
    metadata: base(ctx, { blueprint_id: doc.blueprintId, document_id: doc.id, document_status_id: statusId, ...extra }),
    context: { document: { title: doc.title ?? null } },
  });
  if (kind === 'insert') return [draft(WebhookTrigger.DOCUMENT_CREATE, doc.statusId)];
  if (kind === 'remove') return [draft(WebhookTrigger.DOCUMENT_DELETE, before!.statusId)];
  if (!before || !after) return [];
  const events: EventDraft[] = [];
  const changed = changedDocumentFields(before, after);
  if (changed.length > 0) events.push(draft(WebhookTrigger.DOCUMENT_FIELD_UPDATE, after.statusId, { changed_fields: changed }));
  if (before.statusId !== after.statusId) events.push(draft(WebhookTrigger.DOCUMENT_UPDATE, after.statusId));
  return events;
}

export function blueprintEvents(
  kind: ChangeKind,
  before: BlueprintSnapshot | undefined,
  after: BlueprintSnapshot | undefined,
  ctx: Context,
): EventDraft[] {
  const blueprint = (after ?? before)!;
  if (kind === 'update' && before && after) {
    const same =
      before.name === after.name &&
      before.apiName === after.apiName &&
      before.variant === after.variant &&
      isDeepStrictEqual(before.fields, after.fields);
    if (same) return [];
  }
  const trigger =
    kind === 'insert'
      ? WebhookTrigger.BLUEPRINT_CREATE
      : kind === 'remove'
        ? WebhookTrigger.BLUEPRINT_DELETE
        : WebhookTrigger.BLUEPRINT_UPDATE;
  return [
    {
      projectId: blueprint.projectId,
      trigger,
      blueprintId: blueprint.id,
      metadata: base(ctx, { blueprint_id: blueprint.id, document_id: '', document_status_id: null }),
      context: { blueprint: { name: blueprint.name, api_name: blueprint.apiName } },
    },
  ];
}

export function memberEvents(
  kind: ChangeKind,
  before: MemberSnapshot | undefined,
  after: MemberSnapshot | undefined,
  ctx: Context,
): EventDraft[] {
  const member = (after ?? before)!;
  if (kind === 'update' && before && after && before.role === after.role) return [];
  const trigger = kind === 'remove' ? WebhookTrigger.PROJECT_MEMBER_DEASSIGNED : WebhookTrigger.PROJECT_MEMBER_ASSIGNED;
  const role = (kind === 'remove' ? before! : after!).role.toLowerCase();
  return [
    {
      projectId: member.projectId,
      trigger,
      blueprintId: null,
      metadata: base(ctx, { blueprint_id: '', document_id: '', document_status_id: null, user_id: member.userId, role }),
      context: null,
    },
  ];
}
