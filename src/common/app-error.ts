/**
 * The errors services may throw. Anything else that escapes is reported to the client as
 * INTERNAL_SERVER_ERROR with no details (src/graphql/format-error.ts is the only mapping).
 */
export enum ErrorCode {
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  /** The database cannot be reached: nothing was decided, the same request may succeed later (HTTP 503). */
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  /** An operation over a limit of src/graphql/query-limits.ts; the message names the limit. */
  QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX',
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** `field` names the input path (e.g. `input.headers[2].name`); `rule` says what it must be. */
export function badInput(field: string, rule: string): AppError {
  return new AppError(ErrorCode.BAD_USER_INPUT, `${field}: ${rule}`, field);
}

/** The same answer for "does not exist" and "exists in a project you are not in". */
export function notFound(what: string): AppError {
  return new AppError(ErrorCode.NOT_FOUND, `${what} not found`);
}

export function forbidden(action: string): AppError {
  return new AppError(ErrorCode.FORBIDDEN, `Your role in this project does not allow you to ${action}`);
}

export function unauthenticated(): AppError {
  return new AppError(
    ErrorCode.UNAUTHENTICATED,
    'Missing or unknown API token: send "Authorization: Bearer <token>"',
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Ids that are not UUIDs are bad input, never a database error. */
export function requireUuid(field: string, value: string): string {
  if (!isUuid(value)) throw badInput(field, 'must be a UUID');
  return value.toLowerCase();
}

export function serviceUnavailable(message = 'The database is unavailable; try again shortly'): AppError {
  return new AppError(ErrorCode.SERVICE_UNAVAILABLE, message);
}
