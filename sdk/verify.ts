// Verifying the CMS's webhook requests (Standard Webhooks). It accepts exactly what the
// public `standardwebhooks` package (1.1.x) accepts, so a receiver may use either; the tests
// check both against each other. Where that package is lenient (parseInt on the timestamp,
// extra comma-separated parts after a signature) we follow it rather than be stricter,
// because a request one verifier accepts and the other rejects is a bug report waiting to
// happen. The one difference: the body must be a JSON object, since the result is typed.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type WebhookTriggerName =
  | 'document_field_update'
  | 'document_create'
  | 'document_update'
  | 'document_delete'
  | 'blueprint_create'
  | 'blueprint_update'
  | 'blueprint_delete'
  | 'project_member_assigned'
  | 'project_member_deassigned';

/** The body of every webhook request (contract: webhook-payload.schema.json). */
export interface WebhookPayload {
  /** The event's id: the same for every webhook that gets it, and for every retry and replay. */
  event_id: string;
  metadata: {
    /** `""` where it does not apply. */
    blueprint_id: string;
    /** `""` where it does not apply. */
    document_id: string;
    /** DRAFT 0, CHANGED 1, PUBLISHED 2, ARCHIVED 3; `null` where it does not apply. */
    document_status_id: 0 | 1 | 2 | 3 | null;
    /** `document_field_update` only: the names of the fields that changed (`title` included). */
    changed_fields?: string[];
    /** Member events: the user added, changed or removed. */
    user_id?: string;
    /** Member events: the role (lower case), or the role the user had when removed. */
    role?: 'owner' | 'admin' | 'editor' | 'viewer';
    /** The user whose request caused the event. */
    triggered_user_id?: string;
    /** ISO-8601. */
    created_at?: string;
  };
  scope: { project_id: string };
  webhook: { trigger: WebhookTriggerName; webhook_id: string };
}

export type WebhookVerificationFailure =
  | 'missing_headers'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_matching_signature'
  | 'invalid_body';

const MESSAGES: Record<WebhookVerificationFailure, string> = {
  missing_headers: 'Missing required headers (webhook-id, webhook-timestamp, webhook-signature)',
  invalid_timestamp: 'Invalid webhook-timestamp header',
  timestamp_too_old: 'Message timestamp too old',
  timestamp_too_new: 'Message timestamp too new',
  no_matching_signature: 'No matching signature found',
  invalid_body: 'Body is not a JSON webhook payload',
};

/** The request is not a genuine, fresh CMS webhook: answer it with 4xx. Never carries the secret. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';

  constructor(readonly reason: WebhookVerificationFailure) {
    super(MESSAGES[reason]);
    // Keeps `instanceof` working when this file is compiled to ES5 classes.
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

export type WebhookHeaders = Record<string, string | string[] | undefined> | Headers;

export interface VerifyOptions {
  /** How far the timestamp may be from now, either way. Default 300 (Standard Webhooks). */
  toleranceSeconds?: number;
  /** The current time; default the clock. */
  now?: Date;
}

const SECRET_PREFIX = 'whsec_';
const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

/**
 * Checks a webhook request and returns its parsed body. Pass the body exactly as received
 * (the raw bytes or string), never a re-serialised object: the signature covers the bytes.
 *
 * @throws WebhookVerificationError when the request is not genuine or not fresh.
 * @throws TypeError when `secret` is not a `whsec_<base64>` (or bare base64) secret.
 */
export function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  rawBody: string | Buffer,
  options: VerifyOptions = {},
): WebhookPayload {
  const key = decodeSecret(secret);
  const msgId = header(headers, 'webhook-id');
  const msgTimestamp = header(headers, 'webhook-timestamp');
  const msgSignature = header(headers, 'webhook-signature');
  if (!msgId || !msgTimestamp || !msgSignature) throw new WebhookVerificationError('missing_headers');

  // parseInt, not a strict pattern: standardwebhooks reads the header this way and signs the
  // number it read, so "1700000000abc" with a signature over 1700000000 passes there too.
  const timestamp = parseInt(msgTimestamp, 10);
  if (Number.isNaN(timestamp)) throw new WebhookVerificationError('invalid_timestamp');
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  // NaN would make both comparisons below false, i.e. accept any timestamp.
  if (!Number.isFinite(now)) throw new TypeError('options.now must be a valid Date');
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new TypeError('options.toleranceSeconds must be >= 0');
  if (now - timestamp > tolerance) throw new WebhookVerificationError('timestamp_too_old');
  if (timestamp > now + tolerance) throw new WebhookVerificationError('timestamp_too_new');

  const body = bodyText(rawBody);
  const expected = Buffer.from(hmac(key, msgId, timestamp, body), 'utf8');
  const matched = msgSignature.split(' ').some((entry) => {
    // Entries are `<version>,<base64>`; other versions (v1a asymmetric, future ones) are skipped.
    const [version, signature] = entry.split(',');
    if (version !== 'v1' || signature === undefined) return false;
    // Compared as text, like standardwebhooks: decoding first would let non-canonical base64 pass.
    const given = Buffer.from(signature, 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matched) throw new WebhookVerificationError('no_matching_signature');

  return parsePayload(body);
}

/**
 * Signs a message as the CMS does, returning the `webhook-signature` value (`v1,<base64>`).
 * `timestamp` is a Date or Unix seconds (the `webhook-timestamp` header's value).
 */
export function signWebhook(secret: string, msgId: string, timestamp: Date | number, body: string | Buffer): string {
  const seconds = typeof timestamp === 'number' ? Math.floor(timestamp) : Math.floor(timestamp.getTime() / 1000);
  return `v1,${hmac(decodeSecret(secret), msgId, seconds, bodyText(body))}`;
}

function hmac(key: Buffer, msgId: string, timestamp: number, body: string): string {
  return createHmac('sha256', key).update(`${msgId}.${timestamp}.${body}`, 'utf8').digest('base64');
}

// standardwebhooks signs `payload.toString()`, so a Buffer is read as UTF-8 text first; for
// valid UTF-8 that is the same bytes, and for invalid UTF-8 both sides agree on U+FFFD.
function bodyText(body: string | Buffer): string {
  return typeof body === 'string' ? body : body.toString('utf8');
}

// Same acceptance as standardwebhooks' base64 decoder (@stablelib/base64): standard alphabet,
// at most two `=` at the end, at least four characters. Node's own decoder is far more lenient
// (it skips unknown characters and takes the URL-safe alphabet), hence the pattern first.
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeSecret(secret: string): Buffer {
  if (typeof secret !== 'string') throw new TypeError('Webhook secret must be a string');
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (encoded.length < 4 || !BASE64.test(encoded)) {
    throw new TypeError('Webhook secret must be "whsec_" followed by base64');
  }
  return Buffer.from(encoded, 'base64');
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (isFetchHeaders(headers)) return headers.get(name) ?? undefined;
  let value: string | string[] | undefined;
  // Last one wins when a plain object holds the same name in two spellings, as in standardwebhooks.
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() === name) value = headers[key];
  }
  // Repeated headers: Node joins them with ", " itself; an array from elsewhere is joined the
  // way fetch's Headers would, so both shapes verify the same.
  return Array.isArray(value) ? value.join(', ') : value;
}

function isFetchHeaders(headers: WebhookHeaders): headers is Headers {
  return typeof (headers as Headers).get === 'function' && typeof (headers as Headers).has === 'function';
}

function parsePayload(body: string): WebhookPayload {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new WebhookVerificationError('invalid_body');
  }
  // A signed body comes from the CMS, so this is a sanity check of the shape the type promises,
  // not schema validation: keys the contract adds later must not break old receivers.
  if (!isObject(parsed) || typeof parsed.event_id !== 'string') throw new WebhookVerificationError('invalid_body');
  if (!isObject(parsed.metadata) || !isObject(parsed.scope) || !isObject(parsed.webhook)) {
    throw new WebhookVerificationError('invalid_body');
  }
  return parsed as unknown as WebhookPayload;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
