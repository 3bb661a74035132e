/**
 * `••••3gat`: enough to recognise which value is stored, never enough to use it. The last 4
 * characters show only for a secret of 16 or more, so a mask never reveals more than a
 * quarter of a secret, and nothing of a short one.
 */
export function maskSecret(value: string): string {
  return value.length >= 16 ? `••••${value.slice(-4)}` : '••••••••';
}
