import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { AppError, ErrorCode } from '../common/app-error';
import { tokenLimitError } from './query-limits';

/** Codes Apollo and graphql-js assign themselves (parse, validation, variable coercion). */
const FRAMEWORK_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE', 'BAD_REQUEST']);

/**
 * The single place where errors become GraphQL errors. AppErrors keep their message and get
 * their code; framework errors keep theirs; anything else is an internal failure: logged here
 * (message only, no values), answered with a generic message.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown, log: (line: string) => void = console.error): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  // A refusal from a validation rule or a plugin arrives wrapped by Apollo (no path to unwrap by).
  const wrapped = error instanceof GraphQLError && error.originalError instanceof AppError ? error.originalError : undefined;
  const appError =
    original instanceof AppError ? original : (wrapped ?? (formatted.extensions?.code === 'GRAPHQL_PARSE_FAILED' ? tokenLimitError(formatted.message) : undefined));
  if (appError) {
    const code: ErrorCode = appError.code;
    return {
      message: appError.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code, ...(appError.field ? { field: appError.field } : {}) },
    };
  }
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && FRAMEWORK_CODES.has(code)) {
    return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code } };
  }
  // Apollo refuses some requests (a persisted-query hash that does not match, an unknown
  // version) with a 4xx status but no code: they are the client's mistake, not ours.
  const status = (error as GraphQLError | undefined)?.extensions?.http as { status?: number } | undefined;
  if ((code === undefined || code === 'INTERNAL_SERVER_ERROR') && status?.status !== undefined && status.status >= 400 && status.status < 500 && !formatted.path) {
    return { message: formatted.message, extensions: { code: 'BAD_REQUEST' } };
  }
  const name = original instanceof Error ? original.name : typeof original;
  log(`internal error in ${formatted.path?.join('.') ?? 'request'}: ${name}: ${original instanceof Error ? original.message.slice(0, 200) : ''}`);
  return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
