import { ruleOf, type Problem } from '../api/errors';
import type { ActorFilterMode, DocumentStatus, HttpMethod, WebhookBodyFormat, WebhookBodySettingsQuery, WebhookHeaderInput, WebhookSettingsFragment, WebhookTrigger } from '../generated/graphql';
import { TRIGGERS } from './triggers';

/** One header row of the form. `saved` is set for a secret header as stored: its value is only known masked. */
export interface HeaderRow {
  key: number;
  name: string;
  value: string;
  secret: boolean;
  saved: { name: string; masked: string } | null;
  /** A saved secret being replaced: `value` is the new one. */
  replacing: boolean;
}

export interface FormState {
  name: string;
  description: string;
  method: HttpMethod;
  url: string;
  triggers: Set<WebhookTrigger>;
  allBlueprints: boolean;
  blueprintIds: Set<string>;
  headers: HeaderRow[];
  fifo: boolean;
  /** None ticked: any status (sent as null). */
  documentStatuses: Set<DocumentStatus>;
  /** Comma-separated names as typed; blank: any field (null). */
  changedFields: string;
  /** ANY: no actor filter. */
  actorMode: ActorFilterMode | 'ANY';
  actorUserIds: Set<string>;
  /** Comma-separated token ids as typed. */
  actorTokenIds: string;
  body: BodyState;
}

/** The body template fields; empty strings stand for null (the contract payload, the format's default type). */
export interface BodyState {
  template: string;
  format: WebhookBodyFormat;
  contentType: string;
}

export type BodySettings = NonNullable<WebhookBodySettingsQuery['webhook']>;

export const DEFAULT_CONTENT_TYPES: Record<WebhookBodyFormat, string> = { JSON: 'application/json', TEXT: 'text/plain; charset=utf-8' };

export function initialBody(settings?: Pick<BodySettings, 'bodyTemplate' | 'bodyFormat' | 'bodyContentType'> | null): BodyState {
  const format = settings?.bodyFormat ?? 'JSON';
  // The API answers the content type in effect; the format's default is shown as the field's placeholder instead.
  const contentType = settings?.bodyTemplate == null || settings.bodyContentType === DEFAULT_CONTENT_TYPES[format] ? '' : settings.bodyContentType;
  return { template: settings?.bodyTemplate ?? '', format, contentType };
}

export function bodyInput(body: BodyState) {
  return {
    bodyTemplate: body.template.trim() === '' ? null : body.template,
    bodyFormat: body.format,
    bodyContentType: body.contentType.trim() === '' ? null : body.contentType.trim(),
  };
}

/** The webhook as the settings form reads it: the contract's fields, its filters and its delivery options. */
export type FormWebhook = WebhookSettingsFragment;

let nextKey = 1;
export const newHeaderRow = (): HeaderRow => ({ key: nextKey++, name: '', value: '', secret: false, saved: null, replacing: false });

export function initialState(webhook?: FormWebhook | null, body?: BodySettings | null): FormState {
  return {
    name: webhook?.name ?? '',
    description: webhook?.description ?? '',
    method: webhook?.method ?? 'POST',
    url: webhook?.url ?? '',
    triggers: new Set(webhook?.triggers ?? []),
    allBlueprints: webhook?.blueprintIds == null,
    blueprintIds: new Set(webhook?.blueprintIds ?? []),
    headers: (webhook?.headers ?? []).map((h) => ({
      key: nextKey++,
      name: h.name,
      value: h.secret ? '' : h.value,
      secret: h.secret,
      saved: h.secret ? { name: h.name, masked: h.value } : null,
      replacing: false,
    })),
    fifo: webhook?.fifo ?? false,
    documentStatuses: new Set(webhook?.documentStatuses ?? []),
    changedFields: (webhook?.changedFields ?? []).join(', '),
    actorMode: webhook?.actorFilter?.mode ?? 'ANY',
    actorUserIds: new Set(webhook?.actorFilter?.userIds ?? []),
    actorTokenIds: (webhook?.actorFilter?.tokenIds ?? []).join(', '),
    body: initialBody(body),
  };
}

const list = (text: string): string[] =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** A saved secret kept as is is sent without a value: the server keeps the stored one (contract: WebhookHeaderInput). */
export function headerInput(row: HeaderRow): WebhookHeaderInput {
  if (row.saved && !row.replacing) return { name: row.name, secret: row.secret };
  return { name: row.name, value: row.value, secret: row.secret };
}

export function toInput(state: FormState) {
  return {
    name: state.name,
    description: state.description.trim() === '' ? null : state.description,
    method: state.method,
    url: state.url,
    // In the documentation's order, whatever order they were ticked in.
    triggers: TRIGGERS.map((t) => t.value).filter((t) => state.triggers.has(t)),
    headers: state.headers.map(headerInput),
    blueprintIds: state.allBlueprints ? null : [...state.blueprintIds],
    fifo: state.fifo,
    // Nothing chosen means no filter: the form never sends an empty list (the server refuses one).
    documentStatuses: state.documentStatuses.size === 0 ? null : STATUSES.map((s) => s.value).filter((s) => state.documentStatuses.has(s)),
    changedFields: list(state.changedFields).length === 0 ? null : list(state.changedFields),
    actorFilter: state.actorMode === 'ANY' ? null : { mode: state.actorMode, userIds: [...state.actorUserIds], tokenIds: list(state.actorTokenIds) },
    ...bodyInput(state.body),
  };
}

/**
 * Where the server's BAD_USER_INPUT belongs: `input.url` → `url`, `input.triggers[2]` →
 * `triggers`, `input.blueprintIds[0]` → `blueprintIds`, `input.headers[1].value` stays.
 */
export function fieldKey(field: string): string {
  const path = field.replace(/^input\./, '');
  if (/^headers\[\d+\]\.(name|value)$/.test(path)) return path;
  return path.replace(/\[\d+\].*$/, '');
}

export const FIELD_IDS: Record<string, string> = {
  name: 'wh-name',
  description: 'wh-description',
  method: 'wh-method',
  url: 'wh-url',
  triggers: 'wh-triggers',
  blueprintIds: 'wh-blueprints',
  headers: 'wh-headers',
  fifo: 'wh-fifo',
  documentStatuses: 'wh-statuses',
  changedFields: 'wh-changed-fields',
  actorFilter: 'wh-actors',
  'actorFilter.userIds': 'wh-actor-users',
  'actorFilter.tokenIds': 'wh-actor-tokens',
  bodyTemplate: 'wh-body-template',
  bodyFormat: 'wh-body-format',
  bodyContentType: 'wh-body-content-type',
};

export const STATUSES: ReadonlyArray<{ value: DocumentStatus; label: string }> = [
  { value: 'DRAFT', label: 'Draft' },
  { value: 'CHANGED', label: 'Changed (published, edited since)' },
  { value: 'PUBLISHED', label: 'Published' },
  { value: 'ARCHIVED', label: 'Archived' },
];

export function fieldId(key: string): string {
  const header = /^headers\[(\d+)\]\.(name|value)$/.exec(key);
  if (header) return `wh-header-${header[1]}-${header[2]}`;
  return FIELD_IDS[key] ?? '';
}

/** Field errors by key, and what could not be placed beside a field. */
export function splitProblems(problems: Problem[]): { fields: Record<string, string>; general: Problem[] } {
  const fields: Record<string, string> = {};
  const general: Problem[] = [];
  for (const problem of problems) {
    const key = problem.code === 'BAD_USER_INPUT' && problem.field ? fieldKey(problem.field) : null;
    if (key && fieldId(key)) fields[key] = ruleOf(problem);
    else general.push(problem);
  }
  return { fields, general };
}
