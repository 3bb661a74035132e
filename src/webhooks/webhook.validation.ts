import { badInput, isUuid } from '../common/app-error';
import type { StoredHeader } from './webhook.entity';

/**
 * Pure checks of webhook input. Each failure names the input path and the rule, so a form can
 * put the message next to the right field.
 */
export const LIMITS = {
  nameMax: 200,
  descriptionMax: 2000,
  urlMax: 2048,
  headersMax: 50,
  headerNameMax: 256,
  headerValueMax: 4096,
} as const;

/** Set by the sender when a webhook has sendTraceContext; a webhook's own may use them otherwise. */
export const TRACE_HEADERS = new Set(['traceparent', 'tracestate']);

/** Set by the sender itself, or framing/hop-by-hop headers a user must not override. */
export const RESERVED_HEADERS = new Set([
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'user-agent',
  'content-type',
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
]);

/** RFC 9110 §5.6.2: a field name is a token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/**
 * RFC 9110 §5.5: a field value is visible ASCII with spaces and tabs inside. Bytes 0x80-0xFF
 * (obs-text) are only tolerated from old senders, and Node refuses control characters and
 * anything beyond Latin-1, failing every delivery of the webhook. Leading and trailing
 * whitespace is not part of a value: receivers strip it, so what arrived would differ from
 * what the log says was sent.
 */
const FIELD_VALUE = /^(?:[\x21-\x7e](?:[\t\x20-\x7e]*[\x21-\x7e])?)?$/;

/** A header HTTP can carry exactly as stored: the API refuses anything else. */
export function isSendableHeader(name: string, value: string): boolean {
  return TOKEN.test(name) && FIELD_VALUE.test(value);
}

function valueRule(value: string): string | null {
  if (!/^[\t\x20-\x7e]*$/.test(value)) return 'must be visible ASCII characters, spaces and tabs';
  if (!FIELD_VALUE.test(value)) return 'must not start or end with a space or tab (HTTP drops them)';
  return null;
}

export function validateName(name: string, field = 'input.name'): string {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > LIMITS.nameMax) throw badInput(field, `must be 1 to ${LIMITS.nameMax} characters`);
  return trimmed;
}

export function validateDescription(description: string | null | undefined): string | null {
  if (description == null) return null;
  if (description.length > LIMITS.descriptionMax) throw badInput('input.description', `must be at most ${LIMITS.descriptionMax} characters`);
  return description;
}

export function validateUrl(raw: string): string {
  const field = 'input.url';
  if (raw.length > LIMITS.urlMax) throw badInput(field, `must be at most ${LIMITS.urlMax} characters`);
  // The URL parser silently drops these; stored as typed they would reach logs and curl commands.
  if (/[\s\x00-\x1f\x7f]/.test(raw)) throw badInput(field, 'must not contain whitespace or control characters');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badInput(field, 'must be an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badInput(field, 'must use http or https');
  if (!url.hostname) throw badInput(field, 'must name a host');
  // Credentials in a URL end up in logs and curl commands; a secret header is the place for them.
  if (url.username || url.password) throw badInput(field, 'must not contain credentials (user:password@); use a secret header instead');
  return raw;
}

export function validateTriggers<T extends string>(triggers: T[]): T[] {
  if (triggers.length === 0) throw badInput('input.triggers', 'must list at least one trigger');
  const seen = new Set<string>();
  triggers.forEach((t, i) => {
    if (seen.has(t)) throw badInput(`input.triggers[${i}]`, 'is listed twice');
    seen.add(t);
  });
  return triggers;
}

export interface HeaderInput {
  name: string;
  value?: string | null;
  secret?: boolean | null;
}

/**
 * Validates the header list and resolves omitted values against `stored` (update): a header
 * given without a value keeps the value stored under the same name, so a secret never has
 * to be sent again.
 */
export function validateHeaders(input: HeaderInput[], stored: StoredHeader[] | null): StoredHeader[] {
  if (input.length > LIMITS.headersMax) throw badInput('input.headers', `must have at most ${LIMITS.headersMax} headers`);
  const seen = new Set<string>();
  return input.map((header, i) => {
    const field = `input.headers[${i}]`;
    const lower = header.name.toLowerCase();
    if (!TOKEN.test(header.name) || header.name.length > LIMITS.headerNameMax) {
      throw badInput(
        `${field}.name`,
        `must be an HTTP header name (RFC 9110 token: letters, digits and !#$%&'*+-.^_\`|~) of at most ${LIMITS.headerNameMax} characters`,
      );
    }
    if (RESERVED_HEADERS.has(lower)) throw badInput(`${field}.name`, `"${header.name}" is set by the webhook sender and cannot be overridden`);
    if (seen.has(lower)) throw badInput(`${field}.name`, `duplicates another header named "${header.name}" (names are case-insensitive)`);
    seen.add(lower);
    let value = header.value;
    const previous = stored?.find((h) => h.name.toLowerCase() === lower);
    if (value == null) {
      if (!previous) {
        throw badInput(`${field}.value`, stored ? 'is required for a header that is not stored yet' : 'is required');
      }
      // Unmasking a stored secret would reveal it in every later read: it takes the value again.
      if (previous.secret && header.secret === false) {
        throw badInput(`${field}.value`, 'is required to turn a secret header into a plain one');
      }
      value = previous.value;
    }
    if (value.length > LIMITS.headerValueMax) throw badInput(`${field}.value`, `must be at most ${LIMITS.headerValueMax} characters`);
    const rule = valueRule(value);
    if (rule) throw badInput(`${field}.value`, rule);
    const secret = header.secret ?? (header.value == null ? (previous?.secret ?? false) : false);
    return { name: header.name, value, secret };
  });
}

export function validateBlueprintIdShape(ids: string[]): string[] {
  if (ids.length === 0) throw badInput('input.blueprintIds', 'must list at least one blueprint, or be null for all');
  const seen = new Set<string>();
  return ids.map((id, i) => {
    if (!isUuid(id)) throw badInput(`input.blueprintIds[${i}]`, 'must be a UUID');
    const lower = id.toLowerCase();
    if (seen.has(lower)) throw badInput(`input.blueprintIds[${i}]`, 'is listed twice');
    seen.add(lower);
    return lower;
  });
}
