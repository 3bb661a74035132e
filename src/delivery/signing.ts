import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): receivers verify with any
 * of its libraries, e.g. the `standardwebhooks` npm package.
 */

const PREFIX = 'whsec_';

/** 32 bytes: as many as HMAC-SHA256's output; a longer key adds no strength. */
export function generateSigningSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

function keyOf(secret: string): Buffer {
  const encoded = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  // Buffer.from ignores what is not base64, so an empty key means the secret was garbage.
  if (key.length === 0) throw new Error('signing secret is not whsec_ followed by base64');
  return key;
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. The body must be the exact string sent. */
export function sign(secret: string, msgId: string, timestampSeconds: number, body: string): string {
  if (!Number.isSafeInteger(timestampSeconds)) {
    throw new Error(`webhook timestamp must be whole Unix seconds, got ${timestampSeconds}`);
  }
  const mac = createHmac('sha256', keyOf(secret)).update(`${msgId}.${timestampSeconds}.${body}`, 'utf8');
  return `v1,${mac.digest('base64')}`;
}

/**
 * The `webhook-signature` value: one signature per secret, space separated, so that while a
 * secret is being rotated a receiver holding either the old or the new one accepts the call.
 */
export function signatureHeader(secrets: readonly string[], msgId: string, timestampSeconds: number, body: string): string {
  if (secrets.length === 0) throw new Error('at least one signing secret is needed');
  return secrets.map((secret) => sign(secret, msgId, timestampSeconds, body)).join(' ');
}
