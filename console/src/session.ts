/**
 * The API token of this tab. sessionStorage, not localStorage: it is gone when the tab closes,
 * and other tabs (or other people at a shared machine later) never see it.
 */
const KEY = 'cms-webhooks-console.token';

export function readToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}
