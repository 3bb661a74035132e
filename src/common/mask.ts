/** `••••3gat`: enough to recognise which value is stored, never enough to use it. */
export function maskSecret(value: string): string {
  return value.length > 8 ? `••••${value.slice(-4)}` : '••••••••';
}
