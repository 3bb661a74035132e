/** PostgreSQL's unique_violation, optionally on one named constraint or index. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const pg = e?.driverError ?? e;
  return pg?.code === '23505' && (constraint === undefined || pg.constraint === constraint);
}
