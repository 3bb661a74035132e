import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { AppError, ErrorCode, serviceUnavailable } from '../common/app-error';
import { isDatabaseUnavailable } from '../db/errors';
import { tokenLimitError } from './query-limits';
import { currentLogger, type Logger, silentLogger } from '../observability/logger';

/** Codes Apollo and graphql-js assign themselves (parse, validation, variable coercion). */
const FRAMEWORK_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE', 'BAD_REQUEST']);

/**
 * The single place where errors become GraphQL errors. AppErrors keep their message and get
 * their code; framework errors keep theirs; anything else is an internal failure: logged here
 * (message only, no values), answered with a generic message.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown, log: Logger = silentLogger): GraphQLFormattedError {
  const unwrapped = unwrapResolverError(error);
  // Apollo wraps what the context function, a validation rule or a plugin throws in a
  // GraphQLError of its own, with no path to unwrap by.
  const cause = unwrapped instanceof GraphQLError && unwrapped.originalError ? unwrapped.originalError : unwrapped;
  // The database being away is not a bug: the client is told to come back, nothing of the driver's message leaks.
  // graphql-js's token limit surfaces as a parse failure; it is a query limit like the others.
  const original = isDatabaseUnavailable(cause)
    ? serviceUnavailable()
    : (formatted.extensions?.code === 'GRAPHQL_PARSE_FAILED' && tokenLimitError(formatted.message)) || cause;
  if (original instanceof AppError) {
    const code: ErrorCode = original.code;
    return {
      message: original.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code, ...(original.field ? { field: original.field } : {}) },
    };
  }
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && FRAMEWORK_CODES.has(code)) {
    return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code } };
  }
  // Apollo refuses a persisted query of an unknown version, or whose hash does not match its
  // query, with HTTP 400 but no code; it is the client's mistake, not an internal failure.
  const status = original instanceof GraphQLError && !original.originalError ? (original.extensions?.http as { status?: unknown } | undefined)?.status : undefined;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { message: formatted.message, extensions: { code: 'BAD_REQUEST' } };
  }
  const name = original instanceof Error ? original.name : typeof original;
  // The request's own logger when there is one, so the line carries its requestId.
  currentLogger(log).error(
    { path: formatted.path?.join('.'), errorName: name, errorMessage: original instanceof Error ? original.message.slice(0, 200) : undefined },
    `internal error in ${formatted.path?.join('.') ?? 'request'}`,
  );
  return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
