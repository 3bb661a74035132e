import type { ApolloServerPlugin } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { ErrorCode, serviceUnavailable } from '../common/app-error';
import { isDatabaseUnavailable } from '../db/errors';

/**
 * While PostgreSQL cannot be reached every request fails the same way, and the client should
 * hear "come back shortly" (HTTP 503, SERVICE_UNAVAILABLE, Retry-After), not that the server
 * has a bug (500, INTERNAL_SERVER_ERROR). formatError gives the code; these two give the status.
 */
const RETRY_AFTER_SECONDS = '5';

function unavailableHead() {
  return { status: 503, headers: new HeaderMap([['retry-after', RETRY_AFTER_SECONDS]]) };
}

/**
 * Runs the context's database work; an outage becomes an error Apollo answers with 503 (a
 * failing context function otherwise gets 500 and "Context creation failed").
 */
export async function orUnavailable<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isDatabaseUnavailable(error)) throw error;
    const cause = serviceUnavailable();
    throw new GraphQLError(cause.message, { originalError: cause, extensions: { code: cause.code, http: unavailableHead() } });
  }
}

/** Resolvers that met the outage: the response as a whole is a 503. */
export const unavailableStatusPlugin: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        if (response.body.kind !== 'single') return;
        const errors = response.body.singleResult.errors ?? [];
        if (!errors.some((e) => e.extensions?.code === ErrorCode.SERVICE_UNAVAILABLE)) return;
        const head = unavailableHead();
        response.http.status = head.status;
        for (const [name, value] of head.headers) response.http.headers.set(name, value);
      },
    };
  },
};
