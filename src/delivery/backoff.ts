/**
 * Retry timing. Pure: the clock and the randomness come in as arguments so tests can pin them.
 */

const JITTER = 0.2;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The delay before the next attempt, or null when `attemptJustMade` was the last one
 * (a schedule of n delays allows n + 1 attempts).
 *
 * Each scheduled delay is spread uniformly over ±20% so that the webhooks of one busy
 * moment do not all come back at the same instant.
 *
 * A receiver's `Retry-After` may only push the retry later, never sooner (`Retry-After: 0`
 * must not turn the schedule into a tight loop), and it is capped at the schedule's largest
 * delay, itself at most 24 hours: a receiver asking for a week would otherwise park the
 * call far beyond anything the operator configured, and the largest gap is the longest
 * wait the operator has already accepted.
 */
export function nextRetryDelayMs(
  scheduleMs: readonly number[],
  attemptJustMade: number,
  random: () => number,
  retryAfterMs?: number,
): number | null {
  if (!Number.isInteger(attemptJustMade) || attemptJustMade < 1) {
    throw new RangeError(`attempt numbers start at 1, got ${attemptJustMade}`);
  }
  if (attemptJustMade > scheduleMs.length) return null;

  const scheduled = Math.max(0, scheduleMs[attemptJustMade - 1]);
  const jittered = Math.round(scheduled * (1 - JITTER + 2 * JITTER * random()));
  if (retryAfterMs === undefined || !(retryAfterMs > 0)) return jittered;

  const ceiling = Math.min(DAY_MS, Math.max(...scheduleMs));
  return Math.max(jittered, Math.min(Math.round(retryAfterMs), ceiling));
}

const DAYS = 'Mon|Tue|Wed|Thu|Fri|Sat|Sun';
const LONG_DAYS = 'Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MON = MONTHS.join('|');
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

// The three HTTP-date forms of RFC 9110 §5.6.7. Date.parse alone would also accept "5" or
// "2024" and read the asctime form in the server's local time zone.
const IMF_FIXDATE = new RegExp(`^(?:${DAYS}), (\\d{2}) (${MON}) (\\d{4}) ${TIME} GMT$`, 'i');
const RFC850 = new RegExp(`^(?:${LONG_DAYS}), (\\d{2})-(${MON})-(\\d{2}) ${TIME} GMT$`, 'i');
const ASCTIME = new RegExp(`^(?:${DAYS}) (${MON}) ([ \\d]\\d) ${TIME} (\\d{4})$`, 'i');

function utc(year: number, month: string, day: number, h: number, m: number, s: number): number | undefined {
  const monthIndex = MONTHS.findIndex((name) => name.toLowerCase() === month.toLowerCase());
  const time = Date.UTC(year, monthIndex, day, h, m, s);
  const date = new Date(time);
  // Date.UTC rolls 31 Feb over into March; a date that does not exist is garbage.
  if (date.getUTCDate() !== day || date.getUTCMonth() !== monthIndex || h > 23 || m > 59 || s > 60) return undefined;
  return time;
}

function parseHttpDate(value: string, now: Date): number | undefined {
  let match = IMF_FIXDATE.exec(value);
  if (match) {
    const [, d, mon, y, h, m, s] = match;
    return utc(+y, mon, +d, +h, +m, +s);
  }
  match = RFC850.exec(value);
  if (match) {
    const [, d, mon, yy, h, m, s] = match;
    // RFC 9110: a two-digit year more than 50 years ahead is in the past century.
    let year = 2000 + +yy;
    if (year > now.getUTCFullYear() + 50) year -= 100;
    return utc(year, mon, +d, +h, +m, +s);
  }
  match = ASCTIME.exec(value);
  if (match) {
    const [, mon, d, h, m, s, y] = match;
    return utc(+y, mon, +d.trim(), +h, +m, +s);
  }
  return undefined;
}

/** `Retry-After` in milliseconds from `now`: delta-seconds or an HTTP-date (past dates give 0). */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const ms = Number(text) * 1000;
    return Number.isFinite(ms) ? ms : undefined;
  }
  const at = parseHttpDate(text, now);
  return at === undefined ? undefined : Math.max(0, at - now.getTime());
}
