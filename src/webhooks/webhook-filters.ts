import { badInput, isUuid } from '../common/app-error';
import { DocumentStatus } from '../cms/document.entity';
import type { StoredActorFilter } from './webhook.entity';

/**
 * Pure checks of a webhook's content filters. Like `blueprintIds`, a filter is either null
 * (everything passes) or a non-empty list: an empty list would let nothing through, which is
 * what disabling the webhook is for, and is far more often a form sent half-filled.
 */
export enum ActorFilterMode {
  INCLUDE = 'INCLUDE',
  EXCLUDE = 'EXCLUDE',
}

export const FILTER_LIMITS = { changedFieldsMax: 100, fieldNameMax: 200, actorIdsMax: 100 } as const;

export interface ActorFilterInput {
  mode: ActorFilterMode;
  userIds?: string[] | null;
  tokenIds?: string[] | null;
}

const STATUSES = new Set<number>(Object.values(DocumentStatus).filter((v): v is number => typeof v === 'number'));

export function validateDocumentStatuses(statuses: DocumentStatus[]): number[] {
  const field = 'input.documentStatuses';
  if (statuses.length === 0) throw badInput(field, 'must list at least one status, or be null for all');
  const seen = new Set<number>();
  statuses.forEach((status, i) => {
    if (!STATUSES.has(status)) throw badInput(`${field}[${i}]`, 'must be a document status');
    if (seen.has(status)) throw badInput(`${field}[${i}]`, 'is listed twice');
    seen.add(status);
  });
  return [...seen].sort((a, b) => a - b);
}

/** Names as `metadata.changed_fields` has them: `title`, or a key of the document's fields. */
export function validateChangedFields(names: string[]): string[] {
  const field = 'input.changedFields';
  if (names.length === 0) throw badInput(field, 'must list at least one field name, or be null for all');
  if (names.length > FILTER_LIMITS.changedFieldsMax) throw badInput(field, `must list at most ${FILTER_LIMITS.changedFieldsMax} names`);
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (name.length === 0 || name.length > FILTER_LIMITS.fieldNameMax || name.trim() !== name) {
      throw badInput(`${field}[${i}]`, `must be a field name of 1 to ${FILTER_LIMITS.fieldNameMax} characters without surrounding spaces`);
    }
    if (seen.has(name)) throw badInput(`${field}[${i}]`, 'is listed twice');
    seen.add(name);
  });
  return names;
}

function ids(list: string[] | null | undefined, field: string): string[] {
  if (list == null) return [];
  if (list.length > FILTER_LIMITS.actorIdsMax) throw badInput(field, `must list at most ${FILTER_LIMITS.actorIdsMax} ids`);
  const seen = new Set<string>();
  return list.map((id, i) => {
    if (!isUuid(id)) throw badInput(`${field}[${i}]`, 'must be a UUID');
    const lower = id.toLowerCase();
    if (seen.has(lower)) throw badInput(`${field}[${i}]`, 'is listed twice');
    seen.add(lower);
    return lower;
  });
}

/** The shape only; whether the ids are the project's users and tokens is the service's check. */
export function validateActorFilterShape(input: ActorFilterInput): StoredActorFilter {
  const userIds = ids(input.userIds, 'input.actorFilter.userIds');
  const tokenIds = ids(input.tokenIds, 'input.actorFilter.tokenIds');
  if (userIds.length + tokenIds.length === 0) {
    throw badInput('input.actorFilter', 'must list at least one user id or token id, or be null for every actor');
  }
  return { mode: input.mode, userIds, tokenIds };
}
