import { ruleOf, type Problem } from '../api/errors';
import type { HttpMethod, WebhookBodyFormat, WebhookBodySettingsQuery, WebhookFieldsFragment, WebhookHeaderInput, WebhookTrigger } from '../generated/graphql';
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

let nextKey = 1;
export const newHeaderRow = (): HeaderRow => ({ key: nextKey++, name: '', value: '', secret: false, saved: null, replacing: false });

export function initialState(webhook?: WebhookFieldsFragment | null, body?: BodySettings | null): FormState {
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
    body: initialBody(body),
  };
}

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
  bodyTemplate: 'wh-body-template',
  bodyFormat: 'wh-body-format',
  bodyContentType: 'wh-body-content-type',
};

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
