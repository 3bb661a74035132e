import { GraphQLError } from 'graphql';
import { badInput } from '../common/app-error';
import { captureLog } from '../../test/support/log';
import { formatError } from './format-error';

/** A resolver's error as graphql-js hands it to formatError: located, with the thrown error inside. */
function fromResolver(thrown: Error): GraphQLError {
  return new GraphQLError(thrown.message, { path: ['webhooks'], originalError: thrown });
}

describe('formatError', () => {
  const formatted = (error: GraphQLError) => ({ message: error.message, path: error.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } });

  test('a database outage in a resolver is SERVICE_UNAVAILABLE, with none of the driver message', () => {
    const driverError = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    const error = fromResolver(Object.assign(new Error('Query failed: SELECT secret FROM app_user'), { driverError }));
    const { lines, log } = captureLog();
    const result = formatError(formatted(error), error, log);
    expect(result.extensions).toEqual({ code: 'SERVICE_UNAVAILABLE' });
    expect(result.message).toBe('The database is unavailable; try again shortly');
    expect(lines).toEqual([]);
  });

  test('an outage while the context is built (Apollo wraps it, with no path) is SERVICE_UNAVAILABLE too', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const error = new GraphQLError(`Context creation failed: ${refused.message}`, { originalError: refused });
    expect(formatError(formatted(error), error).extensions).toEqual({ code: 'SERVICE_UNAVAILABLE' });
  });

  test('an AppError keeps its code, message and field', () => {
    const error = fromResolver(badInput('input.url', 'must use http or https'));
    expect(formatError(formatted(error), error)).toMatchObject({ message: 'input.url: must use http or https', extensions: { code: 'BAD_USER_INPUT', field: 'input.url' } });
  });

  test('anything else is INTERNAL_SERVER_ERROR with a generic message, logged by name only', () => {
    const error = fromResolver(new TypeError("Cannot read properties of undefined (reading 'id')"));
    const { records, log } = captureLog();
    const result = formatError(formatted(error), error, log);
    expect(result).toEqual({ message: 'Internal server error', path: ['webhooks'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(records).toMatchObject([
      { level: 'error', msg: 'internal error in webhooks', path: 'webhooks', errorName: 'TypeError', errorMessage: "Cannot read properties of undefined (reading 'id')" },
    ]);
  });
});
