/** PostgreSQL's unique_violation, optionally on one named constraint or index. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const pg = e?.driverError ?? e;
  return pg?.code === '23505' && (constraint === undefined || pg.constraint === constraint);
}

/**
 * Socket-level codes Node gives when PostgreSQL cannot be reached or drops the connection,
 * and the SQLSTATEs PostgreSQL sends while it is unreachable for everyone: class 08
 * (connection exception), 57P01-57P03 (shutting down, crashed, starting up), 53300 (too
 * many connections).
 */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const UNAVAILABLE_SQLSTATES = /^(08|57P0[123]$|53300$)/;
/** pg's own words for a connection that ended or never came (it gives these no code). */
const UNAVAILABLE_MESSAGES = /Connection terminated|connection timeout|timeout exceeded when trying to connect|not queryable|Client was closed/i;

/**
 * True when `error` says the database could not be reached, rather than that a statement
 * was wrong: the caller can answer "try again later" and keep what it could not write.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const e = queue.shift() as { code?: unknown; message?: unknown; driverError?: unknown; errors?: unknown; cause?: unknown } | null;
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    if (typeof e.code === 'string' && (UNREACHABLE_CODES.has(e.code) || UNAVAILABLE_SQLSTATES.test(e.code))) return true;
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return true;
    // TypeORM wraps the driver's error; Node wraps one per address tried in an AggregateError.
    queue.push(e.driverError, e.cause, ...(Array.isArray(e.errors) ? e.errors : []));
  }
  return false;
}
