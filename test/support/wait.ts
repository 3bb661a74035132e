/**
 * Waiting in tests: on a condition or a promise, always with a deadline, never a fixed sleep.
 * A failure names what was awaited, so a timeout reads as the step that did not happen.
 */

/** How often `waitUntil` looks again: short enough not to slow a test, long enough not to spin. */
const POLL_MS = 10;

/** Polls `condition` until it holds; fails naming `what` once `timeoutMs` has passed. */
export async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** `promise`, or a rejection naming `what` once `timeoutMs` has passed. */
export async function within<T>(what: string, promise: Promise<T>, timeoutMs = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
