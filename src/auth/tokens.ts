import crypto from 'node:crypto';

const PREFIX = 'cms_';

/** An API token: 32 random bytes; only its SHA-256 is stored. */
export function generateToken(): string {
  return PREFIX + crypto.randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

/** `Bearer <token>` (scheme case-insensitive) → token, or undefined. */
export function bearerToken(header: string | undefined | null): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
